/**
 * pii_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-*-*):
 * pseudonymises atomic fields and JSONPath-selected strings in contexts, derived contexts and the unstruct event.
 *
 *   value := hex( hash( UTF-8(value + salt) ) )      hash ∈ MD2 | MD5 | SHA-1 | SHA-256 | SHA-384 | SHA-512
 *   pojo: the named atomic field, when set
 *   json: for each entity of `field` whose schema matches `schemaCriterion`, every string (or string inside an
 *         array) the JSONPath selects in its data
 *   anonymousOnly (2-0-1): only when a header whose name starts with "SP-Anonymous" (any case) was received
 *   emitEvent: the pii_transformation/1-0-0 record of what changed is returned as `piiEvent` (the core builds
 *         the separate event); modifications are listed newest first, as Snowplow lists them
 * Contexts and the unstruct event are changed in place on the parsed entities the core prints from; the TSV text
 * columns are re-rendered too so an earlier JS change stays consistent.
 */
import { createHash } from 'node:crypto';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { EnrichedEvent } from '../../formats/enriched-event.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { criterionMatches, parseSchemaKey, type SchemaCriterion } from '../../formats/schema-key.js';
import { configInvalid, readEnrichmentData } from './enrichment-config.js';
import type { JsonPath } from './json-path.js';
import { jsonInputSchema, jsonSource } from './inputs.js';
import { t } from '../../config/schema.js';
import { formatContexts, formatUnstructEvent } from '../self-describing.js';

export const PII_TRANSFORMATION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

export const PII_POJO_FIELDS = [
  'user_id', 'user_ipaddress', 'user_fingerprint', 'domain_userid', 'network_userid', 'ip_organization', 'ip_domain',
  'tr_orderid', 'ti_orderid', 'mkt_term', 'mkt_content', 'se_category', 'se_action', 'se_label', 'se_property',
  'mkt_clickid', 'refr_domain_userid', 'domain_sessionid',
] as const;
type PojoField = (typeof PII_POJO_FIELDS)[number];

