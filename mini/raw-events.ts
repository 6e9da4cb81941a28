/**
 * Raw events and collector payloads in Snowplow Micro's JSON shapes.
 *
 *   Micro RawEvent        {api:{vendor,version}, parameters:{name:value}, contentType,
 *                          source:{name,encoding,hostname}, context:{timestamp,ipAddress,useragent,refererUri,headers,userId}}
 *   Micro CollectorPayload {api, querystring:["name=value"…], contentType, body, source, context}
 *
 * Three ways in:
 *   - the collector tap: every Thrift record the collector writes is decoded here and its tracker-protocol
 *     events (GET querystring, POST payload_data) indexed by `eid`, so a good event coming back from the
 *     enricher finds the raw event it came from (the enriched TSV no longer carries the raw parameters);
 *   - a bad row's `payload.raw` (RawEvent in the bad-rows 2-0-x layout, parameters as [{name,value}]);
 *   - a bad row's CollectorPayload payload (tracker_protocol_violations, adapter_failures).
 * Timestamps are rendered as Joda's DateTime.toString() does in Micro (`2021-08-29T12:01:05.787Z`).
 */
import { gunzipSync } from 'node:zlib';
import { decodeCollectorPayload, type CollectorPayload } from '../formats/collector-payload.js';
import { DOWNSTREAM_MAX_JSON_DEPTH, parseJsonWithin } from '../common/json-depth.js';

export interface MicroApi {
  vendor: string;
  version: string;
}
export interface MicroSource {
  name: string | null;
  encoding: string | null;
  hostname: string | null;
}
export interface MicroContext {
  timestamp: string | null;
  ipAddress: string | null;
  useragent: string | null;
  refererUri: string | null;
  headers: string[];
  userId: string | null;
}
export interface MicroRawEvent {
  api: MicroApi;
  parameters: Record<string, string | null>;
  contentType: string | null;
  source: MicroSource;
  context: MicroContext;
}
export interface MicroCollectorPayload {
  api: MicroApi;
  querystring: string[];
  contentType: string | null;
  body: string | null;
  source: MicroSource;
  context: MicroContext;
}

const TP_VENDOR = 'com.snowplowanalytics.snowplow';

