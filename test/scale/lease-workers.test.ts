/**
 * Horizontal scale with real worker processes: kinesalite and dynalite run in this process on 127.0.0.1; each
 * worker is a separate Node process (fixtures/lease-worker.ts) with its own lease coordinator, writing processed
 * batches to a JSON-lines file (its sink).
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListShardsCommand, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { createDynamoDbLeaseTable } from '../../streams/kinesis/dynamodb-lease-table.js';
import { SHARD_END, type Lease } from '../../streams/kinesis/lease.js';
import { createStream, putRecords, startLocalAws, waitActive, type LocalAws } from '../support/local-aws.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = join(import.meta.dirname, '../..');
const LEASE_MS = 2_000;
const RENEW_MS = Math.floor(LEASE_MS / 3) - 25;
const TAKER_MS = RENEW_MS;
const FAILOVER_BOUND_MS = LEASE_MS + 2 * TAKER_MS;
const BATCH = 50;

interface WriteLine {
  ev: 'write';
  w: string;
  s: string;
  t0: number;
  t1: number;
  recs: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


function readWrites(file: string): WriteLine[] {
  if (!existsSync(file)) return [];
  const out: WriteLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    try {
      const v = JSON.parse(line) as WriteLine;
      if (v.ev === 'write') out.push(v);
    } catch {
      // a line cut by kill -9: that batch was never acknowledged, so it is not counted as written
    }
  }
  return out;
}

class Workers {
  readonly children = new Map<string, ChildProcess>();
  constructor(
    private readonly aws: LocalAws,
    private readonly stream: string,
    private readonly app: string,
    private readonly out: string,
  ) {}
  start(workerId: string, processMs = 10): ChildProcess {
    const cfg = {
      kinesisEndpoint: this.aws.kinesisEndpoint,
      dynamoEndpoint: this.aws.dynamoEndpoint,
      stream: this.stream,
      app: this.app,
      workerId,
      out: this.out,
      leaseDurationMs: LEASE_MS,
      processMs,
      maxRecordsPerRead: BATCH,
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/scale/fixtures/lease-worker.ts', JSON.stringify(cfg)], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => {
      const s = d.toString();
      if (!/NodeVersionSupportWarning|node >=22|a\.co\/|trace-warnings|^\s*$|versions published|To continue receiving|More information/.test(s)) process.stderr.write(`[${workerId}] ${s}`);
    });
    this.children.set(workerId, child);
    return child;
  }
  exitOf(workerId: string): Promise<number | null> {
    const c = this.children.get(workerId)!;
    if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
    return new Promise((r) => c.once('exit', (code) => r(code)));
  }
  killAll(): void {
    for (const c of this.children.values()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Per shard: every pair of consecutive batches by different workers must not overlap in time. */
function checkOneOwnerAtATime(t: Test, writes: WriteLine[]): Map<string, number> {
  const switches = new Map<string, number>();
  const byShard = new Map<string, WriteLine[]>();
  for (const w of writes) byShard.set(w.s, [...(byShard.get(w.s) ?? []), w]);
  for (const [shard, list] of byShard) {
    list.sort((a, b) => a.t0 - b.t0);
    let n = 0;
    let overlaps = 0;
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      const cur = list[i]!;
      if (prev.w !== cur.w) {
        n++;
        if (cur.t0 < prev.t1) overlaps++;
      }
    }
    t.equal(overlaps, 0, `${shard}: no two workers processing at once (${n} owner switches)`);
    switches.set(shard, n);
  }
  return switches;
}

