/**
 * Olark webhooks: form body `data=<JSON>`; a chat with `operators` is a transcript, otherwise an
 * offline message. Item timestamps (`1307116657.1`, seconds with a fraction) become ISO date-times;
 * keys are camelCased.
 */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { camelize, fail, inputData, isObject, isoMillis, lookupSchema, parseJson, rawEvent, readFormBody, toParams, unstructParams, type Json } from './support.js';

function toMillis(ts: string): number | string {
  const parts = ts.split('.');
  if (parts.length > 2) return 'unexpected timestamp format';
  const text = parts.length === 1 ? `${parts[0]}000` : `${parts[0]}${parts[1]!.slice(0, 3).padEnd(3, '0')}`;
  if (!/^[+-]?\d+$/.test(text)) return 'cannot be converted to Double';
  return Number(text);
}

export function olarkAdapter(schemas: AdapterSchemas): Adapter {
  const byType: Record<string, string> = { transcript: schemas.olark.transcript, offline_message: schemas.olark.offline_message };
  return {
    vendor: 'com.olark',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const form = readFormBody(payload, { emptyIsMissing: true, reportContentTypeValue: false }, (body, error) => inputData(body, body, `could not parse body: ${error}`));
      if ('outcome' in form) return form.outcome;
      const data = form.pairs.filter((p) => p.name === 'data' && p.value !== null).pop()?.value;
      if (data === undefined || data === null || data === '') return fail(inputData('data', null, "missing 'data' field"));
      const parsed = parseJson(data);
      if ('error' in parsed) return fail({ field: 'data', value: data, error: parsed.error });
      const event = parsed.json;
      const type = isObject(event) && event.operators !== undefined ? 'transcript' : 'offline_message';
      const found = lookupSchema(type, byType);
      if ('failure' in found) return fail(found.failure);
      if (isObject(event) && Array.isArray(event.items)) {
        const items: Json[] = [];
        for (const item of event.items) {
          if (isObject(item) && typeof item.timestamp === 'string') {
            const ms = toMillis(item.timestamp);
            if (typeof ms === 'string') return fail(inputData('timestamp', item.timestamp, ms));
            items.push({ ...item, timestamp: isoMillis(ms) });
          } else items.push(item);
        }
        event.items = items;
      }
      const qs = toParams(payload.querystring);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.olark-v1', 'srv', qs, found.schema, camelize(event)))] };
    },
  };
}
