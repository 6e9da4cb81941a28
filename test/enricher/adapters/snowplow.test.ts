/**
 * The Snowplow-protocol adapters: tp1, tp2 (payload_data validated against the version it declares),
 * redirect, and the Iglu webhook adapter (GET, POST JSON object/array, form, SDJ body).
 */
import t from 'tap';
import type { AdapterOutcome, LoadedPayload } from '../../../enricher/adapters/adapter.js';
import { AdapterRegistry } from '../../../enricher/adapters/registry.js';
import { igluWebhookAdapter } from '../../../enricher/adapters/iglu-webhook.js';
import { redirectAdapter } from '../../../enricher/adapters/redirect.js';
import { tp1Adapter } from '../../../enricher/adapters/tp1.js';
import { tp2Adapter } from '../../../enricher/adapters/tp2.js';
import { decodeBase64Lenient } from '../../../enricher/converters.js';
import { testResolver } from '../support.js';

function payload(p: Partial<LoadedPayload> & { qs?: Array<[string, string | null]> }): LoadedPayload {
  return {
    api: p.api ?? { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' },
    querystring: (p.qs ?? []).map(([name, value]) => ({ name, value })),
    contentType: p.contentType ?? null,
    body: p.body ?? null,
    source: { name: 'ssc-test', encoding: 'UTF-8', hostname: 'h' },
    context: { timestamp: 0, ipAddress: '1.2.3.4', useragent: null, refererUri: null, headers: [], userId: null },
  };
}

const params = (o: AdapterOutcome, i = 0): Record<string, string | null> => {
  if (!o.ok) throw new Error(JSON.stringify(o.messages));
  return Object.fromEntries(o.events[i]!.parameters);
};

t.test('registry: Snowplow paths and the webhook vendors', async (t) => {
  const r = new AdapterRegistry();
  t.equal(r.lookup('com.snowplowanalytics.snowplow', 'tp1'), tp1Adapter);
  t.equal(r.lookup('com.snowplowanalytics.snowplow', 'tp2'), tp2Adapter);
  t.equal(r.lookup('r', 'tp2'), redirectAdapter);
  t.equal(r.lookup('com.snowplowanalytics.iglu', 'v1'), igluWebhookAdapter);
  t.ok(r.has('com.mailchimp', 'v1'), 'webhook adapters are registered');
  t.equal(r.lookup('com.acme', 'v1'), undefined);
});

t.test('tp1: querystring → one event, duplicates: last wins', async (t) => {
  const o = tp1Adapter.toRawEvents(payload({ qs: [['e', 'pv'], ['aid', 'a'], ['aid', 'b'], ['x', null]] }), { resolver: await testResolver() }) as AdapterOutcome;
  t.same(params(o), { e: 'pv', aid: 'b', x: null });
});

t.test('tp2: every payload_data version is validated against the version it declares', async (t) => {
  const resolver = await testResolver();
  const body = (version: string, event: Record<string, string>) => JSON.stringify({ schema: `iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/${version}`, data: [event] });
  const base = { e: 'pv', p: 'web', tv: 't' };
  const cases: Array<[string, string, boolean]> = [
    ['1-0-0', 'ua', false], ['1-0-1', 'ua', true], ['1-0-1', 'tnuid', false], ['1-0-2', 'tnuid', true],
    ['1-0-2', 'stm', false], ['1-0-3', 'stm', true], ['1-0-3', 'ttm', false], ['1-0-4', 'ttm', true],
  ];
  for (const [version, key, ok] of cases) {
    const o = await tp2Adapter.toRawEvents(payload({ contentType: 'application/json', body: body(version, { ...base, [key]: '1' }) }), { resolver });
    t.equal(o.ok, ok, `${key} in payload_data ${version}: ${ok ? 'accepted' : 'rejected'}`);
    if (!o.ok) t.match(o.messages[0], { schemaKey: `iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/${version}`, error: { error: 'ValidationError' } });
  }
  const cv = await tp2Adapter.toRawEvents(payload({ contentType: 'application/json', body: body('1-0-4', { ...base, cv: 'x' }) }), { resolver });
  t.equal(cv.ok, false, 'cv is not allowed in POST bodies');
  const unknown = await tp2Adapter.toRawEvents(payload({ contentType: 'application/json', body: body('1-0-5', base) }), { resolver });
  t.match(unknown, { ok: false, messages: [{ schemaKey: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-5', error: { error: 'ResolutionError' } }] });
  const other = await tp2Adapter.toRawEvents(payload({ contentType: 'application/json', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'b05b31c3-81ac-4af5-92d1-113133968655' } }) }), { resolver });
  t.same(other, { ok: false, messages: [{ schemaKey: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', schemaCriterion: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-*-*' }] });
  const nonString = await tp2Adapter.toRawEvents(payload({ contentType: 'application/json', body: '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t"},{"e":"pv","p":"web","tv":"t","aid":null}]}' }), { resolver });
  t.equal(nonString.ok, false);
});

t.test('tp2: body events merged with the querystring (querystring wins)', async (t) => {
  const o = await tp2Adapter.toRawEvents(payload({ qs: [['tv', 'qs'], ['nuid', 'n']], contentType: 'application/json; charset=utf-8', body: '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"body"},{"e":"pp","p":"web","tv":"body"}]}' }), { resolver: await testResolver() });
  t.same(params(o, 0), { e: 'pv', p: 'web', tv: 'qs', nuid: 'n' });
  t.same(params(o, 1), { e: 'pp', p: 'web', tv: 'qs', nuid: 'n' });
});

t.test('redirect: base64 cx gets the uri_redirect entity first and stays base64', async (t) => {
  const cx = Buffer.from('{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"n":1.50}}]}').toString('base64');
  const o = redirectAdapter.toRawEvents(payload({ api: { vendor: 'r', version: 'tp2' }, qs: [['u', 'https://t.example/x?a=1'], ['e', 'se'], ['cx', cx]] }), { resolver: await testResolver() }) as AdapterOutcome;
  const p = params(o);
  t.equal(p['tv'], 'r-tp2');
  t.equal(p['p'], 'web');
  t.equal(decodeBase64Lenient(p['cx']!), '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0","data":{"uri":"https://t.example/x?a=1"}},{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"n":1.50}}]}');
  t.notOk('u' in p, 'u is consumed');
});

t.test('Iglu webhook adapter', async (t) => {
  const resolver = await testResolver();
  const api = { vendor: 'com.snowplowanalytics.iglu', version: 'v1' };
  const schema = 'iglu:com.acme/campaign/jsonschema/1-0-0';
  const ue = (p: Record<string, string | null>) => JSON.parse(p['ue_pr']!).data;

  const get = params(igluWebhookAdapter.toRawEvents(payload({ api, qs: [['schema', schema], ['user', '6353af9b'], ['name', 'download'], ['source', ''], ['aid', 'webhooks'], ['p', 'mob']] }), { resolver }) as AdapterOutcome);
  t.equal(get['tv'], 'com.snowplowanalytics.iglu-v1');
  t.equal(get['e'], 'ue');
  t.equal(get['p'], 'mob');
  t.equal(get['aid'], 'webhooks');
  t.same(ue(get), { schema, data: { user: '6353af9b', name: 'download', source: null } });
  t.equal(JSON.parse(get['ue_pr']!).schema, 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0');

  const arr = igluWebhookAdapter.toRawEvents(payload({ api, qs: [['schema', schema]], contentType: 'application/json', body: '[{"a":1.0},{"b":[true]}]' }), { resolver }) as AdapterOutcome;
  t.equal(arr.ok && arr.events.length, 2);
  t.equal(JSON.parse(params(arr, 0)['ue_pr']!).data.data.a, 1);
  t.match(params(arr, 0)['ue_pr'], /"a":1\.0/, 'number lexeme kept');
  t.equal(params(arr, 0)['p'], 'app');

  const form = params(igluWebhookAdapter.toRawEvents(payload({ api, qs: [['schema', schema]], contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=x+y&c=' }), { resolver }) as AdapterOutcome);
  t.same(ue(form), { schema, data: { a: '1', b: 'x y', c: null } });
  t.equal(form['p'], 'srv');

  const proto = params(igluWebhookAdapter.toRawEvents(payload({ api, qs: [['schema', schema], ['__proto__', null], ['constructor', 'x']] }), { resolver }) as AdapterOutcome);
  t.equal(JSON.parse(proto['ue_pr']!).data.data.constructor, 'x');
  t.same(Object.keys(JSON.parse(proto['ue_pr']!).data.data), ['__proto__', 'constructor'], 'hostile names stay data');

  const sdj = params(igluWebhookAdapter.toRawEvents(payload({ api, contentType: 'application/json', body: JSON.stringify({ schema, data: { k: 'v' } }) }), { resolver }) as AdapterOutcome);
  t.same(ue(sdj), { schema, data: { k: 'v' } });

  const failures: Array<[Partial<LoadedPayload> & { qs?: Array<[string, string | null]> }, object]> = [
    [{ qs: [['schema', 'iglu:com.acme/campaign/jsonschema/1-0']] }, { field: 'schema', value: 'iglu:com.acme/campaign/jsonschema/1-0', expectation: 'INVALID_SCHEMAVER' }],
    [{ qs: [['schema', 'not-an-uri']] }, { field: 'schema', value: 'not-an-uri', expectation: 'INVALID_IGLUURI' }],
    [{ qs: [['schema', schema]], body: '{}' }, { field: 'contentType', value: null }],
    [{ qs: [['schema', schema]], contentType: 'application/json', body: '[]' }, { field: 'body', expectation: 'empty array of events' }],
    [{ qs: [['schema', schema]], contentType: 'application/json', body: '{}' }, { field: 'body', expectation: 'has no key-value pairs' }],
    [{ qs: [['schema', schema]], contentType: 'application/json', body: '{oops' }, { field: 'body', error: /^invalid json/ }],
    [{ contentType: 'application/json', body: '{"no":"schema"}' }, { json: { no: 'schema' }, error: 'INVALID_DATA_PAYLOAD' }],
    [{ qs: [['schema', schema]], contentType: 'text/plain', body: 'x' }, { field: 'contentType', value: 'text/plain' }],
    [{}, { field: 'schema', value: null }],
  ];
  for (const [p, msg] of failures) {
    const o = igluWebhookAdapter.toRawEvents(payload({ api, ...p }), { resolver }) as AdapterOutcome;
    t.equal(o.ok, false, JSON.stringify(p));
    if (!o.ok) t.match(o.messages[0], msg);
  }
  t.equal(igluWebhookAdapter.failureKind, 'adapter_failures');
});
