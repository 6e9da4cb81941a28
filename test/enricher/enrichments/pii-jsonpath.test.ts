import t from 'tap';
import { createHash } from 'node:crypto';
import { JsonPath } from '../../../enricher/enrichments/json-path.js';
import { md2Hex, pseudonymize } from '../../../enricher/enrichments/pii-pseudonymizer.js';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { makeInput, rawEvent, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

t.test('JSONPath subset: names, brackets, unions, wildcards, indexes, slices, recursion', async (t) => {
  const doc = { a: { b: 1, 'c d': [10, 20, 30, 40] }, list: [{ id: 'x' }, { id: 'y', n: { id: 'z' } }], email: 'e', userId: 'u' };
  const read = (p: string) => JsonPath.compile(p).read(doc);
  t.same(read('$.a.b'), [1]);
  t.same(read("$.a['c d'][1]"), [20]);
  t.same(read("$.['email', 'userId']"), ['e', 'u']);
  t.same(read("$['email']"), ['e']);
  t.same(read('$.a["c d"][-1]'), [40]);
  t.same(read("$.a['c d'][1:3]"), [20, 30]);
  t.same(read("$.a['c d'][:2]"), [10, 20]);
  t.same(read("$.a['c d'][0,2]"), [10, 30]);
  t.same(read('$.list[*].id'), ['x', 'y']);
  t.same(read('$..id'), ['x', 'y', 'z']);
  t.same(read('$.list.*.id'), ['x', 'y']);
  t.same(read('$.missing.deeper'), []);
  t.same(read('$'), [doc]);
  t.ok(JsonPath.compile('$.a.b').definite);
  t.notOk(JsonPath.compile('$..id').definite);
  for (const bad of ['a.b', '$.a[?(@.b == 1)]', '$.a[', "$.a['x", '$.', '$.a[1:2:3]', '$.length()', '$.a[x]']) {
    t.throws(() => JsonPath.compile(bad), /invalid JSONPath/, bad);
  }
});

t.test('hash functions, MD2 included', async (t) => {
  t.equal(md2Hex(Buffer.from('')), '8350e5a3e24c153df2275c9f80692773');
  t.equal(md2Hex(Buffer.from('abc')), 'da853b0d3f88d99b30283a69e6ded6bb');
  t.equal(md2Hex(Buffer.from('12345678901234567890123456789012345678901234567890123456789012345678901234567890')), 'd5976f79d83d3a0dc9806c3c66f3efd8');
  t.equal(pseudonymize('SHA-1', '37.228.225.32', 'pepper123'), '9e78f7282f027de55ec5c67aac71ae58cd78e203', 'blackbox PiiEnrichmentSpec value');
  t.equal(pseudonymize('SHA-256', 'a', 's'), createHash('sha256').update('as').digest('hex'));
  t.equal(pseudonymize('MD5', 'é', ''), createHash('md5').update('é', 'utf8').digest('hex'));
});

const cfg = (pii: unknown[], opts: { emitEvent?: boolean; anonymousOnly?: boolean; hashFunction?: string } = {}) =>
  sdj('iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1', {
    vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'pii_enrichment_config', enabled: true,
    emitEvent: opts.emitEvent ?? true, anonymousOnly: opts.anonymousOnly ?? false,
    parameters: { pii, strategy: { pseudonymize: { hashFunction: opts.hashFunction ?? 'SHA-1', salt: 'pepper123' } } },
  });
const h = (v: string) => pseudonymize('SHA-1', v, 'pepper123');

t.test('pii: atomic fields and JSONPath in unstruct_event, contexts and derived_contexts', async (t) => {
  const p = await buildEnrichments(
    [cfg([
      { pojo: { field: 'user_id' } },
      { pojo: { field: 'user_ipaddress' } },
      { pojo: { field: 'domain_userid' } },
      { json: { field: 'unstruct_event', schemaCriterion: 'iglu:com.mailchimp/subscribe/jsonschema/1-*-*', jsonPath: "$.data.['email', 'ip_opt']" } },
      { json: { field: 'contexts', schemaCriterion: 'iglu:com.acme/user/jsonschema/1-0-*', jsonPath: '$.emails' } },
      { json: { field: 'derived_contexts', schemaCriterion: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-*-*', jsonPath: '$.useragentFamily' } },
    ]), readConfig('ua_parser_config.json')].map((c) => (c.schema.includes('ua_parser') ? sdj('iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0', { vendor: 'com.snowplowanalytics.snowplow', name: 'ua_parser_config', enabled: true, parameters: {} }) : c)),
    testDeps(),
  );
  const input = makeInput({ user_id: 'alex 123', user_ipaddress: '10.0.2.x', domain_userid: null, useragent: 'curl/7.50.3' });
  input.unstructEvent = { schema: 'iglu:com.mailchimp/subscribe/jsonschema/1-0-0', data: { type: 'subscribe', data: { email: 'a@b.c', ip_opt: '1.2.3.4', n: 7 } } };
  input.contexts = [
    { schema: 'iglu:com.acme/user/jsonschema/1-0-3', data: { emails: ['x@y.z', 5, 'q@r.s'], name: 'kept' } },
    { schema: 'iglu:com.acme/user/jsonschema/2-0-0', data: { emails: ['not matched'] } },
  ];
  const r = await p.run(input);
  const ev = input.event;
  t.equal(ev.user_id, 'd1a21f2589511b4ed04ee297d88d950efb2612dc', 'legacy vector: SHA-1("alex 123pepper123")');
  t.equal(ev.user_ipaddress, '850474a1f035479d332a5c2d2ad6fe4d07a3f722', 'legacy vector');
  t.equal(ev.domain_userid, null, 'null fields stay null and are not reported');
  t.same(input.unstructEvent.data, { type: 'subscribe', data: { email: h('a@b.c'), ip_opt: h('1.2.3.4'), n: 7 } });
  t.same(input.contexts[0]?.data, { emails: [h('x@y.z'), 5, h('q@r.s')], name: 'kept' });
  t.same(input.contexts[1]?.data, { emails: ['not matched'] });
  t.match(ev.contexts, /"emails":\["[0-9a-f]{40}",5,"[0-9a-f]{40}"\]/, 'TSV column re-rendered');
  t.match(ev.unstruct_event, new RegExp(h('a@b.c')));
  t.equal((r.derivedContexts[0]?.data as { useragentFamily: string }).useragentFamily, h('curl'));
  // ua_parser hands out one cached entity per user agent; pii hashes a copy, so the next event is hashed once, not twice.
  const next = await p.run(makeInput({ useragent: 'curl/7.50.3' }));
  t.equal((next.derivedContexts[0]?.data as { useragentFamily: string }).useragentFamily, h('curl'), 'second event: the cache was not rewritten');
  const d = r.piiEvent?.data as { pii: { pojo: unknown[]; json: Array<Record<string, string>> }; strategy: unknown };
  const pii = d.pii;
  t.equal(r.piiEvent?.schema, 'iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0');
  t.same(pii.pojo, [
    { fieldName: 'user_ipaddress', originalValue: '10.0.2.x', modifiedValue: '850474a1f035479d332a5c2d2ad6fe4d07a3f722' },
    { fieldName: 'user_id', originalValue: 'alex 123', modifiedValue: 'd1a21f2589511b4ed04ee297d88d950efb2612dc' },
  ], 'newest first, as in the legacy full-TSV pii event');
  t.equal(pii.json.length, 5);
  t.same(pii.json.at(-1), { fieldName: 'unstruct_event', originalValue: 'a@b.c', modifiedValue: h('a@b.c'), jsonPath: "$.data.['email', 'ip_opt']", schema: 'iglu:com.mailchimp/subscribe/jsonschema/1-0-0' });
  t.same(d.strategy, { pseudonymize: { hashFunction: 'SHA-1' } });
});

t.test('pii: emitEvent off, nothing to hash, anonymousOnly', async (t) => {
  const quiet = await buildEnrichments([cfg([{ pojo: { field: 'user_id' } }], { emitEvent: false })], testDeps());
  const a = makeInput({ user_id: 'u' });
  const ra = await quiet.run(a);
  t.equal(a.event.user_id, h('u'));
  t.equal(ra.piiEvent, null);
  const loud = await buildEnrichments([cfg([{ pojo: { field: 'user_id' } }])], testDeps());
  t.equal((await loud.run(makeInput({ user_id: null }))).piiEvent, null, 'no pii event when nothing changed');
  const anon = await buildEnrichments([cfg([{ pojo: { field: 'user_id' } }], { anonymousOnly: true })], testDeps());
  const b = makeInput({ user_id: 'u' }, rawEvent({}, { headers: ['Host: x'] }));
  await anon.run(b);
  t.equal(b.event.user_id, 'u', 'not anonymous: untouched');
  const c = makeInput({ user_id: 'u' }, rawEvent({}, { headers: ['sp-anonymous: *'] }));
  await anon.run(c);
  t.equal(c.event.user_id, h('u'));
  const md2 = await buildEnrichments([cfg([{ pojo: { field: 'user_id' } }], { hashFunction: 'MD2' })], testDeps());
  const d = makeInput({ user_id: 'abc' });
  await md2.run(d);
  t.equal(d.event.user_id, md2Hex(Buffer.from('abcpepper123')));
});

t.test('pii: invalid configs fail at start', async (t) => {
  const limited = testDeps({ resolver: { ...testDeps().resolver, validate: async () => ({ ok: false, error: { error: 'ResolutionError', lookupHistory: [] } }) } });
  await t.rejects(buildEnrichments([cfg([{ json: { field: 'contexts', schemaCriterion: 'iglu:a/b/jsonschema/1-*-*', jsonPath: '$.x[?(@.y)]' } }])], limited), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /jsonPath invalid JSONPath/ });
  await t.rejects(buildEnrichments([cfg([{ json: { field: 'contexts', schemaCriterion: 'not-a-criterion', jsonPath: '$.x' } }])], limited), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /schemaCriterion/ });
  await t.rejects(buildEnrichments([cfg([{ pojo: { field: 'page_url' } }])], limited), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /field must be one of/ });
  await t.rejects(buildEnrichments([cfg([{ pojo: { field: 'user_id' } }], { hashFunction: 'CRC32' })], limited), { message: /hashFunction/ });
  await t.rejects(buildEnrichments([cfg([{ pojo: { field: 'page_url' } }])], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /does not match its schema/ });
});
