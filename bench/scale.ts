/**
 * npm run bench:scale — horizontal scale of the leased Kinesis source (kinesalite + dynalite in this process,
 * worker processes from test/scale/fixtures/lease-worker.ts, all on 127.0.0.1).
 *
 * 1. Throughput: a 4-shard stream pre-filled with records of 512 bytes, read from TRIM_HORIZON by 1, 2 and 4
 *    worker processes (each with its own lease coordinator and a fresh lease table, maxLeasesForWorker =
 *    ceil(4/N) so nobody steals at start-up), each record costing some µs of busy CPU (a stand-in for
 *    enrichment: 40 µs "light", where kinesalite is the bottleneck, and 400 µs "heavy", where the workers are). Every worker holds its first batch of each shard at a gate until all 4 shards are being read;
 *    records/s = records / (last batch done - gate opened), so process start-up is not counted.
 *    Floor, same run: one process reading the same 4 shards with a bare GetRecords loop (no leases, no
 *    checkpoints, same CPU cost). ratio = leased / floor.
 * 2. Failover: 2 workers, records flowing, kill -9 the one holding more leases; time until its leases have a
 *    new owner in the table and until the new owner wrote a batch of them, at lease 2 s and the 10 s default.
 *
 * Bounded: fixed record counts, every wait has a deadline. kinesalite itself shares the machine's cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { createDynamoDbLeaseTable } from '../streams/kinesis/dynamodb-lease-table.js';
import { createStream, putRecords, startLocalAws, type LocalAws } from '../test/support/local-aws.js';

const ROOT = join(import.meta.dirname, '..');
/** Two workloads: light enrichment (the Kinesis stand-in dominates) and heavy enrichment (the workers do). */
interface Workload {
  name: string;
  stream: string;
  records: number;
  cpuUs: number;
}
const WORKLOADS: Workload[] = [
  { name: 'light', stream: 'bench-light', records: 40_000, cpuUs: 40 },
  { name: 'heavy', stream: 'bench-heavy', records: 12_000, cpuUs: 400 },
];
const BATCH = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Line {
  ev: string;
  w: string;
  s: string;
  t0: number;
  t1: number;
  n: number;
}

function allLines(file: string): Line[] {
  if (!existsSync(file)) return [];
  const out: Line[] = [];
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    try {
      out.push(JSON.parse(l) as Line);
    } catch {
      // partial last line
    }
  }
  return out;
}

const lines = (file: string): Line[] => allLines(file).filter((l) => l.ev === 'write');

function startWorker(
  aws: LocalAws,
  stream: string,
  app: string,
  id: string,
  out: string,
  leaseDurationMs: number,
  gate?: { file: string; maxLeasesForWorker: number },
  cpuUs = 40,
): ChildProcess {
  const cfg = {
    kinesisEndpoint: aws.kinesisEndpoint,
    dynamoEndpoint: aws.dynamoEndpoint,
    stream,
    app,
    workerId: id,
    out,
    leaseDurationMs,
    processMs: 0,
    maxLeasesForWorker: gate?.maxLeasesForWorker,
    gateFile: gate?.file,
    maxInFlightBatches: 4,
    maxRecordsPerRead: BATCH,
    writeRecords: false,
    cpuMicrosPerRecord: cpuUs,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/scale/fixtures/lease-worker.ts', JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  // Worker warnings and errors are shown (the AWS SDK's Node-version notice is not).
  child.stderr!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (/"level":[4-6]\d|Error|failed/.test(line) && !/NodeVersionSupportWarning/.test(line)) process.stderr.write(`[${id}] ${line}\n`);
    }
  });
  return child;
}

async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          const k = setTimeout(() => c.kill('SIGKILL'), 15_000);
          c.once('exit', () => {
            clearTimeout(k);
            r();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
}

/** The floor: one process, a bare GetRecords loop over every shard, same per-record CPU cost. */
async function floor(aws: LocalAws, { stream, records, cpuUs }: Workload): Promise<number> {
  const shards = (await aws.kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards!;
  let count = 0;
  const t0 = performance.now();
  await Promise.all(
    shards.map(async (s) => {
      let it = (await aws.kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let i = 0; it && i < 1_000; i++) {
        const r = await aws.kinesis.send(new GetRecordsCommand({ ShardIterator: it, Limit: BATCH }));
        const recs = r.Records ?? [];
        if (recs.length === 0) break;
        const until = performance.now() + (recs.length * cpuUs) / 1000;
        while (performance.now() < until);
        count += recs.length;
        it = r.NextShardIterator;
      }
    }),
  );
  if (count !== records) throw new Error(`floor read ${count} of ${records}`);
  return (count * 1000) / (performance.now() - t0);
}

let runNo = 0;

async function throughput(aws: LocalAws, { stream, records, cpuUs }: Workload, workers: number, dir: string): Promise<number> {
  const run = ++runNo;
  const out = join(dir, `tp-${run}.jsonl`);
  const app = `bench-tp-${run}`;
  const gate = join(dir, `gate-${run}`);
  // Each worker takes its share (no start-up stealing), reads one batch per shard and waits at the gate, so the
  // clock starts with every worker up and every shard being read.
  const share = { file: gate, maxLeasesForWorker: Math.ceil(4 / workers) };
  const children = Array.from({ length: workers }, (_, i) => startWorker(aws, stream, app, `w${i}`, out, 10_000, share, cpuUs));
  for (const [i, c] of children.entries()) c.once('exit', (code, sig) => code !== 0 && sig !== 'SIGTERM' && console.error(`worker w${i} exited: code ${code}, signal ${sig}`));
  try {
    const waitUntil = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 180_000;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`${workers} workers: ${what} not reached in 180 s (worker exits: ${children.map((c) => `${c.exitCode}/${c.signalCode}`).join(', ')})`);
        await sleep(20);
      }
    };
    await waitUntil('all 4 shards at the gate', () => new Set(allLines(out).filter((l) => l.ev === 'waiting').map((l) => l.s)).size === 4);
    writeFileSync(gate, '');
    const opened = Date.now();
    await waitUntil(`all ${records} records`, () => lines(out).reduce((n, l) => n + l.n, 0) >= records);
    const last = Math.max(...lines(out).map((l) => l.t1));
    return (records * 1000) / (last - opened);
  } finally {
    await stopAll(children);
  }
}

