/**
 * Enriched event (131 TSV columns, all strings) → the JSON shapes Snowplow Micro's clients read.
 *
 *   EnrichedEvent --toSdkEvent()------> `GoodEvent.event`: every atomic field, typed like the Scala Analytics
 *                                        SDK's Event (null when empty); contexts/derived_contexts wrapped as
 *                                        contexts/1-0-0 SDJs ([] when empty), unstruct_event wrapped as
 *                                        unstruct_event/1-0-0 (null when empty)
 *               --toLossyJson()-----> `/micro/events` rows: non-null atomic fields plus one key per entity
 *                                        type (`contexts_com_acme_ctx_1: [data…]`, `unstruct_event_com_acme_ev_1`)
 *                                        and `geo_location`, as the Analytics SDKs' JSON transformer does
 *
 * Type of each column (from the Scala Analytics SDK's Event case class): timestamps become ISO-8601 instants
 * (`2021-08-29T12:01:05.787Z`), integer and double columns numbers, the feature flags booleans. The SDK names
 * `refr_dvce_tstamp` `refr_device_tstamp`; both JSON forms keep that name.
 */
import { DOWNSTREAM_MAX_JSON_DEPTH, parseJsonWithin } from '../common/json-depth.js';
import { parseSchemaKey } from '../formats/schema-key.js';
import { ENRICHED_FIELDS, type EnrichedEvent, type EnrichedFieldName } from '../formats/enriched-event.js';

type Kind = 'string' | 'tstamp' | 'int' | 'double' | 'bool' | 'contexts' | 'unstruct';

const TSTAMP = ['etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'dvce_sent_tstamp', 'refr_dvce_tstamp', 'derived_tstamp', 'true_tstamp'];
const INT = [
  'txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max',
  'pp_yoffset_min', 'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight', 'doc_width', 'doc_height',
];
const DOUBLE = [
  'geo_latitude', 'geo_longitude', 'se_value', 'tr_total', 'tr_tax', 'tr_shipping', 'ti_price', 'tr_total_base', 'tr_tax_base',
  'tr_shipping_base', 'ti_price_base',
];
const BOOL = [
  'br_features_pdf', 'br_features_flash', 'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'dvce_ismobile',
];

function kindOf(f: string): Kind {
  if (TSTAMP.includes(f)) return 'tstamp';
  if (INT.includes(f)) return 'int';
  if (DOUBLE.includes(f)) return 'double';
  if (BOOL.includes(f)) return 'bool';
  if (f === 'contexts' || f === 'derived_contexts') return 'contexts';
  if (f === 'unstruct_event') return 'unstruct';
  return 'string';
}

/** Column → (JSON key, kind), computed once at load. */
const COLUMNS: ReadonlyArray<{ field: EnrichedFieldName; key: string; kind: Kind }> = ENRICHED_FIELDS.map((field) => ({
  field,
  key: field === 'refr_dvce_tstamp' ? 'refr_device_tstamp' : field,
  kind: kindOf(field),
}));

export interface SelfDescribing {
  schema: string;
  data: unknown;
}

/** `yyyy-MM-dd HH:mm:ss[.SSS]` (UTC) → Java `Instant.toString()` (fraction dropped when zero). */
export function tsvTimestampToInstant(v: string): string {
  let s = v.replace(' ', 'T');
  const dot = s.indexOf('.');
  if (dot !== -1) {
    let frac = s.slice(dot + 1).replace(/0+$/, '');
    if (frac.length > 0) frac = frac.padEnd(Math.ceil(frac.length / 3) * 3, '0');
    s = frac.length > 0 ? `${s.slice(0, dot)}.${frac}` : s.slice(0, dot);
  }
  return s + 'Z';
}

/** Milliseconds since epoch of a TSV timestamp, or NaN. */
export function tsvTimestampToMillis(v: string | null): number {
  if (v === null) return NaN;
  return Date.parse(v.replace(' ', 'T') + 'Z');
}

/**
 * A JSON column as an object, or null when empty, unreadable or nested deeper than the downstream bound (the
 * API prints what it returns with JSON.stringify, which a deeply nested value would overflow).
 */
function parseColumn(v: string | null): { data?: unknown } | null {
  if (v === null) return null;
  const parsed = parseJsonWithin(v, DOWNSTREAM_MAX_JSON_DEPTH);
  return parsed.ok && parsed.value !== null && typeof parsed.value === 'object' ? (parsed.value as { data?: unknown }) : null;
}

/** Inner SDJs of a `contexts` column (`{"schema":"…contexts/…","data":[…]}`); [] when empty or unreadable. */
export function parseContexts(v: string | null): SelfDescribing[] {
  const parsed = parseColumn(v);
  return parsed !== null && Array.isArray(parsed.data) ? (parsed.data as SelfDescribing[]) : [];
}

/** Inner SDJ of an `unstruct_event` column, or null. */
export function parseUnstruct(v: string | null): SelfDescribing | null {
  const d = parseColumn(v)?.data as SelfDescribing | null | undefined;
  return d && typeof d === 'object' && typeof d.schema === 'string' ? d : null;
}

function typed(kind: Kind, v: string): unknown {
  switch (kind) {
    case 'tstamp':
      return tsvTimestampToInstant(v);
    case 'int': {
      const n = Number.parseInt(v, 10);
      return Number.isNaN(n) ? v : n;
    }
    case 'double': {
      const n = Number(v);
      return Number.isNaN(n) ? v : n;
    }
    case 'bool':
      return v === '1' ? true : v === '0' ? false : v;
    default:
      return v;
  }
}

/** `GoodEvent.event` as Micro encodes the Analytics SDK Event (every key present). */
export function toSdkEvent(ev: EnrichedEvent): Record<string, unknown> {
  const rec = ev as unknown as Record<string, string | null>;
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = rec[c.field] ?? null;
    if (c.kind === 'contexts') {
      const ctx = parseContexts(v);
      out[c.key] = ctx.length === 0 ? [] : { schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: ctx };
    } else if (c.kind === 'unstruct') {
      const ue = parseUnstruct(v);
      out[c.key] = ue === null ? null : { schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: ue };
    } else {
      out[c.key] = v === null ? null : typed(c.kind, v);
    }
  }
  return out;
}

