/**
 * `npm run bench:collector-attack [-- scenario ...]`: hostile traffic against a collector in a child process on
 * loopback, printing peak RSS (VmHWM from /proc), time to answer and what the attacker / a normal client got.
 * Figures, not a pass/fail floor: the regression tests (test/collector/hostile-memory.test.ts,
 * connections.test.ts, durable-sink.test.ts) assert the bounds; this prints the numbers for the docs.
 *
 *   br       200 concurrent POSTs of a 53-byte brotli body (quality 11, lgwin 24, 64 MiB of zeros)
 *   gzip     1,000 concurrent POSTs of an 8 KB gzip body (8 MiB of zeros)
 *   plain    1,000 connections each sending 2 MB - 1 of a 2 MB body and never finishing it
 *   idle     1,024 connections each sending one GET /i and then idling (keep-alive); then a normal client
 *   drip     1,024 connections dripping a header byte a second; then a normal client
 *   silent   1,024 connections that send nothing; then a normal client
 *   durable-hung / durable-500   durable mode on a Kinesis endpoint whose PutRecords hangs / answers 500
 *
 * FURROW_BIN (default dist/bin/furrow.js; `npm run bench:collector-attack` builds first) picks the build, so
 * an old build can be measured beside a new one; ATTACK_N changes the number of gzip bombs. Linux only (/proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';

const BIN = process.env.FURROW_BIN ?? 'dist/bin/furrow.js';
const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const dir = mkdtempSync(join(tmpdir(), 'furrow-attack-'));

interface Child {
  child: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

async function startCollector(hocon: string): Promise<Child> {
  const cfg = join(dir, `c${Date.now()}.hocon`);
  writeFileSync(cfg, hocon);
  const child = spawn(process.execPath, [BIN, 'collector', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"port":(\d+)[^\n]*"msg":"collector listening"|"msg":"collector listening"[^\n]*"port":(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1] ?? m[2]));
      }
    });
    child.on('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  return {
    child, port,
    stop: () => new Promise<void>((r) => {
      child.removeAllListeners('exit');
      child.once('exit', () => r());
      child.kill('SIGKILL');
    }),
  };
}

function memMb(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: Math.round(kb('VmRSS') / 1024), hwm: Math.round(kb('VmHWM') / 1024) };
}

function config(extra = ''): string {
  return `collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, streams { good { name = good }, bad { name = bad } } }\n${extra}\n`;
}

interface Answer {
  status: number | null;
  ms: number;
  retryAfter: string | null;
}

/** One raw request on its own socket; resolves with the status line (or null: reset/closed without one). */
function rawRequest(port: number, head: string, body: Buffer | null, timeoutMs: number): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    let done = false;
    const finish = (status: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const ra = /\r\nretry-after: *(\d+)/i.exec(got);
      resolve({ status, ms: Math.round(performance.now() - t0), retryAfter: ra ? ra[1]! : null });
      s.destroy();
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) finish(Number(m[1]));
    });
    s.on('error', () => finish(null));
    s.on('close', () => finish(/^HTTP\/1\.1 (\d{3})/.exec(got) ? Number(/^HTTP\/1\.1 (\d{3})/.exec(got)![1]) : null));
    s.write(head);
    if (body) s.write(body);
  });
}

function histogram(xs: Array<number | null>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) h[String(x ?? 'reset')] = (h[String(x ?? 'reset')] ?? 0) + 1;
  return h;
}

async function bomb(name: string, body: Buffer, encoding: string, n: number): Promise<void> {
  const c = await startCollector(config());
  try {
    await sleep(500);
    const before = memMb(c.child.pid!);
    const head = `POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
    const answers = await Promise.all(Array.from({ length: n }, () => rawRequest(c.port, head, body, 120_000)));
    const after = memMb(c.child.pid!);
    await sleep(2000);
    const settled = memMb(c.child.pid!);
    const probe = await rawRequest(c.port, `GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, null, 10_000);
    console.log(JSON.stringify({
      scenario: name, requests: n, bodyBytes: body.length, rssBeforeMb: before.rss, peakRssMb: after.hwm, rssAfter2sMb: settled.rss,
      statuses: histogram(answers.map((a) => a.status)), lastAnswerMs: Math.max(...answers.map((a) => a.ms)),
      retryAfter: answers.find((a) => a.retryAfter !== null)?.retryAfter ?? null, healthAfter: probe.status,
    }));
  } finally {
    await c.stop();
  }
}

