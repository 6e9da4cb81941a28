/**
 * PagerDuty (v1 webhooks): JSON `{"messages": [...]}`, one incident event per message; `type`
 * loses its `incident.` prefix, `"null"` strings become null, ` 00:00` offsets become `+00:00`.
 */
import type { Adapter, RawEvent, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { collect, fail, inputData, isObject, lookupSchema, rawEvent, readJsonBody, toParams, unstructParams, type Json, type JsonObject } from './support.js';

const TYPES = ['trigger', 'acknowledge', 'unacknowledge', 'resolve', 'assign', 'escalate', 'delegate'];

function reformat(json: Json): Json {
  if (!isObject(json)) return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) {
    if (v === 'null') out[k] = null;
    else if (k === 'type' && typeof v === 'string') out[k] = v.replaceAll('incident.', '');
    else if ((k === 'created_on' || k === 'last_status_change_on') && typeof v === 'string') out[k] = v.replace(/ 00:00$/, '+00:00');
    else if (isObject(v)) out[k] = reformat(v);
    else out[k] = v;
  }
  return out;
}

export function pagerdutyAdapter(schemas: AdapterSchemas): Adapter {
  const byType: Record<string, string> = Object.fromEntries(TYPES.map((t) => [`incident.${t}`, schemas.pagerduty.incident]));
  return {
    vendor: 'com.pagerduty',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const parsed = readJsonBody(payload, 'application/json');
      if ('outcome' in parsed) return parsed.outcome;
      const body = parsed.body;
      const messages = isObject(parsed.json) ? parsed.json.messages : undefined;
      if (!Array.isArray(messages)) return fail(inputData('messages', body, 'field `messages` is not an array'));
      const qs = toParams(payload.querystring);
      const results: Array<RawEvent | AdapterFailureMessage[]> = messages.map((m, index) => {
        const type = isObject(m) && typeof m.type === 'string' ? m.type : null;
        const found = lookupSchema(type, byType, index);
        if ('failure' in found) return [found.failure];
        return rawEvent(payload, unstructParams('com.pagerduty-v1', 'srv', qs, found.schema, reformat(m)));
      });
      return collect(results);
    },
  };
}
