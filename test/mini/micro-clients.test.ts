/**
 * Snowplow Micro's clients against a real mini on 127.0.0.1 (issue 16, part 4), each point as Micro behaves
 * (snowplow/snowplow-micro Routing.scala and model.scala, read for behaviour):
 * - a tracker retry (the same event ids in two requests) stores two copies, each with its own raw event (the
 *   JavaScript tracker's Micro suite reads rawEvent.context.headers on every event);
 * - a bad event from a webhook carries its collector payload;
 * - /micro/iglu's 404 body is Micro's {"value": {repository: {errors, attempts, lastAttempt}}};
 * - /micro/reset answers JSON to clients that call .json() on it; a bare GET /micro/events answers Micro 3.0's
 *   array of flat good events;
 * - the network cookie follows the collector's rules (SameSite=None; Secure) on loopback.
 */
import t from 'tap';
import { rmSync } from 'node:fs';
import { buildPageView, buildSelfDescribingEvent, newTracker } from '@snowplow/node-tracker';
import { silentLogger } from '../../common/logger.js';
import { startMini } from '../../mini/pipeline.js';
import { writeSchemas } from './fixtures.js';

interface RawEvent {
  api: { vendor: string; version: string };
  parameters: Record<string, string>;
  context: { timestamp: string; headers: string[] };
}
interface GoodEvent {
  rawEvent: RawEvent | null;
  eventType: string;
  event: Record<string, unknown>;
}
interface BadEvent {
  collectorPayload: { api: { vendor: string; version: string }; querystring: string[]; body: string | null; context: { timestamp: string } } | null;
  rawEvent: RawEvent | null;
  errors: string[];
}

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  if (!r.ok) throw new Error(`${r.url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

t.test('Micro clients against mini', async (t) => {
  const iglu = writeSchemas();
  t.teardown(() => rmSync(iglu, { recursive: true, force: true }));
  const mini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [iglu], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
    auth: { basic: null, token: null }, maxEvents: 10_000, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  const base = `http://127.0.0.1:${mini.port}`;

  t.test('a tracker retry: each stored copy has its own raw event', async (t) => {
    // The first request reaches the collector but its answer is lost (the tracker sees a 500), so the
    // tracker sends the same events again on its next flush. Each attempt is marked with a header.
    let attempt = 0;
    const statuses: number[] = [];
    let firstDone: () => void = () => {};
    const firstAnswered = new Promise<void>((r) => (firstDone = r));
    const tracker = newTracker(
      { namespace: 'retry', appId: 'retry', encodeBase64: false },
      {
        endpoint: '127.0.0.1', port: mini.port, protocol: 'http', eventMethod: 'post', bufferSize: 2,
        customFetch: async (input: Request) => {
          attempt++;
          const headers = new Headers(input.headers);
          headers.set('X-Attempt', String(attempt));
          const res = await fetch(input.url, { method: input.method, headers, body: await input.text() });
          statuses.push(res.status);
          if (attempt > 1) return res;
          setImmediate(firstDone);
          return new Response('lost on the way back', { status: 500 });
        },
      },
    );
    const eid = (p: Record<string, unknown> | undefined) => String(p?.eid);
    const ids = [
      eid(tracker.track(buildPageView({ pageUrl: 'http://shop.example/retry' }))),
      eid(tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'pro' } } }))),
    ];
    await firstAnswered; // the tracker's own flush, after the second event, saw the 500
    await tracker.flush(); // its retry
    t.equal(attempt, 2, 'the tracker sent the batch twice');
    t.same(statuses, [200, 200], 'the collector took both requests');
    const w = await json<{ ok: boolean; good: number }>(fetch(`${base}/micro/wait?good=4&event_id=${ids.join(',')}&timeout=20000`));
    t.equal(w.ok, true, 'four copies stored (2 events × 2 requests)');

    const good = (await json<GoodEvent[]>(fetch(`${base}/micro/good`))).filter((g) => ids.includes(String(g.event.event_id)));
    t.equal(good.length, 4);
    for (const id of ids) {
      const copies = good.filter((g) => g.event.event_id === id);
      t.equal(copies.length, 2, `two copies of ${id}`);
      t.ok(copies.every((g) => g.rawEvent !== null), 'every copy has a raw event');
      // What the JavaScript tracker's Micro suite does with each event.
      const attempts = copies.map((g) => (g.rawEvent?.context.headers ?? []).find((h) => /^x-attempt:/i.test(h))?.replace(/^x-attempt:\s*/i, '')).sort();
      t.same(attempts, ['1', '2'], 'one copy shows the first request, the other the retry');
      for (const g of copies) {
        t.equal(g.rawEvent?.parameters.eid, id);
        t.equal(Date.parse(g.rawEvent!.context.timestamp), Date.parse(String(g.event.collector_tstamp)), "a copy's raw event is the request it came from");
      }
    }
  });

  t.test('bad events from webhooks carry their collector payload', async (t) => {
    const schema = encodeURIComponent('iglu:com.acme/signup/jsonschema/1-0-0');
    // Iglu webhook, GET and POST, both failing validation (plan is an enum of free|pro).
    t.equal((await fetch(`${base}/com.snowplowanalytics.iglu/v1?schema=${schema}&plan=gold&aid=hook-get`)).status, 200);
    const posted = await fetch(`${base}/com.snowplowanalytics.iglu/v1?aid=hook-post`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'platinum' } }),
    });
    t.equal(posted.status, 200);
    const w = await json<{ ok: boolean }>(fetch(`${base}/micro/wait?bad=2&timeout=20000`));
    t.equal(w.ok, true);
    const bad = (await json<BadEvent[]>(fetch(`${base}/micro/bad`))).filter((b) => b.rawEvent?.api.vendor === 'com.snowplowanalytics.iglu');
    t.equal(bad.length, 2, 'both webhook events are bad');
    const get = bad.find((b) => b.errors[1]?.includes('gold'))!;
    const post = bad.find((b) => b.errors[1]?.includes('platinum'))!;
    t.ok(get && post, 'one bad event per webhook request');
    t.not(get.collectorPayload, null, 'the GET webhook bad event has its collector payload');
    t.same(get.collectorPayload?.api, { vendor: 'com.snowplowanalytics.iglu', version: 'v1' });
    t.ok(get.collectorPayload?.querystring.includes('plan=gold'), 'with the querystring the webhook sent');
    t.not(post.collectorPayload, null, 'the POST webhook bad event has its collector payload');
    t.match(post.collectorPayload?.body ?? '', /platinum/, 'with the body the webhook sent');
    t.ok(post.collectorPayload?.querystring.includes('aid=hook-post'));
  });

  t.test("/micro/iglu: Micro's 404 body for a schema that cannot be resolved", async (t) => {
    const res = await fetch(`${base}/micro/iglu/com.acme/nonexistent/jsonschema/1-0-0`);
    t.equal(res.status, 404);
    t.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { value: Record<string, { errors: Array<{ error: string }>; attempts: number; lastAttempt: string }> };
    t.same(Object.keys(body), ['value'], 'one key, value, as circe encodes ResolutionError');
    const repos = Object.keys(body.value);
    t.ok(repos.length >= 1, `keyed by repository (${repos.join(', ')})`);
    t.same(repos, [...repos].sort(), 'in sorted order');
    for (const r of repos) {
      const h = body.value[r]!;
      t.same(Object.keys(h).sort(), ['attempts', 'errors', 'lastAttempt']);
      t.ok(h.errors.some((e) => e.error === 'NotFound'), `${r}: NotFound`);
      t.type(h.attempts, 'number');
      t.ok(Number.isFinite(Date.parse(h.lastAttempt)));
    }
    t.equal((await fetch(`${base}/micro/iglu/com.acme/signup/jsonschema/1-0-0`)).status, 200);
  });

  t.test('GET /micro/events: Micro 3.0 answered an array of flat good events; with parameters, the paged answer', async (t) => {
    const all = await json<{ good: number }>(fetch(`${base}/micro/all`));
    const bare = await json<Array<Record<string, unknown>>>(fetch(`${base}/micro/events`));
    t.ok(Array.isArray(bare), 'a bare GET answers an array');
    t.equal(bare.length, all.good, 'of the good events');
    t.ok(bare.every((e) => typeof e.event_id === 'string' && typeof e.collector_tstamp === 'string'), 'flat (Analytics SDK) events');
    const good = await json<GoodEvent[]>(fetch(`${base}/micro/good`));
    t.same(bare.map((e) => e.event_id), good.map((g) => g.event.event_id), 'newest first, as /micro/good');
    const paged = await json<{ events: unknown[]; totalItems: number; totalPages: number }>(fetch(`${base}/micro/events?page=1&pageSize=2&valid=true`));
    t.equal(paged.totalItems, all.good);
    t.equal(paged.events.length, 2);
  });

  t.test('the network cookie follows the collector rules: SameSite=None; Secure on loopback', async (t) => {
    const res = await fetch(`${base}/i?e=pv&p=web&tv=cookie-1&eid=${crypto.randomUUID()}`);
    const cookie = res.headers.get('set-cookie') ?? '';
    t.match(cookie, /^sp=[0-9a-f-]{36};/);
    t.match(cookie, /; SameSite=None; Secure; HttpOnly$/);
  });

  t.test('/micro/reset answers JSON to a client that calls .json() (Micro 1.x–4.x clients do)', async (t) => {
    t.ok((await json<{ total: number }>(fetch(`${base}/micro/all`))).total > 0);
    const res = await fetch(`${base}/micro/reset`, { method: 'POST' }); // fetch's default Accept: */*
    t.match(res.headers.get('content-type') ?? '', /application\/json/);
    t.same(await res.json(), { total: 0, good: 0, bad: 0 });
    const withAccept = await fetch(`${base}/micro/reset`, { headers: { Accept: 'application/json' } });
    t.same(await withAccept.json(), { total: 0, good: 0, bad: 0 }, "what Micro's own UI sends");
    const text = await fetch(`${base}/micro/reset`, { headers: { Accept: 'text/plain' } });
    t.equal(await text.text(), 'Reset completed', 'text for a client that asks for it');
  });
});
