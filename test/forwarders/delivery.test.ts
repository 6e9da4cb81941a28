/**
 * Delivery under faults, against real HTTP servers on 127.0.0.1: every event is delivered exactly once to a
 * healthy destination or lands in the dead letter (with destination, status, response body and attempts);
 * acknowledgement waits for every destination; a down destination does not stop the others; memory is bounded.
 */
import t, { type Test } from 'tap';
import { FurrowError } from '../../common/errors.js';
import { TokenBucket } from '../../forwarders/rate-limiter.js';
import type { Forwarder } from '../../forwarders/forwarder.js';
import { FAST_RETRY, runForward, startServer, type RecordedRequest, type Reply } from './helpers.js';
import { column, generateLines } from './tsv-generator.js';
import { waitFor } from '../support/wait-for.js';

const ids = (reqs: readonly RecordedRequest[]) => reqs.flatMap((r) => (JSON.parse(r.body) as Array<{ event_id: string }>).map((e) => e.event_id));
const inputIds = (lines: readonly string[]) => lines.map((l) => column(l, 'event_id'));

function hook(name: string, url: string, extra: Record<string, unknown> = {}) {
  return { name, target: { type: 'http', url }, retry: FAST_RETRY, batch: { max_events: 20, flush_interval: '10 millis' }, ...extra };
}

/** Asserts each id was accepted exactly once. */
function exactlyOnce(t: Test, accepted: string[], want: string[], msg: string) {
  const counts = new Map<string, number>();
  for (const id of accepted) counts.set(id, (counts.get(id) ?? 0) + 1);
  t.same([...counts.values()].filter((c) => c !== 1), [], `${msg}: no duplicates`);
  t.same([...counts.keys()].sort(), [...want].sort(), `${msg}: every event`);
}

t.test('500 for a while, then healthy: every event exactly once, nothing dead-lettered', async (t) => {
  const server = await startServer((_r, n) => (n <= 6 ? { status: 500, body: 'oops' } : { status: 200 }));
  t.teardown(() => server.close());
  const lines = generateLines(200);
  const { summary, deadLetters, source } = await runForward({ destinations: [hook('d', server.url, { retry: { ...FAST_RETRY, max_attempts: 10 } })] }, lines);
  exactlyOnce(t, ids(server.accepted), inputIds(lines), '500s');
  t.same(deadLetters, []);
  t.ok(summary.destinations.d!.retries >= 6, `retries ${summary.destinations.d!.retries}`);
  t.same(source.committed, [0, 1], 'both input batches acknowledged, in order');
});

t.test('429 with Retry-After: the retry waits at least that long, then delivers once', async (t) => {
  const server = await startServer((_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: '{"error":"slow down"}' } : { status: 200 }));
  t.teardown(() => server.close());
  const lines = generateLines(10);
  const started = Date.now();
  const { deadLetters } = await runForward({ destinations: [hook('d', server.url)] }, lines);
  t.equal(server.requests.length, 2);
  exactlyOnce(t, ids(server.accepted), inputIds(lines), '429');
  t.same(deadLetters, []);
  t.ok(Date.now() - started >= 1000, 'Retry-After: 1 honoured although the backoff is 5 ms');
});

t.test('a hanging destination times out and is retried; closed connections are retried', async (t) => {
  const hang = await startServer((_r, n) => (n <= 2 ? 'hang' : { status: 200 }));
  const close = await startServer((_r, n) => (n <= 3 ? 'destroy' : { status: 200 }));
  t.teardown(() => Promise.all([hang.close(), close.close()]));
  const lines = generateLines(60);
  const { summary, deadLetters } = await runForward(
    { destinations: [hook('hang', hang.url, { request_timeout: '300 millis', retry: { ...FAST_RETRY, max_attempts: 6 } }), hook('close', close.url, { retry: { ...FAST_RETRY, max_attempts: 6 } })] },
    lines,
  );
  exactlyOnce(t, ids(hang.accepted), inputIds(lines), 'hang');
  exactlyOnce(t, ids(close.accepted), inputIds(lines), 'close');
  t.same(deadLetters, []);
  t.ok(summary.destinations.hang!.retries >= 2 && summary.destinations.close!.retries >= 3);
});

t.test('retry budget used up: dead letter with destination, status, response body, attempts', async (t) => {
  const server = await startServer(() => ({ status: 503, body: 'down for maintenance' }));
  t.teardown(() => server.close());
  const lines = generateLines(30);
  const { summary, deadLetters, source } = await runForward({ destinations: [hook('d', server.url, { retry: { ...FAST_RETRY, max_attempts: 3 } })] }, lines);
  t.equal(server.accepted.length, 0);
  t.equal(summary.destinations.d!.deadLettered, 30);
  t.same(deadLetters.map((d) => column(d.event as string, 'event_id')).sort(), inputIds(lines).sort(), 'each event once in the dead letter');
  for (const d of deadLetters) t.match(d, { schema: 'furrow:forward_dead_letter/1-0-0', destination: 'd', target: 'http', reason: 'retries_exhausted', status: 503, response_body: 'down for maintenance', attempts: 3 });
  t.equal(server.requests.length, 3 * 2, '3 attempts for each of the 2 batches (20 + 10)');
  t.same(source.committed, [0], 'dead-lettered events are acknowledged');
});