/** `n` connections each send `bytes` of a body of Content-Length `declared` and then hold. */
async function unfinishedBodies(n: number, declared: number, bytes: number): Promise<void> {
  const c = await startCollector(config());
  const sockets: Socket[] = [];
  try {
    await sleep(500);
    const before = memMb(c.child.pid!);
    const t0 = performance.now();
    const statuses: Array<number | null> = [];
    const answeredMs: number[] = [];
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve) => {
      const s = connect(c.port, '127.0.0.1');
      sockets.push(s);
      let got = '';
      let settled = false;
      const settle = (): void => {
        if (!settled) {
          settled = true;
          resolve();
        }
      };
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
        if (m && statuses.length < n) {
          statuses.push(Number(m[1]));
          answeredMs.push(performance.now() - t0);
          settle();
        }
      });
      s.on('error', settle);
      s.on('close', settle);
      s.write(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes) {
          const k = Math.min(chunk.length, bytes - sent);
          sent += k;
          if (!s.write(k === chunk.length ? chunk : chunk.subarray(0, k))) {
            s.once('drain', pump);
            return;
          }
        }
        settle();
      };
      pump();
    })));
    const sentMs = Math.round(performance.now() - t0);
    await sleep(1000);
    const held = memMb(c.child.pid!);
    const probe = await rawRequest(c.port, `POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, null, 10_000);
    console.log(JSON.stringify({
      scenario: 'plain', connections: n, bytesEach: bytes, rssBeforeMb: before.rss, peakRssMb: held.hwm, rssWhileHeldMb: held.rss, allSentMs: sentMs,
      answered: histogram(statuses), lastAnswerMs: answeredMs.length ? Math.round(Math.max(...answeredMs)) : null,
      normalClient: probe,
    }));
  } finally {
    for (const s of sockets) s.destroy();
    await c.stop();
  }
}

/** `n` attacker connections in `mode`, then 20 normal clients; how long the attacker's sockets stay open. */
async function holdConnections(mode: 'idle' | 'drip' | 'silent', n: number, watchMs: number): Promise<void> {
  const c = await startCollector(config());
  const sockets: Socket[] = [];
  let closed = 0;
  const closedAt: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await sleep(500);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => {
      const s = connect(c.port, '127.0.0.1');
      sockets.push(s);
      s.on('error', () => undefined);
      // Read whatever comes (a paused socket would never see the server's FIN, so never 'close').
      s.on('data', () => undefined);
      s.on('close', () => {
        closed++;
        closedAt.push(performance.now() - t0);
        resolve();
      });
      s.on('connect', () => {
        if (mode === 'idle') {
          s.once('data', () => resolve());
          s.write('GET /i?e=pv HTTP/1.1\r\nHost: x\r\n\r\n');
        } else if (mode === 'silent') {
          resolve();
        } else {
          s.write('GET /i?e=pv HTTP/1.1\r\nHost: x\r\n');
          let k = 0;
          const t = setInterval(() => {
            if (!s.destroyed) s.write(k++ % 2 === 0 ? 'X' : 'Y');
          }, 1000);
          timers.push(t);
          resolve();
        }
      });
      void i;
    })));
    const open0 = n - closed;
    const normal = await Promise.all(Array.from({ length: 20 }, () => rawRequest(c.port, 'GET /i?e=pv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', null, 5000)));
    const deadline = performance.now() + watchMs;
    while (performance.now() < deadline && closed < n) await sleep(100);
    const sorted = [...closedAt].sort((a, b) => a - b);
    console.log(JSON.stringify({
      scenario: mode, attackerConnections: n, openAfterConnect: open0, normalClients: histogram(normal.map((a) => a.status)),
      normalMaxMs: Math.max(...normal.map((a) => a.ms)), attackerClosed: closed, watchedMs: watchMs,
      attackerAllClosedMs: closed === n ? Math.round(sorted.at(-1)!) : null,
    }));
  } finally {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await c.stop();
  }
}

/** A Kinesis stand-in: DescribeStreamSummary says ACTIVE; PutRecords obeys `mode`. */
function fakeKinesis(): { server: Server; mode: { put: 'ok' | 'hang' | '500' }; ready: Promise<string> } {
  const mode = { put: 'ok' as 'ok' | 'hang' | '500' };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target.endsWith('DescribeStreamSummary')) {
        json(200, { StreamDescriptionSummary: { StreamName: 'x', StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/x', StreamStatus: 'ACTIVE', RetentionPeriodHours: 24, StreamCreationTimestamp: 0, EnhancedMonitoring: [], OpenShardCount: 1 } });
      } else if (target.endsWith('PutRecords')) {
        if (mode.put === 'hang') return;
        if (mode.put === '500') return json(500, { __type: 'InternalFailure', message: 'injected' });
        const n = (JSON.parse(Buffer.concat(chunks).toString()) as { Records: unknown[] }).Records.length;
        json(200, { FailedRecordCount: 0, Records: Array.from({ length: n }, (_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-000000000000' })) });
      } else json(400, { __type: 'UnknownOperationException' });
    });
  });
  const ready = new Promise<string>((r) => server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { server, mode, ready };
}

async function metric(port: number, re: RegExp): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return re.exec(await res.text())?.[1] ?? null;
}

async function durable(fault: 'hang' | '500'): Promise<void> {
  const k = fakeKinesis();
  const endpoint = await k.ready;
  const stream = (name: string): string => `${name} { name = ${name}, region = us-east-1, customEndpoint = "${endpoint}" }`;
  const c = await startCollector(`collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, furrow.acknowledge = durable, streams { ${stream('good')}, ${stream('bad')} } }\n`);
  try {
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`http://127.0.0.1:${c.port}/sink-health`)).status === 200) break;
      await sleep(100);
    }
    const ok = await rawRequest(c.port, 'GET /i?e=pv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', null, 60_000);
    k.mode.put = fault;
    const t0 = performance.now();
    const first = Promise.all(Array.from({ length: 20 }, () => rawRequest(c.port, 'GET /i?e=pv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', null, 60_000)));
    let unhealthyMs: number | null = null;
    while (performance.now() - t0 < 120_000) {
      if ((await metric(c.port, /furrow_collector_sink_healthy\{stream="good"\} (\d)/)) === '0') {
        unhealthyMs = Math.round(performance.now() - t0);
        break;
      }
      await sleep(200);
    }
    const a = await first;
    const later = await Promise.all(Array.from({ length: 20 }, () => rawRequest(c.port, 'GET /i?e=pv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', null, 60_000)));
    console.log(JSON.stringify({
      scenario: `durable-${fault === 'hang' ? 'hung' : fault}`, healthyRequest: ok.status, during: { statuses: histogram(a.map((x) => x.status)), maxMs: Math.max(...a.map((x) => x.ms)), retryAfter: a[0]!.retryAfter },
      sinkHealthyZeroAfterMs: unhealthyMs, afterUnhealthy: { statuses: histogram(later.map((x) => x.status)), maxMs: Math.max(...later.map((x) => x.ms)), retryAfter: later[0]!.retryAfter },
    }));
  } finally {
    await c.stop();
    k.server.closeAllConnections();
    k.server.close();
  }
}

