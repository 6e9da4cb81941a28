/**
 * A (fixed) payload document → the CollectorPayload record the enricher reads again (same Thrift codec as the
 * collector: formats/collector-payload.ts), checked by the enricher's own loader before it is accepted. The
 * loader checks are the enricher's (enricher/payloads/thrift-loader.ts `loadCollectorPayload`); they are passed
 * in by whoever composes recovery with the enricher (bin/commands/recover.ts, mini/recovery.ts), so recovery/
 * imports no stage.
 *
 *   collector   {vendor, version, querystring:[{name,value}], body, contentType, headers, …}
 *               → path /vendor/version (/i for tp1), querystring form-encoded, body/headers/… as they were
 *   enrichment  {enriched, raw:{parameters:[{name,value}], …}}
 *               → a GET /com.snowplowanalytics.snowplow/tp2 whose querystring is raw.parameters: the parameters
 *                 are already tracker-protocol names whatever adapter made them (webhooks included), so the tp2
 *                 adapter takes them as they are. Without an `eid` parameter, the event id the failed event had
 *                 (enriched.event_id) is added as `eid`: a recovered event keeps its event id.
 *   thrift      the Thrift fields themselves
 */
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayload, type CollectorPayload } from '../formats/collector-payload.js';
import type { PayloadShape } from './bad-row.js';

/**
 * The enricher's loader checks on a decoded payload (schema, path, querystring, network user id): `ok: false`
 * is what the enricher would turn into a collector_payload_format_violation. enricher/payloads/thrift-loader.ts
 * `loadCollectorPayload` has this shape.
 */
export type LoadCheck = (cp: CollectorPayload) => { ok: true } | { ok: false; message: unknown };

export type Encoded = { ok: true; record: Buffer; payload: CollectorPayload } | { ok: false; error: string };

const TP2_PATH = '/com.snowplowanalytics.snowplow/tp2';
const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function optString(v: unknown, field: string): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TypeError(`${field} must be a string`);
}

/** Joda/ISO time or epoch ms → ms (0 when absent, as Snowplow's recovery does). */
function timeMs(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (Number.isFinite(t)) return t;
    throw new TypeError(`timestamp ${JSON.stringify(v.slice(0, 40))} is not a time`);
  }
  if (v === null || v === undefined) return 0;
  throw new TypeError('timestamp must be a time string');
}

function headersOf(v: unknown): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string')) throw new TypeError('headers must be a list of strings');
  return v as string[];
}

/** Form-encodes name/value pairs the way trackers do (a value of null is the bare name). */
export function encodeQuerystring(pairs: unknown, field: string): string | undefined {
  if (pairs === null || pairs === undefined) return undefined;
  if (!Array.isArray(pairs)) throw new TypeError(`${field} must be a list of {name, value}`);
  const parts: string[] = [];
  for (const p of pairs) {
    if (!isRecord(p) || typeof p.name !== 'string') throw new TypeError(`${field} must be a list of {name, value}`);
    const value = p.value === null || p.value === undefined ? null : typeof p.value === 'string' ? p.value : JSON.stringify(p.value);
    parts.push(value === null ? encodeURIComponent(p.name) : `${encodeURIComponent(p.name)}=${encodeURIComponent(value)}`);
  }
  return parts.length === 0 ? undefined : parts.join('&');
}

function fromCollector(d: Record<string, unknown>): CollectorPayload {
  const vendor = optString(d.vendor, 'vendor') ?? '';
  const version = optString(d.version, 'version') ?? '';
  const path = vendor === 'com.snowplowanalytics.snowplow' && version === 'tp1' ? '/i' : `/${vendor}/${version}`;
  const cp: CollectorPayload = {
    schema: COLLECTOR_PAYLOAD_SCHEMA,
    ipAddress: optString(d.ipAddress, 'ipAddress'),
    timestamp: timeMs(d.timestamp),
    encoding: optString(d.encoding, 'encoding') ?? 'UTF-8',
    collector: optString(d.collector, 'collector') ?? '',
    userAgent: optString(d.useragent, 'useragent'),
    refererUri: optString(d.refererUri, 'refererUri'),
    path,
    querystring: encodeQuerystring(d.querystring, 'querystring'),
    body: optString(d.body, 'body'),
    headers: headersOf(d.headers),
    contentType: optString(d.contentType, 'contentType'),
    hostname: optString(d.hostname, 'hostname'),
    networkUserId: optString(d.networkUserId, 'networkUserId'),
  };
  return cp;
}

function fromEnrichment(d: Record<string, unknown>): CollectorPayload {
  const raw = d.raw;
  if (!isRecord(raw)) throw new TypeError('raw must be an object');
  const params = raw.parameters;
  if (!Array.isArray(params)) throw new TypeError('raw.parameters must be a list of {name, value}');
  let pairs = params;
  const enriched = isRecord(d.enriched) ? d.enriched : null;
  const eventId = enriched !== null && typeof enriched.event_id === 'string' && UUID_RE.test(enriched.event_id) ? enriched.event_id : null;
  if (eventId !== null && !params.some((p) => isRecord(p) && p.name === 'eid')) pairs = [...params, { name: 'eid', value: eventId }];
  return {
    schema: COLLECTOR_PAYLOAD_SCHEMA,
    ipAddress: optString(raw.ipAddress, 'raw.ipAddress'),
    timestamp: timeMs(raw.timestamp),
    encoding: optString(raw.encoding, 'raw.encoding') ?? 'UTF-8',
    collector: optString(raw.loaderName, 'raw.loaderName') ?? '',
    userAgent: optString(raw.useragent, 'raw.useragent'),
    refererUri: optString(raw.refererUri, 'raw.refererUri'),
    path: TP2_PATH,
    querystring: encodeQuerystring(pairs, 'raw.parameters'),
    headers: headersOf(raw.headers),
    hostname: optString(raw.hostname, 'raw.hostname'),
    networkUserId: optString(raw.userId, 'raw.userId'),
  };
}

const THRIFT_STRINGS = ['schema', 'ipAddress', 'encoding', 'collector', 'userAgent', 'refererUri', 'path', 'querystring', 'body', 'contentType', 'hostname', 'networkUserId'] as const;

function fromThrift(d: Record<string, unknown>): CollectorPayload {
  const cp: CollectorPayload = { timestamp: timeMs(d.timestamp) };
  for (const k of THRIFT_STRINGS) {
    const v = optString(d[k], k);
    if (v !== undefined) cp[k] = v;
  }
  const h = headersOf(d.headers);
  if (h !== undefined) cp.headers = h;
  return cp;
}

/**
 * Builds the record of one document and runs the enricher's loader checks on it (schema, path, querystring,
 * network user id): a record the enricher would reject as collector_payload_format_violation is not accepted.
 */
export function encodeDocument(shape: PayloadShape, doc: unknown, loadCheck: LoadCheck): Encoded {
  if (!isRecord(doc)) return { ok: false, error: 'the fixed payload is not an object' };
  let cp: CollectorPayload;
  try {
    cp = shape === 'collector' ? fromCollector(doc) : shape === 'enrichment' ? fromEnrichment(doc) : fromThrift(doc);
  } catch (e) {
    return { ok: false, error: `the fixed payload cannot be encoded: ${(e as Error).message}` };
  }
  const loaded = loadCheck(cp);
  if (!loaded.ok) return { ok: false, error: `the fixed payload does not load: ${JSON.stringify(loaded.message)}` };
  return { ok: true, record: encodeCollectorPayload(cp), payload: cp };
}
