/**
 * Thrift CollectorPayload → LoadedPayload with the loader's checks (../shared/spec/enrich.md §0 step 2).
 *
 *   bytes --decodeCollectorPayload--> CollectorPayload
 *         --checks: schema 1-0-*, path → (vendor, version), querystring (java.net.URI rules),
 *                   networkUserId is a UUID, client IP from X-Forwarded-For / Forwarded
 *         --> LoadedPayload | collector_payload_format_violation message
 */
import { decodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import type { LoadedPayload } from '../adapters/adapter.js';
import { isUuid } from '../converters.js';
import { extractIpAddress } from './ip-address-extractor.js';
import { parseQuerystring } from '../../common/querystring.js';

export type CPFormatViolationMessage =
  | { payloadField: string; value: string | null; expectation: string }
  | { error: string };

export type LoaderOutcome = { ok: true; payload: LoadedPayload } | { ok: false; message: CPFormatViolationMessage };

const SCHEMA_RE = /^iglu:com\.snowplowanalytics\.snowplow\/CollectorPayload\/thrift\/1-0-(0|[1-9]\d*)$/;
const IGLU_URI_RE = /^iglu:[a-zA-Z0-9\-_.]+\/[a-zA-Z0-9\-_]+\/[a-zA-Z0-9\-_]+\/[1-9]\d*-(0|[1-9]\d*)-(0|[1-9]\d*)$/;
const API_PATH_RE = /^\/?([^/]+)\/([^/]+)\/?$/;
const TP1_PATH_RE = /^(\/i|\/i\?.*|\/ice\.png.*)$/;

export function loadThrift(bytes: Buffer): LoaderOutcome {
  let cp: CollectorPayload;
  try {
    cp = decodeCollectorPayload(bytes);
  } catch (e) {
    return { ok: false, message: { error: `error deserializing raw event: ${(e as Error).message}` } };
  }
  return loadCollectorPayload(cp);
}

/**
 * The last schema that passed SCHEMA_RE: a stream carries one or two schema strings, and an equality check of the
 * same text is ~10x cheaper than the regex (which was ~1 % of the enrich bench profile).
 */
let lastGoodSchema: string | null = null;

/** Tracker paths seen → their (vendor, version); a few distinct paths per deployment, bounded. */
const API_BY_PATH = new Map<string, { vendor: string; version: string }>();
const API_BY_PATH_MAX = 256;

/** The loader's checks on a decoded payload. */
export function loadCollectorPayload(cp: CollectorPayload): LoaderOutcome {
  const schema = cp.schema ?? null;
  if (schema === null || (schema !== lastGoodSchema && !SCHEMA_RE.test(schema))) {
    if (schema !== null && !IGLU_URI_RE.test(schema)) {
      return { ok: false, message: { error: `verifying record as iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-* failed: ${schema === '' ? 'empty schema' : `invalid schema key ${schema}`}` } };
    }
    return { ok: false, message: { error: `verifying record as iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-* failed: found ${schema ?? 'no schema'}` } };
  }
  lastGoodSchema = schema;
  const path = cp.path ?? null;
  if (path === null) {
    return { ok: false, message: { payloadField: 'path', value: null, expectation: 'request path is required' } };
  }
  let api = API_BY_PATH.get(path);
  if (api === undefined) {
    if (TP1_PATH_RE.test(path)) {
      api = { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' };
    } else {
      const m = API_PATH_RE.exec(path);
      if (!m) return { ok: false, message: { payloadField: 'path', value: path, expectation: 'path does not match (/)vendor/version(/)' } };
      api = { vendor: m[1]!, version: m[2]! };
    }
    // Frozen: every payload of a path shares the object. Hostile path variety is bounded: at most API_BY_PATH_MAX
    // paths of at most 256 characters are kept.
    Object.freeze(api);
    if (API_BY_PATH.size < API_BY_PATH_MAX && path.length <= 256) API_BY_PATH.set(path, api);
  }
  const encoding = cp.encoding ?? 'UTF-8';
  let querystring: LoadedPayload['querystring'] = [];
  if (cp.querystring !== undefined && cp.querystring !== null) {
    const q = parseQuerystring(cp.querystring, encoding);
    if (!q.ok) {
      return { ok: false, message: { payloadField: 'querystring', value: cp.querystring, expectation: `could not extract name-value pairs from querystring with encoding ${encoding}: ${q.error}` } };
    }
    querystring = q.pairs;
  }
  const nuid = cp.networkUserId ?? null;
  if (nuid !== null && !isUuid(nuid)) {
    return { ok: false, message: { payloadField: 'networkUserId', value: nuid, expectation: 'not a valid UUID' } };
  }
  const headers = cp.headers ?? [];
  return {
    ok: true,
    payload: {
      api,
      querystring,
      contentType: cp.contentType ?? null,
      body: cp.body ?? null,
      source: { name: cp.collector ?? '', encoding, hostname: cp.hostname ?? null },
      context: {
        timestamp: cp.timestamp ?? null,
        ipAddress: extractIpAddress(headers, cp.ipAddress ?? null),
        useragent: cp.userAgent ?? null,
        refererUri: cp.refererUri ?? null,
        headers,
        userId: nuid,
      },
    },
  };
}
