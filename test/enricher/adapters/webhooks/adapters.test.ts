/**
 * Each webhook adapter with a realistic payload shaped like the vendor's public documentation,
 * and with bodies it cannot read (which must become adapter failures, never exceptions).
 */
import t from 'tap';
import { adapterFor, payload, run, unstruct } from './helpers.js';
import { WEBHOOK_ADAPTERS } from '../../../../enricher/adapters/webhooks/index.js';

const FORM = 'application/x-www-form-urlencoded';
const JSON_CT = 'application/json';
const form = (o: Record<string, string>): string => new URLSearchParams(o).toString();

t.test('all sixteen vendors are registered with their paths', async (t) => {
  const paths = WEBHOOK_ADAPTERS.map((a) => `${a.vendor}/${a.version}`).sort();
  t.same(paths, [
    'com.amazon.aws.cloudfront/wd_access_log', 'com.callrail/v1', 'com.getvero/v1', 'com.google.analytics/v1', 'com.hubspot/v1',
    'com.mailchimp/v1', 'com.mailgun/v1', 'com.mandrill/v1', 'com.marketo/v1', 'com.olark/v1', 'com.pagerduty/v1',
    'com.pingdom/v1', 'com.sendgrid/v3', 'com.statusgator/v1', 'com.unbounce/v1', 'com.urbanairship.connect/v1',
  ]);
  for (const a of WEBHOOK_ADAPTERS) t.equal(a.failureKind, 'adapter_failures');
});

t.test('CallRail: types, dates, pass-through parameters', async (t) => {
  const a = adapterFor('com.callrail', 'v1');
  const out = await run(a, payload({ path: '/com.callrail/v1', querystring: 'aid=bnb&answered=true&first_call=false&duration=247&datetime=2014-10-09+16%3A23%3A45&callernum=%2B12345&nuid=-&cv=x' }));
  t.ok(out.ok);
  if (!out.ok) return;
  const e = out.events[0]!;
  t.same(unstruct(e).data, {
    schema: 'iglu:com.callrail/call_complete/jsonschema/1-0-2',
    data: { answered: true, first_call: false, duration: 247, datetime: '2014-10-09T16:23:45.000Z', callernum: '+12345' },
  });
  t.equal(e.parameters.get('aid'), 'bnb');
  t.equal(e.parameters.get('nuid'), '-');
  t.equal(e.parameters.get('p'), 'srv');
  const empty = await run(a, payload({ path: '/com.callrail/v1' }));
  t.same(empty, { ok: false, messages: [{ field: 'querystring', value: null, expectation: 'empty querystring' }] });
});

t.test('Mailchimp: nested form keys, content type checks, unknown type', async (t) => {
  const a = adapterFor('com.mailchimp', 'v1');
  const body = form({ type: 'unsubscribe', fired_at: '2009-03-26 21:40:57', 'data[action]': 'unsub', 'data[merges][EMAIL]': 'api@mailchimp.com', 'data[merges][INTERESTS]': 'Group1,Group2' });
  const out = await run(a, payload({ path: '/com.mailchimp/v1', body, contentType: FORM }));
  t.ok(out.ok);
  if (out.ok) {
    t.same(unstruct(out.events[0]!).data, {
      schema: 'iglu:com.mailchimp/unsubscribe/jsonschema/1-0-0',
      data: { type: 'unsubscribe', fired_at: '2009-03-26T21:40:57.000Z', data: { action: 'unsub', merges: { EMAIL: 'api@mailchimp.com', INTERESTS: 'Group1,Group2' } } },
    });
  }
  t.same((await run(a, payload({ path: '/com.mailchimp/v1', body, contentType: JSON_CT }))).ok, false);
  const noCt = await run(a, payload({ path: '/com.mailchimp/v1', body }));
  t.same(noCt, { ok: false, messages: [{ field: 'contentType', value: null, expectation: `no content type: expected ${FORM}` }] });
  const bad = await run(a, payload({ path: '/com.mailchimp/v1', body: 'type=bogus', contentType: FORM }));
  t.match(bad, { ok: false, messages: [{ actual: 'bogus', expectation: 'no schema associated with the provided type parameter' }] });
  const noType = await run(a, payload({ path: '/com.mailchimp/v1', body: 'a=b', contentType: FORM }));
  t.match(noType, { ok: false, messages: [{ field: 'body', expectation: 'no `type` parameter provided: cannot determine event type' }] });
  const illegal = await run(a, payload({ path: '/com.mailchimp/v1', body: 'type=subscribe&x=a b', contentType: FORM }));
  t.match(illegal, { ok: false, messages: [{ field: 'body', expectation: /Illegal character/ }] });
  const noBody = await run(a, payload({ path: '/com.mailchimp/v1', contentType: FORM }));
  t.match(noBody, { ok: false, messages: [{ field: 'body', expectation: 'empty body: no events to process' }] });
});