const BROTLI_BOMB = (): Buffer => brotliCompressSync(Buffer.alloc(64 * 1024 * 1024), {
  params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_LGWIN]: 24, [zc.BROTLI_PARAM_SIZE_HINT]: 64 * 1024 * 1024 },
});

const SCENARIOS: Record<string, () => Promise<void>> = {
  br: () => bomb('br', BROTLI_BOMB(), 'br', 200),
  gzip: () => bomb('gzip', gzipSync(Buffer.alloc(8 * 1024 * 1024), { level: 9 }), 'gzip', Number(process.env.ATTACK_N ?? 1000)),
  plain: () => unfinishedBodies(1000, 2_097_152, 2_097_151),
  idle: () => holdConnections('idle', 1024, 20_000),
  drip: () => holdConnections('drip', 1024, 60_000),
  silent: () => holdConnections('silent', 1024, 60_000),
  'durable-hung': () => durable('hang'),
  'durable-500': () => durable('500'),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length ? wanted : Object.keys(SCENARIOS);
  for (const n of names) {
    const run = SCENARIOS[n];
    if (!run) throw new Error(`unknown scenario ${n} (${Object.keys(SCENARIOS).join(', ')})`);
    await run();
  }
}

main().then(
  () => rmSync(dir, { recursive: true, force: true }),
  (e: unknown) => {
    console.error(e);
    rmSync(dir, { recursive: true, force: true });
    process.exitCode = 1;
  },
);
