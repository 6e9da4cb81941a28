/**
 * Where leases live. Two implementations: `dynamodb-lease-table.ts` (the KCL 2.x table, shared by every worker
 * on every box) and `memory-lease-table.ts` (one process, no DynamoDB: the no-lease mode).
 *
 * Every mutation is conditional on the caller's view of the lease (KCL's optimistic concurrency on `leaseCounter`):
 * it resolves to the updated lease, or to null/false when the condition failed (someone else changed the lease).
 * Other failures (network, throttling) reject; callers decide whether to retry.
 */
import type { Lease } from './lease.js';

export interface LeaseTable {
  /** Table name (= the application name), for logs. */
  readonly name: string;
  /** Creates the table if absent and waits until it is usable. */
  ensureExists(): Promise<void>;
  /** Every lease (consistent read). */
  list(): Promise<Lease[]>;
  get(leaseKey: string): Promise<Lease | null>;
  /** Creates a lease if none exists with that key; false if one already did. */
  create(lease: Lease): Promise<boolean>;
  /** leaseCounter+1, expecting leaseCounter == lease.leaseCounter and leaseOwner == owner. */
  renew(lease: Lease, owner: string): Promise<Lease | null>;
  /**
   * Takes (or steals) the lease: leaseOwner = owner, leaseCounter+1, expecting leaseCounter == lease.leaseCounter.
   * With `handoffFrom` (a graceful steal, KCL 3.x style) checkpointOwner = handoffFrom, else checkpointOwner is removed.
   */
  take(lease: Lease, owner: string, handoffFrom?: string): Promise<Lease | null>;
  /** Releases: removes leaseOwner, leaseCounter+1, expecting leaseOwner == owner. */
  evict(lease: Lease, owner: string): Promise<boolean>;
  /** Writes a checkpoint (and child shard ids at SHARD_END), leaseCounter+1, expecting counter and owner. */
  checkpoint(lease: Lease, owner: string, checkpoint: string, subSequenceNumber: number, childShardIds?: readonly string[]): Promise<Lease | null>;
  /** The previous owner's last checkpoint during a hand-off: expects checkpointOwner == from; leaseCounter unchanged. */
  handoffCheckpoint(leaseKey: string, from: string, checkpoint: string, subSequenceNumber: number, childShardIds?: readonly string[]): Promise<boolean>;
  /** Ends a hand-off: removes checkpointOwner, expecting it == from (the previous owner is done). */
  endHandoff(leaseKey: string, from: string): Promise<boolean>;
  /** The new owner gives up waiting: removes checkpointOwner, expecting leaseOwner == owner. */
  cancelHandoff(leaseKey: string, owner: string): Promise<Lease | null>;
  delete(leaseKey: string): Promise<void>;
}