const HASHES = ['MD2', 'MD5', 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'] as const;
type HashName = (typeof HASHES)[number];

// MD2 (RFC 1319) is not in OpenSSL 3; Snowplow offers it, so it is implemented here.
const MD2_S = [
  41, 46, 67, 201, 162, 216, 124, 1, 61, 54, 84, 161, 236, 240, 6, 19, 98, 167, 5, 243, 192, 199, 115, 140, 152, 147, 43, 217, 188, 76, 130, 202,
  30, 155, 87, 60, 253, 212, 224, 22, 103, 66, 111, 24, 138, 23, 229, 18, 190, 78, 196, 214, 218, 158, 222, 73, 160, 251, 245, 142, 187, 47, 238, 122,
  169, 104, 121, 145, 21, 178, 7, 63, 148, 194, 16, 137, 11, 34, 95, 33, 128, 127, 93, 154, 90, 144, 50, 39, 53, 62, 204, 231, 191, 247, 151, 3,
  255, 25, 48, 179, 72, 165, 181, 209, 215, 94, 146, 42, 172, 86, 170, 198, 79, 184, 56, 210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4, 241,
  69, 157, 112, 89, 100, 113, 135, 32, 134, 91, 207, 101, 230, 45, 168, 2, 27, 96, 37, 173, 174, 176, 185, 246, 28, 70, 97, 105, 52, 64, 126, 15,
  85, 71, 163, 35, 221, 81, 175, 58, 195, 92, 249, 206, 186, 197, 234, 38, 44, 83, 13, 110, 133, 40, 132, 9, 211, 223, 205, 244, 65, 129, 77, 82,
  106, 220, 55, 200, 108, 193, 171, 250, 36, 225, 123, 8, 12, 189, 177, 74, 120, 136, 149, 139, 227, 99, 232, 109, 233, 203, 213, 254, 59, 0, 29, 57,
  242, 239, 183, 14, 102, 88, 208, 228, 166, 119, 114, 248, 235, 117, 75, 10, 49, 68, 80, 180, 143, 237, 31, 26, 219, 153, 141, 51, 159, 17, 131, 20,
];

export function md2Hex(input: Buffer): string {
  const pad = 16 - (input.length % 16);
  const msg = Buffer.concat([input, Buffer.alloc(pad, pad)]);
  const checksum = new Uint8Array(16);
  let l = 0;
  for (let i = 0; i < msg.length; i += 16) {
    for (let j = 0; j < 16; j++) {
      checksum[j]! ^= MD2_S[msg[i + j]! ^ l]!;
      l = checksum[j]!;
    }
  }
  const all = Buffer.concat([msg, Buffer.from(checksum)]);
  const x = new Uint8Array(48);
  for (let i = 0; i < all.length; i += 16) {
    for (let j = 0; j < 16; j++) {
      x[16 + j] = all[i + j]!;
      x[32 + j] = x[16 + j]! ^ x[j]!;
    }
    let t = 0;
    for (let j = 0; j < 18; j++) {
      for (let k = 0; k < 48; k++) {
        x[k]! ^= MD2_S[t]!;
        t = x[k]!;
      }
      t = (t + j) & 255;
    }
  }
  return Buffer.from(x.subarray(0, 16)).toString('hex');
}

const NODE_HASH: Record<Exclude<HashName, 'MD2'>, string> = { MD5: 'md5', 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };

export function pseudonymize(hash: HashName, value: string, salt: string): string {
  const bytes = Buffer.from(value + salt, 'utf8');
  return hash === 'MD2' ? md2Hex(bytes) : createHash(NODE_HASH[hash]).update(bytes).digest('hex');
}

interface JsonField {
  field: 'unstruct_event' | 'contexts' | 'derived_contexts';
  criterion: SchemaCriterion;
  path: JsonPath;
}

type PiiField = { kind: 'pojo'; field: PojoField } | ({ kind: 'json' } & JsonField);

interface PojoRecord {
  fieldName: string;
  originalValue: string;
  modifiedValue: string;
}
interface JsonRecord extends PojoRecord {
  jsonPath: string;
  schema: string;
}

const ANON_HEADER = /^sp-anonymous/i;

class PiiEnrichment implements Enrichment {
  readonly identifier = 'pii';
  constructor(
    readonly schemaKey: string,
    private readonly fields: PiiField[],
    private readonly hash: HashName,
    private readonly salt: string,
    private readonly emitEvent: boolean,
    private readonly anonymousOnly: boolean,
  ) {}

  private hashEntity(entity: SelfDescribingData, f: JsonField, out: JsonRecord[]): boolean {
    const key = parseSchemaKey(entity.schema);
    if (key === null || !criterionMatches(f.criterion, key)) return false;
    let changed = false;
    for (const loc of f.path.select(entity.data)) {
      const v = loc.value;
      const set = (parent: Record<string, unknown> | unknown[], k: string | number, original: string) => {
        const modified = pseudonymize(this.hash, original, this.salt);
        (parent as Record<string | number, unknown>)[k] = modified;
        out.push({ fieldName: f.field, originalValue: original, modifiedValue: modified, jsonPath: f.path.expression, schema: entity.schema });
        changed = true;
      };
      if (typeof v === 'string') set(loc.parent, loc.key, v);
      else if (Array.isArray(v)) v.forEach((item, i) => typeof item === 'string' && set(v, i, item));
    }
    return changed;
  }

  enrich(input: EnrichmentInput): EnrichmentOutput {
    if (this.anonymousOnly && !input.raw.context.headers.some((h) => ANON_HEADER.test(h))) return NO_OUTPUT;
    const ev = input.event as unknown as Record<PojoField, string | null> & EnrichedEvent;
    const pojo: PojoRecord[] = [];
    const json: JsonRecord[] = [];
    let ctxChanged = false;
    let ueChanged = false;
    for (const f of this.fields) {
      if (f.kind === 'pojo') {
        const original = ev[f.field];
        if (original === null) continue;
        const modified = pseudonymize(this.hash, original, this.salt);
        ev[f.field] = modified;
        pojo.push({ fieldName: f.field, originalValue: original, modifiedValue: modified });
      } else if (f.field === 'unstruct_event') {
        if (input.unstructEvent !== null && this.hashEntity(input.unstructEvent, f, json)) ueChanged = true;
      } else if (f.field === 'contexts') {
        for (const c of input.contexts) if (this.hashEntity(c, f, json)) ctxChanged = true;
      } else {
        for (const c of input.derivedContexts ?? []) this.hashEntity(c, f, json);
      }
    }
    if (ctxChanged) ev.contexts = formatContexts(input.contexts);
    if (ueChanged) ev.unstruct_event = formatUnstructEvent(input.unstructEvent);
    if (!this.emitEvent || (pojo.length === 0 && json.length === 0)) return NO_OUTPUT;
    const pii: Record<string, unknown> = {};
    if (pojo.length > 0) pii['pojo'] = pojo.reverse();
    if (json.length > 0) pii['json'] = json.reverse();
    return {
      piiEvent: { schema: PII_TRANSFORMATION_SCHEMA, data: { pii, strategy: { pseudonymize: { hashFunction: this.hash } } } },
    };
  }
}

/**
 * `pii_enrichment_config` `data` (2-0-x): `emitEvent` and `anonymousOnly` sit beside `parameters`. A `json` field
 * lists unstruct_event first, as Snowplow's schema does.
 */
const piiData = t.object({
  vendor: t.optional(t.any()),
  name: t.optional(t.any()),
  enabled: t.optional(t.any()),
  emitEvent: t.boolean({ default: false }),
  anonymousOnly: t.boolean({ default: false }),
  parameters: t.object({
    pii: t.array(
      t.object({
        pojo: t.optional(t.object({ field: t.enum(PII_POJO_FIELDS) })),
        json: t.optional(jsonInputSchema(['unstruct_event', 'contexts', 'derived_contexts'])),
      }),
    ),
    strategy: t.object({
      pseudonymize: t.object({ hashFunction: t.enum(HASHES), salt: t.optional(t.string({ minLength: 0 })) }),
    }),
  }),
});

export const piiFactory: EnrichmentFactory = {
  name: 'pii_enrichment_config',
  criterion: '2-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const d = readEnrichmentData(config, piiData);
    const fields = d.parameters.pii.map((item, i): PiiField => {
      const at = `parameters.pii[${i}]`;
      if ((item.pojo === undefined) === (item.json === undefined)) throw configInvalid(config, at, 'must have exactly one of pojo or json');
      if (item.pojo !== undefined) return { kind: 'pojo', field: item.pojo.field };
      return jsonSource(config, item.json!, `${at}.json`);
    });
    const ps = d.parameters.strategy.pseudonymize;
    return new PiiEnrichment(config.schema, fields, ps.hashFunction, ps.salt ?? '', d.emitEvent, d.anonymousOnly);
  },
};
