/** StatusGator status-change webhooks: form body → status_change event with camelCased keys. */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { camelize, inputData, rawEvent, readFormBody, toParams, unstructParams, type JsonObject } from './support.js';

export function statusGatorAdapter(schemas: AdapterSchemas): Adapter {
  const schema = schemas.statusgator.status_change;
  return {
    vendor: 'com.statusgator',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const form = readFormBody(payload, { emptyIsMissing: true }, (body, error) => inputData('body', body, `could not parse body: ${error}`));
      if ('outcome' in form) return form.outcome;
      const data: JsonObject = {};
      for (const [k, v] of toParams(form.pairs)) data[k] = v;
      const qs = toParams(payload.querystring);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.statusgator-v1', 'srv', qs, schema, camelize(data)))] };
    },
  };
}
