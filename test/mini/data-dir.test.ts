/**
 * `furrow mini --data DIR` as a user runs it: the CLI on 127.0.0.1, events sent to the collector's tracker
 * endpoints, stopped (SIGTERM, and kill -9), started again on the same directory: /micro/all, /micro/good,
 * /micro/bad and /micro/events/{id} answer the same. A second mini on the directory stops at start with
 * MINI_DATA_LOCKED. (Reset and damaged data: data-dir-reset.test.ts, in process, to keep each file's time.)
 */
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

interface Mini {
  child: ChildProcess;
  port: number;
  base: string;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

function spawnMini(dir: string, port: number): Mini {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'bin/furrow.ts', 'mini', '--port', String(port), '--host', '127.0.0.1', '--offline', '--log-level', 'warn', '--data', dir],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { child, port, base: `http://127.0.0.1:${port}`, out: () => out, err: () => err, exited };
}

/** Starts mini and waits for its banner (bounded: 120 s); fails with its stderr if it exits instead. */
async function startMini(t: Tap, dir: string): Promise<Mini> {
  const m = spawnMini(dir, await freePort());
  t.teardown(() => {
    if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
  });
  for (let i = 0; i < 1200 && m.child.exitCode === null && !/Ctrl-C stops it/.test(m.out()); i++) await new Promise((r) => setTimeout(r, 100));
  if (!/Ctrl-C stops it/.test(m.out())) throw new Error(`mini did not start: ${m.err().slice(-1000)}`);
  return m;
}

type Tap = { teardown(fn: () => void | Promise<void>): void };

async function get<T>(m: Mini, path: string, init?: RequestInit): Promise<T> {
  const r = await fetch(m.base + path, init);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/** The Micro API's answers that must survive a restart. */
async function answers(m: Mini, eids: string[]) {
  return {
    all: await get<{ total: number; good: number; bad: number }>(m, '/micro/all'),
    good: await get<unknown[]>(m, '/micro/good'),
    bad: await get<unknown[]>(m, '/micro/bad'),
    byId: await Promise.all(eids.map((e) => get<{ records: Array<{ receivedAt: string; event: unknown; row: unknown }> }>(m, `/micro/events/${e}`).then((r) => r.records.map(({ receivedAt, event, row }) => ({ receivedAt, event, row }))))),
    schemas: await get<unknown[]>(m, '/micro/schemas'),
    groups: await get<Array<Record<string, unknown>>>(m, '/micro/bad-groups').then((gs) => gs.map(({ type, message, count }) => ({ type, message, count }))),
  };
}

async function stop(m: Mini, signal: NodeJS.Signals): Promise<number | null> {
  m.child.kill(signal);
  return m.exited;
}

/** Sends events to the tracker endpoints: page views (GET, good), an unknown schema (GET, bad), a tp2 POST (good) and a bad tp2 body. */
async function sendEvents(m: Mini, tag: string): Promise<{ good: string[]; bad: string[]; statuses: number[] }> {
  const statuses: number[] = [];
  const good = [crypto.randomUUID(), crypto.randomUUID()];
  const bad = [crypto.randomUUID()];
  for (const eid of good.slice(0, 1)) {
    const r = await fetch(`${m.base}/i?e=pv&p=web&tv=data-test&aid=${tag}&eid=${eid}&url=${encodeURIComponent('http://shop.example/' + tag)}`);
    statuses.push(r.status);
  }
  const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.acme/not_there/jsonschema/1-0-0', data: { a: 1 } } });
  const r1 = await fetch(`${m.base}/i?e=ue&p=web&tv=data-test&aid=${tag}&eid=${bad[0]}&ue_pr=${encodeURIComponent(ue)}`);
  statuses.push(r1.status);
  const body = JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
    data: [{ e: 'se', p: 'web', tv: 'data-test', aid: tag, eid: good[1], se_ca: 'cart', se_ac: 'add', dtm: String(Date.now()), stm: String(Date.now()) }],
  });
  const r2 = await fetch(`${m.base}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  statuses.push(r2.status);
  const r3 = await fetch(`${m.base}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"not":"payload_data"}' });
  statuses.push(r3.status);
  return { good, bad, statuses };
}

t.test('--data: events survive a restart and a kill -9; a second mini fails loudly', async (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'furrow-mini-data-')), 'data'); // does not exist yet: mini creates it
  t.teardown(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  // ---- first run: 4 requests → 2 good + 2 bad (unknown schema; a tp2 body that is not payload_data)
  const a = await startMini(t, dir);
  t.match(a.out(), /events kept in .*\(0 restored/, 'the banner names the directory');
  const sent1 = await sendEvents(a, 'run1');
  t.same(sent1.statuses, [200, 200, 200, 200], 'the collector accepted the four requests');
  const w1 = await get<{ ok: boolean; total: number }>(a, `/micro/wait?count=4&event_id=${[...sent1.good, ...sent1.bad].join(',')}&timeout=60000`);
  t.equal(w1.ok, true, 'all four stored');
  const before = await answers(a, [...sent1.good, ...sent1.bad]);
  t.same(before.all, { total: 4, good: 2, bad: 2 });
  t.ok((before.good as Array<{ rawEvent: unknown }>).every((g) => g.rawEvent !== null), 'good events carry their raw events');

  // ---- a second mini on the same directory
  const second = spawnMini(dir, await freePort());
  t.equal(await second.exited, 1, 'a second mini on the directory exits 1');
  t.match(second.err(), /MINI_DATA_LOCKED: --data .* another furrow mini \(pid \d+\) is using it/);

  t.equal(await stop(a, 'SIGTERM'), 0, 'clean stop');

  // ---- second run: the same answers
  const b = await startMini(t, dir);
  t.match(b.out(), /\(4 restored/, 'the banner says what was restored');
  t.same(await answers(b, [...sent1.good, ...sent1.bad]), before, '/micro/all, good, bad, events/{id}, schemas and bad groups answer as before the restart');

  // ---- kill -9 after more events are stored: everything the API showed is back
  const sent2 = await sendEvents(b, 'run2');
  t.same(sent2.statuses, [200, 200, 200, 200]);
  const w2 = await get<{ ok: boolean }>(b, `/micro/wait?count=8&event_id=${[...sent2.good, ...sent2.bad].join(',')}&timeout=60000`);
  t.equal(w2.ok, true);
  const beforeKill = await answers(b, [...sent1.good, ...sent1.bad, ...sent2.good, ...sent2.bad]);
  t.same(beforeKill.all, { total: 8, good: 4, bad: 4 });
  await stop(b, 'SIGKILL');

  const c = await startMini(t, dir);
  t.same(await answers(c, [...sent1.good, ...sent1.bad, ...sent2.good, ...sent2.bad]), beforeKill, 'after kill -9 (stale lock taken over) every stored event is back');

  t.equal(await stop(c, 'SIGTERM'), 0);
});
