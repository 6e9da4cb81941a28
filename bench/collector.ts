/**
 * `npm run bench:collector`: req/s of furrow's collector (stdout sink to /dev/null) against a bare node:http
 * server returning the same pixel / `ok`, in the same run, on loopback, with autocannon.
 *
 *   cases:   GET /i?<tracker query>            (pixel)
 *            POST /com.snowplowanalytics.snowplow/tp2 with a JSON batch
 *   servers: bare      node:http, precomputed responses with furrow's headers (cookie, CORS), body read and dropped
 *            furrow    `furrow collector` from dist/ (lean node:http tracking handler), stdout sink → /dev/null
 *            express   the same collector mounted as an express router (informational: why the lean path exists)
 *
 *            kinesis buffered / kinesis durable   the collector with the Kinesis sink (default buffer, 5 s
 *                      timeLimit) against a Kinesis stand-in process that accepts every PutRecords, in
 *                      `acknowledge = buffered` and `durable` mode: what waiting for the sink costs
 *            baseline  (BENCH_BASELINE=path/to/old/dist/bin/furrow.js) another build of the collector, stdout
 *                      sink, measured in the same rounds: before/after CPU per request of a change
 *
 * Each server runs in its own child process; autocannon runs here. Regression bar: furrow's CPU time per request
 * (from /proc) at a fixed offered load (BENCH_FIXED_RATE req/s, default 2,000, below what either server saturates
 * at; a round that could not serve 90 % of it is reported as saturated and does not count) is at most 1.6x bare node:http's, on both cases; kinesis durable / kinesis buffered ≥ 0.5 req/s. The req/s
 * ratio at saturation is printed for information only: on 2 shared cores node:http itself caps it near 0.68 (the
 * 0.7 req/s floor of issue 2 is retired, issue 18). BENCH_SECONDS (default 10): time per server and case, split
 * over BENCH_ROUNDS (default 5) interleaved rounds; BENCH_CONNECTIONS (default 50).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** furrow's CPU per request / bare's, at the fixed offered load: at most this. */
const CPU_BAR = 1.6;
const FIXED_RATE = Number(process.env.BENCH_FIXED_RATE ?? 2000);
const DURABLE_FLOOR = 0.5;
const BASELINE = process.env.BENCH_BASELINE ?? null;

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const QUERY =
  'e=pv&url=https%3A%2F%2Fshop.example%2Fproducts%2F42&page=Product%2042&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.24.0&tna=sp&aid=shop&p=web' +
  '&tz=Europe%2FBerlin&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=4f0c7a5e-1b2c-4d3e-8f90-a1b2c3d4e5f6&dtm=1700000000000&vp=1280x720&ds=1280x3000' +
  '&vid=3&sid=9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d&duid=0e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b&stm=1700000000005';
const TRACKER_HEADERS = {
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
  referer: 'https://shop.example/products/42',
  cookie: 'sp=0f6b3a4e-6a3b-4f43-9b5c-3a1f1b2c3d4e; _sp_id.1fff=abc.1700000000.3.1700000000.1699990000',
  'accept-language': 'en-GB,en;q=0.9',
};
const TP2_BODY = JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [1, 2, 3].map((i) => Object.fromEntries(new URLSearchParams(QUERY.replace('e=pv', `e=se&se_ca=shop&se_ac=click-${i}`)))),
});

