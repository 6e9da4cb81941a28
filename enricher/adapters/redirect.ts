/**
 * URI redirect (`/r/tp2`): a GET with `u=<target>` plus tracker parameters (../shared/spec/enrich.md §2.7, §3).
 * Without `e` the redirect itself becomes an unstruct event `uri_redirect/1-0-0`; with `e` the
 * `uri_redirect` entity is put first in the event's contexts (`co` JSON, `cx` base64 re-encoded, or a new
 * contexts/1-0-1 `co`). Failures are tracker_protocol_violations.
 */
import type { Adapter, AdapterDeps, AdapterOutcome, LoadedPayload } from './adapter.js';
import { decodeBase64Lenient, encodeBase64UrlChunked } from '../converters.js';
import { parseJson, stringifyJson } from '../json.js';
import { CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA } from '../self-describing.js';
import { ADAPTER_MAX_JSON_DEPTH, failure, rawEvent, toParams } from './snowplow-common.js';

const URI_REDIRECT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0';
const TRACKER_VERSION = 'r-tp2';

export const redirectAdapter: Adapter = Object.freeze({
  vendor: 'r',
  version: 'tp2',
  failureKind: 'tracker_protocol_violations' as const,
  toRawEvents(payload: LoadedPayload, deps?: AdapterDeps): AdapterOutcome {
    const maxDepth = deps?.maxJsonDepth ?? ADAPTER_MAX_JSON_DEPTH;
    if (payload.querystring.length === 0) {
      return failure({ field: 'querystring', value: null, expectation: 'empty querystring: not a valid URI redirect' });
    }
    const qs = toParams(payload.querystring);
    const u = qs.get('u');
    if (u === undefined || u === null) {
      const shown = payload.querystring.map((p) => `${p.name}=${p.value === null ? 'null' : p.value}`).join('&');
      return failure({ field: 'querystring', value: shown, expectation: 'missing `u` parameter: not a valid URI redirect' });
    }
    const redirectEntity = `{"schema":"${URI_REDIRECT_SCHEMA}","data":{"uri":${JSON.stringify(u)}}}`;
    const params = new Map(qs);
    params.delete('u');
    if (!params.has('p')) params.set('p', 'web');
    params.set('tv', TRACKER_VERSION);
    if (!qs.has('e')) {
      params.set('e', 'ue');
      params.set('ue_pr', `{"schema":"${UNSTRUCT_EVENT_SCHEMA}","data":${redirectEntity}}`);
      return { ok: true, events: [rawEvent(payload, params)] };
    }
    const co = qs.get('co');
    const cx = qs.get('cx');
    if (co !== undefined && co !== null) {
      const added = prependEntity(co, redirectEntity, maxDepth);
      if (!added.ok) return failure({ field: 'co|cx', value: co, error: added.error });
      params.set('co', added.json);
    } else if (cx !== undefined && cx !== null) {
      const decoded = decodeBase64Lenient(cx);
      const added = prependEntity(decoded, redirectEntity, maxDepth);
      if (!added.ok) return failure({ field: 'co|cx', value: decoded, error: added.error });
      params.set('cx', encodeBase64UrlChunked(added.json));
    } else {
      params.set('co', `{"schema":"${CONTEXTS_SCHEMA}","data":[${redirectEntity}]}`);
    }
    return { ok: true, events: [rawEvent(payload, params)] };
  },
});

/** Puts `entity` first in `data` of a contexts JSON, keeping everything else as written. */
function prependEntity(text: string, entity: string, maxDepth: number): { ok: true; json: string } | { ok: false; error: string } {
  const parsed = parseJson(text, maxDepth);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  if (v === null || typeof v !== 'object' || Array.isArray(v) || !Array.isArray((v as Record<string, unknown>)['data'])) {
    return { ok: true, json: stringifyJson(v, parsed.shadow) };
  }
  // Print every member as written, with the data array's first element being the redirect entity.
  const obj = v as Record<string, unknown>;
  const sh = parsed.shadow as Record<string, unknown> | undefined;
  let out = '{';
  let first = true;
  for (const k of Object.keys(obj)) {
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':';
    if (k === 'data') {
      const items = obj[k] as unknown[];
      const itemShadows = sh?.[k] as unknown[] | undefined;
      out += '[' + entity;
      for (let i = 0; i < items.length; i++) out += ',' + stringifyJson(items[i], itemShadows?.[i]);
      out += ']';
    } else out += stringifyJson(obj[k], sh?.[k]);
  }
  return { ok: true, json: out + '}' };
}
