/**
 * furrow mini end to end with a real Snowplow client: @snowplow/node-tracker sends page views, self-describing
 * events with contexts and invalid events over GET and POST to the mini collector; everything goes through the
 * embedded Kinesis, the leased enricher and the store; the Micro API must show each as good or bad with the
 * right fields. Also: a hostile tp2 body, the wait call, reset, and the CLI (start-up time, clean SIGTERM).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildPageView, buildSelfDescribingEvent, buildStructEvent, newTracker, type Tracker } from '@snowplow/node-tracker';
import { silentLogger } from '../../common/logger.js';
import { startMini, type RunningMini } from '../../mini/pipeline.js';
import { writeSchemas } from './fixtures.js';

const ROOT = join(import.meta.dirname, '../..');

interface GoodEvent {
  rawEvent: { api: { vendor: string; version: string }; parameters: Record<string, string>; contentType: string | null; source: { name: string } };
  eventType: string;
  schema: string;
  contexts: string[];
  event: Record<string, unknown>;
  incomplete: boolean;
}
interface BadEvent {
  collectorPayload: { api: { vendor: string; version: string }; body: string | null; querystring: string[] } | null;
  rawEvent: { parameters: Record<string, string> } | null;
  errors: string[];
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  if (!r.ok && r.status !== 408) throw new Error(`${r.url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

t.test('node tracker → mini → Micro API', async (t) => {
  const iglu = writeSchemas();
  t.teardown(() => rmSync(iglu, { recursive: true, force: true }));
  const mini: RunningMini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [iglu], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
    auth: { basic: null, token: null }, maxEvents: 10_000, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  const base = `http://127.0.0.1:${mini.port}`;
  const failures: unknown[] = [];
  const statuses: number[] = [];
  const tracker = (method: 'get' | 'post', encodeBase64: boolean): Tracker =>
    newTracker(
      { namespace: `e2e-${method}`, appId: `e2e-${method}`, encodeBase64 },
      {
        endpoint: '127.0.0.1', port: mini.port, protocol: 'http', eventMethod: method, bufferSize: method === 'post' ? 3 : 1,
        onRequestFailure: (f) => failures.push(f), onRequestSuccess: (_b, r) => statuses.push(r.status),
      },
    );
  const get = tracker('get', true);
  const post = tracker('post', false);
  const eid = (p: Record<string, unknown> | undefined): string => {
    if (!p || typeof p.eid !== 'string') throw new Error('tracker returned no payload');
    return p.eid;
  };
  const userCtx = { schema: 'iglu:com.acme/user/jsonschema/1-0-0', data: { id: 'u-1' } };
  const orgCtx = { schema: 'iglu:com.acme/org/jsonschema/1-0-0', data: { name: 'Acme' } };
  const ids = {
    pvGet: eid(get.track(buildPageView({ pageUrl: 'http://shop.example/?utm_source=news&utm_medium=email', pageTitle: 'Shop', referrer: 'http://ref.example/' }))),
    sdGet: eid(get.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'pro', seats: 3 } } }), [userCtx, orgCtx])),
    badGet: eid(get.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'gold' } } }))),
    pvPost: eid(post.track(buildPageView({ pageUrl: 'http://blog.example/post/1', pageTitle: 'Post' }), [userCtx])),
    sePost: eid(post.track(buildStructEvent({ category: 'cart', action: 'add', label: 'sku-1', value: 2.5 }))),
    sdPost: eid(post.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'free' } } }), [orgCtx])),
    unknownPost: eid(post.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/nonexistent/jsonschema/1-0-0', data: { x: 1 } } }))),
    badCtxPost: eid(post.track(buildPageView({ pageUrl: 'http://blog.example/post/2' }), [{ schema: 'iglu:com.acme/user/jsonschema/1-0-0', data: { id: 42 } }])),
  };
  await Promise.all([get.flush(), post.flush()]);
  t.same(failures, [], 'the collector accepted every request');
  t.ok(statuses.length >= 2 && statuses.every((s) => s === 200), `collector answered 200 (${statuses.join(',')})`);

  // A hostile request no tracker would send: tp2 POST whose body is not payload_data.
  const hostile = await fetch(`${base}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"schema":"iglu:com.acme/nope/jsonschema/1-0-0","data":[{"e":"pv"}]}' });
  t.equal(hostile.status, 200, 'the collector takes it (the enricher judges it)');
  // A webhook (Iglu adapter, GET): no eid, so the tap matches it by collector timestamp.
  const hook = await fetch(`${base}/com.snowplowanalytics.iglu/v1?schema=${encodeURIComponent('iglu:com.acme/signup/jsonschema/1-0-0')}&plan=free&aid=hooks`);
  t.equal(hook.status, 200);

  // No polling loop: one call that returns when every event is stored.
  const waited = await json<{ ok: boolean; total: number; missing: string[] }>(fetch(`${base}/micro/wait?event_id=${Object.values(ids).join(',')}&count=10&timeout=20000`));
  t.equal(waited.ok, true, `all events processed (missing: ${waited.missing.join(',')})`);
  t.same(await json(fetch(`${base}/micro/all`)), { total: 10, good: 6, bad: 4 }, 'every event in = good + bad out');

  const good = await json<GoodEvent[]>(fetch(`${base}/micro/good`));
  const webhook = good.find((g) => g.rawEvent?.api.vendor === 'com.snowplowanalytics.iglu')!;
  t.ok(webhook, 'the webhook event is good and has its raw event');
  t.same(webhook.rawEvent.api, { vendor: 'com.snowplowanalytics.iglu', version: 'v1' });
  t.equal(webhook.rawEvent.parameters.plan, 'free');
  t.equal(webhook.schema, 'iglu:com.acme/signup/jsonschema/1-0-0');
  t.equal(webhook.event.app_id, 'hooks');
  const byEid = new Map(good.filter((g) => g !== webhook).map((g) => [g.event.event_id as string, g]));
  t.same([...byEid.keys()].sort(), [ids.pvGet, ids.sdGet, ids.pvPost, ids.sePost, ids.sdPost].sort());

  const pv = byEid.get(ids.pvGet)!;
  t.equal(pv.eventType, 'page_view');
  t.equal(pv.schema, 'iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0');
  t.same(pv.rawEvent.api, { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' }, 'the node tracker GETs /i');
  t.equal(pv.rawEvent.parameters.e, 'pv');
  t.equal(pv.rawEvent.parameters.eid, ids.pvGet);
  t.equal(pv.event.page_url, 'http://shop.example/?utm_source=news&utm_medium=email');
  t.equal(pv.event.page_title, 'Shop');
  t.equal(pv.event.page_referrer, 'http://ref.example/');
  t.equal(pv.event.app_id, 'e2e-get');
  t.equal(pv.event.platform, 'srv');
  t.equal(pv.event.mkt_source, 'news', 'default campaign_attribution enrichment ran');
  t.equal(pv.event.mkt_medium, 'email');
  t.match(pv.event.event_fingerprint, /^[0-9a-f]{32}$/, 'default event_fingerprint enrichment ran');
  t.match(String(pv.event.collector_tstamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  t.equal(pv.incomplete, false);
  const pkgVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(pv.event.v_etl, `furrow-enrich-${pkgVersion}`, 'v_etl as furrow enrich writes it');

  const sd = byEid.get(ids.sdGet)!;
  t.equal(sd.eventType, 'unstruct');
  t.equal(sd.schema, 'iglu:com.acme/signup/jsonschema/1-0-0');
  t.same(sd.contexts, ['iglu:com.acme/user/jsonschema/1-0-0', 'iglu:com.acme/org/jsonschema/1-0-0']);
  t.same(sd.event.unstruct_event, {
    schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
    data: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'pro', seats: 3 } },
  });
  t.ok(sd.rawEvent.parameters.ue_px, 'GET with encodeBase64 sends ue_px');

  const pvp = byEid.get(ids.pvPost)!;
  t.equal(pvp.rawEvent.contentType, 'application/json; charset=utf-8');
  t.equal(pvp.rawEvent.parameters.eid, ids.pvPost, 'POST batch: each event has its own raw parameters');
  t.same(pvp.contexts, ['iglu:com.acme/user/jsonschema/1-0-0']);
  const se = byEid.get(ids.sePost)!;
  t.equal(se.eventType, 'struct');
  t.equal(se.schema, 'iglu:com.google.analytics/event/jsonschema/1-0-0');
  t.equal(se.event.se_category, 'cart');
  t.equal(se.event.se_value, 2.5);

  // Micro's POST filters.
  t.equal((await json<GoodEvent[]>(fetch(`${base}/micro/good`, { method: 'POST', body: JSON.stringify({ event_type: 'unstruct' }) }))).length, 3);
  t.equal((await json<GoodEvent[]>(fetch(`${base}/micro/good`, { method: 'POST', body: JSON.stringify({ schema: 'iglu:com.acme/signup/jsonschema/1-0-0', contexts: ['iglu:com.acme/org/jsonschema/1-0-0'] }) }))).length, 2);
  t.equal((await json<GoodEvent[]>(fetch(`${base}/micro/good`, { method: 'POST', body: JSON.stringify({ contexts: ['iglu:com.acme/user/jsonschema/1-0-0', 'iglu:com.acme/org/jsonschema/1-0-0'] }) }))).length, 1);
  t.equal((await json<GoodEvent[]>(fetch(`${base}/micro/good`, { method: 'POST', body: JSON.stringify({ limit: 2 }) }))).length, 2);

  const bad = await json<BadEvent[]>(fetch(`${base}/micro/bad`));
  t.equal(bad.length, 4);
  const badBy = (id: string) => bad.find((b) => b.rawEvent?.parameters.eid === id);
  const invalid = badBy(ids.badGet)!;
  t.ok(invalid, 'the schema-invalid self-describing event is bad');
  t.equal(invalid.errors[0], 'Error while validating the event.');
  const row = JSON.parse(invalid.errors[1]!);
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1');
  t.match(JSON.stringify(row.data.failure.messages), /gold|enum/);
  t.same(invalid.collectorPayload?.api, { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' }, 'collectorPayload from the tap');
  t.ok(invalid.collectorPayload?.querystring.includes('e=ue'), 'with the querystring the tracker sent');
  const unknown = badBy(ids.unknownPost)!;
  t.match(unknown.errors[1], /ResolutionError/);
  t.match(badBy(ids.badCtxPost)!.errors[1], /iglu:com\.acme\/user\/jsonschema\/1-0-0/);
  const tpv = bad.find((b) => b.rawEvent === null)!;
  t.equal(tpv.errors[0], 'Error while extracting event(s) from collector payload and validating it/them.');
  t.match(tpv.errors[1], /tracker_protocol_violations/);
  t.match(tpv.collectorPayload?.body ?? '', /com\.acme\/nope/);

  // Lookup by event id and server-side paging.
  const one = await json<{ records: Array<{ valid: boolean; event: GoodEvent }> }>(fetch(`${base}/micro/events/${ids.sdPost}`));
  t.equal(one.records[0]!.valid, true);
  t.equal(one.records[0]!.event.schema, 'iglu:com.acme/signup/jsonschema/1-0-0');
  const page = await json<{ events: Array<Record<string, unknown>>; totalItems: number }>(
    fetch(`${base}/micro/events`, { method: 'POST', body: JSON.stringify({ filters: [{ column: 'app_id', value: 'e2e-post' }], validEvents: true, page: 1, pageSize: 10 }) }),
  );
  t.equal(page.totalItems, 3);
  t.ok(page.events.every((e) => e.app_id === 'e2e-post'));
  t.same((page.events.find((e) => e.event_id === ids.pvPost) as Record<string, unknown>).contexts_com_acme_user_1, [{ id: 'u-1' }]);

  // Iglu lookups through the resolver mini runs (the user's --iglu dir first).
  const schema = await json<{ self: { name: string } }>(fetch(`${base}/micro/iglu/com.acme/signup/jsonschema/1-0-0`));
  t.equal(schema.self.name, 'signup');
  t.equal((await fetch(`${base}/micro/iglu/com.acme/nonexistent/jsonschema/1-0-0`)).status, 404);

  // One /metrics for the process: collector, enricher, store.
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /furrow_mini_events\{kind="good"\} 6/);
  t.match(metrics, /furrow_mini_events\{kind="bad"\} 4/);
  t.match(metrics, /furrow_collector_requests_total/);
  t.match(metrics, /furrow_enrich_good_total 6/);

  // Reset, then the next event counts from zero.
  t.same(await json(fetch(`${base}/micro/reset`)), { total: 0, good: 0, bad: 0 });
  const after = eid(get.track(buildPageView({ pageUrl: 'http://shop.example/again' })));
  await get.flush();
  const w2 = await json<{ ok: boolean; total: number }>(fetch(`${base}/micro/wait?event_id=${after}&timeout=20000`));
  t.equal(w2.ok, true);
  t.same(await json(fetch(`${base}/micro/all`)), { total: 1, good: 1, bad: 0 });
});

t.test('furrow mini CLI: start-up to first accepted event, clean SIGTERM', async (t) => {
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'mini', '--port', String(port), '--host', '127.0.0.1', '--offline', '--log-level', 'warn'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  // The collector takes events before the rest of the pipeline is up: poll until it answers (bounded, 60 s).
  const eid = crypto.randomUUID();
  let acceptedMs = NaN;
  for (let i = 0; i < 6000 && child.exitCode === null; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/i?e=pv&p=web&tv=cli-test&eid=${eid}&url=${encodeURIComponent('http://x.example/')}`).then((r) => r.status === 200, () => false);
    if (ok) {
      acceptedMs = performance.now() - started;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  t.ok(Number.isFinite(acceptedMs), `the collector accepted the event (stderr: ${err.slice(-300)})`);
  const w = (await (await fetch(`http://127.0.0.1:${port}/micro/wait?event_id=${eid}&timeout=30000`)).json()) as { ok: boolean };
  t.equal(w.ok, true, 'an event accepted while the enricher was still starting is processed');
  const storedMs = performance.now() - started;
  for (let i = 0; i < 3000 && !/Ctrl-C stops it/.test(out); i++) await new Promise((r) => setTimeout(r, 20));
  t.comment(`start-up (process spawn, incl. tsx compile): first event accepted ${acceptedMs.toFixed(0)} ms, stored ${storedMs.toFixed(0)} ms`);
  t.match(out, new RegExp(`collector\\s+http://127\\.0\\.0\\.1:${port}`), 'banner shows the collector');
  for (const k of ['web UI', 'Micro API', 'Kinesis', 'DynamoDB', 'Iglu', 'enrichments']) t.match(out, new RegExp(`  ${k} `), `banner shows ${k}`);

  const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  child.kill('SIGTERM');
  t.equal(await exit, 0, `exits 0 on SIGTERM (stderr: ${err.slice(-500)})`);
});

t.test('furrow mini CLI: bad flags and a taken port fail loudly', async (t) => {
  const run = (...args: string[]) =>
    new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'mini', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => (err += d));
      c.once('exit', (code) => resolve({ code, err }));
    });
  const { createServer } = await import('node:net');
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as { port: number }).port;
  // In parallel: each is a cold tsx start.
  const [r1, r2, r3, r4, r5, r6] = await Promise.all([
    run('--port', 'abc'),
    run('--frobnicate'),
    run('--port', String(port), '--host', '127.0.0.1', '--offline', '--log-level', 'silent'),
    run('--iglu', '/nonexistent/schemas', '--port', '0'),
    run('--enrichments', '/nonexistent/enrichments', '--port', '0', '--host', '127.0.0.1', '--offline', '--log-level', 'silent'),
    run('--auth', 'nopassword'),
  ]);
  t.equal(r1.code, 2);
  t.match(r1.err, /--port/);
  t.equal(r2.code, 2);
  t.equal(r4.code, 1);
  t.match(r4.err, /CONFIG_FILE_UNREADABLE: --iglu \/nonexistent\/schemas/);
  t.equal(r5.code, 1);
  t.match(r5.err, /enrichments directory \/nonexistent\/enrichments cannot be read/);
  t.equal(r6.code, 2);
  t.match(r6.err, /USER:PASSWORD/);
  t.equal(r3.code, 1);
  t.match(r3.err, /MINI_PORT_IN_USE/);
});

t.test('--iglu FILE: a Snowplow resolver config, as Micro takes it', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const iglu = writeSchemas();
  t.teardown(() => rmSync(iglu, { recursive: true, force: true }));
  const resolverFile = join(iglu, 'iglu.json');
  writeFileSync(
    resolverFile,
    JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
      data: { cacheSize: 500, repositories: [{ name: 'local', priority: 0, vendorPrefixes: ['com.acme'], connection: { embedded: { path: iglu } } }] },
    }),
  );
  const mini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [], igluResolverFile: resolverFile, offline: true, enrichmentsDir: null, postgresUrl: null,
    forwardConfig: null, auth: { basic: null, token: null }, maxEvents: 100, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  const base = `http://127.0.0.1:${mini.port}`;
  t.match(mini.info.iglu.join(' '), /resolver config .*iglu\.json/);
  t.equal((await fetch(`${base}/micro/iglu/com.acme/signup/jsonschema/1-0-0`)).status, 200, 'schema from the config\'s embedded repository');
  t.equal((await fetch(`${base}/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0`)).status, 200, 'the built-in registry still answers');

  writeFileSync(resolverFile, '{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1","data":{"repositories":"nope"}}');
  await t.rejects(
    startMini({
      port: 0, host: '127.0.0.1', igluDirs: [], igluResolverFile: resolverFile, offline: true, enrichmentsDir: null, postgresUrl: null,
      forwardConfig: null, auth: { basic: null, token: null }, maxEvents: 100, logger: silentLogger,
    }),
    /repositories/,
    'an invalid resolver config stops start-up with a message naming the problem',
  );
});

t.test('--config: a Snowplow collector HOCON (custom paths, cookie), as Micro takes it', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'furrow-mini-conf-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'micro.conf');
  writeFileSync(conf, `collector {
  paths { "/com.acme/track" = "/com.snowplowanalytics.snowplow/tp2" }
  cookie { name = "acme_id", secure = false, sameSite = "Lax" }
  streams { good { name = "ignored" } }
}
`);
  const opts = {
    port: 0, host: '127.0.0.1', igluDirs: [], offline: true, enrichmentsDir: null, postgresUrl: null,
    forwardConfig: null, auth: { basic: null, token: null }, maxEvents: 100, logger: silentLogger,
  };
  const mini = await startMini({ ...opts, collectorConfigFile: conf });
  t.teardown(() => mini.stop());
  const base = `http://127.0.0.1:${mini.port}`;
  const eid = crypto.randomUUID();
  const res = await fetch(`${base}/com.acme/track`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web', tv: 'conf-1', eid }] }),
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('set-cookie') ?? '', /^acme_id=/, 'the configured cookie name');
  const w = (await (await fetch(`${base}/micro/wait?event_id=${eid}&timeout=20000`)).json()) as { ok: boolean; good: number };
  t.equal(w.ok, true);
  t.equal(w.good, 1, 'the custom path was mapped to tp2 and enriched');

  writeFileSync(conf, 'collector { colour = "blue" }\n');
  await t.rejects(startMini({ ...opts, collectorConfigFile: conf }), /CONFIG_UNKNOWN_KEY.*colour/, 'an unknown key stops start-up naming it');
});
