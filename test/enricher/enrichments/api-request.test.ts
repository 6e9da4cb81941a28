import t from 'tap';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { javaUrlEncode } from '../../../enricher/enrichments/api-request.js';
import { json, startServer } from '../../support/enrichments-http.js';
import { makeInput, sdj, testDeps } from '../../support/enrichments-deps.js';

const cfg = (base: string, extra: { method?: string; uri?: string; timeout?: number; ignoreOnError?: boolean; outputs?: unknown[]; cache?: unknown } = {}) =>
  sdj('iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2', {
    vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'api_request_enrichment_config', enabled: true,
    parameters: {
      inputs: [
        { key: 'user', pojo: { field: 'user_id' } },
        { key: 'user', json: { field: 'contexts', schemaCriterion: 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-*-*', jsonPath: '$.userId' } },
        { key: 'client', pojo: { field: 'app_id' } },
      ],
      api: { http: { method: extra.method ?? 'GET', uri: extra.uri ?? `${base}/users/{{client}}/{{user}}?format=json`, timeout: extra.timeout ?? 2000, authentication: { httpBasic: { username: 'xxx', password: 'yyy' } } } },
      outputs: extra.outputs ?? [{ schema: 'iglu:com.acme/user/jsonschema/1-0-0', json: { jsonPath: '$.record' } }],
      cache: extra.cache ?? { size: 3000, ttl: 60 },
      ignoreOnError: extra.ignoreOnError ?? false,
    },
  });

t.test('GET with inputs from atomic fields and contexts, basic auth, outputs by JSONPath, cache', async (t) => {
  const server = await startServer((req, res) => {
    if (req.url.startsWith('/users/')) json(res, 200, { record: { name: decodeURIComponent(req.url.split('/')[3]!.split('?')[0]!), tier: 2 }, other: 1 });
    else json(res, 404, {});
  });
  t.teardown(() => server.close());
  const p = await buildEnrichments([cfg(server.base)], testDeps());
  const input = makeInput({ app_id: 'shop 1', user_id: null });
  input.contexts = [{ schema: 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1', data: { userId: 'u/é' } }];
  const r = await p.run(input);
  t.same(r.failures, []);
  t.same(r.derivedContexts, [{ schema: 'iglu:com.acme/user/jsonschema/1-0-0', data: { name: 'u/é', tier: 2 } }]);
  t.equal(server.requests[0]?.url, '/users/shop+1/u%2F%C3%A9?format=json');
  t.equal(server.requests[0]?.headers.authorization, `Basic ${Buffer.from('xxx:yyy').toString('base64')}`);
  await p.run(input);
  t.equal(server.requests.length, 1, 'second identical request served from the cache');
  const noUser = await p.run(makeInput({ app_id: 'shop' }));
  t.same(noUser, { derivedContexts: [], failures: [], piiEvent: null, drop: false, contextsChanged: false, unstructEventChanged: false }, 'missing placeholder value → no request, no output');
  t.equal(server.requests.length, 1);
});

t.test('POST sends the input map as JSON; indefinite paths give arrays', async (t) => {
  const server = await startServer((req, res) => json(res, 200, { items: [{ id: 1 }, { id: 2 }], echo: JSON.parse(req.body) }));
  t.teardown(() => server.close());
  const p = await buildEnrichments([cfg(server.base, {
    method: 'POST', uri: `${server.base}/lookup/{{client}}`,
    outputs: [{ schema: 'iglu:com.acme/ids/jsonschema/1-0-0', json: { jsonPath: '$.items[*].id' } }, { schema: 'iglu:com.acme/echo/jsonschema/1-0-0', json: { jsonPath: '$.echo' } }],
  })], testDeps());
  const r = await p.run(makeInput({ app_id: 'a', user_id: 'u' }));
  t.equal(server.requests[0]?.method, 'POST');
  t.same(JSON.parse(server.requests[0]!.body), { user: 'u', client: 'a' });
  t.same(r.derivedContexts.map((c) => c.data), [[1, 2], { user: 'u', client: 'a' }]);
});

t.test('500, not JSON, no match, timeout → api-request failures; ignoreOnError suppresses them', async (t) => {
  const server = await startServer((req, res) => {
    if (req.url.startsWith('/users/err/')) json(res, 500, { error: 'boom' });
    else if (req.url.startsWith('/users/html/')) res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    else if (req.url.startsWith('/users/slow/')) setTimeout(() => json(res, 200, { record: {} }), 5000);
    else json(res, 200, { nothing: true });
  });
  t.teardown(() => server.close());
  const p = await buildEnrichments([cfg(server.base, { timeout: 200, cache: { size: 10, ttl: 60 } })], testDeps());
  const fail = async (client: string) => (await p.run(makeInput({ app_id: client, user_id: 'u' }))).failures;
  t.match(await fail('err'), [{ enrichment: { identifier: 'api-request' }, message: { error: /HTTP 500/ } }]);
  t.match(await fail('html'), [{ message: { error: /not JSON/ } }]);
  t.match(await fail('none'), [{ message: { error: /matches nothing/ } }]);
  const t0 = Date.now();
  t.match(await fail('slow'), [{ message: { error: /timed out after 200 ms/ } }]);
  t.ok(Date.now() - t0 < 4500, 'bounded by the configured timeout, well before the 5 s answer');
  const before = server.requests.length;
  t.match(await fail('err'), [{ message: { error: /HTTP 500/ } }], 'error answered from the cache for ttl/10');
  t.equal(server.requests.length, before);
  const quiet = await buildEnrichments([cfg(server.base, { ignoreOnError: true })], testDeps());
  const r = await quiet.run(makeInput({ app_id: 'err', user_id: 'u' }));
  t.same([r.failures, r.derivedContexts], [[], []]);
  const down = await buildEnrichments([cfg('http://127.0.0.1:1')], testDeps());
  t.match((await down.run(makeInput({ app_id: 'a', user_id: 'u' }))).failures, [{ message: { error: /failed/ } }], 'connection refused');
});

t.test('config errors at start; URL encoding like java.net.URLEncoder', async (t) => {
  t.equal(javaUrlEncode("a b*~'()!é/"), "a+b*%7E%27%28%29%21%C3%A9%2F");
  const limited = testDeps({ resolver: { ...testDeps().resolver, validate: async () => ({ ok: false, error: { error: 'ResolutionError', lookupHistory: [] } }) } });
  await t.rejects(buildEnrichments([cfg('http://x', { outputs: [{ schema: 'iglu:a/b/jsonschema/1-0-0', json: { jsonPath: 'nope' } }] })], limited), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /jsonPath/ });
  await t.rejects(buildEnrichments([cfg('http://x', { uri: 'not a url {{user}}' })], limited), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /uri/ });
  await t.rejects(buildEnrichments([cfg('http://x', { method: 'DELETE' })], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID' });
});