function isoOrNull(ms: number | null | undefined): string | null {
  return typeof ms === 'number' && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** `/i`, `/ice.png` → tp1; `/vendor/version` → that pair; anything else null (the enricher makes it a bad row). */
export function apiOfPath(path: string | undefined): MicroApi | null {
  if (path === undefined) return null;
  if (path === '/i' || path.startsWith('/i?') || path.startsWith('/ice.png')) return { vendor: TP_VENDOR, version: 'tp1' };
  const m = /^\/?([^/]+)\/([^/]+)\/?$/.exec(path);
  return m ? { vendor: m[1]!, version: m[2]! } : null;
}

/** Form-urlencoded querystring → ordered pairs (a name without `=` has value null). */
export function parseQuerystring(qs: string | undefined): Array<[string, string | null]> {
  if (!qs) return [];
  const out: Array<[string, string | null]> = [];
  for (const part of qs.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const rawValue = eq === -1 ? null : part.slice(eq + 1);
    out.push([safeDecode(rawName), rawValue === null ? null : safeDecode(rawValue)]);
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function sourceOf(p: CollectorPayload): MicroSource {
  return { name: p.collector ?? null, encoding: p.encoding ?? null, hostname: p.hostname ?? null };
}

function contextOf(p: CollectorPayload): MicroContext {
  return {
    timestamp: isoOrNull(p.timestamp),
    ipAddress: p.ipAddress ?? null,
    useragent: p.userAgent ?? null,
    refererUri: p.refererUri ?? null,
    headers: p.headers ?? [],
    userId: p.networkUserId ?? null,
  };
}

export function collectorPayloadToMicro(p: CollectorPayload): MicroCollectorPayload {
  return {
    api: apiOfPath(p.path) ?? { vendor: '', version: '' },
    querystring: parseQuerystring(p.querystring).map(([n, v]) => `${n}=${v}`),
    contentType: p.contentType ?? null,
    body: p.body ?? null,
    source: sourceOf(p),
    context: contextOf(p),
  };
}

/**
 * The tracker-protocol events a payload carries: GET querystring (tp1 or tp2/redirect), or the `data`
 * array of a tp2 POST body. Non-tracker vendors (webhooks) yield one event whose parameters are the
 * querystring; the enricher's adapter decides what they really are.
 */
export function rawEventsOfPayload(p: CollectorPayload): MicroRawEvent[] {
  const api = apiOfPath(p.path);
  if (!api) return [];
  const source = sourceOf(p);
  const context = contextOf(p);
  const contentType = p.contentType ?? null;
  // Key order as Micro prints a RawEvent.
  const make = (parameters: Record<string, string | null>): MicroRawEvent => ({ api, parameters, contentType, source, context });
  const qs = parseQuerystring(p.querystring);
  if (api.vendor === TP_VENDOR && api.version === 'tp2' && p.body) {
    // Bounded before parsing: the values below are printed with JSON.stringify, which overflows the stack on an
    // object nested a few thousand deep. A body that deep has no raw events here (the enricher makes it a bad row).
    const parsed = parseJsonWithin(p.body, DOWNSTREAM_MAX_JSON_DEPTH);
    if (!parsed.ok || parsed.value === null || typeof parsed.value !== 'object') return [];
    const data = (parsed.value as { data?: unknown }).data;
    if (!Array.isArray(data)) return [];
    const out: MicroRawEvent[] = [];
    for (const item of data) {
      if (item === null || typeof item !== 'object') continue;
      const parameters: Record<string, string | null> = {};
      for (const [n, v] of qs) parameters[n] = v;
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) parameters[k] = typeof v === 'string' ? v : JSON.stringify(v);
      out.push(make(parameters));
    }
    return out;
  }
  const parameters: Record<string, string | null> = {};
  for (const [n, v] of qs) parameters[n] = v;
  return [make(parameters)];
}

/**
 * Decodes one raw-stream record: a plain Thrift CollectorPayload, or the gzip batch framing
 * (`1f 8b` … → `01 01` then repeated [int32 BE length][Thrift]). Undecodable records yield [].
 * zstd framing is not decoded here (the tap only enriches the API's answers; the enricher still sees it).
 */
export function decodeRawRecord(rec: Buffer): CollectorPayload[] {
  try {
    if (rec.length > 2 && rec[0] === 0x1f && rec[1] === 0x8b) {
      const buf = gunzipSync(rec);
      if (buf[0] !== 1 || buf[1] !== 1) return [];
      const out: CollectorPayload[] = [];
      let off = 2;
      while (off + 4 <= buf.length) {
        const len = buf.readInt32BE(off);
        off += 4;
        if (len < 0 || off + len > buf.length) break;
        out.push(decodeCollectorPayload(buf.subarray(off, off + len)));
        off += len;
      }
      return out;
    }
    return [decodeCollectorPayload(rec)];
  } catch {
    return [];
  }
}

/** Bad-rows 2-0-x RawEvent (`payload.raw`) → Micro RawEvent. */
export function badRowRawToMicro(raw: Record<string, unknown>): MicroRawEvent {
  const parameters: Record<string, string | null> = {};
  const params = raw.parameters;
  if (Array.isArray(params)) {
    for (const p of params as Array<{ name?: unknown; value?: unknown }>) {
      if (typeof p?.name === 'string') parameters[p.name] = typeof p.value === 'string' ? p.value : null;
    }
  } else if (params && typeof params === 'object') {
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) parameters[k] = typeof v === 'string' ? v : null;
  }
  return {
    api: { vendor: str(raw.vendor) ?? '', version: str(raw.version) ?? '' },
    parameters,
    contentType: str(raw.contentType),
    source: { name: str(raw.loaderName), encoding: str(raw.encoding), hostname: str(raw.hostname) },
    context: {
      timestamp: str(raw.timestamp),
      ipAddress: str(raw.ipAddress),
      useragent: str(raw.useragent),
      refererUri: str(raw.refererUri),
      headers: Array.isArray(raw.headers) ? (raw.headers as unknown[]).filter((h): h is string => typeof h === 'string') : [],
      userId: str(raw.userId),
    },
  };
}

/** Bad-rows CollectorPayload (`payload` of tracker_protocol_violations / adapter_failures) → Micro CollectorPayload. */
export function badRowCollectorPayloadToMicro(p: Record<string, unknown>): MicroCollectorPayload {
  const qs = Array.isArray(p.querystring) ? (p.querystring as Array<{ name?: unknown; value?: unknown }>) : [];
  return {
    api: { vendor: str(p.vendor) ?? '', version: str(p.version) ?? '' },
    querystring: qs.filter((q) => typeof q?.name === 'string').map((q) => `${q.name as string}=${typeof q.value === 'string' ? q.value : null}`),
    contentType: str(p.contentType),
    body: str(p.body),
    source: { name: str(p.collector), encoding: str(p.encoding), hostname: str(p.hostname) },
    context: {
      timestamp: str(p.timestamp),
      ipAddress: str(p.ipAddress),
      useragent: str(p.useragent),
      refererUri: str(p.refererUri),
      headers: Array.isArray(p.headers) ? (p.headers as unknown[]).filter((h): h is string => typeof h === 'string') : [],
      userId: str(p.networkUserId),
    },
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
