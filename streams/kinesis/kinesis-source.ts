/**
 * The Kinesis Source (streams/source.ts) for the enricher, the loaders and the forwarders: reads every shard
 * this worker holds a KCL 2.x lease for, and checkpoints a shard when the processor commits a batch.
 *
 * API
 * ---
 *   import { createKinesisSource } from 'streams/kinesis/kinesis-source.js';
 *   const source = createKinesisSource({
 *     kinesis,                        // KinesisClient from streams/aws-clients.ts
 *     dynamodb,                       // DynamoDBClient from streams/aws-clients.ts; null/absent = no-lease mode
 *     streamName: 'enriched-good',
 *     appName: 'furrow-enrich',       // lease table name (KCL: the application name); required with dynamodb
 *     initialPosition: 'TRIM_HORIZON',// | 'LATEST' | { timestamp: Date }   (used only for shards without a lease)
 *     workerId,                       // optional; default `${hostname}:${pid}:${random}` (must be unique per process)
 *     leaseDurationMs: 10_000,        // optional, KCL failoverTimeMillis; see LeaseCoordinator for the others
 *     logger, registry,               // optional pino logger; prom-client Registry (null = no metrics)
 *   });
 *   await source.run(async (batch) => {
 *     ...write batch.records to every sink, await every acknowledgement...
 *     await batch.commit();           // checkpoints batch.lastSequenceNumber on batch.origin (the shard id)
 *   }, abortController.signal);       // resolves after abort: in-flight batch finished, leases released
 *
 * Contract
 * - onBatch is called with at most `maxInFlightBatches` (default 1) batches at a time, never two of one shard;
 *   the next batch of a shard is read only after its onBatch resolved.
 * - commit() before onBatch resolves (or at least before the next batch of the shard is committed): a commit
 *   means "this batch and everything before it on the shard is done". commit() never throws: if the lease was
 *   lost meanwhile, the new owner re-reads from the last checkpoint (duplicates, never loss).
 * - A batch never spans shards; its records are the raw Kinesis payloads, in shard order.
 * - Leased mode: run() creates the lease table if absent, syncs shard leases, then takes/renews/steals leases
 *   (lease-coordinator.ts) and reads the held shards. No-lease mode (dynamodb null): one process reads every
 *   shard, checkpoints are kept in memory only (a restart starts again at initialPosition).
 * - Shard split/merge: a child shard is read only after its parents reached SHARD_END (shard-sync.ts).
 * - Start-up errors (stream or table missing/unreachable) reject run() with a FurrowError (LEASE_*). An exception
 *   thrown by onBatch stops the source (leases released, nothing checkpointed past the failed batch) and
 *   rejects run() with it.
 *
 * Per-shard read loop:
 *
 *   wait for the hand-off (stolen lease) -> wait for parents at SHARD_END -> GetShardIterator(checkpoint)
 *     -> GetRecords --records--> [still hold the lease?] -> onBatch -> (commit -> checkpoint) -> GetRecords ...
 *                   --no next iterator--> wait for commits -> checkpoint SHARD_END -> shard sync -> release
 */
import { backoffMs, sleep } from '../../common/timing.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Registry } from 'prom-client';
import { FurrowError } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import type { Batch, Source } from '../source.js';
import { createDynamoDbLeaseTable } from './dynamodb-lease-table.js';
import { AT_TIMESTAMP, compareSequenceNumbers, LATEST, SHARD_END, TRIM_HORIZON, type InitialPosition } from './lease.js';
import { LeaseCoordinator, type HeldLease } from './lease-coordinator.js';
import type { LeaseTable } from './lease-table.js';
import { createMemoryLeaseTable } from './memory-lease-table.js';
import { leaseMetrics, type LeaseMetrics } from './lease-metrics.js';
import { listShards, syncShardLeases, type ShardInfo } from './shard-sync.js';

export type { InitialPosition } from './lease.js';

