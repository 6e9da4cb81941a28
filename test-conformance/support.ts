/**
 * Paths into ../shared (beside the project root) for the conformance tap tests. These files are Snowplow's (specs,
 * Iglu Central, example configs, upstream test vectors and assets) and stay outside the repository; only
 * `npm run conformance` reads them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import { eventId, IDX, tstamp } from '../test/forwarders/tsv-generator.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const VECTORS = join(SHARED, 'conformance', 'enrich');
export const ASSETS = join(VECTORS, 'assets');
export const SPEC = join(SHARED, 'spec');
export const IGLU_CENTRAL = join(SHARED, 'iglu-central');
export const SNOWPLOW_CONFIGS = join(SHARED, 'enrichment-configs');
export const THRIFT_CP = join(SHARED, 'tools', 'thrift_cp.py');

/**
 * Snowplow's full-TSV test events (legacy_full_tsv) as enriched lines (regex / placeholder columns get a conforming
 * value), with recent timestamps (vendors refuse old ones): realistic input from real trackers for the forwarders.
 */
export function corpusLines(now = Date.now()): Array<{ id: string; line: string }> {
  const dir = join(VECTORS, 'legacy_full_tsv');
  const out: Array<{ id: string; line: string }> = [];
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const v = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { id?: string; expected: { tsv_fields: Record<string, unknown> } };
    const cols = ENRICHED_FIELDS.map((name) => {
      const x = v.expected.tsv_fields[name];
      if (typeof x === 'string') return x;
      if (name === 'event_id') return eventId(out.length, 99);
      if (name === 'etl_tstamp') return tstamp(now);
      return 'furrow-test';
    });
    // The vectors are from 2014; move collector/derived time to now so time-bounded vendors take them.
    const c = (n: (typeof ENRICHED_FIELDS)[number]) => IDX[n];
    cols[c('collector_tstamp')] = tstamp(now - 1000);
    if (cols[c('derived_tstamp')] !== '') cols[c('derived_tstamp')] = tstamp(now - 1000);
    if (cols[c('dvce_created_tstamp')] !== '') cols[c('dvce_created_tstamp')] = tstamp(now - 1100);
    out.push({ id: v.id ?? f, line: cols.join('\t') });
  }
  return out;
}
