/**
 * The resolver against real HTTP registries on 127.0.0.1: a static repo over the built-in registry's schemas (Iglu
 * Central's) and the tests' own registry (test/fixtures/iglu), an Iglu Server lookalike, and registries that answer
 * 500, hang, or return invalid JSON.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../common/logger.js';
import { createBuiltinResolver, createResolver, type ResolverOptions } from '../../iglu-resolver/index.js';
import type { ClientError, LookupOutcome, ValidationOutcome } from '../../iglu-resolver/types.js';
import { BUILTIN_REGISTRY, TEST_REGISTRY } from '../support/fixtures.js';
import { startFailingRegistry, startHangingRegistry, startInvalidJsonRegistry, startStaticRegistry, type TestServer } from './support/registry-servers.js';

const IGLU_CENTRAL = BUILTIN_REGISTRY;
const ACME = 'iglu:com.acme/test/jsonschema/1-0-1';

interface Repo {
  name: string;
  priority?: number;
  vendorPrefixes?: string[];
  uri?: string;
  apikey?: string;
  path?: string;
}

function resolverConfig(repos: Repo[], cacheTtl: number | null = null, cacheSize = 500): unknown {
  return {
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
    data: {
      cacheSize,
      cacheTtl,
      repositories: repos.map((r) => ({
        name: r.name,
        priority: r.priority ?? 0,
        vendorPrefixes: r.vendorPrefixes ?? [],
        connection: r.path ? { embedded: { path: r.path } } : { http: r.apikey ? { uri: r.uri, apikey: r.apikey } : { uri: r.uri } },
      })),
    },
  };
}

/** A fast-retrying, short-timeout resolver with an injectable clock. */
function fast(clock?: () => number): ResolverOptions {
  return { httpRetries: 2, httpRetryBaseMs: 1, httpTimeoutMs: 10_000, clock }; // generous: CI machines are loaded
}

async function server(t: { teardown(fn: () => unknown): void }, s: Promise<TestServer>): Promise<TestServer> {
  const srv = await s;
  t.teardown(() => srv.close());
  return srv;
}

function errorOf(o: LookupOutcome | ValidationOutcome): ClientError {
  if (o.ok) throw new Error('expected a failure');
  return o.error;
}

t.test('static repo over Iglu Central resolves, and a hit is cached (one request)', async (t) => {
  const central = await server(t, startStaticRegistry({ root: IGLU_CENTRAL }));
  // vendor-matched HTTP repos are asked before the (non-prefixed) built-in registry, as in Snowplow
  const r = await createResolver(resolverConfig([{ name: 'Central', vendorPrefixes: ['com.snowplowanalytics'], uri: central.url }]), fast());
  const uri = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';
  const a = await r.lookupSchema(uri);
  t.equal(a.ok && (a.schema.self as { name: string }).name, 'link_click');
  t.equal(central.hits.get('/schemas/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1'), 1);
  await r.lookupSchema(uri);
  t.same(await r.validate(uri, { targetUrl: 'https://example.com/' }), { ok: true, supersededBy: null });
  t.equal(central.total(), 1, 'second lookup and validation served from cache');
});

