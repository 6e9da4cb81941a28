/**
 * `npm run bench:forward`: events/s that `furrow forward` delivers to a local HTTP destination, on loopback.
 *
 *   raw        floor reference: the least work the pipeline implies, in a straight line — parse each line, write
 *              its JSON view, POST batches with node:http keep-alive at the same concurrency (no queues,
 *              acknowledgements, retries or dead letter)
 *   forward    the forwarder: enriched TSV → parse → JSON view → HTTP target, batches of BATCH events (the same
 *              bytes on the wire as raw: the whole JSON view, ~1.5 kB an event)
 *   mapped     the same with a mapping transformation (replace, 6 fields incl. a context path; smaller bodies)
 *   js         the same with a JS transformation (3 fields; in the script process, one message per input batch)
 *   down-pause two destinations, the first down (connection refused, 3 attempts 10-40 ms, dead-lettered to a
 *              file), the second healthy: events/s delivered to the healthy one. when_full = pause (default): once
 *              the down queue is full, reading goes at the pace the down destination dead-letters
 *   down-shed  the same with when_full = dead_letter on the down destination (queue 2 000): it never holds the
 *              reader; what does not fit is dead-lettered at once (replayable)
 *
 * The sink runs in a child process (reads and drops the body, answers 200; the forwarder counts deliveries). Every case is warmed up once, then run ROUNDS times,
 * interleaved and in a rotating order; the median is reported. Floors (same run): forward / raw ≥ 0.5 (the delivery engine costs at most half);
 * down-shed / forward ≥ 0.35: every event of the refused destination is still written to the dead letter (a JSON
 * line each, fdatasync'd) by the same process, which is about as much work as delivering it — so ~0.5 is the
 * natural figure on a CPU-bound host, and the floor catches the healthy destination waiting on the failing one.
 * Each case also prints the median CPU µs per event of this process (user + system; the sink is a child process).
 * BENCH_EVENTS (default 50 000) events per case and round; BENCH_ROUNDS (default 3); BENCH_BATCH (default 200).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { silentLogger } from '../common/logger.js';
import { parseForwardConfig } from '../forwarders/config.js';
import { buildForwarder } from '../forwarders/build.js';
import { ForwardEvent } from '../forwarders/forward-event.js';
import { MemorySource } from '../test/forwarders/helpers.js';
import { generateLines } from '../test/forwarders/tsv-generator.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 50_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);
const CONCURRENCY = 4;
const FLOOR_RAW = 0.5;
const FLOOR_DOWN = 0.35;

const SINK = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 }); res.end('{}'); });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

function startSink(): Promise<{ url: string; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout!.once('data', (d: Buffer) => resolve({ url: `http://127.0.0.1:${d.toString().trim()}`, child }));
  });
}

/** A port nothing listens on (connection refused): the "down" destination. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function raw(url: string, lines: readonly string[]): Promise<number> {
  // The floor: the least work this pipeline implies, done in a straight line — parse each line, write its JSON view,
  // join BATCH of them, POST with node:http keep-alive, CONCURRENCY at a time. No queues, acknowledgements,
  // retries or dead letter: forward / raw is the cost of the delivery engine.
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post = (body: string) =>
    new Promise<void>((resolve, reject) => {
      const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < lines.length) {
        const from = next;
        next += BATCH;
        let body = '[';
        for (let i = from; i < Math.min(from + BATCH, lines.length); i++) body += (i === from ? '' : ',') + (ForwardEvent.parse(lines[i]!) as ForwardEvent).jsonText();
        await post(body + ']');
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  agent.destroy();
  return lines.length / s;
}

async function forward(destinations: unknown[], lines: readonly string[], dir: string, healthy: string): Promise<number> {
  const dlq = join(dir, `dlq-${Math.random()}.jsonl`);
  const cfg = await parseForwardConfig({ dead_letter: { type: 'file', path: dlq }, destinations }, {});
  const built = await buildForwarder(cfg, { log: silentLogger });
  const source = new MemorySource(lines, 1000);
  const t0 = performance.now();
  const summary = await built.forwarder.run(source);
  const s = (performance.now() - t0) / 1000;
  await built.close();
  const d = summary.destinations[healthy]!;
  if (d.delivered !== lines.length) {
    throw new Error(`${healthy}: delivered ${d.delivered} of ${lines.length}: ${JSON.stringify(summary)}\n${readFileSync(dlq, 'utf8').slice(0, 2000)}`);
  }
  return lines.length / s;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-forward-'));
  const sink = await startSink();
  const down = `http://127.0.0.1:${await deadPort()}`;
  const lines = generateLines(EVENTS);
  const http = (name: string, url: string, extra: Record<string, unknown> = {}) => ({
    name,
    target: { type: 'http', url },
    batch: { max_events: BATCH, flush_interval: '50 millis' },
    concurrency: CONCURRENCY,
    queue: { max_events: 20_000 },
    ...extra,
  });
  const cases: Record<string, () => Promise<number>> = {
    raw: () => raw(sink.url, lines),
    forward: () => forward([http('sink', sink.url)], lines, dir, 'sink'),
    mapped: () =>
      forward(
        [
          http('sink', sink.url, {
            transform: {
              type: 'mapping',
              mode: 'replace',
              fields: { id: 'event_id', name: 'event_name', user: 'user_id', app: 'app_id', t: 'derived_tstamp', plan: 'contexts_com_acme_user_1.plan' },
            },
          }),
        ],
        lines,
        dir,
        'sink',
      ),
    js: () =>
      forward(
        [http('sink', sink.url, { transform: { type: 'js', timeout: '100 millis', script: 'function transform(e, p) { return { id: e.event_id, name: e.event_name, app: e.app_id }; }' } })],
        lines,
        dir,
        'sink',
      ),
    'down-pause': () =>
      forward(
        [
          http('down', down, { retry: { max_attempts: 3, initial_delay: '10 millis', max_delay: '40 millis' }, request_timeout: '2 seconds' }),
          http('sink', sink.url),
        ],
        lines,
        dir,
        'sink',
      ),
    'down-shed': () =>
      forward(
        [
          http('down', down, {
            retry: { max_attempts: 3, initial_delay: '10 millis', max_delay: '40 millis' },
            request_timeout: '2 seconds',
            queue: { max_events: 2000, when_full: 'dead_letter' },
          }),
          http('sink', sink.url),
        ],
        lines,
        dir,
        'sink',
      ),
  };
  const results: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  // CPU µs per event of this process (the forwarder, or the floor's straight line; the sink is a child process,
  // the js case's script process is not counted).
  const cpuUs: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  try {
    for (const run of Object.values(cases)) await run(); // warm-up (JIT, sockets), not counted
    const names = Object.keys(cases);
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order each round so no case always follows the same one (GC debt, a busy neighbour).
      for (let k = 0; k < names.length; k++) {
        const name = names[(k + r) % names.length]!;
        const c = process.cpuUsage();
        results[name]!.push(await cases[name]!());
        const u = process.cpuUsage(c);
        cpuUs[name]!.push((u.user + u.system) / EVENTS);
      }
    }
  } finally {
    sink.child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')} events/s`;
  console.log(`furrow forward benchmark: ${EVENTS.toLocaleString('en-US')} events per case, batches of ${BATCH}, concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds (loopback)`);
  for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(10)} ${fmt(v).padStart(20)}   ${median(cpuUs[k]!).toFixed(1).padStart(6)} CPU µs/event${k === 'js' ? ' (without the script process)' : ''}`);
  const r1 = m.forward! / m.raw!;
  const r2 = m['down-shed']! / m.forward!;
  const r3 = m['down-pause']! / m.forward!;
  console.log(`  forward / raw          = ${r1.toFixed(2)}  (floor ${FLOOR_RAW})`);
  console.log(`  down-shed / forward    = ${r2.toFixed(2)}  (floor ${FLOOR_DOWN}; healthy destination while the other is refused, its overflow dead-lettered at once)`);
  console.log(`  down-pause / forward   = ${r3.toFixed(2)}  (no floor; the default when_full = pause bounds reading by the down destination's dead-letter rate)`);
  if (r1 < FLOOR_RAW || r2 < FLOOR_DOWN) {
    console.log('BELOW FLOOR');
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