/** Every record written; duplicates only across owner switches, at most one batch per switch. */
function checkCompleteness(t: Test, writes: WriteLine[], produced: string[], switches: Map<string, number>): number {
  const seen = new Map<string, Set<string>>();
  const count = new Map<string, number>();
  const dupsPerShard = new Map<string, number>();
  for (const w of writes) {
    for (const r of w.recs) {
      const n = (count.get(r) ?? 0) + 1;
      count.set(r, n);
      if (n > 1) dupsPerShard.set(w.s, (dupsPerShard.get(w.s) ?? 0) + 1);
      const by = seen.get(r) ?? new Set<string>();
      by.add(w.w);
      seen.set(r, by);
    }
  }
  const missing = produced.filter((p) => !count.has(p));
  t.equal(missing.length, 0, `every produced record was written (${produced.length} produced)`);
  const producedSet = new Set(produced);
  const extra = [...count.keys()].filter((k) => !producedSet.has(k));
  t.equal(extra.length, 0, 'nothing written that was not produced');
  let dups = 0;
  let sameWorkerDups = 0;
  for (const [r, n] of count) {
    if (n > 1) {
      dups += n - 1;
      if (seen.get(r)!.size < 2) sameWorkerDups++;
    }
  }
  t.equal(sameWorkerDups, 0, 'a record is only re-processed after its shard changed owner');
  for (const [shard, d] of dupsPerShard) {
    const bound = (switches.get(shard) ?? 0) * BATCH;
    t.ok(d <= bound, `${shard}: ${d} duplicates <= ${bound} (one unacknowledged batch of ${BATCH} per owner switch)`);
  }
  return dups;
}