export interface KinesisSourceOptions {
  kinesis: KinesisClient;
  streamName: string;
  /** Lease table client; null or absent = no-lease mode (one process, in-memory checkpoints). */
  dynamodb?: DynamoDBClient | null;
  /** Lease table name (KCL application name). Required with dynamodb. */
  appName?: string;
  /** Where a shard without a lease starts. Default TRIM_HORIZON (as Snowplow enrich). */
  initialPosition?: InitialPosition;
  workerId?: string;
  /** KCL failoverTimeMillis. Default 10 000. */
  leaseDurationMs?: number;
  renewIntervalMs?: number;
  takerIntervalMs?: number;
  maxLeasesForWorker?: number;
  /** Leases stolen per taker round. Default 1. */
  maxLeasesToStealAtOneTime?: number;
  /** How often every worker lists shards and creates missing leases. Default 60 000 (also runs at SHARD_END). */
  shardSyncIntervalMs?: number;
  /** How often a child shard re-checks that its parents reached SHARD_END. Default min(10 000, leaseDuration). */
  parentPollIntervalMs?: number;
  /** GetRecords Limit. Default 10 000 (the Kinesis maximum). */
  maxRecordsPerRead?: number;
  /** Wait after a GetRecords that returned nothing. Default 1 000 (KCL idleTimeBetweenReadsInMillis). */
  idleTimeBetweenReadsMs?: number;
  /** Minimum time between two GetRecords on one shard. Default 200 (Kinesis allows 5 per second per shard). */
  minReadIntervalMs?: number;
  /** Batches handed to onBatch at the same time (across shards). Default 1. */
  maxInFlightBatches?: number;
  /** Progress log period. Default 30 000; 0 = off. */
  progressLogIntervalMs?: number;
  /**
   * Retries of a checkpoint write that failed (DynamoDB error or throttling) before the commit resolves: waits grow
   * from minBackoffMs, doubling, up to maxBackoffMs (Snowplow enrich's `checkpointBackoff`). Default 100 ms, 10 s, 10.
   */
  checkpointBackoff?: { minBackoffMs: number; maxBackoffMs: number; maxRetries: number };
  logger?: Logger;
  /** Registry for the metrics (metrics.ts); default prom-client's global one; null = no metrics. */
  registry?: Registry | null;
}

export interface KinesisRecordBatch extends Batch {
  readonly shardId: string;
  readonly firstSequenceNumber: string;
  readonly lastSequenceNumber: string;
  /** MillisBehindLatest reported with this batch. */
  readonly millisBehindLatest: number;
}

export interface ShardStats {
  readonly shardId: string;
  readonly recordsDelivered: number;
  readonly millisBehindLatest: number;
  readonly checkpoint: string | null;
}

export interface KinesisSource extends Source {
  readonly workerId: string;
  readonly coordinator: LeaseCoordinator;
  readonly table: LeaseTable;
  /** Shards being read right now. */
  stats(): { leasesHeld: number; recordsDelivered: number; shards: ShardStats[] };
}


