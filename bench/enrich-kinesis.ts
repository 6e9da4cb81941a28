/**
 * The Kinesis half of `npm run bench:enrich`: the same corpus through `furrow enrich --workers N` reading a raw
 * stream and writing the good stream, with kinesalite and dynalite (the lease table) in the bench process.
 *
 *   bench ──PutRecords──▶ raw (2 shards) ──▶ furrow enrich --workers N (leases in dynalite) ──▶ good (2 shards)
 *     ▲                                                                                        │
 *     └──────────────── GetRecords: ApproximateArrivalTimestamp, collector_tstamp column ──────┘
 *
 *   throughput  the raw stream pre-filled with BENCH_KINESIS_EVENTS records, then the workers start;
 *               events/s = good records / (last arrival − first arrival) on the good stream (start-up not counted)
 *   latency     then, workers running, records put at a steady BENCH_KINESIS_RATE events/s for
 *               BENCH_KINESIS_SECONDS, each with the collector timestamp of its put; latency = good-stream
 *               arrival − collector_tstamp, p50 / p99
 *
 * No enrichments (the enrichments' assets would be downloads), enricher defaults otherwise (polling, sink
 * batching: what a user gets). kinesalite shares the machine's cores with the workers, so these figures are the
 * whole local pipeline's, not the enricher's alone. Every wait has a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { decodeCollectorPayload, encodeCollectorPayload } from '../formats/collector-payload.js';
import { createStream, startLocalAws } from '../test/support/local-aws.js';

const ROOT = join(import.meta.dirname, '..');
const EVENTS = Number(process.env['BENCH_KINESIS_EVENTS'] ?? 10_000);
const RATE = Number(process.env['BENCH_KINESIS_RATE'] ?? 500);
const SECONDS = Number(process.env['BENCH_KINESIS_SECONDS'] ?? 10);
const SHARDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface KinesisResult {
  workers: number;
  events: number;
  rate: number;
  latencyEvents: number;
  p50: number;
  p99: number;
}

/** Reads a stream's new records since the last call, shard by shard (iterators kept between calls). */
class StreamReader {
  private iterators: Array<string | undefined> | null = null;
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly stream: string,
  ) {}

  async read(onRecord: (arrivalMs: number, data: Uint8Array) => void): Promise<number> {
    if (this.iterators === null) {
      const shards = (await this.kinesis.send(new ListShardsCommand({ StreamName: this.stream }))).Shards ?? [];
      this.iterators = await Promise.all(shards.map(async (s) =>
        (await this.kinesis.send(new GetShardIteratorCommand({ StreamName: this.stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator));
    }
    let n = 0;
    for (let i = 0; i < this.iterators.length; i++) {
      const it = this.iterators[i];
      if (it === undefined) continue;
      const r = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const rec of r.Records ?? []) {
        onRecord(rec.ApproximateArrivalTimestamp?.getTime() ?? Date.now(), rec.Data!);
        n++;
      }
      this.iterators[i] = r.NextShardIterator;
    }
    return n;
  }
}

async function put(kinesis: KinesisClient, stream: string, records: readonly Buffer[]): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let pending = records.slice(i, i + 500).map((r, j) => ({ Data: r, PartitionKey: `p${i + j}` }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing');
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
      pending = pending.filter((_, j) => out.Records?.[j]?.ErrorCode !== undefined);
    }
  }
}

/** `yyyy-MM-dd HH:mm:ss.SSS` (UTC) of the collector_tstamp column (4th) → epoch ms. */
function collectorMs(line: string): number {
  let start = 0;
  for (let k = 0; k < 3; k++) start = line.indexOf('\t', start) + 1;
  return Date.parse(line.slice(start, start + 23).replace(' ', 'T') + 'Z');
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** Runs the throughput and latency phases for each worker count; `corpus` holds the raw Thrift records. */
export async function benchKinesis(corpus: readonly Buffer[], workerCounts: readonly number[]): Promise<KinesisResult[]> {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-enrich-kinesis-'));
  const results: KinesisResult[] = [];
  let sup: ChildProcess | null = null;
  try {
    for (const workers of workerCounts) {
      const raw = `raw-${workers}`;
      const good = `good-${workers}`;
      const bad = `bad-${workers}`;
      await createStream(aws.kinesis, raw, SHARDS);
      await createStream(aws.kinesis, good, SHARDS);
      await createStream(aws.kinesis, bad, 1);
      const conf = join(dir, `enrich-${workers}.hocon`);
      writeFileSync(conf, `input { streamName = "${raw}", appName = "bench-enrich-${workers}", region = "us-east-1", customEndpoint = "${aws.kinesisEndpoint}",
          dynamodbCustomEndpoint = "${aws.dynamoEndpoint}", workerIdentifier = "bench", initialPosition { type = TRIM_HORIZON } }
        output {
          good { streamName = "${good}", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1" }
          bad { streamName = "${bad}", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1" }
        }\n`);
      const records = Array.from({ length: EVENTS }, (_, i) => corpus[i % corpus.length]!);
      await put(aws.kinesis, raw, records);

      sup = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', '--config', conf, '--offline', '--workers', String(workers), '--log-level', 'warn'], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench' },
      });
      const reader = new StreamReader(aws.kinesis, good);
      const badReader = new StreamReader(aws.kinesis, bad);
      let first = Infinity;
      let last = 0;
      let seen = 0;
      let badSeen = 0;
      const deadline = Date.now() + 600_000;
      while (seen + badSeen < EVENTS) {
        if (Date.now() > deadline) throw new Error(`workers=${workers}: only ${seen} good + ${badSeen} bad of ${EVENTS} events within 600 s`);
        if (sup.exitCode !== null) throw new Error(`workers=${workers}: furrow enrich exited with ${sup.exitCode}`);
        const n = await reader.read((at) => {
          first = Math.min(first, at);
          last = Math.max(last, at);
          seen++;
        });
        badSeen += await badReader.read(() => {});
        if (n === 0) await sleep(100);
      }
      if (badSeen > 0) throw new Error(`workers=${workers}: ${badSeen} bad rows (the corpus has none)`);
      const rate = (seen - 1) / ((last - first) / 1000);

      // Latency: a steady offered load, each record stamped when it is put.
      const latencies: number[] = [];
      const onGood = (at: number, data: Uint8Array): void => {
        latencies.push(at - collectorMs(Buffer.from(data).toString('utf8')));
      };
      const total = RATE * SECONDS;
      const tick = 100;
      const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
      const start = Date.now();
      let sent = 0;
      for (let t = 0; sent < total; t++) {
        const batch: Buffer[] = [];
        const now = Date.now();
        for (let k = 0; k < perTick && sent < total; k++, sent++) {
          const cp = decodeCollectorPayload(corpus[sent % corpus.length]!);
          cp.timestamp = now;
          batch.push(encodeCollectorPayload(cp));
        }
        await put(aws.kinesis, raw, batch);
        await reader.read(onGood);
        const wait = start + (t + 1) * tick - Date.now();
        if (wait > 0) await sleep(wait);
      }
      const latencyDeadline = Date.now() + 120_000;
      while (latencies.length < total && Date.now() < latencyDeadline) {
        if ((await reader.read(onGood)) === 0) await sleep(50);
      }
      latencies.sort((a, b) => a - b);
      results.push({ workers, events: seen, rate, latencyEvents: latencies.length, p50: percentile(latencies, 50), p99: percentile(latencies, 99) });
      sup.kill('SIGTERM');
      const exited = sup;
      await Promise.race([new Promise((r) => exited.once('exit', r)), sleep(30_000)]);
      if (exited.exitCode === null) exited.kill('SIGKILL');
      sup = null;
    }
  } finally {
    if (sup !== null && sup.exitCode === null) sup.kill('SIGKILL');
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

export function printKinesis(results: readonly KinesisResult[]): void {
  console.log(`\nKinesis path (kinesalite → furrow enrich --workers N → kinesalite, ${SHARDS} shards, no enrichments, kinesalite in the bench process):`);
  for (const r of results) {
    console.log(`  --workers ${r.workers}   ${Math.round(r.rate).toLocaleString('en-US').padStart(8)} events/s (${r.events} pre-filled events)   latency collector → good stream at ${RATE} events/s: p50 ${Math.round(r.p50)} ms, p99 ${Math.round(r.p99)} ms (${r.latencyEvents} events)`);
  }
}
