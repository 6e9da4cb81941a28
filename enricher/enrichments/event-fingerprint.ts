/**
 * event_fingerprint_config (iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-*):
 *
 *   event_fingerprint = hex( hash( Σ over raw parameters with a non-null value, minus excludeParameters,
 *                                  sorted by name (UTF-16 order, as Java compareTo): name ␟ value ␟ ) )   ␟ = U+001F
 */
import * as crypto from 'node:crypto';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
const SEP = '\u001f';

const ALGORITHMS = ['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'] as const;
const NODE_HASH: Record<(typeof ALGORITHMS)[number], string> = {
  MD5: 'md5',
  SHA1: 'sha1',
  SHA256: 'sha256',
  SHA384: 'sha384',
  SHA512: 'sha512',
};

// crypto.hash (Node >= 20.12) is ~3x faster than createHash().update().digest() for one-shot inputs (1.2 vs 3.9 µs).
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;
function hashHex(algorithm: string, data: string): string {
  return oneShot !== undefined ? oneShot(algorithm, data, 'hex') : crypto.createHash(algorithm).update(data, 'utf8').digest('hex');
}

export function fingerprintPreimage(parameters: Map<string, string | null>, exclude: ReadonlySet<string>): string {
  const keys: string[] = [];
  for (const [k, v] of parameters) if (v !== null && !exclude.has(k)) keys.push(k);
  keys.sort();
  let pre = '';
  for (const k of keys) pre += k + SEP + parameters.get(k) + SEP;
  return pre;
}

class EventFingerprintEnrichment implements Enrichment {
  readonly identifier = 'event-fingerprint';
  constructor(
    readonly schemaKey: string,
    private readonly algorithm: string,
    private readonly exclude: ReadonlySet<string>,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const pre = fingerprintPreimage(input.raw.parameters, this.exclude);
    input.event.event_fingerprint = hashHex(this.algorithm, pre);
    return NO_OUTPUT;
  }
}

/** `event_fingerprint_config` `parameters`. */
export const eventFingerprintParameters = t.object({ excludeParameters: t.array(t.string({ minLength: 0 })), hashAlgorithm: t.enum(ALGORITHMS) });

export const eventFingerprintFactory: EnrichmentFactory = {
  name: 'event_fingerprint_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const p = readParameters(config, eventFingerprintParameters);
    return new EventFingerprintEnrichment(config.schema, NODE_HASH[p.hashAlgorithm], new Set(p.excludeParameters));
  },
};