t.test('a network error to the end is dead-lettered with the error text', async (t) => {
  const server = await startServer(() => 'destroy');
  t.teardown(() => server.close());
  const { deadLetters } = await runForward({ destinations: [hook('d', server.url, { retry: { ...FAST_RETRY, max_attempts: 2 } })] }, generateLines(3));
  t.equal(deadLetters.length, 3);
  t.match(deadLetters[0], { reason: 'retries_exhausted', status: null, attempts: 2, error: /socket hang up|ECONNRESET/ });
});

t.test('4xx other than 408/429 is not retried', async (t) => {
  const server = await startServer(() => ({ status: 401, body: '{"error":"bad key"}' }));
  t.teardown(() => server.close());
  const { deadLetters, summary } = await runForward({ destinations: [hook('d', server.url)] }, generateLines(45));
  t.equal(server.requests.length, 3, 'one request per batch, no retry');
  t.equal(summary.destinations.d!.retries, 0);
  t.equal(deadLetters.length, 45);
  t.match(deadLetters[0], { reason: 'rejected', status: 401, attempts: 1, response_body: '{"error":"bad key"}' });
});

t.test('unparseable input lines are dead-lettered; good + bad = read', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const good = generateLines(20);
  const lines = [...good.slice(0, 10), 'not\tan\tevent', '{"json":true}', good[10]!.split('\t').slice(0, 100).join('\t'), ...good.slice(10)];
  const { summary, deadLetters } = await runForward({ destinations: [hook('d', server.url)] }, lines);
  t.equal(summary.read, 23);
  t.equal(summary.unparseable, 3);
  t.equal(summary.destinations.d!.delivered, 20);
  t.same(deadLetters.map((d) => [d.reason, d.destination]), [['unparseable', null], ['unparseable', null], ['unparseable', null]]);
  t.match(deadLetters[0]!.error, /expected 131 tab-separated columns, got 3/);
  t.equal(deadLetters[1]!.event, '{"json":true}');
});

t.test('isolation: a second destination delivers everything while the first is down; acknowledgement waits for both', async (t) => {
  let release = false;
  const held: Array<() => void> = [];
  const down = await startServer(
    () =>
      new Promise<Reply>((resolve) => {
        if (release) resolve({ status: 200 });
        else held.push(() => resolve({ status: 200 }));
      }),
  );
  const up = await startServer();
  t.teardown(() => Promise.all([down.close(), up.close()]));
  const lines = generateLines(600);
  let fw: Forwarder | null = null;
  let committedWhenUpDone = -1;
  const run = runForward(
    {
      destinations: [
        hook('down', down.url, { concurrency: 2, request_timeout: '60 seconds', queue: { max_events: 1000 } }),
        hook('up', up.url, { concurrency: 2 }),
      ],
    },
    lines,
    { onStart: (f) => (fw = f) },
  );
  const upDone = await waitFor('600 events at the healthy destination', () => ids(up.accepted).length === 600, { timeoutMs: 20_000 });
  t.ok(upDone, 'the healthy destination received all 600 events while the other answered nothing');
  t.equal(down.accepted.length, 0, 'the down destination accepted nothing meanwhile');
  t.ok(held.length <= 2, `the down destination holds at most its concurrency (${held.length}) in flight`);
  committedWhenUpDone = fw!.committedBatches;
  t.equal(committedWhenUpDone, 0, 'no input batch acknowledged before every destination settled it');
  release = true;
  for (const h of held.splice(0)) h();
  const { summary, source } = await run;
  exactlyOnce(t, ids(down.accepted), inputIds(lines), 'down, after recovery');
  exactlyOnce(t, ids(up.accepted), inputIds(lines), 'up');
  t.same(source.committed, [0, 1, 2, 3, 4, 5], 'then every batch, in order');
  t.equal(summary.destinations.down!.delivered, 600);
});