// The floor answers with the same status, body and response headers as furrow (Set-Cookie, CORS, Cache-Control,
// Content-Type, Content-Length: ~400 bytes of headers, not ~200), all precomputed: an honest pixel server
// has to send them too, and node's header validation and the larger write cost it ~0.5-1 µs per request.
const BARE_SERVER = `
const http = require('node:http');
const PIXEL = Buffer.from('R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const OK = Buffer.from('ok');
const COOKIE = 'sp=0f6b3a4e-6a3b-4f43-9b5c-3a1f1b2c3d4e; Expires=Fri, 26 Nov 2027 11:24:07 GMT; Path=/; SameSite=None; Secure; HttpOnly';
const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, ['Set-Cookie', COOKIE, 'Access-Control-Allow-Origin', 'https://shop.example', 'Access-Control-Allow-Credentials', 'true', 'Content-Type', 'text/plain', 'Content-Length', '2']);
      res.end(OK);
    });
    return;
  }
  res.writeHead(200, ['Set-Cookie', COOKIE, 'Cache-Control', 'no-cache, no-store, must-revalidate', 'Access-Control-Allow-Origin', '*', 'Access-Control-Allow-Credentials', 'true', 'Content-Type', 'image/gif', 'Content-Length', '43']);
  res.end(PIXEL);
});
server.listen(0, '127.0.0.1', () => process.stderr.write(JSON.stringify({ msg: 'collector listening', port: server.address().port }) + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const EXPRESS_SERVER = (configPath: string): string => `
import express from 'express';
import { loadCollectorConfig } from './dist/collector/config.js';
import { createCollector } from './dist/collector/collector.js';
const config = await loadCollectorConfig(${JSON.stringify(configPath)});
const collector = createCollector(config);
const app = express();
app.disable('x-powered-by');
app.use(collector.router);
const server = app.listen(0, '127.0.0.1', () => process.stderr.write(JSON.stringify({ msg: 'collector listening', port: server.address().port }) + '\\n'));
process.on('SIGTERM', () => server.close(() => collector.close().then(() => process.exit(0))));
`;

// A Kinesis stand-in: DescribeStreamSummary says ACTIVE, every PutRecords entry is accepted. It parses the
// request (to count the records), so its cost grows with the number of records, not of calls.
const KINESIS_STAND_IN = `
const http = require('node:http');
const ACTIVE = JSON.stringify({ StreamDescriptionSummary: { StreamName: 's', StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', StreamStatus: 'ACTIVE', RetentionPeriodHours: 24, StreamCreationTimestamp: 0, EnhancedMonitoring: [], OpenShardCount: 1 } });
const server = http.createServer({ keepAliveTimeout: 60000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const target = String(req.headers['x-amz-target'] || '');
    let body = '{}';
    if (target.endsWith('DescribeStreamSummary')) body = ACTIVE;
    else if (target.endsWith('PutRecords')) {
      const n = JSON.parse(Buffer.concat(chunks).toString()).Records.length;
      const recs = new Array(n);
      for (let i = 0; i < n; i++) recs[i] = { SequenceNumber: String(i), ShardId: 'shardId-000000000000' };
      body = JSON.stringify({ FailedRecordCount: 0, Records: recs });
    }
    res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(JSON.stringify({ msg: 'collector listening', port: server.address().port }) + '\\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

interface Server {
  name: string;
  port: number;
  child: ChildProcess;
}

function startServer(name: string, args: string[], devNull: number, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', devNull, 'pipe'], cwd: process.cwd(), env: { ...process.env, ...env } });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"msg":"collector listening"[^\n]*"port":(\d+)|"port":(\d+)[^\n]*"msg":"collector listening"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ name, port: Number(m[1] ?? m[2]), child });
      }
    });
    child.on('exit', (code) => reject(new Error(`${name} exited (${code}): ${err}`)));
  });
}

/** CPU seconds (user + system) a process used so far, from /proc (Linux); null elsewhere. */
function cpuSeconds(pid: number | undefined): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return null;
  }
}

