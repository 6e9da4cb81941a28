/**
 * Mailgun webhooks (JSON): `event-data.event` picks the schema. The event is the `signature` object
 * merged with `event-data` (whose `timestamp` is replaced by the signature's), keys camelCased,
 * `bodyPlain` dropped, `attachmentCount` kept only as an integer, `timestamp` (epoch seconds) as ISO.
 */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { camelize, cleanupEventValues, fail, inputData, isObject, lookupSchema, rawEvent, readJsonBody, toParams, unstructParams, type Json, type JsonObject } from './support.js';

function deepMerge(a: JsonObject, b: JsonObject): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const existing = out[k];
    out[k] = isObject(existing) && isObject(v) ? deepMerge(existing, v) : v;
  }
  return out;
}

export function mailgunAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.mailgun;
  const byType: Record<string, string> = {
    bounced: s.message_bounced,
    clicked: s.message_clicked,
    complained: s.message_complained,
    delivered: s.message_delivered,
    dropped: s.message_dropped,
    opened: s.message_opened,
    unsubscribed: s.recipient_unsubscribed,
  };
  return {
    vendor: 'com.mailgun',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const parsed = readJsonBody(payload, 'application/json', { emptyIsMissing: true }, (body, error) => inputData('body', body, `could not parse body: ${error}`));
      if ('outcome' in parsed) return parsed.outcome;
      const body = parsed.body;
      const root = parsed.json;
      const eventData = isObject(root) ? root['event-data'] : undefined;
      const typeJson = isObject(eventData) ? eventData.event : undefined;
      if (typeJson === undefined) return fail(inputData('body', body, 'no `event` parameter provided: cannot determine event type'));
      const type = typeof typeJson === 'string' ? typeJson : null;
      const found = lookupSchema(type, byType);
      if ('failure' in found) return fail(found.failure);
      const signature = isObject(root) ? root.signature : undefined;
      const sig = isObject(signature) ? signature : {};
      for (const k of ['timestamp', 'token', 'signature']) {
        if (sig[k] === undefined) return fail(inputData(k, null, `missing '${k}'`));
      }
      if (!isObject(eventData)) return fail(inputData('event-data', null, "missing 'event-data'"));
      const merged = deepMerge(sig, { ...eventData, timestamp: sig.timestamp! });
      const camel = camelize(merged) as JsonObject;
      const event: JsonObject = {};
      for (const [k, v] of Object.entries(camel)) if (k !== 'bodyPlain' && k !== 'attachmentCount') event[k] = v;
      const ac = camel.attachmentCount;
      if (typeof ac === 'number' && Number.isInteger(ac)) event.attachmentCount = ac;
      const data: Json = cleanupEventValues(event, type === null ? null : ['event', type], ['timestamp']);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.mailgun-v1', 'srv', toParams(payload.querystring), found.schema, data))] };
    },
  };
}
