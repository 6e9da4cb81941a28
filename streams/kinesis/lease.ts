/**
 * One KCL 2.x lease: a row of the lease table, one per shard, never recycled.
 *
 * Attribute names and types are KCL's (DynamoDBLeaseSerializer), so an operator can read a furrow lease
 * table with the tools they use for KCL applications, and a KCL 2.x worker reads ours:
 *
 *   leaseKey S (hash key, = shardId)    leaseOwner S (absent = unassigned)   leaseCounter N
 *   checkpoint S (sequence number | TRIM_HORIZON | LATEST | AT_TIMESTAMP | SHARD_END)
 *   checkpointSubSequenceNumber N       ownerSwitchesSinceCheckpoint N
 *   parentShardId SS   childShardIds SS   startingHashKey S   endingHashKey S
 *   pendingCheckpoint S / pendingCheckpointSubSequenceNumber N / pendingCheckpointState B (read, never written)
 *   checkpointOwner S (KCL 3.x graceful hand-off: the previous owner, still allowed to checkpoint; set on steal)
 *
 * Attributes furrow does not know are never touched: every write is an UpdateItem naming only its own attributes.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export const TRIM_HORIZON = 'TRIM_HORIZON';
export const LATEST = 'LATEST';
export const AT_TIMESTAMP = 'AT_TIMESTAMP';
export const SHARD_END = 'SHARD_END';

export type InitialPosition = typeof TRIM_HORIZON | typeof LATEST | { timestamp: Date };

export interface Lease {
  readonly leaseKey: string;
  readonly leaseOwner: string | null;
  readonly leaseCounter: number;
  readonly checkpoint: string;
  readonly checkpointSubSequenceNumber: number;
  readonly ownerSwitchesSinceCheckpoint: number;
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  readonly startingHashKey: string | null;
  readonly endingHashKey: string | null;
  /** Hand-off in progress (KCL 3.x): the previous owner, still allowed to checkpoint. Such a lease is not stolen. */
  readonly checkpointOwner: string | null;
}

export type Item = Record<string, AttributeValue>;

/** Sentinel name stored in `checkpoint` for an initial position. */
export function initialCheckpoint(pos: InitialPosition): string {
  return typeof pos === 'string' ? pos : AT_TIMESTAMP;
}

export function isSentinel(checkpoint: string): boolean {
  return checkpoint === TRIM_HORIZON || checkpoint === LATEST || checkpoint === AT_TIMESTAMP || checkpoint === SHARD_END;
}

/** Compares two Kinesis sequence numbers (decimal strings of up to 128 bits). */
export function compareSequenceNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function newLease(fields: {
  leaseKey: string;
  checkpoint: string;
  parentShardIds?: readonly string[];
  startingHashKey?: string | null;
  endingHashKey?: string | null;
}): Lease {
  return {
    leaseKey: fields.leaseKey,
    leaseOwner: null,
    leaseCounter: 0,
    checkpoint: fields.checkpoint,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: fields.parentShardIds ?? [],
    childShardIds: [],
    startingHashKey: fields.startingHashKey ?? null,
    endingHashKey: fields.endingHashKey ?? null,
    checkpointOwner: null,
  };
}

function num(v: AttributeValue | undefined, dflt: number): number {
  if (v === undefined || v.N === undefined) return dflt;
  const n = Number(v.N);
  return Number.isFinite(n) ? n : dflt;
}

function str(v: AttributeValue | undefined): string | null {
  return v !== undefined && v.S !== undefined ? v.S : null;
}

/** Reads a lease row. Returns null for a row that is not a shard lease (no leaseKey). */
export function leaseFromItem(item: Item): Lease | null {
  const leaseKey = str(item.leaseKey);
  if (leaseKey === null) return null;
  return {
    leaseKey,
    leaseOwner: str(item.leaseOwner),
    leaseCounter: num(item.leaseCounter, 0),
    // A lease created by a KCL worker always has a checkpoint; a row without one starts at TRIM_HORIZON
    // (at-least-once: never skip data we cannot account for).
    checkpoint: str(item.checkpoint) ?? TRIM_HORIZON,
    checkpointSubSequenceNumber: num(item.checkpointSubSequenceNumber, 0),
    ownerSwitchesSinceCheckpoint: num(item.ownerSwitchesSinceCheckpoint, 0),
    parentShardIds: item.parentShardId?.SS ?? [],
    childShardIds: item.childShardIds?.SS ?? [],
    startingHashKey: str(item.startingHashKey),
    endingHashKey: str(item.endingHashKey),
    checkpointOwner: str(item.checkpointOwner),
  };
}

/** The full row written when a lease is created (conditional Put, `leaseKey` must not exist). */
export function leaseToItem(lease: Lease): Item {
  const item: Item = {
    leaseKey: { S: lease.leaseKey },
    leaseCounter: { N: String(lease.leaseCounter) },
    checkpoint: { S: lease.checkpoint },
    checkpointSubSequenceNumber: { N: String(lease.checkpointSubSequenceNumber) },
    ownerSwitchesSinceCheckpoint: { N: String(lease.ownerSwitchesSinceCheckpoint) },
  };
  if (lease.leaseOwner !== null) item.leaseOwner = { S: lease.leaseOwner };
  // DynamoDB string sets cannot be empty: an absent attribute means "none".
  if (lease.parentShardIds.length > 0) item.parentShardId = { SS: [...lease.parentShardIds] };
  if (lease.childShardIds.length > 0) item.childShardIds = { SS: [...lease.childShardIds] };
  if (lease.startingHashKey !== null) item.startingHashKey = { S: lease.startingHashKey };
  if (lease.endingHashKey !== null) item.endingHashKey = { S: lease.endingHashKey };
  return item;
}
