/**
 * SendGrid event webhook (v3): JSON array of events; `event` picks the schema and is removed;
 * `timestamp` (epoch seconds) becomes ISO; events repeated with one `sg_event_id` are sent once (last wins).
 */
import type { Adapter, RawEvent, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { cleanupEventValues, collect, fail, inputData, isObject, lookupSchema, rawEvent, readJsonBody, toParams, unstructParams, type Json } from './support.js';

export function sendgridAdapter(schemas: AdapterSchemas): Adapter {
  const byType: Record<string, string> = { ...schemas.sendgrid };
  return {
    vendor: 'com.sendgrid',
    version: 'v3',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const parsed = readJsonBody(payload, 'application/json', { contentTypeContains: true });
      if ('outcome' in parsed) return parsed.outcome;
      const body = parsed.body;
      if (!Array.isArray(parsed.json)) return fail(inputData('body', body, 'body is not a json array'));
      // De-duplicate by sg_event_id (items without one share the "no id" key, as upstream).
      const byId = new Map<string | null, [Json, number]>();
      parsed.json.forEach((item, index) => {
        const id = isObject(item) && typeof item.sg_event_id === 'string' ? item.sg_event_id : null;
        byId.set(id, [item, index]);
      });
      const qs = toParams(payload.querystring);
      const results: Array<RawEvent | AdapterFailureMessage[]> = [...byId.values()].map(([item, index]) => {
        const type = isObject(item) && typeof item.event === 'string' ? item.event : null;
        const found = lookupSchema(type, byType, index);
        if ('failure' in found) return [found.failure];
        const data = cleanupEventValues(item, type === null ? null : ['event', type], ['timestamp']);
        return rawEvent(payload, unstructParams('com.sendgrid-v3', 'srv', qs, found.schema, data));
      });
      return collect(results);
    },
  };
}