t.test('bounded memory: a full queue pauses reading (when_full = pause)', async (t) => {
  let release = false;
  const held: Array<() => void> = [];
  const down = await startServer(() => new Promise<Reply>((resolve) => (release ? resolve({ status: 200 }) : held.push(() => resolve({ status: 200 })))));
  t.teardown(() => down.close());
  const lines = generateLines(1000);
  let fw: Forwarder | null = null;
  const run = runForward({ destinations: [hook('down', down.url, { concurrency: 1, queue: { max_events: 150 }, request_timeout: '60 seconds' })] }, lines, { batchSize: 50, onStart: (f) => (fw = f) });
  await waitFor('a held request', () => held.length === 1);
  await new Promise((r) => setTimeout(r, 200));
  const readWhileDown = fw!.read;
  t.ok(readWhileDown <= 150 + 50, `read ${readWhileDown} ≤ queue (150) + one input batch (50) while the destination is down`);
  t.ok(fw!.destinations[0]!.queue.stats.size <= 200);
  release = true;
  for (const h of held.splice(0)) h();
  const { summary } = await run;
  t.equal(summary.read, 1000);
  exactlyOnce(t, ids(down.accepted), inputIds(lines), 'after release');
});

t.test('when_full = dead_letter: the healthy destination is never held up; the overflow is dead-lettered', async (t) => {
  let release = false;
  const held: Array<() => void> = [];
  const down = await startServer(() => new Promise<Reply>((resolve) => (release ? resolve({ status: 200 }) : held.push(() => resolve({ status: 200 })))));
  const up = await startServer();
  t.teardown(() => Promise.all([down.close(), up.close()]));
  const lines = generateLines(500);
  const run = runForward(
    { destinations: [hook('down', down.url, { concurrency: 1, queue: { max_events: 100, when_full: 'dead_letter' }, request_timeout: '60 seconds' }), hook('up', up.url)] },
    lines,
    { batchSize: 50 },
  );
  t.ok(await waitFor('500 events at the healthy destination', () => ids(up.accepted).length === 500, { timeoutMs: 20_000 }), 'the healthy destination got all 500');
  release = true;
  for (const h of held.splice(0)) h();
  const { summary, deadLetters } = await run;
  const d = summary.destinations.down!;
  t.equal(d.delivered + d.deadLettered, 500, 'each event delivered or dead-lettered');
  t.ok(d.deadLettered >= 350, `overflow dead-lettered (${d.deadLettered})`);
  t.ok(deadLetters.every((x) => x.reason === 'queue_full' && x.destination === 'down'));
  const delivered = new Set(ids(down.accepted));
  t.equal(delivered.size, d.delivered);
  for (const x of deadLetters) t.notOk(delivered.has(column(x.event as string, 'event_id')), 'never both');
});

t.test('concurrency limit per destination', async (t) => {
  let open = 0;
  let maxOpen = 0;
  const server = await startServer(async () => {
    open++;
    maxOpen = Math.max(maxOpen, open);
    await new Promise((r) => setTimeout(r, 50));
    open--;
    return { status: 200 };
  });
  t.teardown(() => server.close());
  await runForward({ destinations: [hook('d', server.url, { concurrency: 3, batch: { max_events: 5, flush_interval: '5 millis' } })] }, generateLines(200));
  t.equal(maxOpen, 3, 'never more than 3 requests at once, and it uses all 3');
});

t.test('the dead letter failing stops the forwarder without acknowledging', async (t) => {
  const server = await startServer(() => ({ status: 400, body: 'no' }));
  t.teardown(() => server.close());
  try {
    await runForward({ dead_letter: { type: 'file', path: '/dev/full' }, destinations: [hook('d', server.url)] }, generateLines(250));
    t.fail('should fail');
  } catch (e) {
    t.ok(e instanceof FurrowError && e.code === 'FORWARD_DEAD_LETTER_UNWRITABLE', String(e));
  }
});

t.test('token bucket: waits for tokens, never exceeds the rate (fake clock)', async (t) => {
  let now = 0;
  const b = new TokenBucket(10, () => now);
  for (let i = 0; i < 10; i++) await b.take(1); // the initial second's worth
  let took = false;
  const p = b.take(1).then(() => (took = true));
  await new Promise((r) => setTimeout(r, 30));
  t.notOk(took, 'no token without time passing');
  now += 100; // 100 ms at 10/s = 1 token
  await p;
  t.ok(took);
});

t.test('an event larger than a whole request is dead-lettered as invalid, the others are sent', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const small = generateLines(5);
  const huge = generateLines(1, { seed: 9, override: { page_title: 'x'.repeat(5000) } });
  const { summary, deadLetters } = await runForward({ destinations: [hook('d', server.url, { batch: { max_events: 20, max_bytes: 4096 } })] }, [...small, ...huge]);
  t.equal(summary.destinations.d!.delivered, 5);
  t.match(deadLetters, [{ reason: 'invalid', destination: 'd', error: /over its 4096-byte request limit/ }]);
  t.ok(server.requests.every((r) => Buffer.byteLength(r.body) <= 4096 + 1), 'no request over max_bytes (+1 for the array brackets)');
});
