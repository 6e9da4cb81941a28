/**
 * asn_lookups (iglu:com.snowplowanalytics.snowplow.enrichments/asn_lookups/jsonschema/1-0-*): marks the ASN context
 * produced by ip_lookups with `likelyBot`.
 *
 *   bot ASNs = botAsnsFile (CSV, header line skipped, first column = ASN number) ∪ botAsns[].asn   (built at start)
 *   asn/1-0-1 entity in derived contexts → {number, organization, likelyBot: number ∈ bot ASNs}
 *   platform ∈ bypassPlatforms → the entity is left without likelyBot
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { openAsset, type Refreshable } from './assets.js';
import { ASN_SCHEMA } from './ip-lookups.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

/** Parses the bot-ASN CSV: first line is a header; each later non-empty line starts with an ASN number. */
export function parseAsnCsv(text: string): Set<number> {
  const out = new Set<number>();
  const lines = text.split(/\r?\n/);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const first = line.split(',')[0]!.trim().replace(/^"|"$/g, '').replace(/^AS/i, '');
    if (!/^\d+$/.test(first)) throw new Error(`line ${i + 1}: "${first}" is not an ASN number`);
    out.add(Number(first));
  }
  return out;
}

class AsnLookupsEnrichment implements Enrichment {
  readonly identifier = 'asn-lookups';
  constructor(
    readonly schemaKey: string,
    private readonly fileAsns: Refreshable<Set<number>> | null,
    private readonly listAsns: ReadonlySet<number>,
    private readonly bypass: ReadonlySet<string>,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const dc = input.derivedContexts;
    if (dc === undefined) return NO_OUTPUT;
    // Bypassed platforms (server-side, IoT) keep the entity without likelyBot.
    if (input.event.platform !== null && this.bypass.has(input.event.platform)) return NO_OUTPUT;
    for (let i = 0; i < dc.length; i++) {
      const c = dc[i]!;
      if (c.schema !== ASN_SCHEMA) continue;
      const data = c.data as { number: number; organization?: string | null };
      const bot = this.listAsns.has(data.number) || this.fileAsns?.current.has(data.number) === true;
      dc[i] = { schema: ASN_SCHEMA, data: { ...data, likelyBot: bot } };
    }
    return NO_OUTPUT;
  }

  async close(): Promise<void> {
    this.fileAsns?.close();
  }
}

/** `asn_lookups` `parameters`: bot ASNs from a CSV file and/or listed inline; platforms that skip the check. */
const asnLookupsParameters = t.object({
  botAsnsFile: t.optional(t.object({ uri: t.optional(t.string({ minLength: 0 })), database: t.string({ minLength: 0 }) })),
  botAsns: t.array(t.object({ asn: t.integer({ minimum: 0, maximum: 4294967295 }), name: t.optional(t.string({ minLength: 0 })) }), { default: [] }),
  bypassPlatforms: t.array(t.string({ minLength: 0 }), { default: [] }),
});

export const asnLookupsFactory: EnrichmentFactory = {
  name: 'asn_lookups',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, asnLookupsParameters);
    const list = new Set<number>(p.botAsns.map((a) => a.asn));
    const f = p.botAsnsFile;
    let file: Refreshable<Set<number>> | null = null;
    if (f !== undefined) {
      file = await openAsset({ uri: f.uri ?? null, database: f.database }, deps, 'asn_lookups.botAsnsFile', (_p, b) => parseAsnCsv(b.toString('utf8')));
    }
    return new AsnLookupsEnrichment(config.schema, file, list, new Set(p.bypassPlatforms));
  },
};
