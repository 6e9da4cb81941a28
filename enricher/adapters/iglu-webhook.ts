/**
 * The Iglu webhook adapter (`/com.snowplowanalytics.iglu/v1`, ../shared/spec/enrich.md §3, §3.1): any
 * self-describing event sent by a tool that can only call a URL.
 *
 *   GET  ?schema=iglu:…&k=v…                     → one event, data = the other parameters (strings, "" → null)
 *   POST ?schema=iglu:… with a JSON body          → object: one event; array: one event per element
 *   POST ?schema=iglu:… with a form body          → one event, data = the form fields (default platform srv)
 *   POST JSON SDJ body without `schema` parameter → one event, the body's own schema and data
 *
 * Events are `{tv:"com.snowplowanalytics.iglu-v1", e:"ue", p: qs.p ?? "app", ue_pr:…}` plus the
 * pass-through parameters nuid, aid, cv, eid, ttm, url. Failures are adapter_failures.
 */
import type { Adapter, AdapterDeps, AdapterFailureMessage, AdapterOutcome, LoadedPayload, RawEvent } from './adapter.js';
import { parseJson, stringifyJson } from '../json.js';
import { parseFormBody } from '../../common/querystring.js';
import { parseSchemaUri } from '../../formats/schema-key.js';
import { childShadow, toSdj, UNSTRUCT_EVENT_SCHEMA } from '../self-describing.js';
import { ADAPTER_MAX_JSON_DEPTH, failure, rawEvent, toParams } from './snowplow-common.js';

const TRACKER_VERSION = 'com.snowplowanalytics.iglu-v1';
const PASSED_THROUGH = ['nuid', 'aid', 'cv', 'eid', 'ttm', 'url'] as const;
/** Not part of the event data: they describe the event, not the payload. */
const NOT_DATA = new Set(['schema', 'nuid', 'aid', 'cv', 'p']);
const JSON_TYPES = /^application\/json(\s*;.*)?$/i;
const FORM_TYPES = /^application\/x-www-form-urlencoded(\s*;.*)?$/i;
const CT_EXPECTATION = 'expected one of application/json, application/json; charset=utf-8, application/x-www-form-urlencoded';

export const igluWebhookAdapter: Adapter = Object.freeze({
  vendor: 'com.snowplowanalytics.iglu',
  version: 'v1',
  failureKind: 'adapter_failures' as const,
  toRawEvents(payload: LoadedPayload, deps?: AdapterDeps): AdapterOutcome {
    const maxDepth = deps?.maxJsonDepth ?? ADAPTER_MAX_JSON_DEPTH;
    const qs = toParams(payload.querystring);
    const schemaParam = qs.get('schema');
    const body = payload.body === null || payload.body === '' ? null : payload.body;
    const ct = payload.contentType;

    if (schemaParam === undefined || schemaParam === null) {
      if (body === null) return failure({ field: 'schema', value: null, expectation: 'empty `schema` field and no body: not a valid Iglu webhook' });
      if (ct === null || !JSON_TYPES.test(ct)) return failure({ field: 'contentType', value: ct, expectation: 'expected application/json for a self-describing body without a `schema` parameter' });
      const parsed = parseJson(body, maxDepth);
      if (!parsed.ok) return failure({ field: 'body', value: body, error: parsed.error });
      const sdj = toSdj(parsed.value, parsed.shadow);
      if (!sdj.ok) return failure({ json: parsed.value, error: sdj.error });
      return { ok: true, events: [event(payload, qs, 'app', sdj.entity.schema, stringifyJson(sdj.entity.data, childShadow(parsed.shadow, 'data')))] };
    }

    const key = parseSchemaUri(schemaParam);
    if (typeof key === 'string') return failure({ field: 'schema', value: schemaParam, expectation: key });

    if (body === null) {
      const data = dataObject();
      for (const [k, v] of qs) if (!NOT_DATA.has(k)) data[k] = v === null || v === '' ? null : v;
      return { ok: true, events: [event(payload, qs, 'app', schemaParam, JSON.stringify(data))] };
    }
    if (ct === null) return failure({ field: 'contentType', value: null, expectation: CT_EXPECTATION });
    if (FORM_TYPES.test(ct)) {
      const pairs = parseFormBody(body, payload.source.encoding);
      if (pairs.length === 0) return failure({ field: 'body', value: body, expectation: 'has no key-value pairs' });
      const data = dataObject();
      for (const p of pairs) data[p.name] = p.value === null || p.value === '' ? null : p.value;
      return { ok: true, events: [event(payload, qs, 'srv', schemaParam, JSON.stringify(data))] };
    }
    if (!JSON_TYPES.test(ct)) return failure({ field: 'contentType', value: ct, expectation: CT_EXPECTATION });
    const parsed = parseJson(body, maxDepth);
    if (!parsed.ok) return failure({ field: 'body', value: body, error: parsed.error });
    const v = parsed.value;
    if (Array.isArray(v)) {
      if (v.length === 0) return failure({ field: 'body', value: body, expectation: 'empty array of events' });
      const events: RawEvent[] = [];
      const messages: AdapterFailureMessage[] = [];
      v.forEach((item, i) => {
        if (item === null || typeof item !== 'object' || Array.isArray(item)) {
          messages.push({ field: 'body', value: JSON.stringify(item), expectation: `event at index ${i} is not a JSON object` });
        } else events.push(event(payload, qs, 'app', schemaParam, stringifyJson(item, childShadow(parsed.shadow, i))));
      });
      return messages.length > 0 ? { ok: false, messages } : { ok: true, events };
    }
    if (v === null || typeof v !== 'object') return failure({ field: 'body', value: body, expectation: 'has no key-value pairs' });
    if (Object.keys(v).length === 0) return failure({ field: 'body', value: body, expectation: 'has no key-value pairs' });
    return { ok: true, events: [event(payload, qs, 'app', schemaParam, stringifyJson(v, parsed.shadow))] };
  },
});

/** A prototype-less object, so a parameter named `__proto__` is data like any other. */
function dataObject(): Record<string, string | null> {
  return Object.create(null) as Record<string, string | null>;
}

function event(payload: LoadedPayload, qs: Map<string, string | null>, platform: string, schema: string, dataJson: string): RawEvent {
  const params = new Map<string, string | null>();
  params.set('tv', TRACKER_VERSION);
  params.set('e', 'ue');
  const p = qs.get('p');
  params.set('p', p === undefined || p === null ? platform : p);
  params.set('ue_pr', `{"schema":"${UNSTRUCT_EVENT_SCHEMA}","data":{"schema":${JSON.stringify(schema)},"data":${dataJson}}}`);
  for (const k of PASSED_THROUGH) if (qs.has(k)) params.set(k, qs.get(k)!);
  return rawEvent(payload, params);
}