t.test('3 worker processes on 4 shards: balanced, at-least-once, kill -9 taken over within the failover bound', async (t) => {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-scale-'));
  const out = join(dir, 'out.jsonl');
  const workers = new Workers(aws, 'raw', 'furrow-scale-a', out);
  t.teardown(async () => {
    workers.killAll();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await createStream(aws.kinesis, 'raw', 4);
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'furrow-scale-a');

  const produced: string[] = [];
  let producing = true;
  const producer = (async () => {
    for (let i = 0; producing && i < 600; i++) {
      const chunk = Array.from({ length: 40 }, (_, j) => `e-${i}-${j}`);
      await putRecords(aws.kinesis, 'raw', chunk);
      produced.push(...chunk);
      await sleep(60);
    }
  })();

  for (const id of ['w0', 'w1', 'w2']) workers.start(id);

  // Balanced steady state: every lease owned, 3 owners, none above ceil(4/3) = 2, held for 2 lease durations.
  const owners = async () => {
    const leases = await table.list().catch(() => [] as Lease[]);
    const per = new Map<string, string[]>();
    for (const l of leases) if (l.leaseOwner) per.set(l.leaseOwner, [...(per.get(l.leaseOwner) ?? []), l.leaseKey]);
    return { leases, per };
  };
  await waitFor('balanced leases', async () => {
    const { leases, per } = await owners();
    return leases.length === 4 && leases.every((l) => l.leaseOwner) && per.size === 3 && [...per.values()].every((v) => v.length <= 2);
  }, { timeoutMs: 40_000, everyMs: 50 });
  const steadyUntil = Date.now() + 2 * LEASE_MS;
  let maxHeld = 0;
  while (Date.now() < steadyUntil) {
    const { per } = await owners();
    for (const v of per.values()) maxHeld = Math.max(maxHeld, v.length);
    await sleep(100);
  }
  t.ok(maxHeld <= 2, `no worker held more than ceil(4/3) = 2 leases in steady state (max ${maxHeld})`);

  // kill -9 the busiest worker mid-stream.
  const { per } = await owners();
  const [victim, victimShards] = [...per.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  t.ok(producing, 'the producer is still writing when the worker is killed');
  const killedAt = Date.now();
  workers.children.get(victim)!.kill('SIGKILL');
  const takeoverMs = await waitFor('takeover', async () => {
    const leases = await table.list().catch(() => [] as Lease[]);
    const mine = leases.filter((l) => victimShards.includes(l.leaseKey));
    return mine.every((l) => l.leaseOwner && l.leaseOwner !== victim) ? Date.now() - killedAt : null;
  }, { timeoutMs: 30_000, everyMs: 50 });
  t.comment(`kill -9 ${victim} (held ${victimShards.join(', ')}): taken over after ${takeoverMs} ms (bound ${FAILOVER_BOUND_MS} ms)`);
  // Not before the lease could have expired (safety), and within lease + 2 taker periods (+ scheduling slack).
  t.ok(takeoverMs >= LEASE_MS - RENEW_MS - 100, `not taken before expiry (${takeoverMs} ms)`);
  // Slack: the 2-core CI box runs other suites beside this one; the bound itself is lease + 2 taker periods.
  t.ok(takeoverMs <= FAILOVER_BOUND_MS + 2_000, `taken over within the failover bound (${takeoverMs} <= ${FAILOVER_BOUND_MS} + 2000 slack)`);
  const survivors = ['w0', 'w1', 'w2'].filter((w) => w !== victim);
  const after = await owners();
  t.ok([...after.per.keys()].every((w) => survivors.includes(w)), 'only live workers own leases');
  t.ok([...after.per.values()].every((v) => v.length <= 2), 'still balanced after the takeover');

  await sleep(1_000);
  producing = false;
  await producer;
  await waitFor('every produced record written', async () => {
    const written = new Set(readWrites(out).flatMap((w) => w.recs));
    return produced.every((p) => written.has(p));
  }, { timeoutMs: 30_000, everyMs: 50 });

  // Graceful stop: SIGTERM, exit 0, leases released (no owner left).
  for (const w of survivors) workers.children.get(w)!.kill('SIGTERM');
  const codes = await Promise.all(survivors.map((w) => workers.exitOf(w)));
  t.same(codes, [0, 0], 'workers exit 0 on SIGTERM');
  const final = await table.list();
  t.ok(final.every((l) => l.leaseOwner === null), 'graceful shutdown released every lease');

  const writes = readWrites(out);
  const switches = checkOneOwnerAtATime(t, writes);
  const dups = checkCompleteness(t, writes, produced, switches);
  t.comment(`${produced.length} produced, ${writes.reduce((n, w) => n + w.recs.length, 0)} written, ${dups} duplicates`);
});

t.test('split one shard and merge two while 2 worker processes read: nothing lost, parents drained before children', async (t) => {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-scale-'));
  const out = join(dir, 'out.jsonl');
  const workers = new Workers(aws, 'raw', 'furrow-scale-b', out);
  t.teardown(async () => {
    workers.killAll();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await createStream(aws.kinesis, 'raw', 4);
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'furrow-scale-b');
  const produced: string[] = [];
  const produce = async (rounds: number, tag: string) => {
    for (let i = 0; i < rounds; i++) {
      const chunk = Array.from({ length: 40 }, (_, j) => `${tag}-${i}-${j}`);
      await putRecords(aws.kinesis, 'raw', chunk);
      produced.push(...chunk);
      await sleep(40);
    }
  };
  // A slow processor keeps a backlog in the parents when they close.
  for (const id of ['w0', 'w1']) workers.start(id, 40);
  await produce(25, 'before');
  const shards = (await aws.kinesis.send(new ListShardsCommand({ StreamName: 'raw' }))).Shards!;
  const s0 = shards.find((s) => s.ShardId === 'shardId-000000000000')!;
  const mid = (BigInt(s0.HashKeyRange!.StartingHashKey!) + BigInt(s0.HashKeyRange!.EndingHashKey!)) / 2n;
  await aws.kinesis.send(new SplitShardCommand({ StreamName: 'raw', ShardToSplit: 'shardId-000000000000', NewStartingHashKey: mid.toString() }));
  await waitActive(aws.kinesis, 'raw');
  await produce(15, 'split');
  await aws.kinesis.send(new MergeShardsCommand({ StreamName: 'raw', ShardToMerge: 'shardId-000000000002', AdjacentShardToMerge: 'shardId-000000000003' }));
  await waitActive(aws.kinesis, 'raw');
  await produce(25, 'merged');

  const all = (await aws.kinesis.send(new ListShardsCommand({ StreamName: 'raw' }))).Shards!;
  const parentsOf = new Map(all.map((s) => [s.ShardId!, [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p)]));
  const children = all.filter((s) => parentsOf.get(s.ShardId!)!.length > 0);
  t.equal(children.length, 3, 'kinesalite made 2 split children and 1 merge child');

  await waitFor('every produced record written', async () => {
    const written = new Set(readWrites(out).flatMap((w) => w.recs));
    return produced.every((p) => written.has(p));
  }, { timeoutMs: 60_000, everyMs: 50 });
  for (const w of ['w0', 'w1']) workers.children.get(w)!.kill('SIGTERM');
  t.same(await Promise.all(['w0', 'w1'].map((w) => workers.exitOf(w))), [0, 0], 'workers exit 0 on SIGTERM');

  const writes = readWrites(out);
  const switches = checkOneOwnerAtATime(t, writes);
  checkCompleteness(t, writes, produced, switches);
  for (const child of children) {
    const childWrites = writes.filter((w) => w.s === child.ShardId);
    t.ok(childWrites.length > 0, `${child.ShardId} was read`);
    const firstChild = Math.min(...childWrites.map((w) => w.t0));
    for (const p of parentsOf.get(child.ShardId!)!) {
      const parentWrites = writes.filter((w) => w.s === p);
      t.ok(parentWrites.length > 0, `${p} was read`);
      const lastParent = Math.max(...parentWrites.map((w) => w.t1));
      t.ok(lastParent <= firstChild, `${p} drained (last batch done at ${lastParent}) before ${child.ShardId} started (${firstChild})`);
    }
  }
  const leases = new Map((await table.list()).map((l) => [l.leaseKey, l]));
  for (const p of ['shardId-000000000000', 'shardId-000000000002', 'shardId-000000000003']) {
    t.equal(leases.get(p)?.checkpoint, SHARD_END, `${p} lease checkpointed SHARD_END`);
  }
  t.same([...(leases.get('shardId-000000000000')?.childShardIds ?? [])].sort(), ['shardId-000000000004', 'shardId-000000000005'], 'split parent lease lists its children');
  t.same([...(leases.get('shardId-000000000006')?.parentShardIds ?? [])].sort(), ['shardId-000000000002', 'shardId-000000000003'], 'merge child lease names both parents');
});

t.test('a worker with no lease stays up and takes over at once when the owner stops gracefully', async (t) => {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-scale-'));
  const out = join(dir, 'out.jsonl');
  const workers = new Workers(aws, 'one', 'furrow-scale-c', out);
  t.teardown(async () => {
    workers.killAll();
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await createStream(aws.kinesis, 'one', 1);
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'furrow-scale-c');
  for (const id of ['w0', 'w1']) workers.start(id);
  const owner = await waitFor('an owner', async () => (await table.list().catch(() => []))[0]?.leaseOwner ?? null, { timeoutMs: 30_000, everyMs: 50 });
  const idle = owner === 'w0' ? 'w1' : 'w0';
  await sleep(2 * LEASE_MS);
  t.equal(workers.children.get(idle)!.exitCode, null, 'the worker without a lease is still running');
  await putRecords(aws.kinesis, 'one', ['a1', 'a2']);
  await waitFor('first records', async () => readWrites(out).length > 0, { timeoutMs: 10_000, everyMs: 50 });
  const stoppedAt = Date.now();
  workers.children.get(owner)!.kill('SIGTERM');
  t.equal(await workers.exitOf(owner), 0);
  const tookMs = await waitFor('handover', async () => ((await table.list())[0]?.leaseOwner === idle ? Date.now() - stoppedAt : null), { timeoutMs: 10_000, everyMs: 50 });
  t.ok(tookMs < LEASE_MS, `released lease taken by the idle worker after ${tookMs} ms (no expiry wait)`);
  await putRecords(aws.kinesis, 'one', ['b1', 'b2']);
  await waitFor('records after handover', async () => readWrites(out).some((w) => w.w === idle), { timeoutMs: 10_000, everyMs: 50 });
  const writes = readWrites(out);
  t.same(writes.flatMap((w) => w.recs).sort(), ['a1', 'a2', 'b1', 'b2'], 'each record once: the checkpoint moved with the lease');
  workers.children.get(idle)!.kill('SIGTERM');
  t.equal(await workers.exitOf(idle), 0);
});