/**
 * Elasticsearch-compatible column name of an entity, as the Analytics SDKs build it:
 * `contexts_com_acme_my_context_1` from `iglu:com.acme/myContext/jsonschema/1-0-0`.
 */
export function entityColumn(prefix: 'contexts' | 'unstruct_event', schemaUri: string): string | null {
  const k = parseSchemaKey(schemaUri);
  if (k === null) return null;
  const vendor = k.vendor.replace(/[.-]/g, '_').toLowerCase();
  const name = k.name.replace(/[.-]/g, '_').replace(/([^A-Z_])([A-Z])/g, '$1_$2').toLowerCase();
  return `${prefix}_${vendor}_${name}_${k.model}`;
}

/** The lossy (flattened) JSON of the Analytics SDKs' event transformer; null columns are left out. */
export function toLossyJson(ev: EnrichedEvent): Record<string, unknown> {
  const rec = ev as unknown as Record<string, string | null>;
  const out: Record<string, unknown> = {};
  for (const c of COLUMNS) {
    const v = rec[c.field] ?? null;
    if (v === null) continue;
    if (c.kind === 'contexts') {
      for (const ctx of parseContexts(v)) {
        const key = entityColumn('contexts', ctx.schema);
        if (key === null) continue;
        const list = (out[key] as unknown[] | undefined) ?? [];
        list.push(ctx.data);
        out[key] = list;
      }
    } else if (c.kind === 'unstruct') {
      const ue = parseUnstruct(v);
      const key = ue && entityColumn('unstruct_event', ue.schema);
      if (ue && key) out[key] = ue.data;
    } else {
      out[c.key] = typed(c.kind, v);
    }
  }
  if (ev.geo_latitude !== null && ev.geo_longitude !== null) out.geo_location = `${ev.geo_latitude},${ev.geo_longitude}`;
  return out;
}
