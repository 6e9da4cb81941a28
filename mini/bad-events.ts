/**
 * A bad row (Snowplow bad-rows JSON, ../shared/spec/enrich.md §5) → what mini shows for it:
 * Micro's `BadEvent {collectorPayload, rawEvent, errors}`, a group key (type + one-line message) for the UI,
 * and the event id it belonged to (from the raw `eid`, when there is one).
 *
 * Micro's `errors` list is a fixed first line naming the stage, then the compact bad row:
 *   schema_violations / enrichment_failures / others → "Error while validating the event."
 *   tracker_protocol_violations / adapter_failures    → "Error while extracting event(s) from collector payload and validating it/them."
 *   collector_payload_format_violation               → "Can't deserialize Thrift bytes."
 */
import { DOWNSTREAM_MAX_JSON_DEPTH, parseJsonWithin } from '../common/json-depth.js';
import {
  badRowCollectorPayloadToMicro,
  badRowRawToMicro,
  type MicroCollectorPayload,
  type MicroRawEvent,
} from './raw-events.js';

export interface ParsedBadRow {
  /** Bad row type: the schema name, e.g. `schema_violations`; `unreadable` if the line is not a bad row. */
  type: string;
  /** Full schema URI of the bad row (or null). */
  schema: string | null;
  /** One line summarising the first failure message, used to group bad rows in the UI. */
  message: string;
  /** Every failure message, one line each. */
  messages: string[];
  errors: string[];
  collectorPayload: MicroCollectorPayload | null;
  rawEvent: MicroRawEvent | null;
  /** Raw `eid` parameter, if the payload has one. */
  eventId: string | null;
  /** Partially enriched event (schema_violations, enrichment_failures), or null. */
  enriched: Record<string, unknown> | null;
  /** The parsed bad row (for the UI's detail pane). */
  row: unknown;
}

const EXTRACT_STAGE = 'Error while extracting event(s) from collector payload and validating it/them.';
const VALIDATE_STAGE = 'Error while validating the event.';
const THRIFT_STAGE = "Can't deserialize Thrift bytes.";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function clientErrorText(err: unknown): string {
  if (!isObj(err)) return String(err);
  if (err.error === 'ValidationError') {
    if (Array.isArray(err.dataReports)) return (err.dataReports as Obj[]).map((r) => String(r.message)).join('; ');
    if (Array.isArray(err.schemaIssues)) return 'invalid schema: ' + (err.schemaIssues as Obj[]).map((r) => String(r.message)).join('; ');
  }
  if (err.error === 'ResolutionError') return 'schema could not be resolved (ResolutionError)';
  return JSON.stringify(err);
}

/** One failure message (any variant of the bad-rows union) → one line. */
export function failureMessageText(m: unknown): string {
  if (!isObj(m)) return String(m);
  if (isObj(m.enrichment) || ('enrichment' in m && 'message' in m)) {
    const id = isObj(m.enrichment) ? String(m.enrichment.identifier) : 'enrichment';
    return `${id}: ${failureMessageText(m.message)}`;
  }
  if (typeof m.schemaKey === 'string' && 'error' in m) return `${m.schemaKey}: ${clientErrorText(m.error)}`;
  if (typeof m.schemaKey === 'string' && typeof m.schemaCriterion === 'string') return `${m.schemaKey} does not match ${m.schemaCriterion}`;
  if (typeof m.field === 'string' && typeof m.expectation === 'string') return `${m.field}: ${m.expectation}`;
  if (typeof m.field === 'string' && typeof m.error === 'string') return `${m.field}: ${m.error}`;
  if (typeof m.json === 'string' && typeof m.error === 'string') return m.error;
  if (typeof m.expectation === 'string') return m.expectation;
  if (typeof m.error === 'string') return m.error;
  return JSON.stringify(m);
}

function messagesOf(type: string, failure: unknown): string[] {
  if (!isObj(failure)) return ['(no failure details)'];
  if (Array.isArray(failure.messages)) return (failure.messages as unknown[]).map(failureMessageText);
  if (type === 'size_violation') {
    return [`size ${String(failure.actualSizeBytes)} bytes > ${String(failure.maximumAllowedSizeBytes)}: ${String(failure.expectation)}`];
  }
  if ('message' in failure) return [failureMessageText(failure.message)];
  return [JSON.stringify(failure)];
}

/** Parses one bad-row line. Never throws: a line that is not a bad row is kept as type `unreadable`. */
export function parseBadRow(line: string): ParsedBadRow {
  // Bounded before parsing: the API and UI print the parsed row with JSON.stringify.
  const parsed = parseJsonWithin(line, DOWNSTREAM_MAX_JSON_DEPTH);
  const row: unknown = parsed.ok ? parsed.value : undefined;
  if (!parsed.ok) {
    return {
      type: 'unreadable', schema: null, message: 'not a JSON bad row', messages: ['not a JSON bad row'],
      errors: [VALIDATE_STAGE, line], collectorPayload: null, rawEvent: null, eventId: null, enriched: null, row: line,
    };
  }
  const schema = isObj(row) && typeof row.schema === 'string' ? row.schema : null;
  const m = schema ? /^iglu:com\.snowplowanalytics\.snowplow\.badrows\/([^/]+)\/jsonschema\/[\d-]+$/.exec(schema) : null;
  const type = m ? m[1]! : 'unreadable';
  const data = isObj(row) && isObj(row.data) ? row.data : {};
  const messages = messagesOf(type, data.failure);
  const payload = data.payload;
  let collectorPayload: MicroCollectorPayload | null = null;
  let rawEvent: MicroRawEvent | null = null;
  let enriched: Obj | null = null;
  if (isObj(payload) && isObj(payload.raw)) {
    rawEvent = badRowRawToMicro(payload.raw);
    enriched = isObj(payload.enriched) ? payload.enriched : null;
  } else if (isObj(payload) && typeof payload.vendor === 'string' && 'querystring' in payload) {
    collectorPayload = badRowCollectorPayloadToMicro(payload);
  }
  const stage =
    type === 'tracker_protocol_violations' || type === 'adapter_failures'
      ? EXTRACT_STAGE
      : type === 'collector_payload_format_violation'
        ? THRIFT_STAGE
        : VALIDATE_STAGE;
  const eid = rawEvent?.parameters.eid;
  return {
    type,
    schema,
    message: messages[0] ?? '(no failure details)',
    messages,
    errors: [stage, line],
    collectorPayload,
    rawEvent,
    eventId: typeof eid === 'string' && eid !== '' ? eid : enriched && typeof enriched.event_id === 'string' ? enriched.event_id : null,
    enriched,
    row,
  };
}
