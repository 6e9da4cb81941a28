/**
 * HubSpot webhooks: JSON array; `subscriptionType` (e.g. `contact.creation`) picks the schema and is
 * removed; `occurredAt` (epoch ms) becomes an ISO date-time.
 */
import type { Adapter, RawEvent, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { collect, fail, inputData, isObject, isoMillis, lookupSchema, rawEvent, readJsonBody, toParams, unstructParams, type Json, type JsonObject } from './support.js';

function reformat(json: Json): Json {
  if (!isObject(json)) return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) {
    if (k === 'subscriptionType') continue;
    out[k] = k === 'occurredAt' && typeof v === 'number' && Number.isInteger(v) ? isoMillis(v) : v;
  }
  return out;
}

export function hubspotAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.hubspot;
  const byType: Record<string, string> = {
    'contact.creation': s.contact_creation,
    'contact.deletion': s.contact_deletion,
    'contact.propertyChange': s.contact_change,
    'company.creation': s.company_creation,
    'company.deletion': s.company_deletion,
    'company.propertyChange': s.company_change,
    'deal.creation': s.deal_creation,
    'deal.deletion': s.deal_deletion,
    'deal.propertyChange': s.deal_change,
  };
  return {
    vendor: 'com.hubspot',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      if (payload.body === null) return fail(inputData('body', null, 'empty body: not events to process'));
      const parsed = readJsonBody(payload, 'application/json');
      if ('outcome' in parsed) return parsed.outcome;
      const body = parsed.body;
      if (!Array.isArray(parsed.json)) return fail(inputData('body', body, 'not a json array'));
      const qs = toParams(payload.querystring);
      const results: Array<RawEvent | AdapterFailureMessage[]> = parsed.json.map((event, index) => {
        const type = isObject(event) && typeof event.subscriptionType === 'string' ? event.subscriptionType : null;
        const found = lookupSchema(type, byType, index);
        if ('failure' in found) return [found.failure];
        return rawEvent(payload, unstructParams('com.hubspot-v1', 'srv', qs, found.schema, reformat(event)));
      });
      return collect(results);
    },
  };
}
