/**
 * Vero webhooks (JSON): `type` picks the schema and is removed; `<type>_at` and `triggered_at`
 * (epoch seconds) become ISO date-times; `_tags` is renamed `tags`.
 */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { cleanupEventValues, fail, inputData, isObject, lookupSchema, rawEvent, readJsonBody, toParams, unstructParams, type Json, type JsonObject } from './support.js';

function renameTags(json: Json): Json {
  if (!isObject(json)) return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) out[k === '_tags' ? 'tags' : k] = isObject(v) ? renameTags(v) : v;
  return out;
}

export function veroAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.vero;
  const byType: Record<string, string> = {
    bounced: s.bounced, clicked: s.clicked, delivered: s.delivered, opened: s.opened, sent: s.sent,
    unsubscribed: s.unsubscribed, user_created: s.created, user_updated: s.updated,
  };
  return {
    vendor: 'com.getvero',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const parsed = readJsonBody(payload, null);
      if ('outcome' in parsed) return parsed.outcome;
      const typeJson = isObject(parsed.json) ? parsed.json.type : undefined;
      if (typeof typeJson !== 'string') {
        const why = typeJson === undefined ? 'Missing required field' : `Got value '${JSON.stringify(typeJson)}' with wrong type, expecting string`;
        return fail(inputData('type', null, `could not extract 'type': DecodingFailure at .type: ${why}`));
      }
      const cleaned = cleanupEventValues(parsed.json, ['type', typeJson], [`${typeJson}_at`, 'triggered_at']);
      const found = lookupSchema(typeJson, byType);
      if ('failure' in found) return fail(found.failure);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.getvero-v1', 'srv', toParams(payload.querystring), found.schema, renameTags(cleaned)))] };
    },
  };
}
