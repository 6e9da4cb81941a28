/**
 * The enriched TSV line (../shared/spec/enrich.md §1.1): 131 values joined by tabs, null → empty,
 * no trailing newline. Values are already rendered and tab/newline-free (makeTsvSafe, JSON printing).
 */
import { ENRICHED_FIELDS, type EnrichedEvent } from './event.js';

export function toTsv(ev: EnrichedEvent): string {
  const rec = ev as unknown as Record<string, string | null>;
  // One pass of string concatenation: V8 builds a rope and flattens once on write (faster than Array.join here).
  let out = rec[ENRICHED_FIELDS[0]] ?? '';
  for (let i = 1; i < ENRICHED_FIELDS.length; i++) {
    const v = rec[ENRICHED_FIELDS[i]!];
    out += v === null || v === undefined ? '\t' : '\t' + v;
  }
  return out;
}