t.test('Mandrill: one event per array element, ts as ISO, event key removed, per-index failures', async (t) => {
  const a = adapterFor('com.mandrill', 'v1');
  const events = [
    { event: 'send', msg: { ts: 1365109999, email: 'example.webhook@mandrillapp.com', tags: ['webhook-example'] }, _id: 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa', ts: 1415267366 },
    { event: 'open', msg: { ts: 1365109999 }, ts: 1415267366 },
  ];
  const out = await run(a, payload({ path: '/com.mandrill/v1', body: form({ mandrill_events: JSON.stringify(events) }), contentType: FORM }));
  t.ok(out.ok);
  if (out.ok) {
    t.equal(out.events.length, 2);
    t.same(unstruct(out.events[0]!).data, {
      schema: 'iglu:com.mandrill/message_sent/jsonschema/1-0-1',
      data: { msg: { ts: '2013-04-04T21:13:19.000Z', email: 'example.webhook@mandrillapp.com', tags: ['webhook-example'] }, _id: 'exampleaaaaaaaaaaaaaaaaaaaaaaaaa', ts: '2014-11-06T09:49:26.000Z' },
    });
    t.equal(unstruct(out.events[1]!).data.schema, 'iglu:com.mandrill/message_opened/jsonschema/1-0-3');
  }
  const mixed = await run(a, payload({ path: '/com.mandrill/v1', body: form({ mandrill_events: '[{"event":"send"},{"event":"nope"},{}]' }), contentType: FORM }));
  t.match(mixed, { ok: false, messages: [
    { actual: 'nope', expectation: 'no schema associated with the provided type parameter at index 1' },
    { actual: null, expectation: 'cannot determine event type: type parameter not provided at index 2' },
  ] });
  t.match(await run(a, payload({ path: '/com.mandrill/v1', body: 'mandrill_events=%7Bnot+json', contentType: FORM })), { ok: false, messages: [{ field: 'mandril_events', error: /^invalid json/ }] });
  t.match(await run(a, payload({ path: '/com.mandrill/v1', body: 'mandrill_events=%7B%7D', contentType: FORM })), { ok: false, messages: [{ expectation: 'not a json array' }] });
  t.match(await run(a, payload({ path: '/com.mandrill/v1', body: 'a=1&b=2', contentType: FORM })), { ok: false, messages: [{ expectation: 'body should have size 1: actual size 2' }] });
  t.match(await run(a, payload({ path: '/com.mandrill/v1', body: 'mandrill_events=%5B%5D', contentType: FORM })), { ok: false, messages: [{ expectation: 'empty list of events' }] });
});

t.test('Olark: transcript vs offline message, timestamps, camelCase', async (t) => {
  const a = adapterFor('com.olark', 'v1');
  const chat = { kind: 'Conversation', id: 'EV695BI2930A6XMO32886MPT899443414', operators: { '647563': { username: 'yali', emailAddress: 'yali@snowplowanalytics.com', kind: 'Operator' } },
    items: [{ kind: 'MessageToVisitor', body: 'Hi', timestamp: '1307116657.1', nickname: 'Yali' }], visitor: { full_name: 'Joe', email_address: 'joe@example.com' } };
  const out = await run(a, payload({ path: '/com.olark/v1', body: form({ data: JSON.stringify(chat) }), contentType: FORM }));
  t.ok(out.ok);
  if (out.ok) {
    const ue = unstruct(out.events[0]!).data;
    t.equal(ue.schema, 'iglu:com.olark/transcript/jsonschema/1-0-0');
    t.match(ue.data, { items: [{ timestamp: '2011-06-03T15:57:37.100Z' }], visitor: { fullName: 'Joe', emailAddress: 'joe@example.com' } });
  }
  const offline = await run(a, payload({ path: '/com.olark/v1', body: form({ data: '{"kind":"Conversation","items":[]}' }), contentType: FORM }));
  t.match(offline, { ok: true });
  if (offline.ok) t.equal(unstruct(offline.events[0]!).data.schema, 'iglu:com.olark/offline_message/jsonschema/1-0-0');
  t.match(await run(a, payload({ path: '/com.olark/v1', body: form({ data: '{"items":[{"timestamp":"1.2.3"}]}' }), contentType: FORM })), { ok: false, messages: [{ field: 'timestamp', expectation: 'unexpected timestamp format' }] });
  t.match(await run(a, payload({ path: '/com.olark/v1', body: 'other=1', contentType: FORM })), { ok: false, messages: [{ field: 'data', expectation: "missing 'data' field" }] });
  t.match(await run(a, payload({ path: '/com.olark/v1', body: '', contentType: FORM })), { ok: false, messages: [{ expectation: 'empty body: no events to process' }] });
});

t.test('PagerDuty: messages array, incident type, dates', async (t) => {
  const a = adapterFor('com.pagerduty', 'v1');
  const body = JSON.stringify({ messages: [{ type: 'incident.trigger', data: { incident: { id: 'PIJ90N7', created_on: '2012-12-22T00:35:21Z', last_status_change_on: '2014-06-06T15:10:01 00:00', assigned_to_user: 'null' } }, id: '3a3e8c', created_on: '2014-06-06T15:10:01 00:00' }] });
  const out = await run(a, payload({ path: '/com.pagerduty/v1', body, contentType: JSON_CT }));
  t.ok(out.ok);
  if (out.ok) {
    t.same(unstruct(out.events[0]!).data, {
      schema: 'iglu:com.pagerduty/incident/jsonschema/1-0-0',
      data: { type: 'trigger', data: { incident: { id: 'PIJ90N7', created_on: '2012-12-22T00:35:21Z', last_status_change_on: '2014-06-06T15:10:01+00:00', assigned_to_user: null } }, id: '3a3e8c', created_on: '2014-06-06T15:10:01+00:00' },
    });
  }
  t.match(await run(a, payload({ path: '/com.pagerduty/v1', body: '{"messages":{}}', contentType: JSON_CT })), { ok: false, messages: [{ field: 'messages', expectation: 'field `messages` is not an array' }] });
  t.match(await run(a, payload({ path: '/com.pagerduty/v1', body: '{', contentType: JSON_CT })), { ok: false, messages: [{ field: 'body', error: /^invalid json/ }] });
  t.match(await run(a, payload({ path: '/com.pagerduty/v1', body: '{"messages":[]}', contentType: 'text/plain' })), { ok: false, messages: [{ field: 'contentType', value: 'text/plain', expectation: 'expected application/json' }] });
});

t.test('Pingdom: message JSON from the querystring, action removed, python repr rejected', async (t) => {
  const a = adapterFor('com.pingdom', 'v1');
  const msg = JSON.stringify({ check: '1421338', checkname: 'Webhooks_Test', host: '7eef51c2.ngrok.com', action: 'assign', incidentid: 3, description: 'down' });
  const out = await run(a, payload({ path: '/com.pingdom/v1', querystring: `p=apps&message=${encodeURIComponent(msg)}` }));
  t.ok(out.ok);
  if (out.ok) {
    const e = out.events[0]!;
    t.same(unstruct(e).data, { schema: 'iglu:com.pingdom/incident_assign/jsonschema/1-0-0', data: { check: '1421338', checkname: 'Webhooks_Test', host: '7eef51c2.ngrok.com', incidentid: 3, description: 'down' } });
    t.equal(e.parameters.get('p'), 'apps');
  }
  t.match(await run(a, payload({ path: '/com.pingdom/v1', querystring: "p=%28u%27app%27%2C%29" })), { ok: false, messages: [{ field: 'p', value: 'app' }] });
  t.match(await run(a, payload({ path: '/com.pingdom/v1', querystring: 'p=srv' })), { ok: false, messages: [{ field: 'querystring', value: 'p=srv', expectation: 'no `message` parameter provided' }] });
  t.match(await run(a, payload({ path: '/com.pingdom/v1' })), { ok: false, messages: [{ expectation: 'empty querystring: no events to process' }] });
});

t.test('SendGrid: array, de-duplication by sg_event_id, timestamp, event removed', async (t) => {
  const a = adapterFor('com.sendgrid', 'v3');
  const events = [
    { email: 'example@test.com', timestamp: 1446549615, 'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>', event: 'processed', category: 'cat facts', sg_event_id: 'sZROwMGMagFgnOEmSdvhig==', sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0' },
    { email: 'example@test.com', timestamp: 1446549615, event: 'processed', sg_event_id: 'sZROwMGMagFgnOEmSdvhig==' },
    { email: 'example@test.com', timestamp: 1446549615, event: 'open', useragent: 'Mozilla', ip: '255.255.255.255', sg_event_id: 'other' },
  ];
  const out = await run(a, payload({ path: '/com.sendgrid/v3', body: JSON.stringify(events), contentType: 'application/json; charset=utf-8' }));
  t.ok(out.ok);
  if (out.ok) {
    t.equal(out.events.length, 2, 'duplicate sg_event_id sent once');
    t.same(unstruct(out.events[0]!).data, { schema: 'iglu:com.sendgrid/processed/jsonschema/3-0-0', data: { email: 'example@test.com', timestamp: '2015-11-03T11:20:15.000Z', sg_event_id: 'sZROwMGMagFgnOEmSdvhig==' } });
    t.equal(unstruct(out.events[1]!).data.schema, 'iglu:com.sendgrid/open/jsonschema/3-0-0');
  }
  t.match(await run(a, payload({ path: '/com.sendgrid/v3', body: '{}', contentType: JSON_CT })), { ok: false, messages: [{ expectation: 'body is not a json array' }] });
  t.match(await run(a, payload({ path: '/com.sendgrid/v3', body: '[{"event":"x"}]', contentType: JSON_CT })), { ok: false, messages: [{ actual: 'x' }] });
});

t.test('StatusGator and Unbounce: form bodies', async (t) => {
  const sg = adapterFor('com.statusgator', 'v1');
  const out = await run(sg, payload({ path: '/com.statusgator/v1', body: form({ service_name: 'CloudFlare', favicon_url: 'https://x/y.png', status_page_url: 'https://www.cloudflarestatus.com/', home_page_url: 'http://www.cloudflare.com', current_status: 'up', last_status: 'warn', occurred_at: '2016-05-19T09:26:31+00:00' }), contentType: FORM }));
  t.ok(out.ok);
  if (out.ok) t.same(unstruct(out.events[0]!).data.data, { serviceName: 'CloudFlare', faviconUrl: 'https://x/y.png', statusPageUrl: 'https://www.cloudflarestatus.com/', homePageUrl: 'http://www.cloudflare.com', currentStatus: 'up', lastStatus: 'warn', occurredAt: '2016-05-19T09:26:31+00:00' });
  t.match(await run(sg, payload({ path: '/com.statusgator/v1', body: '', contentType: FORM })), { ok: false });

  const ub = adapterFor('com.unbounce', 'v1');
  const body = form({ page_id: 'f7afd389-65a3-45fa-8bad-b7a42236044c', page_name: 'Test-Webhook', variant: 'a', page_url: 'http://unbouncepages.com/test-webhook-1', 'data.json': '{"email":["test@snowplowanalytics.com"],"ip_address":["200.121.220.179"],"time_submitted":["04:17 PM UTC"]}', 'data.xml': '<x/>' });
  const u = await run(ub, payload({ path: '/com.unbounce/v1', body, contentType: FORM }));
  t.ok(u.ok);
  if (u.ok) t.same(unstruct(u.events[0]!).data.data, { 'data.json': { email: ['test@snowplowanalytics.com'], ipAddress: ['200.121.220.179'], timeSubmitted: ['04:17 PM UTC'] }, pageId: 'f7afd389-65a3-45fa-8bad-b7a42236044c', pageName: 'Test-Webhook', variant: 'a', pageUrl: 'http://unbouncepages.com/test-webhook-1' });
  t.match(await run(ub, payload({ path: '/com.unbounce/v1', body: form({ page_id: 'x' }), contentType: FORM })), { ok: false, messages: [{ field: 'page_name', expectation: "missing 'page_name' field in body" }] });
  t.match(await run(ub, payload({ path: '/com.unbounce/v1', body: form({ page_id: 'x', page_name: 'y', variant: 'a', page_url: 'u', 'data.json': '[' }), contentType: FORM })), { ok: false, messages: [{ field: 'data.json', error: /^invalid json/ }] });
});

t.test('Marketo, Mailgun, HubSpot, Vero, Urban Airship: JSON vendors', async (t) => {
  const mk = await run(adapterFor('com.marketo', 'v1'), payload({ path: '/com.marketo/v1', body: JSON.stringify({ name: 'webhook for A', step: 6, lead: { acquisition_date: '2010-11-11 11:11:11', black_listed: false }, company: { name: 'iPhone' }, datetime: '2018-03-07 14:28:16' }), contentType: JSON_CT }));
  t.ok(mk.ok);
  if (mk.ok) t.same(unstruct(mk.events[0]!).data, { schema: 'iglu:com.marketo/event/jsonschema/2-0-0', data: { name: 'webhook for A', step: 6, lead: { acquisition_date: '2010-11-11T11:11:11.000Z', black_listed: false }, company: { name: 'iPhone' }, datetime: '2018-03-07T14:28:16.000Z' } });
  t.match(await run(adapterFor('com.marketo', 'v1'), payload({ path: '/com.marketo/v1', body: '[1]', contentType: JSON_CT })), { ok: false, messages: [{ expectation: 'not a json object' }] });

  const mg = adapterFor('com.mailgun', 'v1');
  const mgBody = { signature: { timestamp: '1529006854', token: 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0', signature: 'd2271d12299f6592d9d44cd9d250f0704e4674c30d79d07c47a66f95ce71cf55' },
    'event-data': { event: 'opened', timestamp: 1529006854.329574, id: 'DACSsAdVSeGpLid7TN03WA', recipient: 'alice@example.com', 'user-variables': { 'my-var-1': 'x' }, 'body-plain': 'hi' } };
  const m = await run(mg, payload({ path: '/com.mailgun/v1', body: JSON.stringify(mgBody), contentType: JSON_CT }));
  t.ok(m.ok);
  if (m.ok) t.same(unstruct(m.events[0]!).data, { schema: 'iglu:com.mailgun/message_opened/jsonschema/1-0-0', data: { timestamp: '2018-06-14T20:07:34.000Z', token: mgBody.signature.token, signature: mgBody.signature.signature, id: 'DACSsAdVSeGpLid7TN03WA', recipient: 'alice@example.com', userVariables: { myVar1: 'x' } } });
  t.match(await run(mg, payload({ path: '/com.mailgun/v1', body: '{"event-data":{}}', contentType: JSON_CT })), { ok: false, messages: [{ expectation: 'no `event` parameter provided: cannot determine event type' }] });
  t.match(await run(mg, payload({ path: '/com.mailgun/v1', body: '{"event-data":{"event":"opened"}}', contentType: JSON_CT })), { ok: false, messages: [{ field: 'timestamp', expectation: "missing 'timestamp'" }] });

  const hs = await run(adapterFor('com.hubspot', 'v1'), payload({ path: '/com.hubspot/v1', body: JSON.stringify([{ eventId: 1, subscriptionId: 25458, portalId: 4737818, occurredAt: 1539145399845, subscriptionType: 'contact.creation', attemptNumber: 0, objectId: 123, changeSource: 'CRM', changeFlag: 'NEW', appId: 177698 }]), contentType: JSON_CT }));
  t.ok(hs.ok);
  if (hs.ok) t.same(unstruct(hs.events[0]!).data, { schema: 'iglu:com.hubspot/contact_creation/jsonschema/1-0-0', data: { eventId: 1, subscriptionId: 25458, portalId: 4737818, occurredAt: '2018-10-10T04:23:19.845Z', attemptNumber: 0, objectId: 123, changeSource: 'CRM', changeFlag: 'NEW', appId: 177698 } });
  t.match(await run(adapterFor('com.hubspot', 'v1'), payload({ path: '/com.hubspot/v1', contentType: JSON_CT })), { ok: false, messages: [{ expectation: 'empty body: not events to process' }] });

  const vero = await run(adapterFor('com.getvero', 'v1'), payload({ path: '/com.getvero/v1', body: JSON.stringify({ sent_at: 1435016238, type: 'sent', user: { id: 123, email: 'steve@getvero.com' }, campaign: { id: 987, type: 'transactional', _tags: 'tag 1, tag 2' } }) }));
  t.ok(vero.ok);
  if (vero.ok) t.same(unstruct(vero.events[0]!).data, { schema: 'iglu:com.getvero/sent/jsonschema/1-0-0', data: { sent_at: '2015-06-22T23:37:18.000Z', user: { id: 123, email: 'steve@getvero.com' }, campaign: { id: 987, type: 'transactional', tags: 'tag 1, tag 2' } } });
  t.match(await run(adapterFor('com.getvero', 'v1'), payload({ path: '/com.getvero/v1', body: '{}' })), { ok: false, messages: [{ field: 'type' }] });

  const ua = adapterFor('com.urbanairship.connect', 'v1');
  const uaBody = { id: 'e3314efb-9058-dbaf-c4bb-b754fca73613', offset: '1', occurred: '2015-11-13T16:31:52.393Z', processed: '2015-11-13T16:31:52.912Z', device: { amazon_channel: 'cd97c95c-ed77-f15a-3a67-5c2e26799d35' }, body: { variant_id: 1 }, type: 'CLOSE' };
  const u = await run(ua, payload({ path: '/com.urbanairship.connect/v1', body: JSON.stringify(uaBody) }));
  t.ok(u.ok);
  if (u.ok) {
    const e = u.events[0]!;
    t.same(unstruct(e).data, { schema: 'iglu:com.urbanairship.connect/CLOSE/jsonschema/1-0-0', data: uaBody });
    t.equal(e.parameters.get('ttm'), String(Date.parse('2015-11-13T16:31:52.393Z')));
    t.equal(e.parameters.get('eid'), uaBody.id);
    t.equal(e.context.timestamp, Date.parse('2015-11-13T16:31:52.912Z'));
  }
  t.match(await run(ua, payload({ path: '/com.urbanairship.connect/v1', body: '{}', contentType: JSON_CT })), { ok: false, messages: [{ field: 'contentType', expectation: 'expected no content type' }] });
  t.match(await run(ua, payload({ path: '/com.urbanairship.connect/v1', body: '{"type":"NOPE"}' })), { ok: false });
});

t.test('CloudFront access log: field counts pick the schema version, typed fields', async (t) => {
  const a = adapterFor('com.amazon.aws.cloudfront', 'wd_access_log');
  const line = ['2013-10-07', '23:35:30', 'c', '100', '255.255.255.255', 'f', 'g', 'h', 'i', 'Mozilla/5.0%2520(Windows)', 'k', 'l'].join('\t');
  const out = await run(a, payload({ path: '/com.amazon.aws.cloudfront/wd_access_log', body: line }));
  t.ok(out.ok);
  if (out.ok) {
    const e = out.events[0]!;
    t.same(unstruct(e).data, { schema: 'iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-0',
      data: { dateTime: '2013-10-07T23:35:30Z', xEdgeLocation: 'c', scBytes: 100, cIp: '255.255.255.255', csMethod: 'f', csHost: 'g', csUriStem: 'h', scStatus: 'i', csReferer: 'Mozilla/5.0 (Windows)', csUserAgent: 'k', csUriQuery: 'l' } });
    t.equal(e.context.timestamp, Date.UTC(2013, 9, 7, 23, 35, 30));
    t.equal(e.context.ipAddress, '255.255.255.255');
    t.equal(e.parameters.get('url'), 'Mozilla/5.0%2520(Windows)');
  }
  const wide = Array.from({ length: 19 }, (_, i) => (i === 0 ? '2013-10-07' : i === 1 ? '23:35:30' : i === 18 ? '0.001' : i === 17 ? '12' : i === 3 ? '5' : 'x')).join('\t');
  const w = await run(a, payload({ path: '/com.amazon.aws.cloudfront/wd_access_log', body: wide }));
  t.ok(w.ok);
  if (w.ok) t.match(unstruct(w.events[0]!).data, { schema: 'iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-3', data: { timeTaken: 0.001, csBytes: 12 } });
  t.match(await run(a, payload({ path: '/com.amazon.aws.cloudfront/wd_access_log', body: 'a\tb' })), { ok: false, messages: [{ expectation: 'access log contained 2 fields, expected 12, 15, 18, 19, 23, 24 or 26' }] });
  const badTypes = ['2013-10-07', '23:35:30', 'c', 'notanint', 'ip', 'f', 'g', 'h', 'i', 'j', 'k', 'l'].join('\t');
  t.match(await run(a, payload({ path: '/com.amazon.aws.cloudfront/wd_access_log', body: badTypes })), { ok: false, messages: [{ field: 'scBytes', value: 'notanint', expectation: 'cannot be converted to Int' }] });
  t.match(await run(a, payload({ path: '/com.amazon.aws.cloudfront/wd_access_log' })), { ok: false, messages: [{ expectation: 'empty body' }] });
});

t.test('Google Analytics: hits, contexts, composite contexts, direct mappings, multi-line bodies', async (t) => {
  const a = adapterFor('com.google.analytics', 'v1');
  const body = [
    't=pageview&dh=host&dp=path&cid=555&tid=UA-1&v=1&dl=http%3A%2F%2Fx.test%2Fp&dr=http%3A%2F%2Fr.test',
    't=item&ti=tr1&in=name&ip=12.228&iq=2&cu=EUR&pr1id=sku1&pr1nm=n1&pr2id=sku2&cd12=dim&cm3=1.5&il1nm=list&il1pi1id=s&il1pi1pr=9.999',
  ].join('\n');
  const out = await run(a, payload({ path: '/com.google.analytics/v1', body }));
  t.ok(out.ok, JSON.stringify(out));
  if (!out.ok) return;
  t.equal(out.events.length, 2);
  const [pv, item] = out.events as [typeof out.events[0], typeof out.events[0]];
  t.same(unstruct(pv).data, { schema: 'iglu:com.google.analytics.measurement-protocol/page_view/jsonschema/1-0-0', data: { documentHostName: 'host', documentPath: 'path', documentLocationUrl: 'http://x.test/p' } });
  t.equal(pv.parameters.get('url'), 'http://x.test/p');
  t.equal(pv.parameters.get('refr'), 'http://r.test');
  t.equal(pv.parameters.get('p'), 'srv');
  const pvCtx = JSON.parse(pv.parameters.get('co')!);
  t.same(pvCtx.data.map((c: { schema: string }) => c.schema.split('/')[1]), ['general', 'user', 'traffic_source', 'hit'], 'page_view context dropped on pageview hits');
  t.same(pvCtx.data[1].data, { clientId: '555' });

  t.same(unstruct(item).data, { schema: 'iglu:com.google.analytics.measurement-protocol/item/jsonschema/1-0-0', data: { transactionId: 'tr1', name: 'name', price: 12.23, quantity: 2, currencyCode: 'EUR' } });
  t.equal(item.parameters.get('ti_id'), 'tr1');
  t.equal(item.parameters.get('ti_cu'), 'EUR');
  const ctx = JSON.parse(item.parameters.get('co')!).data as Array<{ schema: string; data: Record<string, unknown> }>;
  const by = (name: string) => ctx.filter((c) => c.schema.includes(`/${name}/`)).map((c) => c.data);
  t.same(by('product'), [{ currencyCode: 'EUR', index: 1, sku: 'sku1', name: 'n1' }, { currencyCode: 'EUR', index: 2, sku: 'sku2' }]);
  t.same(by('custom_dimension'), [{ index: 12, value: 'dim' }]);
  t.same(by('custom_metric'), [{ index: 3, value: 1.5 }]);
  t.same(by('product_impression_list'), [{ index: 1, name: 'list' }]);
  t.same(by('product_impression'), [{ currencyCode: 'EUR', listIndex: 1, productIndex: 1, sku: 's', price: 10 }]);

  t.match(await run(a, payload({ path: '/com.google.analytics/v1', body: 'dh=host' })), { ok: false, messages: [{ field: 'body', expectation: 'no t parameter provided: cannot determine hit type' }] });
  t.match(await run(a, payload({ path: '/com.google.analytics/v1', body: 't=unknown' })), { ok: false, messages: [{ field: 't', value: 'unknown', expectation: 'no matching hit type' }, { actual: 'unknown' }] });
  t.match(await run(a, payload({ path: '/com.google.analytics/v1', body: 't=event&ev=abc' })), { ok: false, messages: [{ field: 'value', value: 'abc', expectation: 'Cannot be converted to java.lang.Integer' }] });
  t.match(await run(a, payload({ path: '/com.google.analytics/v1', body: 't=exception&exf=yes' })), { ok: false, messages: [{ field: 'isFatal' }] });
  t.match(await run(a, payload({ path: '/com.google.analytics/v1', body: '' })), { ok: false, messages: [{ expectation: 'empty body' }] });
});

t.test('hostile bodies never throw: every adapter, every body', async (t) => {
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  const bodies = [null, '', 'not json', '{', '[]', '{}', '[null]', '[1,2]', '"str"', deep, 'a=b&c', '%zz', 'x'.repeat(1_000_000), '\u0000\u0001', 'data=%7B%22items%22%3A5%7D', 'mandrill_events=' + encodeURIComponent(deep)];
  const cts = [null, FORM, JSON_CT, 'text/plain'];
  let runs = 0;
  for (const a of WEBHOOK_ADAPTERS) {
    for (const body of bodies) {
      for (const contentType of cts) {
        const out = await run(a, payload({ path: `/${a.vendor}/${a.version}`, body, contentType, querystring: body && body.length < 100 && /^[\w=&.-]*$/.test(body) ? body : null }));
        runs++;
        if (!out.ok) t.ok(out.messages.length > 0, `${a.vendor}: failure carries messages`);
      }
    }
  }
  t.equal(runs, WEBHOOK_ADAPTERS.length * bodies.length * cts.length);
  const deepOut = await run(adapterFor('com.marketo', 'v1'), payload({ path: '/com.marketo/v1', body: deep }));
  t.match(deepOut, { ok: false, messages: [{ error: 'invalid json: maximum allowed JSON depth exceeded' }] });
});
