/** StatusGator status-change webhooks: form body → status_change event with camelCased keys. */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { camelize, fail, inputData, parseForm, rawEvent, requireBody, toParams, unstructParams, type JsonObject } from './support.js';

const FORM = 'application/x-www-form-urlencoded';

export function statusGatorAdapter(schemas: AdapterSchemas): Adapter {
  const schema = schemas.statusgator.status_change;
  return {
    vendor: 'com.statusgator',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const checked = requireBody(payload, FORM, { emptyIsMissing: true });
      if ('outcome' in checked) return checked.outcome;
      const body = checked.body;
      const form = parseForm(body);
      if ('error' in form) return fail(inputData('body', body, `could not parse body: ${form.error}`));
      const data: JsonObject = {};
      for (const [k, v] of toParams(form.pairs)) data[k] = v;
      const qs = toParams(payload.querystring);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.statusgator-v1', 'srv', qs, schema, camelize(data)))] };
    },
  };
}