async function failover(aws: LocalAws, leaseDurationMs: number, dir: string): Promise<{ leaseMs: number; readMs: number }> {
  const stream = `fo-${leaseDurationMs}`;
  const app = `bench-fo-${leaseDurationMs}`;
  const out = join(dir, `${stream}.jsonl`);
  await createStream(aws.kinesis, stream, 4);
  const table = createDynamoDbLeaseTable(aws.dynamodb, app);
  const children = new Map<string, ChildProcess>();
  for (const id of ['a', 'b']) children.set(id, startWorker(aws, stream, app, id, out, leaseDurationMs));
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing && i < 5_000; i++) {
      await putRecords(aws.kinesis, stream, Array.from({ length: 20 }, (_, j) => `${i}-${j}`));
      await sleep(50);
    }
  })();
  try {
    // Wait until both workers hold leases (2 and 2) and have written.
    const deadline = Date.now() + 120_000;
    let per = new Map<string, string[]>();
    for (;;) {
      if (Date.now() > deadline) throw new Error('workers never balanced');
      per = new Map();
      for (const l of await table.list().catch(() => [])) if (l.leaseOwner) per.set(l.leaseOwner, [...(per.get(l.leaseOwner) ?? []), l.leaseKey]);
      if (per.size === 2 && [...per.values()].every((v) => v.length === 2)) break;
      await sleep(100);
    }
    await sleep(leaseDurationMs / 2);
    const [victim, shards] = [...per.entries()][0]!;
    const killedAt = Date.now();
    children.get(victim)!.kill('SIGKILL');
    let leaseMs = -1;
    let readMs = -1;
    while (readMs < 0) {
      if (Date.now() - killedAt > 120_000) throw new Error('no takeover within 120 s');
      await sleep(20);
      if (leaseMs < 0) {
        const leases = (await table.list().catch(() => [])).filter((l) => shards.includes(l.leaseKey));
        if (leases.every((l) => l.leaseOwner && l.leaseOwner !== victim)) leaseMs = Date.now() - killedAt;
      }
      const after = lines(out).filter((l) => l.w !== victim && shards.includes(l.s) && l.t0 >= killedAt);
      if (leaseMs >= 0 && shards.every((s) => after.some((l) => l.s === s))) readMs = Math.max(...shards.map((s) => Math.min(...after.filter((l) => l.s === s).map((l) => l.t1)))) - killedAt;
    }
    return { leaseMs, readMs };
  } finally {
    producing = false;
    await producer;
    await stopAll([...children.values()]);
  }
}

async function main(): Promise<void> {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-scale-'));
  try {
    console.log(`bench:scale  ${availableParallelism()} cores; 4 shards; records of 512 B; GetRecords limit ${BATCH}`);
    const body = 'x'.repeat(504);
    for (const wl of WORKLOADS) {
      await createStream(aws.kinesis, wl.stream, 4);
      await putRecords(aws.kinesis, wl.stream, Array.from({ length: wl.records }, (_, i) => `${String(i).padStart(8, '0')}${body}`));
      console.log(`\n${wl.name}: ${wl.records} records, ${wl.cpuUs} µs CPU per record`);
      const base = await floor(aws, wl);
      console.log(`  floor (1 process, bare GetRecords loop, no leases): ${Math.round(base)} records/s`);
      let one = 0;
      for (const w of (process.env.BENCH_SCALE_WORKERS ?? '1,2,4').split(',').map(Number)) {
        const rate = await throughput(aws, wl, w, dir);
        if (one === 0) one = rate;
        console.log(`  leased, ${w} worker process${w > 1 ? 'es' : ' '}: ${String(Math.round(rate)).padStart(6)} records/s  (ratio to floor ${(rate / base).toFixed(2)}, to the first ${(rate / one).toFixed(2)})`);
      }
    }
    console.log('');
    for (const ld of [2_000, 10_000]) {
      const bound = ld + 2 * (Math.floor(ld / 3) - 25);
      const { leaseMs, readMs } = await failover(aws, ld, dir);
      console.log(`failover after kill -9, lease ${ld} ms: leases re-owned after ${leaseMs} ms, first batch written by the new owner after ${readMs} ms (bound lease + 2 taker periods = ${bound} ms)`);
    }
  } finally {
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
