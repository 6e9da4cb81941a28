/**
 * Pingdom alerts: GET querystring with `message=<JSON>` whose `action` picks the schema (and is
 * removed); other parameters pass through. Values in Python repr form `(u'…',)` are rejected.
 */
import type { Adapter, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, inputData, isObject, lookupSchema, parseJson, rawEvent, unstructParams, type Json, type Params } from './support.js';

const PYTHON_REPR = /^\(u'([^']+)',\)$/;

export function pingdomAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.pingdom;
  const byType: Record<string, string> = { assign: s.incident_assign, notify_user: s.incident_notify_user, notify_of_close: s.incident_notify_of_close };
  return {
    vendor: 'com.pingdom',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      if (payload.querystring.length === 0) return fail(inputData('querystring', null, 'empty querystring: no events to process'));
      const params: Params = new Map();
      const failures: AdapterFailureMessage[] = [];
      for (const { name, value } of payload.querystring) {
        const m = value === null ? null : PYTHON_REPR.exec(value);
        if (m) failures.push(inputData(name, m[1]!, `should not pass regex ${PYTHON_REPR.source.slice(1, -1)}`));
        else params.set(name, value);
      }
      if (failures.length > 0) return { ok: false, messages: failures };
      const message = params.get('message');
      if (message === undefined || message === null) {
        const formatted = [...params].map(([k, v]) => `${k}=${v ?? 'null'}`).join('&');
        return fail(inputData('querystring', formatted, 'no `message` parameter provided'));
      }
      const parsed = parseJson(message);
      if ('error' in parsed) return fail({ field: 'message', value: message, error: parsed.error });
      const action = isObject(parsed.json) && typeof parsed.json.action === 'string' ? parsed.json.action : null;
      const found = lookupSchema(action, byType);
      if ('failure' in found) return fail(found.failure);
      let data: Json = parsed.json;
      if (isObject(data)) {
        const { action: _dropped, ...rest } = data;
        data = rest;
      }
      params.delete('message');
      return { ok: true, events: [rawEvent(payload, unstructParams('com.pingdom-v1', 'srv', params, found.schema, data))] };
    },
  };
}
