/**
 * Shard sync: one lease per shard, created when the shard may be read.
 *
 *   root shard (no parent still listed)    -> lease at the initial position (LATEST: a closed root is SHARD_END)
 *   child of a split or merge              -> lease at TRIM_HORIZON, created only once every listed parent's
 *                                             lease is at SHARD_END (KCL: children only after parents end)
 *   shard whose child already has a lease  -> none (its lease was cleaned up; never re-read a finished shard)
 *   SHARD_END lease of a shard no longer listed (past retention) -> deleted
 *
 * Creation is a conditional put, so every worker may sync at any time: the first write wins.
 */
import { ListShardsCommand, ResourceNotFoundException, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { FurrowError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { initialCheckpoint, LATEST, newLease, SHARD_END, TRIM_HORIZON, type InitialPosition, type Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';

export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly startingHashKey: string | null;
  readonly endingHashKey: string | null;
  readonly closed: boolean;
}

function toInfo(s: Shard): ShardInfo {
  const parents: string[] = [];
  if (s.ParentShardId) parents.push(s.ParentShardId);
  if (s.AdjacentParentShardId) parents.push(s.AdjacentParentShardId);
  return {
    shardId: s.ShardId!,
    parentShardIds: parents,
    startingHashKey: s.HashKeyRange?.StartingHashKey ?? null,
    endingHashKey: s.HashKeyRange?.EndingHashKey ?? null,
    closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
  };
}

/** Every shard of the stream still within retention (open and closed). */
export async function listShards(kinesis: KinesisClient, streamName: string): Promise<ShardInfo[]> {
  const out: ShardInfo[] = [];
  let next: string | undefined;
  try {
    // Bounded: 1 000 shards per page, 10 000 pages.
    for (let page = 0; page < 10_000; page++) {
      const res = await kinesis.send(new ListShardsCommand(next === undefined ? { StreamName: streamName } : { NextToken: next }));
      for (const s of res.Shards ?? []) if (s.ShardId) out.push(toInfo(s));
      next = res.NextToken;
      if (next === undefined) break;
    }
  } catch (e) {
    if (e instanceof ResourceNotFoundException || (e as Error).name === 'ResourceNotFoundException') {
      throw new FurrowError('LEASE_STREAM_NOT_FOUND', `Kinesis stream '${streamName}' does not exist`, { cause: e });
    }
    throw e;
  }
  return out;
}

/** Parents before children (shards form a DAG through split/merge). */
function topological(shards: readonly ShardInfo[]): ShardInfo[] {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const seen = new Set<string>();
  const order: ShardInfo[] = [];
  const visit = (s: ShardInfo) => {
    if (seen.has(s.shardId)) return;
    seen.add(s.shardId);
    for (const p of s.parentShardIds) {
      const ps = byId.get(p);
      if (ps) visit(ps);
    }
    order.push(s);
  };
  for (const s of shards) visit(s);
  return order;
}

/** Creates the leases that may be created now; returns how many this call created. */
export async function syncShardLeases(table: LeaseTable, shards: readonly ShardInfo[], initial: InitialPosition, log: Logger): Promise<number> {
  const byId = new Map(shards.map((s) => [s.shardId, s]));
  const leases = new Map<string, Lease>((await table.list()).map((l) => [l.leaseKey, l]));
  const children = new Map<string, string[]>();
  for (const s of shards) for (const p of s.parentShardIds) children.set(p, [...(children.get(p) ?? []), s.shardId]);
  // Shards skipped at start in LATEST mode (closed roots): their children start at the initial position too.
  const skipped = new Set<string>();
  let created = 0;

  for (const s of topological(shards)) {
    if (leases.has(s.shardId)) continue;
    if ((children.get(s.shardId) ?? []).some((c) => leases.has(c))) continue;
    const parents = s.parentShardIds.filter((p) => byId.has(p));
    let checkpoint: string;
    if (parents.length === 0 || parents.every((p) => skipped.has(p))) {
      checkpoint = initialCheckpoint(initial);
      if (checkpoint === LATEST && s.closed) {
        checkpoint = SHARD_END;
        skipped.add(s.shardId);
      }
    } else {
      if (parents.some((p) => leases.get(p)?.checkpoint !== SHARD_END)) continue; // parents still being read
      checkpoint = TRIM_HORIZON;
    }
    const lease = newLease({ leaseKey: s.shardId, checkpoint, parentShardIds: parents, startingHashKey: s.startingHashKey, endingHashKey: s.endingHashKey });
    if (await table.create(lease)) {
      created++;
      log.info({ shard: s.shardId, checkpoint, parents }, 'lease created');
    }
    leases.set(s.shardId, (await table.get(s.shardId)) ?? lease);
  }
  // Cleanup: a finished lease whose shard has left the stream (past retention) can never be read again.
  const listed = new Set(shards.map((s) => s.shardId));
  for (const l of leases.values()) {
    if (l.checkpoint === SHARD_END && !listed.has(l.leaseKey)) {
      await table.delete(l.leaseKey);
      log.info({ shard: l.leaseKey }, 'finished lease deleted: its shard is past retention');
    }
  }
  return created;
}
