/**
 * Urban Airship Connect events (JSON, sent with no content type): `type` picks the schema; the
 * event's `occurred` becomes `ttm` (true timestamp), `id` becomes `eid`, and `processed` replaces
 * the collector timestamp.
 */
import type { Adapter, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, inputData, isObject, lookupSchema, parseJson, rawEvent, toParams, unstructParams } from './support.js';

export function urbanAirshipAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.urbanAirship;
  const byType: Record<string, string> = {
    CLOSE: s.close, CUSTOM: s.custom, FIRST_OPEN: s.first_open, IN_APP_MESSAGE_DISPLAY: s.in_app_message_display,
    IN_APP_MESSAGE_EXPIRATION: s.in_app_message_expiration, IN_APP_MESSAGE_RESOLUTION: s.in_app_message_resolution,
    LOCATION: s.location, OPEN: s.open, PUSH_BODY: s.push_body, REGION: s.region, RICH_DELETE: s.rich_delete,
    RICH_DELIVERY: s.rich_delivery, RICH_HEAD: s.rich_head, SEND: s.send, TAG_CHANGE: s.tag_change, UNINSTALL: s.uninstall,
  };
  return {
    vendor: 'com.urbanairship.connect',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const body = payload.body;
      if (body === null) return fail(inputData('body', null, 'empty body: no events to process'));
      if (payload.contentType !== null) return fail(inputData('contentType', payload.contentType, 'expected no content type'));
      const parsed = parseJson(body);
      if ('error' in parsed) return fail({ field: 'body', value: body, error: parsed.error });
      const json = parsed.json;
      const obj = isObject(json) ? json : {};
      const messages: AdapterFailureMessage[] = [];
      const str = (field: string): string | null => {
        const v = obj[field];
        if (typeof v === 'string') return v;
        messages.push(inputData(field, null, `could not extract '${field}': DecodingFailure at .${field}: ${v === undefined ? 'Missing required field' : 'Got value with wrong type, expecting string'}`));
        return null;
      };
      const occurred = str('occurred');
      const id = str('id');
      const processed = str('processed');
      const found = lookupSchema(typeof obj.type === 'string' ? obj.type : null, byType);
      if ('failure' in found) messages.push(found.failure);
      const occurredMs = occurred === null ? NaN : Date.parse(occurred);
      const processedMs = processed === null ? NaN : Date.parse(processed);
      if (occurred !== null && Number.isNaN(occurredMs)) messages.push(inputData('occurred', occurred, 'not a valid ISO 8601 date-time'));
      if (processed !== null && Number.isNaN(processedMs)) messages.push(inputData('processed', processed, 'not a valid ISO 8601 date-time'));
      if (messages.length > 0 || 'failure' in found) return { ok: false, messages };
      const qs = toParams(payload.querystring);
      qs.set('ttm', String(occurredMs));
      qs.set('eid', id);
      const params = unstructParams('com.urbanairship.connect-v1', 'srv', qs, found.schema, json);
      const event = rawEvent(payload, params);
      event.context = { ...payload.context, timestamp: processedMs };
      return { ok: true, events: [event] };
    },
  };
}
