/**
 * An in-process lease table with the same conditional semantics as the DynamoDB one. Used by the no-lease
 * mode (one process reads every shard; checkpoints live in memory and are lost on exit) and by unit tests.
 */
import type { Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';

export function createMemoryLeaseTable(name = 'memory'): LeaseTable {
  const rows = new Map<string, Lease>();

  function update(lease: Lease, ok: (cur: Lease) => boolean, change: (cur: Lease) => Lease): Lease | null {
    const cur = rows.get(lease.leaseKey);
    if (cur === undefined || !ok(cur)) return null;
    const next = change(cur);
    rows.set(next.leaseKey, next);
    return next;
  }

  return {
    name,
    async ensureExists() {},
    async list() {
      return [...rows.values()];
    },
    async get(leaseKey) {
      return rows.get(leaseKey) ?? null;
    },
    async create(lease) {
      if (rows.has(lease.leaseKey)) return false;
      rows.set(lease.leaseKey, lease);
      return true;
    },
    async renew(lease, owner) {
      return update(
        lease,
        (c) => c.leaseCounter === lease.leaseCounter && c.leaseOwner === owner,
        (c) => ({ ...c, leaseCounter: c.leaseCounter + 1 }),
      );
    },
    async take(lease, owner, handoffFrom) {
      return update(
        lease,
        (c) => c.leaseCounter === lease.leaseCounter,
        (c) => ({
          ...c,
          leaseCounter: c.leaseCounter + 1,
          leaseOwner: owner,
          checkpointOwner: handoffFrom ?? null,
          ownerSwitchesSinceCheckpoint: c.ownerSwitchesSinceCheckpoint + (c.leaseOwner === owner ? 0 : 1),
        }),
      );
    },
    async evict(lease, owner) {
      return (
        update(
          lease,
          (c) => c.leaseOwner === owner,
          (c) => ({ ...c, leaseOwner: null, checkpointOwner: null, leaseCounter: c.leaseCounter + 1 }),
        ) !== null
      );
    },
    async checkpoint(lease, owner, checkpoint, subSequenceNumber, childShardIds) {
      return update(
        lease,
        (c) => c.leaseCounter === lease.leaseCounter && c.leaseOwner === owner,
        (c) => ({
          ...c,
          leaseCounter: c.leaseCounter + 1,
          checkpoint,
          checkpointSubSequenceNumber: subSequenceNumber,
          ownerSwitchesSinceCheckpoint: 0,
          childShardIds: childShardIds !== undefined && childShardIds.length > 0 ? [...childShardIds] : c.childShardIds,
        }),
      );
    },
    async handoffCheckpoint(leaseKey, from, checkpoint, subSequenceNumber, childShardIds) {
      const cur = rows.get(leaseKey);
      if (cur === undefined || cur.checkpointOwner !== from) return false;
      rows.set(leaseKey, {
        ...cur,
        checkpoint,
        checkpointSubSequenceNumber: subSequenceNumber,
        ownerSwitchesSinceCheckpoint: 0,
        childShardIds: childShardIds !== undefined && childShardIds.length > 0 ? [...childShardIds] : cur.childShardIds,
      });
      return true;
    },
    async endHandoff(leaseKey, from) {
      const cur = rows.get(leaseKey);
      if (cur === undefined || cur.checkpointOwner !== from) return false;
      rows.set(leaseKey, { ...cur, checkpointOwner: null });
      return true;
    },
    async cancelHandoff(leaseKey, owner) {
      const cur = rows.get(leaseKey);
      if (cur === undefined || cur.leaseOwner !== owner) return null;
      const next = { ...cur, checkpointOwner: null };
      rows.set(leaseKey, next);
      return next;
    },
    async delete(leaseKey) {
      rows.delete(leaseKey);
    },
  };
}
