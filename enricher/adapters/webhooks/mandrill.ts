/** Mandrill webhooks: form body `mandrill_events=<JSON array>`, one event per element, `event` picks the schema. */
import type { Adapter, RawEvent, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { cleanupEventValues, collect, fail, inputData, isObject, lookupSchema, parseJson, rawEvent, readFormBody, toParams, unstructParams } from './support.js';

export function mandrillAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.mandrill;
  const byType: Record<string, string> = {
    hard_bounce: s.message_bounced,
    click: s.message_clicked,
    deferral: s.message_delayed,
    spam: s.message_marked_as_spam,
    open: s.message_opened,
    reject: s.message_rejected,
    send: s.message_sent,
    soft_bounce: s.message_soft_bounced,
    unsub: s.recipient_unsubscribed,
    delivered: s.message_delivered,
  };
  return {
    vendor: 'com.mandrill',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const form = readFormBody(payload, {}, (body, error) => inputData('body', body, error));
      if ('outcome' in form) return form.outcome;
      const body = form.body;
      const fields = new Map<string, string>();
      for (const p of form.pairs) if (p.value !== null) fields.set(p.name, p.value);
      if (fields.size !== 1) return fail(inputData('body', body, `body should have size 1: actual size ${fields.size}`));
      const events = fields.get('mandrill_events');
      if (events === undefined) return fail(inputData('body', body, 'no `mandrill_events` parameter provided'));
      if (events === '') return fail(inputData('body', body, '`mandrill_events` field is empty'));
      const parsed = parseJson(events);
      if ('error' in parsed) return fail({ field: 'mandril_events', value: events, error: parsed.error });
      if (!Array.isArray(parsed.json)) return fail(inputData('mandrill_events', events, 'not a json array'));
      const qs = toParams(payload.querystring);
      const results: Array<RawEvent | AdapterFailureMessage[]> = parsed.json.map((event, index) => {
        const type = isObject(event) && typeof event.event === 'string' ? event.event : null;
        const found = lookupSchema(type, byType, index);
        if ('failure' in found) return [found.failure];
        const data = cleanupEventValues(event, type === null ? null : ['event', type], ['ts']);
        return rawEvent(payload, unstructParams('com.mandrill-v1', 'srv', qs, found.schema, data));
      });
      return collect(results);
    },
  };
}
