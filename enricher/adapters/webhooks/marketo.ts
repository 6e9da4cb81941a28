/** Marketo webhooks: a JSON object → marketo event 2-0-0, `yyyy-MM-dd HH:mm:ss` date fields as ISO date-times. */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, inputData, isObject, rawEvent, readJsonBody, sqlDateTimeToIso, toParams, unstructParams, type Json, type JsonObject } from './support.js';

const DATE_FIELDS = new Set([
  'acquisition_date', 'created_at', 'email_suspended_at', 'last_referred_enrollment',
  'last_referred_visit', 'updated_at', 'datetime', 'last_interesting_moment_date',
]);

function reformat(json: Json): Json {
  if (!isObject(json)) return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) {
    if (DATE_FIELDS.has(k)) out[k] = typeof v === 'string' ? sqlDateTimeToIso(v) : v;
    else if (isObject(v)) out[k] = reformat(v);
    else out[k] = v;
  }
  return out;
}

export function marketoAdapter(schemas: AdapterSchemas): Adapter {
  const schema = schemas.marketo.event;
  return {
    vendor: 'com.marketo',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const parsed = readJsonBody(payload, null);
      if ('outcome' in parsed) return parsed.outcome;
      const body = parsed.body;
      if (!isObject(parsed.json)) return fail(inputData('body', body, 'not a json object'));
      const qs = toParams(payload.querystring);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.marketo-v1', 'srv', qs, schema, reformat(parsed.json)))] };
    },
  };
}
