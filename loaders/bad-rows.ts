/**
 * Snowplow loader bad rows (iglu-central com.snowplowanalytics.snowplow.badrows), serialized as compact
 * self-describing JSON, one per line:
 *   loader_parsing_error/2-0-0  – the line is not an enriched event (payload = the raw line)
 *   loader_iglu_error/2-0-1     – an entity's schema could not be resolved (payload = the event as JSON)
 *   loader_runtime_error/1-0-1  – the database rejected the event (payload = the event as JSON)
 */
import { DOWNSTREAM_MAX_JSON_DEPTH, parseJsonWithin } from '../common/json-depth.js';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import type { ClientError } from '../iglu-resolver/types.js';

export const LOADER_ARTIFACT = 'furrow-loader';
export const LOADER_VERSION = '0.1.0';

const PROCESSOR = { artifact: LOADER_ARTIFACT, version: LOADER_VERSION };

export type ParsingFailure =
  | { type: 'NotTSV' }
  | { type: 'FieldNumberMismatch'; fieldCount: number }
  | { type: 'RowDecodingError'; errors: Array<{ type: 'InvalidValue'; key: string; value: string; message: string }> };

export function parsingBadRow(line: string, failure: ParsingFailure): string {
  return JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0',
    data: { processor: PROCESSOR, failure, payload: line },
  });
}

export function igluBadRow(cols: readonly string[], failures: Array<{ schemaKey: string; error: ClientError }>): string {
  return JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow.badrows/loader_iglu_error/jsonschema/2-0-1',
    data: { processor: PROCESSOR, failure: failures, payload: eventPayload(cols) },
  });
}

export function runtimeBadRow(cols: readonly string[], message: string): string {
  return JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow.badrows/loader_runtime_error/jsonschema/1-0-1',
    data: { processor: PROCESSOR, failure: message, payload: eventPayload(cols) },
  });
}

const INT_FIELDS = new Set([
  'txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max',
  'pp_yoffset_min', 'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight',
  'doc_width', 'doc_height',
]);
const NUM_FIELDS = new Set([
  'geo_latitude', 'geo_longitude', 'se_value', 'tr_total', 'tr_tax', 'tr_shipping', 'ti_price', 'tr_total_base',
  'tr_tax_base', 'tr_shipping_base', 'ti_price_base',
]);
const JSON_FIELDS = new Set(['contexts', 'unstruct_event', 'derived_contexts']);
const TSTAMP_RE = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/;

/**
 * The event as a JSON object (only on the bad-row path): numbers and booleans typed, timestamps ISO-8601,
 * JSON columns parsed when they parse (within DOWNSTREAM_MAX_JSON_DEPTH); a value that does not convert stays a string so nothing is lost.
 */
function eventPayload(cols: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < ENRICHED_FIELDS.length; i++) {
    const name = ENRICHED_FIELDS[i]!;
    const v = cols[i];
    if (v === undefined || v === '') {
      out[name] = null;
      continue;
    }
    if (INT_FIELDS.has(name) || NUM_FIELDS.has(name)) {
      const n = Number(v);
      out[name] = Number.isFinite(n) ? n : v;
    } else if (name.startsWith('br_features_') || name === 'br_cookies' || name === 'dvce_ismobile') {
      out[name] = v === '1' ? true : v === '0' ? false : v;
    } else if (JSON_FIELDS.has(name)) {
      // Parsed only within the downstream bound: the bad row is printed with JSON.stringify.
      const parsed = parseJsonWithin(v, DOWNSTREAM_MAX_JSON_DEPTH);
      out[name] = parsed.ok ? parsed.value : v;
    } else if (name.endsWith('_tstamp')) {
      const m = TSTAMP_RE.exec(v);
      out[name] = m ? `${m[1]}T${m[2]}Z` : v;
    } else {
      out[name] = v;
    }
  }
  return out;
}
