/**
 * The leased Kinesis source in one process, against kinesalite and dynalite on 127.0.0.1.
 */
import t from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../common/logger.js';
import type { Batch } from '../../../streams/source.js';
import { createKinesisSource, type KinesisRecordBatch, type KinesisSourceOptions } from '../../../streams/kinesis/kinesis-source.js';
import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { createStream, putRecords, startLocalAws, waitActive } from '../../support/local-aws.js';

const aws = await startLocalAws();
t.teardown(() => aws.close());

let n = 0;
const fresh = () => `s${++n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function source(stream: string, app: string | null, extra: Partial<KinesisSourceOptions> = {}) {
  return createKinesisSource({
    kinesis: aws.kinesis,
    dynamodb: app === null ? null : aws.dynamodb,
    streamName: stream,
    appName: app ?? undefined,
    leaseDurationMs: 1_500,
    idleTimeBetweenReadsMs: 30,
    minReadIntervalMs: 0,
    shardSyncIntervalMs: 500,
    parentPollIntervalMs: 100,
    progressLogIntervalMs: 0,
    logger: silentLogger,
    registry: null,
    ...extra,
  });
}

/** Runs a source until `done()` says so (or a bounded timeout), returning what run() settled with. */
async function runUntil(src: ReturnType<typeof source>, onBatch: (b: Batch) => Promise<void>, done: () => boolean, timeoutMs = 20_000) {
  const ac = new AbortController();
  const p = src.run(async (b) => {
    await onBatch(b);
    if (done()) ac.abort();
  }, ac.signal);
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    await p;
  } finally {
    clearTimeout(timer);
  }
}

const payloads = (count: number, tag = 'r') => Array.from({ length: count }, (_, i) => `${tag}${i}`);

t.test('no-lease mode: one process reads every shard, commit is accepted, nothing in DynamoDB', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 3);
  const input = payloads(900);
  await putRecords(aws.kinesis, stream, input);
  const src = source(stream, null);
  const seen = new Set<string>();
  const origins = new Set<string>();
  await runUntil(
    src,
    async (b) => {
      for (const r of b.records) seen.add(r.toString());
      origins.add(b.origin);
      await b.commit();
    },
    () => seen.size === input.length,
  );
  t.equal(seen.size, input.length, 'every record delivered');
  t.equal(origins.size, 3, 'from all 3 shards');
  t.equal(src.table.name, 'no-lease');
});

t.test('resume from checkpoint: committed batches are not re-delivered, the uncommitted one is', async (t) => {
  const stream = fresh();
  const app = `app-${stream}`;
  await createStream(aws.kinesis, stream, 1);
  const input = payloads(500);
  await putRecords(aws.kinesis, stream, input);

  const first: string[] = [];
  let uncommitted: string[] = [];
  let batches = 0;
  await runUntil(
    source(stream, app, { maxRecordsPerRead: 100 }),
    async (b) => {
      batches++;
      const recs = b.records.map((r) => r.toString());
      if (batches <= 2) {
        first.push(...recs);
        await b.commit();
      } else uncommitted = recs; // processed, never acknowledged
    },
    () => batches === 3,
  );
  t.equal(first.length, 200);
  t.equal(uncommitted.length, 100);

  const second: string[] = [];
  await runUntil(
    source(stream, app, { maxRecordsPerRead: 100 }),
    async (b) => {
      second.push(...b.records.map((r) => r.toString()));
      await b.commit();
    },
    () => second.length >= 300,
  );
  t.same(second.slice(0, 100), uncommitted, 'the unacknowledged batch comes again first (the duplicate window)');
  t.notOk(second.some((r) => first.includes(r)), 'nothing committed is delivered again');
  t.same([...first, ...second].sort(), [...input].sort(), 'together: every record, in order, once plus the window');
});

t.test('a processor that throws stops the source: run() rejects, leases released, no checkpoint past the failure', async (t) => {
  const stream = fresh();
  const app = `app-${stream}`;
  await createStream(aws.kinesis, stream, 1);
  await putRecords(aws.kinesis, stream, payloads(50));
  const src = source(stream, app);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 10_000);
  await t.rejects(
    src.run(async () => {
      throw new Error('sink exploded');
    }, ac.signal),
    /sink exploded/,
  );
  clearTimeout(timer);
  const leases = await src.table.list();
  t.equal(leases.length, 1);
  t.equal(leases[0]!.leaseOwner, null, 'released');
  t.equal(leases[0]!.checkpoint, 'TRIM_HORIZON', 'not advanced');
});

t.test('an already aborted signal: run() returns at once without taking leases', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 1);
  await putRecords(aws.kinesis, stream, payloads(10));
  const src = source(stream, `app-${stream}`);
  const ac = new AbortController();
  ac.abort();
  let batches = 0;
  const t0 = Date.now();
  await src.run(async () => void batches++, ac.signal);
  t.ok(Date.now() - t0 < 5_000, 'returned');
  t.equal(batches, 0);
  t.same(await src.table.list().catch(() => []), [], 'no lease taken (the table was not even created)');
});

t.test('start-up errors: a missing stream, bad options', async (t) => {
  await t.rejects(source('no-such-stream', 'app-missing').run(async () => {}, new AbortController().signal), { code: 'LEASE_STREAM_NOT_FOUND' });
  t.throws(() => source('x', 'ab'), { code: 'CONFIG_INVALID_VALUE' }, 'table name too short');
  t.throws(() => createKinesisSource({ kinesis: aws.kinesis, dynamodb: aws.dynamodb, streamName: 'x' }), { code: 'CONFIG_MISSING_KEY' });
  t.throws(() => source('x', null, { maxRecordsPerRead: 20_000 }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => source('x', null, { initialPosition: 'EARLIEST' as never }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => source('x', null, { initialPosition: { timestamp: new Date('nope') } }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => source('x', null, { leaseDurationMs: 1_000, renewIntervalMs: 600 }), { code: 'CONFIG_INVALID_VALUE' }, 'renewal too slow for the lease');
  t.throws(() => source('x', null, { takerIntervalMs: 0 }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => source('x', null, { maxLeasesForWorker: 0 }), { code: 'CONFIG_INVALID_VALUE' });
  t.throws(() => source('x', null, { leaseDurationMs: Number.NaN }), { code: 'CONFIG_INVALID_VALUE' });
});

t.test('initialPosition LATEST: only records put after the lease was created are read', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 2);
  await putRecords(aws.kinesis, stream, payloads(100, 'old'));
  const src = source(stream, `app-${stream}`, { initialPosition: 'LATEST' });
  const seen: string[] = [];
  const probeShards = new Set<string>();
  const ac = new AbortController();
  const p = src.run(async (b) => {
    for (const r of b.records.map((x) => x.toString())) {
      if (r.startsWith('probe')) probeShards.add(b.origin);
      else seen.push(r);
    }
    await b.commit();
  }, ac.signal);
  // Both shards are being read (their LATEST iterators exist) once a probe came back from each.
  for (let i = 0; i < 100 && probeShards.size < 2; i++) {
    await putRecords(aws.kinesis, stream, payloads(10, `probe${i}-`));
    await sleep(100);
  }
  t.equal(probeShards.size, 2, 'both shards read');
  await putRecords(aws.kinesis, stream, payloads(100, 'new'));
  for (let i = 0; i < 400 && seen.length < 100; i++) await sleep(25);
  ac.abort();
  await p;
  t.equal(seen.length, 100);
  t.ok(seen.every((r) => r.startsWith('new')), 'no old record');
});

t.test('metrics: records read, leases held, MillisBehindLatest, checkpoints', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 2);
  await putRecords(aws.kinesis, stream, payloads(200));
  const registry = new Registry();
  const src = source(stream, `app-${stream}`, { registry });
  let seen = 0;
  let heldDuring = '';
  await runUntil(
    src,
    async (b) => {
      seen += b.records.length;
      await b.commit();
      if (seen === 200) heldDuring = await registry.getSingleMetricAsString('furrow_leases_held');
    },
    () => seen === 200,
  );
  const text = await registry.metrics();
  const read = [...text.matchAll(/^furrow_kinesis_records_read_total\{stream="[^"]+",shard="[^"]+"\} (\d+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
  t.equal(read, 200, 'records counted per shard');
  t.match(heldDuring, /furrow_leases_held\{app="app-[^"]+",worker="[^"]+"\} 2/, '2 leases held while reading');
  t.match(text, /furrow_lease_checkpoints_total\{app="[^"]+",result="ok"\} [1-9]/);
  t.match(text, /furrow_lease_acquired_total\{app="[^"]+",how="take"\} 2/);
  t.match(await registry.getSingleMetricAsString('furrow_leases_held'), / 0$/m, 'back to 0 after release');
});

t.test('a worker whose lease is stolen stops before its next write: never two writers on a shard', async (t) => {
  const stream = fresh();
  const app = `app-${stream}`;
  await createStream(aws.kinesis, stream, 4);
  interface W {
    w: string;
    s: string;
    t0: number;
    t1: number;
  }
  const writes: W[] = [];
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing && i < 400; i++) {
      await putRecords(aws.kinesis, stream, payloads(20, `p${i}-`));
      await sleep(40);
    }
  })();
  const written = new Map<string, number>();
  const slowWriter = (w: string) => async (b: Batch) => {
    const t0 = Date.now();
    await sleep(120); // the sink write
    writes.push({ w, s: b.origin, t0, t1: Date.now() });
    for (const r of b.records) written.set(r.toString(), (written.get(r.toString()) ?? 0) + 1);
    await b.commit();
  };
  const a = source(stream, app, { maxRecordsPerRead: 20, workerId: 'A', maxInFlightBatches: 4 });
  const acA = new AbortController();
  const runA = a.run(slowWriter('A'), acA.signal);
  for (let i = 0; i < 100 && a.stats().leasesHeld < 4; i++) await sleep(20);
  t.equal(a.stats().leasesHeld, 4, 'A alone holds all 4');
  await sleep(500);
  const b = source(stream, app, { maxRecordsPerRead: 20, workerId: 'B', maxInFlightBatches: 4 });
  const acB = new AbortController();
  const runB = b.run(slowWriter('B'), acB.signal);
  for (let i = 0; i < 300 && !(a.stats().leasesHeld === 2 && b.stats().leasesHeld === 2 && writes.filter((x) => x.w === 'B').length > 3); i++) await sleep(25);
  t.equal(b.stats().leasesHeld, 2, 'B stole two leases');
  t.equal(a.stats().leasesHeld, 2, 'A kept two');
  producing = false;
  await producer;
  acA.abort();
  acB.abort();
  await Promise.all([runA, runB]);

  const stolen = new Set(writes.filter((x) => x.w === 'B').map((x) => x.s));
  t.ok(stolen.size >= 1);
  t.equal([...written.values()].filter((n) => n > 1).length, 0, 'no record processed twice: the victim checkpointed its last batch during the hand-off');
  for (const s of stolen) {
    const list = writes.filter((x) => x.s === s).sort((x, y) => x.t0 - y.t0);
    const firstB = list.find((x) => x.w === 'B')!;
    const aAfter = list.filter((x) => x.w === 'A' && x.t1 > firstB.t0);
    t.same(aAfter, [], `${s}: A wrote nothing once B started writing`);
    for (let i = 1; i < list.length; i++) {
      if (list[i]!.w !== list[i - 1]!.w) t.ok(list[i - 1]!.t1 <= list[i]!.t0, `${s}: hand-over without overlap`);
    }
  }
});

t.test('maxInFlightBatches: at most N batches in onBatch, never two of one shard', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 4);
  await putRecords(aws.kinesis, stream, payloads(400));
  const src = source(stream, null, { maxInFlightBatches: 2, maxRecordsPerRead: 25 });
  let inFlight = 0;
  let maxInFlight = 0;
  const busy = new Set<string>();
  let sameShardOverlap = 0;
  let seen = 0;
  await runUntil(
    src,
    async (b) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (busy.has(b.origin)) sameShardOverlap++;
      busy.add(b.origin);
      await sleep(15);
      busy.delete(b.origin);
      inFlight--;
      seen += b.records.length;
      await b.commit();
    },
    () => seen === 400,
  );
  t.equal(seen, 400);
  t.equal(maxInFlight, 2, 'two batches at once, not more');
  t.equal(sameShardOverlap, 0);
});

t.test('split with commits made after onBatch returns: SHARD_END only after the last commit, children after that', async (t) => {
  const stream = fresh();
  await createStream(aws.kinesis, stream, 1);
  await putRecords(aws.kinesis, stream, payloads(300, 'a'));
  const src = source(stream, `app-${stream}`, { maxRecordsPerRead: 50 });
  const seen = new Set<string>();
  let lastParentCommit = 0;
  let firstChildBatch = Infinity;
  const pending: Promise<void>[] = [];
  const ac = new AbortController();
  const p = src.run(async (b) => {
    for (const r of b.records) seen.add(r.toString());
    if (b.origin === 'shardId-000000000000') {
      // The processor acknowledges later (e.g. an asynchronous sink flush).
      pending.push(sleep(150).then(async () => {
        await b.commit();
        lastParentCommit = Date.now();
      }));
    } else {
      firstChildBatch = Math.min(firstChildBatch, Date.now());
      await b.commit();
    }
  }, ac.signal);
  await sleep(300);
  await aws.kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (2n ** 127n).toString() }));
  await waitActive(aws.kinesis, stream);
  await putRecords(aws.kinesis, stream, payloads(200, 'b'));
  for (let i = 0; i < 400 && seen.size < 500; i++) await sleep(25);
  ac.abort();
  await p;
  await Promise.all(pending);
  t.equal(seen.size, 500, 'nothing lost');
  t.ok(lastParentCommit > 0 && firstChildBatch > lastParentCommit, `children read (${firstChildBatch}) after the parent's last commit (${lastParentCommit})`);
  const parent = await src.table.get('shardId-000000000000');
  t.equal(parent?.checkpoint, 'SHARD_END');
});

