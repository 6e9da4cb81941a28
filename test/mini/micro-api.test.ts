import t from 'tap';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { IgluResolver } from '../../iglu-resolver/types.js';
import { createMicroRouter } from '../../mini/micro-api.js';
import { MiniStore } from '../../mini/store.js';
import { pageView, schemaViolation, selfDescribing, trackerProtocolViolation, uuid } from './fixtures.js';

/** A resolver that knows one schema: enough to check the route's 200/404 mapping. */
const resolver: IgluResolver = {
  async lookupSchema(uri) {
    if (uri === 'iglu:com.acme/signup/jsonschema/1-0-0') return { ok: true, schema: { self: { vendor: 'com.acme' }, type: 'object' }, supersededBy: null };
    return { ok: false, error: { error: 'ResolutionError', lookupHistory: [{ repository: 'furrow built-in', errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: '2026-11-26T10:00:00.000Z' }] } };
  },
  async validate() {
    return { ok: true, supersededBy: null };
  },
  validateCached() {
    return undefined;
  },
  async listSchemas() {
    return [];
  },
};

async function start(t: { teardown(fn: () => unknown): void }, opts: Partial<Parameters<typeof createMicroRouter>[0]> = {}) {
  const store = new MiniStore();
  const app = express();
  app.use(createMicroRouter({ store, resolver, ...opts }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(() => {
    store.close();
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  return { store, base };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

t.test('Micro endpoints: all, good, bad, reset, with Micro shapes', async (t) => {
  const { store, base } = await start(t);
  const ue = uuid();
  store.addGood(pageView());
  store.addGood(selfDescribing('iglu:com.acme/signup/jsonschema/1-0-0', { plan: 'pro' }, ['iglu:com.acme/user/jsonschema/1-0-0'], { event_id: ue }));
  store.addBad(schemaViolation(uuid()));

  t.same(await (await fetch(`${base}/micro/all`)).json(), { total: 3, good: 2, bad: 1 });
  t.same(await (await post(`${base}/micro/all`, '')).json(), { total: 3, good: 2, bad: 1 });

  const good = (await (await fetch(`${base}/micro/good`)).json()) as Array<Record<string, unknown>>;
  t.equal(good.length, 2);
  t.same(Object.keys(good[0]!).sort(), ['contexts', 'event', 'eventType', 'incomplete', 'rawEvent', 'schema']);
  t.equal(good[0]!.eventType, 'unstruct');
  t.equal(good[0]!.schema, 'iglu:com.acme/signup/jsonschema/1-0-0');
  t.same(good[0]!.contexts, ['iglu:com.acme/user/jsonschema/1-0-0']);
  t.equal((good[0]!.event as Record<string, unknown>).event_id, ue);

  const filtered = (await (await post(`${base}/micro/good`, { event_type: 'page_view', limit: 5 })).json()) as unknown[];
  t.equal(filtered.length, 1);
  const byCtx = (await (await post(`${base}/micro/good`, { contexts: ['iglu:com.acme/user/jsonschema/1-0-0'] })).json()) as unknown[];
  t.equal(byCtx.length, 1);
  const bySchema = (await (await post(`${base}/micro/good`, { schema: 'iglu:com.acme/nope/jsonschema/1-0-0' })).json()) as unknown[];
  t.equal(bySchema.length, 0);

  const bad = (await (await fetch(`${base}/micro/bad`)).json()) as Array<Record<string, unknown>>;
  t.same(Object.keys(bad[0]!).sort(), ['collectorPayload', 'errors', 'rawEvent']);
  t.equal((bad[0]!.errors as string[])[0], 'Error while validating the event.');
  t.equal(((await (await post(`${base}/micro/bad`, { vendor: 'com.snowplowanalytics.snowplow', limit: 0 })).json()) as unknown[]).length, 0);

  const bodyErr = await post(`${base}/micro/good`, '{"limit": "many"}');
  t.equal(bodyErr.status, 400);
  t.match(await bodyErr.text(), /limit/);
  t.equal((await post(`${base}/micro/good`, '{oops')).status, 400);

  const reset = await fetch(`${base}/micro/reset`);
  t.same(await reset.json(), { total: 0, good: 0, bad: 0 }, 'reset answers JSON (the summary) to a client that takes anything');
  t.same(await (await fetch(`${base}/micro/all`)).json(), { total: 0, good: 0, bad: 0 });
  store.addGood(pageView());
  const asText = await fetch(`${base}/micro/reset`, { method: 'POST', headers: { Accept: 'text/plain' } });
  t.equal(await asText.text(), 'Reset completed', 'and text to one that prefers it');
  t.same(await (await fetch(`${base}/micro/all`)).json(), { total: 0, good: 0, bad: 0 });
});

t.test('iglu lookup, unknown paths, CORS', async (t) => {
  const { base } = await start(t);
  const ok = await fetch(`${base}/micro/iglu/com.acme/signup/jsonschema/1-0-0`);
  t.equal(ok.status, 200);
  t.same(await ok.json(), { self: { vendor: 'com.acme' }, type: 'object' });
  const missing = await fetch(`${base}/micro/iglu/com.acme/nope/jsonschema/1-0-0`);
  t.equal(missing.status, 404);
  t.same(
    await missing.json(),
    { value: { 'furrow built-in': { errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: '2026-11-26T10:00:00.000Z' } } },
    "Micro's ResolutionError body: {value: {repository: {errors, attempts, lastAttempt}}}",
  );
  const badVer = await fetch(`${base}/micro/iglu/com.acme/signup/jsonschema/one`);
  t.equal(badVer.status, 404);
  t.match(await badVer.text(), /Schema lookup should be in format/);
  const unknown = await fetch(`${base}/micro/whatever`);
  t.equal(unknown.status, 404);
  t.match(await unknown.text(), /Path for micro has to be one of/);
  const pre = await fetch(`${base}/micro/good`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' } });
  t.equal(pre.status, 200);
  t.equal(pre.headers.get('access-control-allow-origin'), 'http://localhost:3000', 'a page on localhost may call the API');
  t.equal(pre.headers.get('access-control-allow-credentials'), null, 'never with credentials');
  t.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
  const other = await fetch(`${base}/micro/good`, { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'POST' } });
  t.equal(other.status, 403, 'a page of another site may not');
  t.equal(other.headers.get('access-control-allow-origin'), null);
});

t.test('/micro/events: filter, sort, page, look up by event_id', async (t) => {
  const { store, base } = await start(t);
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const id = uuid();
    ids.push(id);
    store.addGood(pageView({ event_id: id, app_id: i % 2 === 0 ? 'Shop' : 'blog', domain_sessionidx: String(10 - i) }));
  }
  const badId = uuid();
  store.addBad(schemaViolation(badId, { aid: 'shop' }));
  store.addBad(trackerProtocolViolation());

  const page1 = (await (await post(`${base}/micro/events`, { filters: [], page: 1, pageSize: 4 })).json()) as { events: Array<Record<string, unknown>>; totalPages: number; totalItems: number };
  t.equal(page1.totalItems, 9);
  t.equal(page1.totalPages, 3);
  t.equal(page1.events.length, 4);
  t.ok(page1.events[0]!.contexts_com_snowplowanalytics_snowplow_failure_1, 'newest first: the last bad row');

  const shop = (await (await post(`${base}/micro/events`, { filters: [{ column: 'app_id', value: 'shop' }], page: 1, pageSize: 50 })).json()) as { totalItems: number };
  t.equal(shop.totalItems, 5, 'case-insensitive substring: 4 good Shop + 1 bad shop');
  const multi = (await (await post(`${base}/micro/events`, { filters: [{ column: 'app_id', values: ['blog', 'nothing'] }], validEvents: true, page: 1, pageSize: 50 })).json()) as { totalItems: number };
  t.equal(multi.totalItems, 3);
  const failed = (await (await post(`${base}/micro/events`, { filters: [], validEvents: false, page: 1, pageSize: 50 })).json()) as { totalItems: number };
  t.equal(failed.totalItems, 2);
  const sorted = (await (await post(`${base}/micro/events`, { filters: [], validEvents: true, sorting: { column: 'domain_sessionidx', desc: false }, page: 1, pageSize: 2 })).json()) as { events: Array<{ domain_sessionidx: number }> };
  t.same(sorted.events.map((e) => e.domain_sessionidx), [4, 5]);
  const range = (await (await post(`${base}/micro/events`, { filters: [], validEvents: true, timeRange: { start: '2026-11-26T10:00:01Z', end: null }, page: 1, pageSize: 50 })).json()) as { totalItems: number };
  t.equal(range.totalItems, 0, 'all fixtures were collected at 10:00:00');

  const q = (await (await fetch(`${base}/micro/events?event_id=${ids[3]}`)).json()) as { totalItems: number; events: Array<{ event_id: string }> };
  t.equal(q.totalItems, 1);
  t.equal(q.events[0]!.event_id, ids[3]);

  const one = (await (await fetch(`${base}/micro/events/${ids[2]}`)).json()) as { records: Array<{ valid: boolean; event: { event: { event_id: string } } }> };
  t.equal(one.records.length, 1);
  t.equal(one.records[0]!.valid, true);
  t.equal(one.records[0]!.event.event.event_id, ids[2]);
  const badOne = (await (await fetch(`${base}/micro/events/${badId}`)).json()) as { records: Array<{ valid: boolean; type: string }> };
  t.equal(badOne.records[0]!.valid, false);
  t.equal(badOne.records[0]!.type, 'schema_violations');
  t.equal((await fetch(`${base}/micro/events/${uuid()}`)).status, 404);
  t.equal((await post(`${base}/micro/events`, { filters: 'x', page: 1, pageSize: 1 })).status, 400);
});

t.test('/micro/wait blocks until the events are there, or answers 408 at the timeout', async (t) => {
  const { store, base } = await start(t);
  const id = uuid();
  const started = Date.now();
  const waiting = fetch(`${base}/micro/wait?count=2&event_id=${id}&timeout=10000`);
  await new Promise((r) => setTimeout(r, 100));
  store.addGood(pageView());
  await new Promise((r) => setTimeout(r, 50));
  store.addGood(pageView({ event_id: id }));
  const res = await waiting;
  t.equal(res.status, 200);
  const body = (await res.json()) as { ok: boolean; total: number; events: Array<{ valid: boolean }>; missing: string[] };
  t.equal(body.ok, true);
  t.equal(body.total, 2);
  t.equal(body.events.length, 1);
  t.ok(Date.now() - started >= 150, 'it really waited');

  const late = await post(`${base}/micro/wait`, { event_ids: ['never-1', id], timeout: 100 });
  t.equal(late.status, 408);
  const lb = (await late.json()) as { ok: boolean; missing: string[] };
  t.equal(lb.ok, false);
  t.same(lb.missing, ['never-1']);
  t.equal((await fetch(`${base}/micro/wait`)).status, 400, 'nothing to wait for is an error');
  t.equal((await fetch(`${base}/micro/wait?count=x`)).status, 400);
});

t.test('UI support endpoints and the UI itself', async (t) => {
  const { store, base } = await start(t, { status: () => ({ collector: 'http://127.0.0.1:9090' }) });
  store.addGood(pageView());
  store.addBad(schemaViolation(uuid()));
  const groups = (await (await fetch(`${base}/micro/bad-groups`)).json()) as Array<{ type: string; count: number }>;
  t.same(groups.map((g) => [g.type, g.count]), [['schema_violations', 1]]);
  const schemas = (await (await fetch(`${base}/micro/schemas`)).json()) as Array<{ schema: string }>;
  t.ok(schemas.some((s) => s.schema === 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0'));
  const tl = (await (await fetch(`${base}/micro/timeline?bucketMs=1000&buckets=10`)).json()) as { buckets: Array<{ good: number; bad: number }> };
  t.equal(tl.buckets.length, 10);
  t.equal(tl.buckets.reduce((a, b) => a + b.good + b.bad, 0), 2);
  const status = (await (await fetch(`${base}/micro/status`)).json()) as Record<string, unknown>;
  t.equal(status.collector, 'http://127.0.0.1:9090');
  t.equal(status.total, 2);
  const cols = (await (await fetch(`${base}/micro/columns`)).json()) as string[];
  t.ok(cols.includes('contexts_com_snowplowanalytics_snowplow_web_page_1'));

  const redirect = await fetch(`${base}/micro/ui`, { redirect: 'manual' });
  t.equal(redirect.status, 302);
  const html = await fetch(`${base}/micro/ui/`);
  t.equal(html.status, 200);
  t.match(await html.text(), /<title>furrow mini<\/title>/);
  const js = await fetch(`${base}/micro/ui/app.js`);
  t.equal(js.status, 200);
  const src = await js.text();
  t.notMatch(src, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'the UI loads nothing from outside');

  const ac = new AbortController();
  const sse = await fetch(`${base}/micro/stream`, { signal: ac.signal });
  t.equal(sse.headers.get('content-type'), 'text/event-stream');
  const reader = sse.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  t.match(first, /event: summary\ndata: \{"total":2,"good":1,"bad":1/);
  const fresh = uuid();
  store.addGood(pageView({ event_id: fresh }));
  let next = '';
  while (!next.includes('event: events')) next += new TextDecoder().decode((await reader.read()).value);
  while (!next.endsWith('\n\n')) next += new TextDecoder().decode((await reader.read()).value);
  t.match(next, /"total":3/);
  t.match(next, /"good":2/);
  const events = JSON.parse(/event: events\ndata: (.*)\n/.exec(next)![1]!) as Array<{ valid: boolean; event_id: string; event: string }>;
  t.same(events.map((e) => [e.valid, e.event_id, e.event]), [[true, fresh, 'page_view']], 'receipt notification for the new event only');
  ac.abort();
});

t.test('--auth: basic and token; collector-style CORS preflight still open', async (t) => {
  const { base } = await start(t, { auth: { basic: { user: 'ops', password: 's3cret' }, token: 'tok-123' } });
  const none = await fetch(`${base}/micro/all`);
  t.equal(none.status, 401);
  t.match(none.headers.get('www-authenticate') ?? '', /Basic/);
  const wrong = await fetch(`${base}/micro/all`, { headers: { Authorization: 'Basic ' + Buffer.from('ops:nope').toString('base64') } });
  t.equal(wrong.status, 401);
  const basic = await fetch(`${base}/micro/all`, { headers: { Authorization: 'Basic ' + Buffer.from('ops:s3cret').toString('base64') } });
  t.equal(basic.status, 200);
  t.equal((await fetch(`${base}/micro/all`, { headers: { Authorization: 'Bearer tok-123' } })).status, 200);
  t.equal((await fetch(`${base}/micro/all`, { headers: { Authorization: 'Bearer tok-1234' } })).status, 401);
  const viaQuery = await fetch(`${base}/micro/ui/?token=tok-123`);
  t.equal(viaQuery.status, 200);
  const cookie = viaQuery.headers.get('set-cookie') ?? '';
  t.match(cookie, /furrow_mini_token=tok-123/);
  t.match(cookie, /HttpOnly/);
  t.equal((await fetch(`${base}/micro/good`, { headers: { Cookie: 'furrow_mini_token=tok-123' } })).status, 200);
  t.equal((await fetch(`${base}/micro/ui/app.js`)).status, 401, 'the UI is behind auth too');
  t.equal((await fetch(`${base}/micro/all`, { method: 'OPTIONS' })).status, 200);

  // Another site's page must not ride on the browser's stored credentials.
  const basicHdr = 'Basic ' + Buffer.from('ops:s3cret').toString('base64');
  const evil = await fetch(`${base}/micro/reset`, { headers: { Authorization: basicHdr, 'Sec-Fetch-Site': 'cross-site', Origin: 'http://evil.example' } });
  t.equal(evil.status, 403);
  t.equal((await fetch(`${base}/micro/good`, { headers: { Cookie: 'furrow_mini_token=tok-123', Origin: 'http://evil.example' } })).status, 403);
  t.equal((await fetch(`${base}/micro/all`, { headers: { Authorization: 'Bearer tok-123', Origin: 'http://evil.example' } })).status, 200, 'an explicit bearer token works from anywhere');
  const sameOrigin = await fetch(`${base}/micro/all`, { headers: { Authorization: basicHdr, 'Sec-Fetch-Site': 'same-origin' } });
  t.equal(sameOrigin.status, 200);
  const pre = await fetch(`${base}/micro/good`, { method: 'OPTIONS', headers: { Origin: 'http://evil.example' } });
  t.equal(pre.headers.get('access-control-allow-origin'), '*', 'with auth on, CORS never allows credentials');
  t.equal(pre.headers.get('access-control-allow-credentials'), null);
});

t.test('a large /micro/good is streamed in chunks as one valid JSON array, other requests still served', async (t) => {
  const { store, base } = await start(t);
  const line = pageView();
  for (let i = 0; i < 5000; i++) store.addGood(line);
  const big = fetch(`${base}/micro/good`);
  // While the big answer is being written, a small request still gets through.
  const small = await fetch(`${base}/micro/all`);
  t.same(await small.json(), { total: 5000, good: 5000, bad: 0 });
  const res = await big;
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
  const arr = (await res.json()) as Array<{ eventType: string }>;
  t.equal(arr.length, 5000, 'valid JSON with every event');
  t.ok(arr.every((g) => g.eventType === 'page_view'));
  t.same(await (await fetch(`${base}/micro/good`, { method: 'POST', body: '{"limit":0}' })).json(), [], 'an empty array is still valid JSON');
});

t.test('hostile requests get clear 4xx answers, never a crash', async (t) => {
  const { store, base } = await start(t);
  store.addGood(pageView());
  const huge = await post(`${base}/micro/good`, JSON.stringify({ event_type: 'x'.repeat(2 * 1024 * 1024) }));
  t.equal(huge.status, 413, 'bodies over 1 MB are refused');
  t.equal(await huge.text(), 'The request body is larger than 1 MB', 'with a short message, no stack trace');
  t.equal((await post(`${base}/micro/good`, '[1,2,3]')).status, 400, 'a JSON array is not a filter object');
  t.equal((await post(`${base}/micro/good`, '{"contexts":"iglu:a/b/jsonschema/1-0-0"}')).status, 400, 'contexts must be an array');
  t.equal((await post(`${base}/micro/good`, '{"limit":-1}')).status, 400);
  const deep = '['.repeat(5000) + ']'.repeat(5000);
  t.equal((await post(`${base}/micro/events`, `{"filters":${deep},"page":1,"pageSize":1}`)).status, 400, 'deeply nested filters');
  t.equal((await post(`${base}/micro/events`, { filters: [{ column: 'app_id', value: 'shop' }], page: 0, pageSize: 1 })).status, 400, 'page starts at 1');
  t.equal((await post(`${base}/micro/events`, { filters: [], timeRange: { start: 'yesterday' }, page: 1, pageSize: 1 })).status, 400);
  t.equal((await fetch(`${base}/micro/events?valid=maybe`)).status, 400);
  t.equal((await fetch(`${base}/micro/events/${'x'.repeat(5000)}`)).status, 404);
  t.equal((await fetch(`${base}/micro/timeline?bucketMs=1`)).status, 400);
  t.equal((await fetch(`${base}/micro/iglu/../../etc/jsonschema/1-0-0`)).status, 404);
  t.equal((await fetch(`${base}/micro/ui/../../package.json`)).status, 404, 'no path traversal out of the UI folder');
  const big = await post(`${base}/micro/events`, { filters: [], page: 1, pageSize: 1_000_000 });
  t.equal(big.status, 200, 'pageSize is capped, not refused');
  t.same(await (await fetch(`${base}/micro/all`)).json(), { total: 1, good: 1, bad: 0 }, 'still serving');
});
