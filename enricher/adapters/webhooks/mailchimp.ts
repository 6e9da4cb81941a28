/**
 * Mailchimp webhooks: a form body whose `type` picks the event; bracketed keys
 * (`data[merges][EMAIL]`) become nested objects; `fired_at` becomes an ISO date-time.
 */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, inputData, lookupSchema, rawEvent, readFormBody, sqlDateTimeToIso, toParams, unstructParams, withoutTrackerParams, type Json, type JsonObject, type Params } from './support.js';

/** `data[merges][EMAIL]` → ['data', 'merges', 'EMAIL'] */
function keyPath(formKey: string): string[] {
  const parts = formKey.split(/\]?(?:\[|\])/);
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function deepMerge(target: JsonObject, source: JsonObject): JsonObject {
  for (const [k, v] of Object.entries(source)) {
    const existing = target[k];
    if (existing !== null && typeof existing === 'object' && !Array.isArray(existing) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      deepMerge(existing, v);
    } else {
      target[k] = v;
    }
  }
  return target;
}

function nest(params: Params): Json {
  let out: JsonObject | null = null;
  for (const [k, v] of params) {
    if (v === null) continue;
    const path = keyPath(k);
    let leaf: Json = v;
    for (let i = path.length - 1; i >= 0; i--) leaf = { [path[i]!]: leaf };
    out = out === null ? (leaf as JsonObject) : deepMerge(out, leaf as JsonObject);
  }
  return out;
}

export function mailchimpAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.mailchimp;
  const byType: Record<string, string> = {
    subscribe: s.subscribe,
    unsubscribe: s.unsubscribe,
    campaign: s.campaign_sending_status,
    cleaned: s.cleaned_email,
    upemail: s.email_address_change,
    profile: s.profile_update,
  };
  return {
    vendor: 'com.mailchimp',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const form = readFormBody(payload, {}, (body, error) => inputData('body', body, error));
      if ('outcome' in form) return form.outcome;
      const body = form.body;
      const params = toParams(form.pairs);
      const type = params.get('type');
      if (type === undefined || type === null) return fail(inputData('body', body, 'no `type` parameter provided: cannot determine event type'));
      const found = lookupSchema(type, byType);
      if ('failure' in found) return fail(found.failure);
      const firedAt = params.get('fired_at');
      if (firedAt !== undefined && firedAt !== null) params.set('fired_at', sqlDateTimeToIso(firedAt));
      const all: Params = new Map([...toParams(payload.querystring), ...params]);
      const data = nest(withoutTrackerParams(all));
      return { ok: true, events: [rawEvent(payload, unstructParams('com.mailchimp-v1', 'srv', all, found.schema, data))] };
    },
  };
}