t.test('lookup order: vendor match, then embedded before HTTP, then priority', async (t) => {
  const a = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  const b = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  const c = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  const asked: string[] = [];
  const names = new Map([
    [a.url, 'A'],
    [b.url, 'B'],
    [c.url, 'C'],
  ]);
  const recording: typeof fetch = (input, init) => {
    const url = String(input);
    asked.push(names.get(new URL(url).origin) ?? url);
    return fetch(url, init);
  };
  const r = await createResolver(
    resolverConfig([
      { name: 'A low priority', priority: 0, uri: a.url },
      { name: 'B vendor matched', priority: 9, vendorPrefixes: ['com.acme', 'com.snowplowanalytics'], uri: b.url },
      { name: 'C', priority: 1, uri: c.url },
    ]),
    { ...fast(), fetch: recording },
  );
  t.ok((await r.lookupSchema(ACME)).ok);
  t.same(asked, ['B'], 'the vendor-matched repo answers first despite its priority');
  asked.length = 0;
  t.ok((await r.lookupSchema('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0')).ok);
  t.same(asked, ['B'], 'a vendor-matched HTTP repo is asked before the built-in registry (404 there, then built-in)');
  asked.length = 0;
  t.ok((await r.lookupSchema('iglu:com.google.analytics/cookies/jsonschema/1-0-0')).ok);
  t.same(asked, [], 'not vendor-matched: the embedded built-in registry comes before every HTTP repo');
  const none = errorOf(await r.lookupSchema('iglu:com.acme/missing/jsonschema/1-0-0'));
  t.same(asked, ['B', 'A', 'C'], 'then HTTP repos by priority');
  t.same(
    none.error === 'ResolutionError' && none.lookupHistory.map((h) => h.repository),
    ['A low priority', 'B vendor matched', 'C', 'Iglu Client Embedded'],
    'lookupHistory is sorted by repository name, as the Iglu client\'s SortedMap',
  );
  t.ok(none.error === 'ResolutionError' && none.lookupHistory.every((h) => h.errors.length === 1 && h.errors[0]!.error === 'NotFound' && h.attempts === 1));
});

t.test('500: retried with backoff, RepoFailure with the body; later repos still answer', async (t) => {
  const failing = await server(t, startFailingRegistry());
  const good = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  const r = await createResolver(resolverConfig([{ name: 'Broken', priority: 0, uri: failing.url }]), fast());
  const e = errorOf(await r.lookupSchema(ACME));
  t.equal(failing.total(), 3, '1 attempt + 2 retries');
  t.same(e.error === 'ResolutionError' && e.lookupHistory.find((h) => h.repository === 'Broken'), {
    repository: 'Broken',
    errors: [{ error: 'RepoFailure', message: 'Unexpected server response: internal error' }],
    attempts: 3,
    lastAttempt: e.error === 'ResolutionError' ? e.lookupHistory.find((h) => h.repository === 'Broken')!.lastAttempt : '',
  });
  const r2 = await createResolver(resolverConfig([{ name: 'Broken', priority: 0, uri: failing.url }, { name: 'Good', priority: 1, uri: good.url }]), fast());
  t.ok((await r2.lookupSchema(ACME)).ok, 'the next repository is asked after a failing one');
});

t.test('404 is NotFound and never retried; negative cache answers without I/O', async (t) => {
  const central = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  let now = 1_000_000;
  const r = await createResolver(resolverConfig([{ name: 'Static', uri: central.url }], 60), fast(() => now));
  const uri = 'iglu:com.acme/unknown/jsonschema/1-0-0';
  errorOf(await r.lookupSchema(uri));
  t.equal(central.total(), 1, 'one request, no retry on 404');
  now += 30_000;
  errorOf(await r.validate(uri, {}));
  t.equal(central.total(), 1, 'NotFound remembered within the TTL');
  now += 31_000;
  errorOf(await r.lookupSchema(uri));
  t.equal(central.total(), 2, 'asked again once the TTL has passed');
});

t.test('transient failures are retried only after the backoff (negative cache)', async (t) => {
  const failing = await server(t, startFailingRegistry());
  let now = 1_000_000;
  const r = await createResolver(resolverConfig([{ name: 'Broken', uri: failing.url }]), { ...fast(() => now), httpRetries: 0 });
  const first = errorOf(await r.lookupSchema(ACME));
  t.equal(failing.total(), 1);
  const again = errorOf(await r.lookupSchema(ACME));
  t.equal(failing.total(), 1, 'within the backoff (500 + 4^1 ms) the cached error is returned');
  t.same(again, first);
  now += 1_100; // past both the lookup's backoff (500 + 4^1 ms) and the registry's outage backoff (1 s)
  const third = errorOf(await r.lookupSchema(ACME));
  t.equal(failing.total(), 2, 'after the backoff the repo is asked again');
  const broken = third.error === 'ResolutionError' ? third.lookupHistory.find((h) => h.repository === 'Broken') : undefined;
  t.equal(broken?.attempts, 2, 'attempts accumulate');
  t.equal(broken?.errors.length, 1, 'errors are a set');
});

