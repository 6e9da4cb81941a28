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

export function fingerprintPreimage(parameters: Map<string, string | null>, exclude: ReadonlySet<string>, orders?: SortOrders): string {
  const keys: string[] = [];
  const values: string[] = [];
  for (const [k, v] of parameters) {
    if (v !== null && !exclude.has(k)) {
      keys.push(k);
      values.push(v);
    }
  }
  const order = (orders ?? new SortOrders()).of(keys);
  let pre = '';
  for (let i = 0; i < order.length; i++) {
    const j = order[i]!;
    pre += keys[j] + SEP + values[j] + SEP;
  }
  return pre;
}

/**
 * The sorted order of a parameter name list, remembered for the last few lists seen: one tracker sends its
 * parameters in the same order event after event, so comparing names replaces sorting them (UTF-16 order, as Java
 * compareTo). The preimage went from 3.8 to 2.1 µs CPU per bench event.
 */
export class SortOrders {
  private static readonly SLOTS = 8;
  private readonly names: string[][] = [];
  private readonly orders: number[][] = [];
  private next = 0;

  of(keys: readonly string[]): readonly number[] {
    for (let s = 0; s < this.names.length; s++) {
      const n = this.names[s]!;
      if (n.length !== keys.length) continue;
      let same = true;
      for (let i = 0; same && i < n.length; i++) same = n[i] === keys[i];
      if (same) return this.orders[s]!;
    }
    const order = keys.map((_, i) => i);
    order.sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
    const slot = this.next;
    this.next = (this.next + 1) % SortOrders.SLOTS;
    this.names[slot] = keys.slice();
    this.orders[slot] = order;
    return order;
  }
}

class EventFingerprintEnrichment implements Enrichment {
  readonly identifier = 'event-fingerprint';
  private readonly orders = new SortOrders();
  constructor(
    readonly schemaKey: string,
    private readonly algorithm: string,
    private readonly exclude: ReadonlySet<string>,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const pre = fingerprintPreimage(input.raw.parameters, this.exclude, this.orders);
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
