/**
 * Snowplow bad rows (snowplow-badrows 2.3.0 shapes, ../shared/spec/enrich.md §5): the envelope every stage
 * writes, the enricher's schemas, and the partially enriched event. The builders live with the stage that
 * fails the data (enricher/bad-rows.ts, loaders/bad-rows.ts).
 *
 *   {"schema":"iglu:com.snowplowanalytics.snowplow.badrows/<name>/jsonschema/<version>",
 *    "data":{"processor":{"artifact","version"},"failure":{…},"payload":…}}
 */
import { NUMERIC_FIELDS } from './atomic-fields.js';
import { ENRICHED_FIELDS, type EnrichedEvent } from './enriched-event.js';

export const BADROWS_VENDOR = 'iglu:com.snowplowanalytics.snowplow.badrows';

export const BAD_ROW_SCHEMAS = Object.freeze({
  collector_payload_format_violation: `${BADROWS_VENDOR}/collector_payload_format_violation/jsonschema/1-0-0`,
  size_violation: `${BADROWS_VENDOR}/size_violation/jsonschema/1-0-0`,
  adapter_failures: `${BADROWS_VENDOR}/adapter_failures/jsonschema/1-0-0`,
  tracker_protocol_violations: `${BADROWS_VENDOR}/tracker_protocol_violations/jsonschema/1-0-1`,
  schema_violations: `${BADROWS_VENDOR}/schema_violations/jsonschema/2-0-1`,
  enrichment_failures: `${BADROWS_VENDOR}/enrichment_failures/jsonschema/2-0-1`,
});
export type BadRowKind = keyof typeof BAD_ROW_SCHEMAS;

export interface Processor {
  artifact: string;
  version: string;
}

export const ATOMIC_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0';

/** One bad row as compact self-describing JSON. */
export function badRowJson(schema: string, processor: Processor, failure: unknown, payload: unknown): string {
  return JSON.stringify({ schema, data: { processor, failure, payload } });
}

/** PartiallyEnrichedEvent: all 131 fields; ints, floats and 0/1 bytes as JSON numbers. */
export function partiallyEnrichedJson(ev: EnrichedEvent): Record<string, unknown> {
  const rec = ev as unknown as Record<string, string | null>;
  const out: Record<string, unknown> = {};
  for (const f of ENRICHED_FIELDS) {
    const v = rec[f] ?? null;
    if (v !== null && NUMERIC_FIELDS.has(f)) {
      const n = Number(v);
      out[f] = Number.isFinite(n) ? n : v;
    } else out[f] = v;
  }
  return out;
}