t.test('TTL expiry refetches; a registry outage keeps serving the cached schema', async (t) => {
  const outage = { on: false };
  const reg = await server(t, startStaticRegistry({ root: TEST_REGISTRY, outage }));
  let now = 1_000_000;
  const r = await createResolver(resolverConfig([{ name: 'Acme', vendorPrefixes: ['com.acme'], uri: reg.url }], 10), { ...fast(() => now), httpRetries: 0 });
  const data = { name: 'x' };
  const first = await r.validate(ACME, data);
  t.equal(reg.total(), 1);
  t.ok(r.validateCached(ACME, data), 'hot path serves while fresh');
  now += 11_000;
  t.equal(r.validateCached(ACME, data), undefined, 'the hot path declines an expired entry');
  t.same(await r.validate(ACME, data), first);
  t.equal(reg.total(), 2, 'refetched after the TTL');
  outage.on = true;
  now += 11_000;
  const during = await r.lookupSchema(ACME);
  t.ok(during.ok, 'cached success kept when the refetch fails');
  t.equal(reg.total(), 3, 'the refetch was attempted');
  t.same(await r.validate(ACME, data), first, 'validation still works during the outage');
  t.equal(reg.total(), 3, 'timestamp bumped: no request storm during the outage');
});

t.test('a registry that hangs times out as ClientFailure', async (t) => {
  const hang = await server(t, startHangingRegistry());
  const r = await createResolver(resolverConfig([{ name: 'Hang', uri: hang.url }]), { ...fast(), httpTimeoutMs: 150, httpRetries: 1 });
  const started = Date.now();
  const e = errorOf(await r.lookupSchema(ACME));
  t.ok(Date.now() - started < 5000, 'bounded by the timeout');
  const h = e.error === 'ResolutionError' ? e.lookupHistory.find((x) => x.repository === 'Hang') : undefined;
  t.equal(h?.errors[0]?.error, 'ClientFailure');
  t.match(h?.errors[0] && 'message' in h.errors[0] ? h.errors[0].message : '', /timed out|abort/i);
  t.equal(h?.attempts, 2, 'a timeout is retried');
});

t.test('invalid JSON from a registry is a ClientFailure, not a crash, and not retried', async (t) => {
  const bad = await server(t, startInvalidJsonRegistry());
  const r = await createResolver(resolverConfig([{ name: 'Garbage', uri: bad.url }]), fast());
  const e = errorOf(await r.lookupSchema(ACME));
  const h = e.error === 'ResolutionError' ? e.lookupHistory.find((x) => x.repository === 'Garbage') : undefined;
  t.equal(h?.errors[0]?.error, 'ClientFailure');
  t.match(h?.errors[0] && 'message' in h.errors[0] ? h.errors[0].message : '', /^Could not decode server response\./);
  t.equal(bad.total(), 1);
  const v = await r.validate(ACME, {});
  t.equal(!v.ok && v.error.error, 'ResolutionError');
});

t.test('concurrent lookups of one key make one request', async (t) => {
  const slow = await server(t, startStaticRegistry({ root: TEST_REGISTRY, delayMs: 50 }));
  const r = await createResolver(resolverConfig([{ name: 'Slow', vendorPrefixes: ['com.acme'], uri: slow.url }]), fast());
  const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? r.lookupSchema(ACME) : r.validate(ACME, { name: 'x' }))));
  t.ok(outs.every((o) => o.ok));
  t.equal(slow.total(), 1);
  const lists = await Promise.all(Array.from({ length: 5 }, () => r.listSchemas('com.acme', 'test', 1)));
  t.same(lists[0], [], 'a static repo has no list endpoint (404): empty list');
  t.equal(slow.hits.get('/schemas/com.acme/test/jsonschema/1'), 1, 'concurrent list requests share one request');
});