async function measure(port: number, kind: 'pixel' | 'tp2', seconds = SECONDS, pid?: number, rate?: number): Promise<{ rps: number; non2xx: number; errors: number; p99: number; cpuUsPerReq: number | null }> {
  const cpu0 = cpuSeconds(pid);
  const opts: autocannon.Options =
    kind === 'pixel'
      ? { url: `http://127.0.0.1:${port}/i?${QUERY}`, headers: TRACKER_HEADERS }
      : { url: `http://127.0.0.1:${port}/com.snowplowanalytics.snowplow/tp2`, method: 'POST', body: TP2_BODY, headers: { ...TRACKER_HEADERS, 'content-type': 'application/json; charset=UTF-8', origin: 'https://shop.example' } };
  const r = await autocannon({ ...opts, connections: CONNECTIONS, duration: seconds, ...(rate ? { overallRate: rate } : {}) });
  const cpu1 = cpuSeconds(pid);
  const cpuUsPerReq = cpu0 !== null && cpu1 !== null && r.requests.total > 0 ? ((cpu1 - cpu0) * 1e6) / r.requests.total : null;
  return { rps: r.requests.average, non2xx: r.non2xx, errors: r.errors, p99: r.latency.p99, cpuUsPerReq };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-collector-'));
  const config = join(dir, 'collector.hocon');
  writeFileSync(config, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, streams { good { name = good }, bad { name = bad } } }\n');
  const devNull = openSync('/dev/null', 'w');
  const servers: Server[] = [];
  const helpers: Server[] = [];
  try {
    servers.push(await startServer('bare node:http', ['-e', BARE_SERVER], devNull));
    // furrow as `npm start` runs it: compiled to dist/ (`npm run bench:collector` builds first). Under tsx the
    // collector measured ~1.2 µs more CPU per request.
    if (!existsSync('dist/bin/furrow.js')) throw new Error('dist/ is missing: run `npm run build` (npm run bench:collector does)');
    servers.push(await startServer('furrow collector', ['dist/bin/furrow.js', 'collector', '--config', config], devNull));
    if (BASELINE !== null) servers.push(await startServer('furrow baseline build', [BASELINE, 'collector', '--config', config], devNull));
    servers.push(await startServer('furrow via express router', ['--input-type=module', '-e', EXPRESS_SERVER(config)], devNull));
    const kinesis = await startServer('kinesis stand-in', ['-e', KINESIS_STAND_IN], devNull);
    helpers.push(kinesis);
    for (const ack of ['buffered', 'durable']) {
      const k = join(dir, `collector-kinesis-${ack}.hocon`);
      const stream = (name: string): string => `${name} { name = ${name}, region = us-east-1, customEndpoint = "http://127.0.0.1:${kinesis.port}" }`;
      writeFileSync(k, `collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, furrow.acknowledge = ${ack}, streams { ${stream('good')}, ${stream('bad')} } }\n`);
      servers.push(await startServer(`furrow kinesis ${ack}`, ['dist/bin/furrow.js', 'collector', '--config', k], devNull, { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' }));
    }
    console.log(`collector benchmark: ${SECONDS} s per server and case in ${ROUNDS} interleaved rounds, ${CONNECTIONS} connections, loopback, stdout sink → /dev/null\n`);
    // Servers are measured in alternation (bare, furrow, express, bare, ...) so that load from anything else
    // on the machine hits them alike; the ratio is the median of the per-round ratios.
    const slot = Math.max(1, Math.round(SECONDS / ROUNDS));
    for (const kind of ['pixel', 'tp2'] as const) {
      for (const s of servers) await measure(s.port, kind, 1); // warm-up (JIT)
      const rps = new Map<string, number[]>(servers.map((s) => [s.name, []]));
      const cpu = new Map<string, number[]>(servers.map((s) => [s.name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of servers) {
          const m = await measure(s.port, kind, slot, s.child.pid);
          rps.get(s.name)!.push(m.rps);
          if (m.cpuUsPerReq !== null) cpu.get(s.name)!.push(m.cpuUsPerReq);
          if (m.non2xx > 0 || m.errors > 0) {
            console.log(`${s.name}: non-2xx ${m.non2xx}, errors ${m.errors}`);
            process.exitCode = 1;
          }
        }
      }
      const label = kind === 'pixel' ? 'GET /i  ' : 'POST tp2';
      const bare = rps.get('bare node:http')!;
      const furrow = rps.get('furrow collector')!;
      const viaExpress = rps.get('furrow via express router')!;
      for (const [name, xs] of rps) {
        const c = cpu.get(name)!;
        const cpuText = c.length ? `   server CPU ${median(c).toFixed(1)} µs/req` : '';
        console.log(`${label}  ${name.padEnd(26)} ${mean(xs).toFixed(0).padStart(8)} req/s${cpuText}   (rounds: ${xs.map((x) => x.toFixed(0)).join(', ')})`);
      }
      const ratio = median(furrow.map((f, i) => f / bare[i]!));
      const bareCpu = cpu.get('bare node:http')!;
      const furrowCpu = cpu.get('furrow collector')!;
      const cpuRatio = bareCpu.length && furrowCpu.length ? `   CPU per request bare / furrow = ${(median(bareCpu) / median(furrowCpu)).toFixed(2)}` : '';
      console.log(`${label}  furrow / bare = ${ratio.toFixed(2)} req/s at saturation (median of rounds; information)   express router / bare = ${median(viaExpress.map((f, i) => f / bare[i]!)).toFixed(2)}${cpuRatio}`);
      const kb = rps.get('furrow kinesis buffered')!;
      const kd = rps.get('furrow kinesis durable')!;
      const durableRatio = median(kd.map((d, i) => d / kb[i]!));
      const durableOk = durableRatio >= DURABLE_FLOOR;
      if (!durableOk) process.exitCode = 1;
      console.log(`${label}  kinesis durable / kinesis buffered = ${durableRatio.toFixed(2)} req/s (median of rounds; floor ${DURABLE_FLOOR}) ${durableOk ? 'OK' : 'BELOW FLOOR'}`);
      if (BASELINE !== null) {
        const base = cpu.get('furrow baseline build')!;
        if (base.length && furrowCpu.length) console.log(`${label}  CPU per request furrow ${median(furrowCpu).toFixed(1)} µs vs baseline build ${median(base).toFixed(1)} µs (same rounds)`);
      }
      // The regression bar: CPU per request of bare and furrow at the same fixed offered load, below what either
      // saturates at: what each costs when neither is the bottleneck, which the machine's other load disturbs
      // far less than req/s at saturation. Interleaved rounds, median of each. Event-loop turns then carry a
      // request or two, so per-turn work (furrow's one stdout write per turn) weighs more than when saturated.
      const fixedCpu: number[][] = [[], []];
      const fixedRps: number[][] = [[], []];
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, s] of servers.slice(0, 2).entries()) {
          const m = await measure(s.port, kind, slot, s.child.pid, FIXED_RATE);
          if (m.cpuUsPerReq !== null) fixedCpu[i]!.push(m.cpuUsPerReq);
          fixedRps[i]!.push(m.rps);
        }
      }
      if (fixedCpu[0]!.length === 0 || fixedCpu[1]!.length === 0) {
        console.log(`${label}  at a fixed ${FIXED_RATE} req/s: no CPU figures (/proc unreadable)\n`);
      } else {
        const [b, f] = [median(fixedCpu[0]!), median(fixedCpu[1]!)];
        // Below the offered load the server was the bottleneck (the machine is busy): CPU per request then
        // measures contention, not the server, and the bar is not applied.
        const saturated = Math.min(median(fixedRps[0]!), median(fixedRps[1]!)) < 0.9 * FIXED_RATE;
        const cpuOk = f / b <= CPU_BAR;
        if (!cpuOk && !saturated) process.exitCode = 1;
        const verdict = saturated ? 'NOT MEASURED (a server could not keep up with the offered load; lower BENCH_FIXED_RATE)' : cpuOk ? 'OK' : 'ABOVE BAR';
        console.log(`${label}  at a fixed ${FIXED_RATE} req/s: bare ${b.toFixed(1)} µs/req (${median(fixedRps[0]!).toFixed(0)} req/s), furrow ${f.toFixed(1)} µs/req (${median(fixedRps[1]!).toFixed(0)} req/s)   furrow / bare CPU = ${(f / b).toFixed(2)} (bar ≤ ${CPU_BAR}) ${verdict}\n`);
      }
    }
  } finally {
    for (const s of [...servers, ...helpers]) s.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Compressed raw records (collector.compression, Snowplow 3.6): what reaches Kinesis per 1,000 events, with and
// without. The collector runs in this process with the Kinesis sink (default buffer: 500 records, 3 MiB, 5 s)
// on a counting stand-in client that accepts every PutRecords; requests go through its HTTP server.
// BENCH_ONLY=compression runs this part alone.

const COMPRESSION_EVENTS = Number(process.env.BENCH_COMPRESSION_EVENTS ?? 20_000);
/** With compression, records and bytes per 1,000 events must be at most these fractions of without. */
const COMPRESSION_RECORDS_FLOOR = 0.05;
const COMPRESSION_BYTES_FLOOR = 0.5;

interface KinesisCount { calls: number; records: number; bytes: number; units: number }

async function kinesisPerThousandEvents(compression: string): Promise<KinesisCount & { events: number }> {
  const { DescribeStreamSummaryCommand, PutRecordsCommand } = await import('@aws-sdk/client-kinesis');
  const { parseHocon } = await import('../config/hocon.js');
  const { parseCollectorConfig } = await import('../collector/config.js');
  const { createCollector } = await import('../collector/collector.js');
  const { startCollectorServer } = await import('../collector/server.js');
  const { request, Agent } = await import('node:http');
  const count: KinesisCount = { calls: 0, records: 0, bytes: 0, units: 0 };
  const client = {
    async send(cmd: unknown): Promise<unknown> {
      if (cmd instanceof DescribeStreamSummaryCommand) return { StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } };
      const entries = (cmd as InstanceType<typeof PutRecordsCommand>).input.Records ?? [];
      count.calls++;
      for (const e of entries) {
        const n = e.Data!.length + Buffer.byteLength(e.PartitionKey!);
        count.records++;
        count.bytes += n;
        count.units += Math.ceil(n / 25_600); // provisioned-mode PUT payload units (25 KB each)
      }
      return { FailedRecordCount: 0, Records: entries.map(() => ({ SequenceNumber: '1', ShardId: 'shardId-000000000000' })) };
    },
  };
  const stream = (name: string): string => `${name} { name = ${name}, region = us-east-1, customEndpoint = "http://127.0.0.1:9" }`;
  const config = parseCollectorConfig(await parseHocon(`collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, ${compression}
    streams { ${stream('good')}, ${stream('bad')} } }`, 'bench', {}));
  const collector = createCollector(config, { defaultMetrics: false, kinesisClient: client });
  const running = await startCollectorServer(collector);
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const { randomUUID } = await import('node:crypto');
  const RES = ['1920x1080', '1366x768', '390x844', '1536x864', '414x896', '2560x1440'];
  const users = Array.from({ length: 500 }, (_, u) => ({
    sid: randomUUID(), duid: randomUUID(), nuid: randomUUID(), res: RES[u % RES.length]!,
    ua: `${TRACKER_HEADERS['user-agent'].replace('Chrome/120.0', `Chrome/${110 + (u % 15)}.0.${u * 7}.${u % 100}`)}`,
    ip: `203.0.${u % 256}.${(u * 13) % 256}`,
  }));
  const send = (i: number): Promise<void> => new Promise((resolve, reject) => {
    // Each event differs where real ones do: a random event id, timestamps, the page; user ids, cookie and
    // screen come from a pool of 500 users (a random seed per run; ratios vary a little between runs).
    const eid = randomUUID();
    const user = users[i % users.length]!;
    const q = QUERY.replace(/eid=[^&]+/, `eid=${eid}`).replace(/dtm=\d+/, `dtm=${1700000000000 + i * 37}`).replace(/stm=\d+/, `stm=${1700000000000 + i * 37 + 5}`)
      .replace(/sid=[^&]+/, `sid=${user.sid}`).replace(/duid=[^&]+/, `duid=${user.duid}`).replace(/res=[^&]+/, `res=${user.res}`)
      .replace(/products%2F42/, `products%2F${Math.floor(Math.random() * 100_000)}`).replace(/vid=\d+/, `vid=${1 + (i % 9)}`);
    const tp2 = i % 4 === 3;
    const body = tp2 ? TP2_BODY.replaceAll('4f0c7a5e-1b2c-4d3e-8f90-a1b2c3d4e5f6', eid) : null;
    const headers: Record<string, string> = { host: 'collector.example', ...TRACKER_HEADERS, cookie: `sp=${user.nuid}`, 'user-agent': user.ua, 'x-forwarded-for': user.ip };
    if (body !== null) headers['content-type'] = 'application/json';
    const req = request({ host: '127.0.0.1', port: running.port, agent, method: tp2 ? 'POST' : 'GET', path: tp2 ? '/com.snowplowanalytics.snowplow/tp2' : `/i?${q}`, headers }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
  // 3 in 4 requests are GET /i (one event), 1 in 4 a tp2 POST of 3 events.
  let events = 0;
  let i = 0;
  while (events < COMPRESSION_EVENTS) {
    const batch: Promise<void>[] = [];
    for (let j = 0; j < 50 && events < COMPRESSION_EVENTS; j++, i++) {
      events += i % 4 === 3 ? 3 : 1;
      batch.push(send(i));
    }
    await Promise.all(batch);
  }
  await collector.good.flush();
  await running.shutdown(0);
  agent.destroy();
  const k = events / 1000;
  return { events, calls: count.calls / k, records: count.records / k, bytes: count.bytes / k, units: count.units / k };
}

async function compressionRows(): Promise<void> {
  console.log(`compressed raw records: ${COMPRESSION_EVENTS} events (3/4 GET /i, 1/4 tp2 POST of 3), Kinesis sink, default buffer; per 1,000 events\n`);
  const off = await kinesisPerThousandEvents('');
  const gz = await kinesisPerThousandEvents('compression { enabled = true, type = gzip }');
  const row = (name: string, c: KinesisCount): string =>
    `${name.padEnd(28)} ${c.records.toFixed(2).padStart(9)} records ${(c.bytes / 1000).toFixed(1).padStart(9)} kB ${c.calls.toFixed(2).padStart(7)} PutRecords calls ${c.units.toFixed(1).padStart(8)} PUT payload units`;
  console.log(row('without compression', off));
  console.log(row('compression gzip (level 6)', gz));
  const rr = gz.records / off.records;
  const br = gz.bytes / off.bytes;
  const ok = rr <= COMPRESSION_RECORDS_FLOOR && br <= COMPRESSION_BYTES_FLOOR;
  if (!ok) process.exitCode = 1;
  console.log(`with / without: records ${rr.toFixed(4)} (floor ≤ ${COMPRESSION_RECORDS_FLOOR}), bytes ${br.toFixed(3)} (floor ≤ ${COMPRESSION_BYTES_FLOOR}) ${ok ? 'OK' : 'BELOW FLOOR'}\n`);
}

(process.env.BENCH_ONLY === 'compression' ? compressionRows() : main().then(compressionRows)).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