/** A counting semaphore: at most `n` batches in onBatch at once. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];
  constructor(n: number) {
    this.free = n;
  }
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

function positive(name: string, v: number | undefined, dflt: number, min = 1): number {
  const n = v ?? dflt;
  if (!Number.isFinite(n) || n < min) throw new FurrowError('CONFIG_INVALID_VALUE', `${name} must be a number >= ${min} (got ${String(v)})`);
  return n;
}

function errName(e: unknown): string {
  return (e as Error | undefined)?.name ?? '';
}

export function createKinesisSource(opts: KinesisSourceOptions): KinesisSource {
  const log = (opts.logger ?? silentLogger).child({ stream: opts.streamName });
  const leased = opts.dynamodb !== undefined && opts.dynamodb !== null;
  if (leased && !opts.appName) throw new FurrowError('CONFIG_MISSING_KEY', 'appName (the lease table name) is required with a DynamoDB client');
  if (opts.appName !== undefined && !/^[a-zA-Z0-9_.-]{3,255}$/.test(opts.appName)) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `appName '${opts.appName}' is not a valid DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)`);
  }
  const initial: InitialPosition = opts.initialPosition ?? TRIM_HORIZON;
  if (typeof initial === 'object' && !(initial.timestamp instanceof Date && Number.isFinite(initial.timestamp.getTime()))) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'initialPosition.timestamp must be a valid Date');
  }
  if (typeof initial === 'string' && initial !== TRIM_HORIZON && initial !== LATEST) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `initialPosition must be TRIM_HORIZON, LATEST or { timestamp } (got ${String(initial)})`);
  }
  const leaseDurationMs = positive('leaseDurationMs', opts.leaseDurationMs, 10_000, 100);
  if (opts.renewIntervalMs !== undefined && !(opts.renewIntervalMs >= 1 && opts.renewIntervalMs < leaseDurationMs / 2)) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `renewIntervalMs must be >= 1 and under half of leaseDurationMs (${leaseDurationMs}); got ${opts.renewIntervalMs}`);
  }
  if (opts.takerIntervalMs !== undefined) positive('takerIntervalMs', opts.takerIntervalMs, 0);
  if (opts.maxLeasesForWorker !== undefined) positive('maxLeasesForWorker', opts.maxLeasesForWorker, 0);
  const shardSyncIntervalMs = positive('shardSyncIntervalMs', opts.shardSyncIntervalMs, 60_000);
  const parentPollIntervalMs = positive('parentPollIntervalMs', opts.parentPollIntervalMs, Math.min(10_000, leaseDurationMs));
  const maxRecords = positive('maxRecordsPerRead', opts.maxRecordsPerRead, 10_000);
  if (maxRecords > 10_000) throw new FurrowError('CONFIG_INVALID_VALUE', 'maxRecordsPerRead must be <= 10000 (the Kinesis GetRecords limit)');
  const idleMs = positive('idleTimeBetweenReadsMs', opts.idleTimeBetweenReadsMs, 1_000, 0);
  const minReadIntervalMs = positive('minReadIntervalMs', opts.minReadIntervalMs, 200, 0);
  const maxInFlight = positive('maxInFlightBatches', opts.maxInFlightBatches, 1);
  const progressMs = positive('progressLogIntervalMs', opts.progressLogIntervalMs, 30_000, 0);
  const checkpointBackoff = opts.checkpointBackoff ?? { minBackoffMs: 100, maxBackoffMs: 10_000, maxRetries: 10 };
  const workerId = opts.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const kinesis = opts.kinesis;
  const streamName = opts.streamName;
  const table = leased ? createDynamoDbLeaseTable(opts.dynamodb!, opts.appName!) : createMemoryLeaseTable(opts.appName ?? 'no-lease');
  const metrics: LeaseMetrics | null = opts.registry === null ? null : leaseMetrics(opts.registry);
  const coordinator = new LeaseCoordinator({
    table,
    workerId,
    leaseDurationMs,
    renewIntervalMs: opts.renewIntervalMs,
    takerIntervalMs: opts.takerIntervalMs,
    maxLeasesForWorker: opts.maxLeasesForWorker,
    maxLeasesToStealAtOneTime: opts.maxLeasesToStealAtOneTime,
    logger: log,
    metrics,
  });

  interface Consumer {
    readonly held: HeldLease;
    readonly done: Promise<void>;
    delivered: number;
    lagMs: number;
    /** Last checkpoint written (or the lease's at start). */
    checkpoint: string | null;
  }
  const consumers = new Map<string, Consumer>();
  let delivered = 0;
  let running = false;

  function iteratorInput(shardId: string, checkpoint: string, sub: number): GetShardIteratorCommandInput {
    const base = { StreamName: streamName, ShardId: shardId };
    if (checkpoint === TRIM_HORIZON) return { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    if (checkpoint === LATEST) return { ...base, ShardIteratorType: 'LATEST' };
    if (checkpoint === AT_TIMESTAMP) {
      // The timestamp is configuration (as in KCL); without one, re-read rather than skip.
      return typeof initial === 'object' ? { ...base, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: initial.timestamp } : { ...base, ShardIteratorType: 'TRIM_HORIZON' };
    }
    // A KPL sub-sequence checkpoint means part of an aggregated record is done: re-read that record (at-least-once).
    return { ...base, ShardIteratorType: sub > 0 ? 'AT_SEQUENCE_NUMBER' : 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint };
  }

  async function syncNow(): Promise<ShardInfo[]> {
    const shards = await listShards(kinesis, streamName);
    await syncShardLeases(table, shards, initial, log);
    return shards;
  }

  async function run(onBatch: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
    if (running) throw new Error('KinesisSource.run() is already running');
    running = true;
    const stop = new AbortController();
    const stopAll = () => stop.abort();
    signal.addEventListener('abort', stopAll, { once: true });
    if (signal.aborted) stop.abort();
    let failure: unknown = null;
    const slots = new Slots(maxInFlight);
    const timers: NodeJS.Timeout[] = [];

    const consume = async (held: HeldLease, consumer: Consumer): Promise<void> => {
      const shardId = held.leaseKey;
      const token = held.token;
      const live = () => !stop.signal.aborted && coordinator.holds(shardId, token);
      const shardLog = log.child({ shard: shardId });

      // 1. After a steal: wait until the previous owner handed off (or its delivery window closed).
      for (let i = 0; live() && performance.now() < coordinator.readableAt(shardId, token); i++) {
        await sleep(50, stop.signal);
        if (i % 4 === 3) await coordinator.pollHandoff(shardId, token);
      }
      // 2. Parents first (KCL BlockOnParentShardTask): a missing parent lease does not block.
      for (const parent of held.lease.parentShardIds) {
        for (;;) {
          if (!live()) return;
          let p;
          try {
            p = await table.get(parent);
          } catch (e) {
            shardLog.warn({ err: e, parent }, 'could not read parent lease; retrying');
            await sleep(parentPollIntervalMs, stop.signal);
            continue;
          }
          if (p === null || p.checkpoint === SHARD_END) break;
          shardLog.info({ parent, parentCheckpoint: p.checkpoint }, 'waiting for parent shard to reach SHARD_END');
          await sleep(parentPollIntervalMs, stop.signal);
        }
      }
      if (!live()) return;
      // The previous owner may have checkpointed during the hand-off: start from the row as it is now.
      let start = held.lease;
      try {
        const fresh = await table.get(shardId);
        if (fresh !== null && fresh.leaseOwner === workerId) start = fresh;
      } catch (e) {
        shardLog.warn({ err: e }, 'could not re-read the lease; starting from the checkpoint seen at take time');
      }
      const checkpoint = start.checkpoint;
      if (checkpoint === SHARD_END) {
        await coordinator.release(shardId, token);
        return;
      }
      consumer.checkpoint = checkpoint;
      /** Highest sequence number committed by the processor, and whether it is persisted. */
      let committed: string | null = null;
      let persisted = true;
      let uncommitted = 0;
      let commitsSettled: (() => void) | null = null;

      const persist = async (seq: string): Promise<void> => {
        let outcome = await coordinator.checkpoint(shardId, token, seq, 0);
        // A failed write (not a lost lease) is retried with backoff before the commit resolves.
        for (let retry = 0, wait = checkpointBackoff.minBackoffMs; outcome === 'error' && retry < checkpointBackoff.maxRetries && live(); retry++) {
          await sleep(wait, stop.signal);
          wait = Math.min(checkpointBackoff.maxBackoffMs, wait * 2);
          outcome = await coordinator.checkpoint(shardId, token, seq, 0);
        }
        if (outcome === 'ok') {
          if (committed === seq) persisted = true;
          consumer.checkpoint = seq;
        } else if (outcome === 'error') shardLog.error({ checkpoint: seq, retries: checkpointBackoff.maxRetries }, 'checkpoint write still failing after the retries of checkpointBackoff; the next commit will try again');
      };

      let iterator: string | undefined;
      let lastSeq: string | null = null;
      const newIterator = async (): Promise<string | undefined> => {
        const input = lastSeq !== null ? iteratorInput(shardId, lastSeq, 0) : iteratorInput(shardId, checkpoint, start.checkpointSubSequenceNumber);
        const out = await kinesis.send(new GetShardIteratorCommand(input));
        return out.ShardIterator;
      };

      let backoff = 0;
      let failedReads = 0;
      let lastReadAt = 0;
      let shardEnded = false;
      shardLog.info({ checkpoint, readableAt: held.readableAt }, 'reading shard');
      while (live()) {
        let res: GetRecordsCommandOutput;
        try {
          if (iterator === undefined) iterator = await newIterator();
          if (iterator === undefined) {
            shardEnded = true;
            break;
          }
          const wait = lastReadAt + minReadIntervalMs - performance.now();
          if (wait > 0) await sleep(wait, stop.signal);
          lastReadAt = performance.now();
          res = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: maxRecords }));
          backoff = 0;
          failedReads = 0;
        } catch (e) {
          const name = errName(e);
          if (name === 'ExpiredIteratorException') {
            iterator = undefined;
            continue;
          }
          backoff = backoffMs(failedReads++, 100, 5_000);
          shardLog.warn({ err: e, backoffMs: backoff }, 'GetRecords failed; backing off');
          if (name !== 'ProvisionedThroughputExceededException' && name !== 'LimitExceededException') iterator = undefined;
          await sleep(backoff, stop.signal);
          continue;
        }
        const lag = res.MillisBehindLatest ?? 0;
        consumer.lagMs = lag;
        metrics?.millisBehindLatest.set({ stream: streamName, shard: shardId }, lag);
        const recs = res.Records ?? [];
        if (recs.length > 0) {
          await slots.acquire();
          try {
            // The lease must still be ours with a fresh renewal; a late renewal pauses, a lost or draining lease stops.
            while (live() && !coordinator.isHeld(shardId, token)) await sleep(Math.min(50, coordinator.renewIntervalMs), stop.signal);
            if (!live()) break;
            const records = new Array<Buffer>(recs.length);
            for (let i = 0; i < recs.length; i++) {
              const d = recs[i]!.Data!;
              records[i] = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
            }
            const first = recs[0]!.SequenceNumber!;
            const last = recs[recs.length - 1]!.SequenceNumber!;
            lastSeq = last;
            let batchCommitted = false;
            uncommitted++;
            const batch: KinesisRecordBatch = {
              records,
              origin: shardId,
              position: null,
              shardId,
              firstSequenceNumber: first,
              lastSequenceNumber: last,
              millisBehindLatest: lag,
              commit: async () => {
                if (batchCommitted) return;
                batchCommitted = true;
                uncommitted--;
                if (committed === null || compareSequenceNumbers(last, committed) > 0) {
                  committed = last;
                  persisted = false;
                  await persist(last);
                }
                if (uncommitted === 0 && commitsSettled) commitsSettled();
              },
            };
            consumer.delivered += records.length;
            delivered += records.length;
            metrics?.recordsRead.inc({ stream: streamName, shard: shardId }, records.length);
            try {
              await onBatch(batch);
            } catch (e) {
              failure = failure ?? e;
              shardLog.error({ err: e }, 'the processor failed a batch; stopping the source');
              stop.abort();
              break;
            }
          } finally {
            slots.release();
          }
        }
        iterator = res.NextShardIterator;
        if (iterator === undefined || iterator === null) {
          shardEnded = true;
          break;
        }
        if (recs.length === 0) await sleep(idleMs, stop.signal);
      }

      // A commit the processor made but that failed to persist (DynamoDB error): one more try before leaving.
      if (!persisted && committed !== null && coordinator.owns(shardId, token)) await persist(committed);

      if (shardEnded && live()) {
        // Every delivered batch must be committed before the shard is marked done.
        if (uncommitted > 0) {
          shardLog.info({ uncommitted }, 'shard end: waiting for the processor to commit');
          await new Promise<void>((resolve) => {
            commitsSettled = resolve;
            stop.signal.addEventListener('abort', () => resolve(), { once: true });
          });
        }
        if (!live() || uncommitted > 0) return;
        let children: string[] = [];
        try {
          children = (await listShards(kinesis, streamName)).filter((s) => s.parentShardIds.includes(shardId)).map((s) => s.shardId);
        } catch (e) {
          shardLog.warn({ err: e }, 'could not list child shards');
        }
        for (let attempt = 0; attempt < 5 && live(); attempt++) {
          const outcome = await coordinator.checkpoint(shardId, token, SHARD_END, 0, children);
          if (outcome === 'ok') {
            consumer.checkpoint = SHARD_END;
            shardLog.info({ children }, 'shard reached SHARD_END');
            try {
              await syncNow();
            } catch (e) {
              shardLog.warn({ err: e }, 'shard sync after SHARD_END failed; the periodic sync will retry');
            }
            await coordinator.release(shardId, token);
            return;
          }
          if (outcome === 'lost') return;
          await sleep(500 * (attempt + 1), stop.signal);
        }
      }
    };

    const startConsumer = (held: HeldLease) => {
      if (stop.signal.aborted) return;
      const consumer: Consumer = { held, delivered: 0, lagMs: 0, checkpoint: null, done: Promise.resolve() };
      const previous = consumers.get(held.leaseKey);
      // A lease lost and re-taken: the old loop sees its token gone and exits; the new one waits for it.
      (consumer as { done: Promise<void> }).done = (previous?.done ?? Promise.resolve())
        .then(() => consume(held, consumer))
        // Stolen with a hand-off: the batch in flight is done and checkpointed, so the new owner may start.
        .then(async () => {
          if (coordinator.isDraining(held.leaseKey, held.token)) await coordinator.release(held.leaseKey, held.token);
        })
        .catch((e: unknown) => {
          log.error({ err: e, shard: held.leaseKey }, 'shard consumer crashed');
          failure = failure ?? e;
          stop.abort();
        })
        .finally(() => {
          if (consumers.get(held.leaseKey) === consumer) {
            consumers.delete(held.leaseKey);
            metrics?.millisBehindLatest.remove({ stream: streamName, shard: held.leaseKey });
          }
        });
      consumers.set(held.leaseKey, consumer);
    };

    try {
      if (stop.signal.aborted) return;
      await table.ensureExists();
      await syncNow();
      coordinator.onAcquired = startConsumer;
      await coordinator.start();
      log.info({ workerId, table: table.name, leased, leaseDurationMs, failoverBoundMs: coordinator.failoverBoundMs }, 'Kinesis source started');

      const syncLoop = () => {
        if (stop.signal.aborted) return;
        syncNow()
          .catch((e: unknown) => log.warn({ err: e }, 'shard sync failed; retrying next period'))
          .finally(() => {
            if (!stop.signal.aborted) timers.push(setTimeout(syncLoop, shardSyncIntervalMs));
          });
      };
      // Not unref'd: a worker holding no lease yet (all taken by peers) must stay alive to take one later.
      timers.push(setTimeout(syncLoop, shardSyncIntervalMs));
      if (progressMs > 0) {
        let lastCount = delivered;
        let lastAt = performance.now();
        timers.push(
          setInterval(() => {
            const now = performance.now();
            const rate = ((delivered - lastCount) * 1000) / Math.max(1, now - lastAt);
            lastCount = delivered;
            lastAt = now;
            log.info(
              {
                leasesHeld: coordinator.heldLeases().length,
                recordsPerSecond: Math.round(rate),
                shards: [...consumers.values()].map((c) => ({ shard: c.held.leaseKey, millisBehindLatest: c.lagMs, records: c.delivered, checkpoint: c.checkpoint })),
              },
              'Kinesis source progress',
            );
          }, progressMs).unref(),
        );
      }
      if (!stop.signal.aborted) await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
    } finally {
      signal.removeEventListener('abort', stopAll);
      stop.abort();
      for (const t of timers) clearTimeout(t);
      coordinator.onAcquired = () => {};
      // Stop taking but keep renewing while the consumers finish their in-flight batch, then give leases back.
      coordinator.pauseTaking();
      await Promise.allSettled([...consumers.values()].map((c) => c.done));
      await coordinator.stop();
      await coordinator.releaseAll();
      running = false;
      log.info({ workerId, recordsDelivered: delivered }, 'Kinesis source stopped; leases released');
    }
    if (failure !== null) throw failure;
  }

  return {
    streamId: opts.streamName,
    workerId,
    coordinator,
    table,
    run,
    stats() {
      return {
        leasesHeld: coordinator.heldLeases().length,
        recordsDelivered: delivered,
        shards: [...consumers.values()].map((c) => ({ shardId: c.held.leaseKey, recordsDelivered: c.delivered, millisBehindLatest: c.lagMs, checkpoint: c.checkpoint })),
      };
    },
  };
}