t.test('Iglu Server: /api paths, apikey header, schema lists', async (t) => {
  const srv = await server(t, startStaticRegistry({ root: IGLU_CENTRAL, igluServer: { apikey: 'a3d3b5a8-6f4e-4a0b-9b4d-8f3e2c1d0e9f' } }));
  const ok = await createResolver(
    resolverConfig([{ name: 'Server', vendorPrefixes: ['com.snowplowanalytics'], uri: `${srv.url}/api`, apikey: 'a3d3b5a8-6f4e-4a0b-9b4d-8f3e2c1d0e9f' }]),
    fast(),
  );
  t.ok((await ok.lookupSchema('iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0')).ok);
  t.equal(srv.lastHeaders?.apikey, 'a3d3b5a8-6f4e-4a0b-9b4d-8f3e2c1d0e9f');
  t.same(
    await ok.listSchemas('com.snowplowanalytics.snowplow', 'payload_data', 1),
    ['1-0-0', '1-0-1', '1-0-2', '1-0-3', '1-0-4'].map((v) => `iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/${v}`),
  );
  t.equal(srv.hits.get('/api/schemas/com.snowplowanalytics.snowplow/payload_data/jsonschema/1'), 1);
  await ok.listSchemas('com.snowplowanalytics.snowplow', 'payload_data', 1);
  t.equal(srv.hits.get('/api/schemas/com.snowplowanalytics.snowplow/payload_data/jsonschema/1'), 1, 'lists are cached');

  const wrongKey = await createResolver(resolverConfig([{ name: 'Server', vendorPrefixes: ['com.snowplowanalytics'], uri: `${srv.url}/api`, apikey: 'wrong' }]), fast());
  // the built-in registry still has the schema after the server refuses (401 → ClientFailure, not retried)
  t.ok((await wrongKey.lookupSchema('iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0')).ok);
  const missing = errorOf(await wrongKey.lookupSchema('iglu:com.snowplowanalytics.snowplow/nope/jsonschema/1-0-0'));
  const h = missing.error === 'ResolutionError' ? missing.lookupHistory.find((x) => x.repository === 'Server') : undefined;
  t.same(h?.errors, [{ error: 'ClientFailure', message: 'Unexpected response code: 401' }]);
});

t.test('default resolver: built-in first, then Iglu Central over HTTP (fetch injected, never the internet)', async (t) => {
  const central = await server(t, startStaticRegistry({ root: TEST_REGISTRY }));
  const asked: string[] = [];
  const redirect: typeof fetch = (input, init) => {
    const url = String(input);
    asked.push(url);
    return fetch(url.replace('http://iglucentral.com', central.url), init);
  };
  const r = await createBuiltinResolver({ ...fast(), fetch: redirect });
  t.ok((await r.lookupSchema('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0')).ok);
  t.same(asked, [], 'a built-in schema needs no HTTP');
  t.ok((await r.lookupSchema(ACME)).ok, 'an unknown schema comes from Iglu Central');
  t.same(asked, ['http://iglucentral.com/schemas/com.acme/test/jsonschema/1-0-1']);
  const off = await createBuiltinResolver({ ...fast(), fetch: redirect, offline: true });
  const e = errorOf(await off.lookupSchema(ACME));
  t.same(e.error === 'ResolutionError' && e.lookupHistory.map((h) => h.repository), ['Iglu Client Embedded'], 'offline: built-in only');
  t.equal(asked.length, 1);
});