t.test('checkpointBackoff: a checkpoint write that fails is retried with backoff before commit() resolves', async (t) => {
  const stream = fresh();
  const app = `app-${stream}`;
  await createStream(aws.kinesis, stream, 1);
  await putRecords(aws.kinesis, stream, payloads(5));
  // The real dynalite, except that the first 3 checkpoint writes fail as DynamoDB throttling does.
  let failuresLeft = 3;
  let checkpointWrites = 0;
  const flaky = new Proxy(aws.dynamodb, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: { input?: { UpdateExpression?: string } }) => {
        if (cmd.input?.UpdateExpression?.includes('checkpoint = :cp')) {
          checkpointWrites++;
          if (failuresLeft > 0) {
            failuresLeft--;
            throw Object.assign(new Error('Rate of requests exceeds the allowed throughput'), { name: 'ProvisionedThroughputExceededException' });
          }
        }
        return (target.send as (c: unknown) => Promise<unknown>)(cmd);
      };
    },
  });
  const src = source(stream, app, { dynamodb: flaky, checkpointBackoff: { minBackoffMs: 5, maxBackoffMs: 20, maxRetries: 5 } });
  let last: string | null = null;
  let seen = 0;
  await runUntil(
    src,
    async (b) => {
      await b.commit();
      last = (b as KinesisRecordBatch).lastSequenceNumber;
      seen += b.records.length;
    },
    () => seen === 5,
  );
  t.equal(seen, 5);
  const [lease] = await src.table.list();
  t.equal(lease!.checkpoint, last, 'the committed position is in the lease table once commit() resolved');
  t.equal(checkpointWrites, 4, '3 failed writes, then the one that succeeded');

  // With no retries, the same failure leaves the position unwritten until a later commit.
  const stream2 = fresh();
  await createStream(aws.kinesis, stream2, 1);
  await putRecords(aws.kinesis, stream2, payloads(5));
  failuresLeft = 1_000;
  const noRetry = source(stream2, `app-${stream2}`, { dynamodb: flaky, checkpointBackoff: { minBackoffMs: 5, maxBackoffMs: 20, maxRetries: 0 } });
  let seen2 = 0;
  await runUntil(noRetry, async (b) => {
    await b.commit();
    seen2 += b.records.length;
  }, () => seen2 === 5);
  const [lease2] = await noRetry.table.list();
  t.equal(lease2!.checkpoint, 'TRIM_HORIZON', 'maxRetries 0: not written');
});
