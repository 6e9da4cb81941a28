/**
 * Unbounce form posts: form body with page_id, page_name, variant, page_url and `data.json`
 * (the submitted form as JSON) → form_post event with camelCased keys (`data.xml` dropped).
 */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { camelize, fail, inputData, parseJson, rawEvent, readFormBody, toParams, unstructParams, type JsonObject } from './support.js';

const REQUIRED = ['page_id', 'page_name', 'variant', 'page_url', 'data.json'] as const;

export function unbounceAdapter(schemas: AdapterSchemas): Adapter {
  const schema = schemas.unbounce.form_post;
  return {
    vendor: 'com.unbounce',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const form = readFormBody(payload, { emptyIsMissing: true }, (body, error) => inputData(body, body, `could not parse body: ${error}`));
      if ('outcome' in form) return form.outcome;
      const fields = new Map<string, string>();
      for (const p of form.pairs) if (p.value !== null) fields.set(p.name, p.value);
      for (const k of REQUIRED) if (!fields.has(k)) return fail(inputData(k, null, `missing '${k}' field in body`));
      const dataJson = fields.get('data.json')!;
      if (dataJson === '') return fail(inputData('data.json', null, "empty 'data.json' field in body"));
      const parsed = parseJson(dataJson);
      if ('error' in parsed) return fail({ field: 'data.json', value: dataJson, error: parsed.error });
      const event: JsonObject = { 'data.json': parsed.json };
      for (const [k, v] of fields) if (k !== 'data.json' && k !== 'data.xml') event[k] = v;
      const qs = toParams(payload.querystring);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.unbounce-v1', 'srv', qs, schema, camelize(event)))] };
    },
  };
}
