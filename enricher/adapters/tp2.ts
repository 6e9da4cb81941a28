/**
 * Snowplow tracker protocol 2 (`/com.snowplowanalytics.snowplow/tp2`): GET querystring and/or a POST body
 * `payload_data` SDJ (1-0-0 … 1-0-4), validated against the version it declares, then checked against
 * `payload_data/1-*-*` (../shared/spec/enrich.md §2.6, §2.7). Each array element becomes one event,
 * merged with the querystring (querystring wins). Failures are tracker_protocol_violations.
 */
import type { Adapter, AdapterDeps, AdapterFailureMessage, AdapterOutcome, LoadedPayload, RawEvent } from './adapter.js';
import { parseJson } from '../json.js';
import { compileCriterion } from '../../formats/schema-key.js';
import { toSdj } from '../self-describing.js';
import { ADAPTER_MAX_JSON_DEPTH, SNOWPLOW_VENDOR, failure, rawEvent, toParams } from './snowplow-common.js';

const CONTENT_TYPES = new Set(['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8']);
const CONTENT_TYPE_EXPECTATION = 'expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8';
const PAYLOAD_DATA = compileCriterion('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-*-*');

export const tp2Adapter: Adapter = Object.freeze({
  vendor: SNOWPLOW_VENDOR,
  version: 'tp2',
  failureKind: 'tracker_protocol_violations' as const,
  async toRawEvents(payload: LoadedPayload, deps: AdapterDeps): Promise<AdapterOutcome> {
    const qs = toParams(payload.querystring);
    const body = payload.body === null || payload.body === '' ? null : payload.body;
    const ct = payload.contentType;
    if (body === null) {
      if (qs.size === 0) {
        return failure(
          { field: 'body', value: null, expectation: 'empty body: not a valid tracker protocol event' },
          { field: 'querystring', value: null, expectation: 'empty querystring: not a valid tracker protocol event' },
        );
      }
      if (ct !== null) return failure({ field: 'body', value: null, expectation: 'empty body: not a valid track protocol event' });
      return { ok: true, events: [rawEvent(payload, qs)] };
    }
    if (ct === null || !CONTENT_TYPES.has(ct)) return failure({ field: 'contentType', value: ct, expectation: CONTENT_TYPE_EXPECTATION });

    // No shadow: the body is never printed with its lexemes (events are strings; a bad row prints the parsed value).
    const parsed = parseJson(body, deps.maxJsonDepth ?? ADAPTER_MAX_JSON_DEPTH, false);
    if (!parsed.ok) return failure({ field: 'body', value: body, error: parsed.error });
    const sdj = toSdj(parsed.value);
    if (!sdj.ok) return failure({ json: parsed.value, error: sdj.error });
    const schemaKey = sdj.entity.schema;
    const v = deps.resolver.validateCached(schemaKey, sdj.entity.data) ?? (await deps.resolver.validate(schemaKey, sdj.entity.data));
    if (!v.ok) return failure({ schemaKey, error: v.error });
    if (!PAYLOAD_DATA.matches(sdj.key)) return failure({ schemaKey, schemaCriterion: PAYLOAD_DATA.text });

    const items = sdj.entity.data;
    if (!Array.isArray(items)) return failure({ field: 'body', value: JSON.stringify(items), expectation: 'json is not an array' });
    if (items.length === 0) return failure({ field: 'body', value: JSON.stringify(items), expectation: 'empty list of events' });
    const events: RawEvent[] = [];
    const messages: AdapterFailureMessage[] = [];
    for (const item of items) {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        messages.push({ field: 'body', value: JSON.stringify(item), expectation: 'event is not a json object' });
        continue;
      }
      const params = new Map<string, string | null>();
      // Object.keys + a property read instead of Object.entries: no [key, value] array per parameter.
      const rec = item as Record<string, unknown>;
      for (const k of Object.keys(rec)) {
        const val = rec[k];
        if (typeof val === 'string') params.set(k, val);
        else if (val === null) messages.push({ field: k, value: null, expectation: 'value cannot be null' });
        else messages.push({ field: k, value: JSON.stringify(val), expectation: 'value is not a string' });
      }
      for (const [k, val] of qs) params.set(k, val);
      events.push(rawEvent(payload, params));
    }
    if (messages.length > 0) return { ok: false, messages };
    return { ok: true, events };
  },
});