t.test('oversized responses (declared or streamed) are a RepoFailure, not retried, not buffered', async (t) => {
  const { createServer } = await import('node:http');
  let requests = 0;
  const srv = createServer((req, res) => {
    requests++;
    if (req.url?.includes('/declared/')) {
      res.setHeader('content-length', String(10_000_000));
      res.write('{');
      setTimeout(() => res.destroy(), 50);
      return;
    }
    // chunked: keeps sending until the client goes away (bounded to 2 000 chunks)
    let n = 0;
    const push = (): void => {
      if (res.destroyed || n++ > 2000) return void res.end();
      res.write('x'.repeat(1024), () => setImmediate(push));
    };
    push();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as { port: number }).port;
  const { HttpRegistry } = await import('../../iglu-resolver/registries/http-registry.js');
  const reg = new HttpRegistry({ name: 'Big', priority: 0, vendorPrefixes: [], uri: `http://127.0.0.1:${port}`, maxBodyBytes: 64 * 1024, retries: 2, retryBaseMs: 1 });
  const { parseSchemaUri } = await import('../../formats/schema-key.js');
  const key = (name: string) => parseSchemaUri(`iglu:com.acme/${name}/jsonschema/1-0-0`) as Exclude<ReturnType<typeof parseSchemaUri>, string>;
  const streamed = await reg.lookup(key('streamed'));
  t.match(streamed, { ok: false, error: { error: 'RepoFailure', message: /larger than 65536 bytes/ }, attempts: 1 });
  const declared = await reg.lookup(key('declared'));
  t.match(declared, { ok: false, error: { error: 'RepoFailure', message: /10000000 bytes is larger than 65536/ }, attempts: 1 });
  t.equal(requests, 2);
});

t.test('schema lists from a server are checked (non-empty, M-0-0 first, same schema, unique)', async (t) => {
  const { checkSchemaList } = await import('../../iglu-resolver/registries/http-registry.js');
  const u = (v: string, name = 'x'): string => `iglu:com.acme/${name}/jsonschema/${v}`;
  t.same(checkSchemaList([u('1-0-0'), u('1-0-1'), u('1-1-0')], 'com.acme', 'x', 1), [u('1-0-0'), u('1-0-1'), u('1-1-0')]);
  t.match(checkSchemaList([], 'com.acme', 'x', 1), /non-empty/);
  t.match(checkSchemaList({}, 'com.acme', 'x', 1), /non-empty/);
  t.match(checkSchemaList([u('1-0-1')], 'com.acme', 'x', 1), /must start with 1-0-0/);
  t.match(checkSchemaList([u('1-0-0'), u('1-0-0')], 'com.acme', 'x', 1), /twice/);
  t.match(checkSchemaList([u('1-0-0'), u('1-0-1', 'y')], 'com.acme', 'x', 1), /another vendor, name or model/);
  t.match(checkSchemaList([u('1-0-0'), u('2-0-0')], 'com.acme', 'x', 1), /another vendor, name or model/);
  t.match(checkSchemaList([u('1-0-0'), 'nope'], 'com.acme', 'x', 1), /invalid Iglu URI/);
  t.match(checkSchemaList([u('1-0-0'), 5], 'com.acme', 'x', 1), /not a string/);
});

/** A pino logger writing into an array (the resolver's logger option). */
function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      out.push(String(chunk));
      cb();
    },
  });
  const logger = createLogger('iglu-test', 'debug', dest);
  return { logger, lines: () => out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const DISTINCT = (n: number) => Array.from({ length: n }, (_, i) => `iglu:com.acme/event_${i}/jsonschema/1-0-0`);

t.test('an unreachable registry (hangs) costs one failed lookup, then is skipped until its backoff passes; logged once', async (t) => {
  const hang = await server(t, startHangingRegistry());
  let now = 1_000_000;
  const { logger, lines } = capturingLogger();
  const r = await createResolver(resolverConfig([{ name: 'Hang', uri: hang.url }]), { ...fast(() => now), httpTimeoutMs: 200, httpRetries: 2, logger });
  const outcomes = [];
  for (const uri of DISTINCT(5)) outcomes.push(errorOf(await r.lookupSchema(uri)));
  t.equal(hang.total(), 3, 'only the first lookup reached the registry (1 attempt + 2 retries); the next 4 did not wait for it');
  const later = outcomes[4]!;
  const h = later.error === 'ResolutionError' ? later.lookupHistory.find((x) => x.repository === 'Hang') : undefined;
  t.equal(h?.attempts, 0, 'not asked');
  t.match(h?.errors[0], { error: 'ClientFailure', message: /not asked: Hang is unavailable until .*\(last error: Request timed out/ });
  const warns = lines().filter((l) => l['level'] === 40);
  t.equal(warns.length, 1, 'one warning for the outage, not one per lookup');
  t.match(warns[0], { repository: 'Hang', msg: /unavailable/, retryInMs: 1000 });

  now += 1_001;
  errorOf(await r.lookupSchema('iglu:com.acme/after_backoff/jsonschema/1-0-0'));
  t.equal(hang.total(), 4, 'after the backoff one probe, with a single attempt');
  errorOf(await r.lookupSchema('iglu:com.acme/after_probe/jsonschema/1-0-0'));
  t.equal(hang.total(), 4, 'the failed probe doubled the backoff');
  t.match(lines().filter((l) => l['level'] === 40).at(-1), { msg: /still unavailable/, retryInMs: 2000, failedLookups: 2 });
});

t.test('a registry that refuses connections is skipped after the first failure', async (t) => {
  const closed = await startHangingRegistry();
  const port = new URL(closed.url).port;
  await closed.close(); // the port now refuses connections
  const { logger, lines } = capturingLogger();
  const r = await createResolver(resolverConfig([{ name: 'Down', uri: `http://127.0.0.1:${port}` }]), { ...fast(() => 1_000_000), httpRetries: 2, logger });
  const first = errorOf(await r.lookupSchema(DISTINCT(1)[0]!));
  const h1 = first.error === 'ResolutionError' ? first.lookupHistory.find((x) => x.repository === 'Down') : undefined;
  t.equal(h1?.attempts, 3, 'the first lookup tried (with retries)');
  for (const uri of DISTINCT(4).slice(1)) {
    const e = errorOf(await r.lookupSchema(uri));
    const h = e.error === 'ResolutionError' ? e.lookupHistory.find((x) => x.repository === 'Down') : undefined;
    t.equal(h?.attempts, 0, `${uri}: not asked`);
  }
  t.equal(lines().filter((l) => l['level'] === 40).length, 1, 'one warning');
});

t.test('a registry back from an outage is used again after its backoff, and that is logged', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'furrow-iglu-'));
  mkdirSync(join(root, 'schemas/com.acme/back/jsonschema'), { recursive: true });
  const schema = { $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#', self: { vendor: 'com.acme', name: 'back', format: 'jsonschema', version: '1-0-0' }, type: 'object' };
  writeFileSync(join(root, 'schemas/com.acme/back/jsonschema/1-0-0'), JSON.stringify(schema));
  const outage = { on: true };
  const reg = await server(t, startStaticRegistry({ root, outage }));
  let now = 1_000_000;
  const { logger, lines } = capturingLogger();
  const r = await createResolver(resolverConfig([{ name: 'Flaky', uri: reg.url }]), { ...fast(() => now), httpRetries: 1, logger });
  const uri = 'iglu:com.acme/back/jsonschema/1-0-0';
  errorOf(await r.lookupSchema(uri));
  t.equal(reg.total(), 2, 'the outage: 1 attempt + 1 retry');
  outage.on = false;
  errorOf(await r.lookupSchema('iglu:com.acme/other/jsonschema/1-0-0'));
  t.equal(reg.total(), 2, 'within the backoff it is not asked');
  now += 1_001;
  t.ok((await r.lookupSchema(uri)).ok, 'resolved once the registry answers');
  t.equal(reg.total(), 3, 'one probe');
  t.match(lines().filter((l) => l['level'] === 30).at(-1), { repository: 'Flaky', msg: /answers again/ });
});
