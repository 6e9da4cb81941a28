/**
 * The enriched TSV line (../shared/spec/enrich.md §1.1): 131 values joined by tabs, null → empty,
 * no trailing newline. Values are already rendered and tab/newline-free (makeTsvSafe, JSON printing).
 *
 * The serializer is generated once at start from the field list: one expression of direct property reads
 * (`e.app_id ?? ''`) instead of a loop of keyed reads. Measured on the bench corpus: ~3x faster than the
 * loop (keyed loads over 131 names go megamorphic). The reads fill an array literal that is joined once:
 * `a + '\t' + b + …` built a rope of 260 cons strings that the sink's UTF-8 write then had to flatten
 * (toTsv + UTF-8 write measured 2.2 µs instead of 3.0 µs per bench event, and ~8 KB less garbage).
 */
import { ENRICHED_FIELDS, type EnrichedEvent } from './enriched-event.js';

const SAFE_NAME = /^[a-z_]+$/;

function compileTsv(): (ev: EnrichedEvent) => string {
  for (const f of ENRICHED_FIELDS) if (!SAFE_NAME.test(f)) throw new Error(`unexpected field name ${f}`);
  const body = 'return [' + ENRICHED_FIELDS.map((f) => `e.${f} ?? ''`).join(', ') + "].join('\\t');";
  return new Function('e', body) as (ev: EnrichedEvent) => string;
}

export const toTsv: (ev: EnrichedEvent) => string = compileTsv();
