/**
 * The enricher's Snowplow bad rows (snowplow-badrows 2.3.0 shapes, ../shared/spec/enrich.md §5); the envelope,
 * schemas and the partially enriched event are in formats/bad-rows.ts. Union members carry no discriminator.
 *
 *   {"schema":"iglu:com.snowplowanalytics.snowplow.badrows/<name>/jsonschema/<version>",
 *    "data":{"processor":{"artifact","version"},"failure":{…},"payload":…}}
 */
import type { AdapterFailureMessage, LoadedPayload, RawEvent } from './adapters/adapter.js';
import type { TaggedEnrichmentFailure } from './enrichments/enrichment.js';
import { EnrichedEvent } from '../formats/enriched-event.js';
import { BAD_ROW_SCHEMAS, badRowJson, partiallyEnrichedJson, type BadRowKind, type Processor } from '../formats/bad-rows.js';
import type { ClientError } from '../iglu-resolver/types.js';
import { instantToString, jodaToString } from './converters.js';
import type { CPFormatViolationMessage } from './payloads/thrift-loader.js';

export { ATOMIC_SCHEMA, BAD_ROW_SCHEMAS, partiallyEnrichedJson, type BadRowKind, type Processor } from '../formats/bad-rows.js';

/** schema_violations message variants (FailureDetails.SchemaViolation). */
export type SchemaViolation =
  | { field: string; value: string | null; error: string } // NotJSON
  | { json: unknown; error: string } // NotIglu
  | { schemaKey: string; schemaCriterion: string } // CriterionMismatch
  | { schemaKey: string; error: ClientError }; // IgluError


function wrap(kind: BadRowKind, processor: Processor, failure: unknown, payload: unknown): string {
  return badRowJson(BAD_ROW_SCHEMAS[kind], processor, failure, payload);
}

export function collectorPayloadFormatViolation(processor: Processor, now: number, record: Buffer, message: CPFormatViolationMessage): string {
  return wrap('collector_payload_format_violation', processor, { timestamp: instantToString(now), loader: 'thrift', message }, record.toString('base64'));
}

export function sizeViolation(processor: Processor, now: number, max: number, actual: number, expectation: string, payload: string): string {
  return wrap('size_violation', processor, { timestamp: instantToString(now), maximumAllowedSizeBytes: max, actualSizeBytes: actual, expectation }, payload);
}

/** The CollectorPayload payload of adapter_failures / tracker_protocol_violations. */
export function collectorPayloadJson(p: LoadedPayload): Record<string, unknown> {
  return {
    vendor: p.api.vendor,
    version: p.api.version,
    querystring: p.querystring.map((q) => ({ name: q.name, value: q.value })),
    contentType: p.contentType,
    body: p.body,
    collector: p.source.name,
    encoding: p.source.encoding,
    hostname: p.source.hostname,
    timestamp: p.context.timestamp === null ? null : jodaToString(p.context.timestamp),
    ipAddress: p.context.ipAddress,
    useragent: p.context.useragent,
    refererUri: p.context.refererUri,
    headers: p.context.headers,
    networkUserId: p.context.userId,
  };
}

export function adapterFailure(
  kind: 'adapter_failures' | 'tracker_protocol_violations', processor: Processor, now: number, payload: LoadedPayload, messages: AdapterFailureMessage[],
): string {
  return wrap(kind, processor, { timestamp: instantToString(now), vendor: payload.api.vendor, version: payload.api.version, messages }, collectorPayloadJson(payload));
}

export function rawEventJson(r: RawEvent): Record<string, unknown> {
  const parameters: Array<{ name: string; value: string | null }> = [];
  for (const [name, value] of r.parameters) parameters.push({ name, value });
  return {
    vendor: r.api.vendor,
    version: r.api.version,
    parameters,
    contentType: r.contentType,
    loaderName: r.source.name,
    encoding: r.source.encoding,
    hostname: r.source.hostname,
    timestamp: r.context.timestamp === null ? null : jodaToString(r.context.timestamp),
    ipAddress: r.context.ipAddress,
    useragent: r.context.useragent,
    refererUri: r.context.refererUri,
    headers: r.context.headers,
    userId: r.context.userId,
  };
}

export function schemaViolations(processor: Processor, now: number, messages: SchemaViolation[], event: EnrichedEvent, raw: RawEvent): string {
  return wrap('schema_violations', processor, { timestamp: instantToString(now), messages }, { enriched: partiallyEnrichedJson(event), raw: rawEventJson(raw) });
}

export function enrichmentFailures(processor: Processor, now: number, messages: TaggedEnrichmentFailure[], event: EnrichedEvent, raw: RawEvent): string {
  return wrap('enrichment_failures', processor, { timestamp: instantToString(now), messages }, { enriched: partiallyEnrichedJson(event), raw: rawEventJson(raw) });
}

/**
 * The bad row of an event whose enrichment threw (a bug, or input that defeated a bound): enrichment_failures
 * with the raw event as it came in and the error message. The partially enriched event is not known (the
 * exception unwound it); its fields are null but for v_etl.
 */
export function unexpectedFailure(processor: Processor, now: number, raw: RawEvent, error: unknown): string {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const enriched = new EnrichedEvent();
  enriched.v_etl = `${processor.artifact}-${processor.version}`;
  return enrichmentFailures(processor, now, [{ enrichment: null, message: { error: `unexpected error while enriching the event: ${message}` } }], enriched, raw);
}
