/**
 * Shard sync rules on synthetic shard lists (memory table): which leases are created, when, and where they start.
 */
import t from 'tap';
import { silentLogger } from '../../../common/logger.js';
import { LATEST, newLease, SHARD_END, TRIM_HORIZON, type Lease } from '../../../streams/kinesis/lease.js';
import { createMemoryLeaseTable } from '../../../streams/kinesis/memory-lease-table.js';
import { syncShardLeases, type ShardInfo } from '../../../streams/kinesis/shard-sync.js';

const shard = (id: string, parents: string[] = [], closed = false): ShardInfo => ({ shardId: id, parentShardIds: parents, startingHashKey: '0', endingHashKey: '9', closed });

async function leases(table: ReturnType<typeof createMemoryLeaseTable>): Promise<Record<string, Lease>> {
  return Object.fromEntries((await table.list()).map((l) => [l.leaseKey, l]));
}

/** Marks a lease finished as a reader would. */
async function finish(table: ReturnType<typeof createMemoryLeaseTable>, key: string): Promise<void> {
  const l = (await table.take((await table.get(key))!, 'w'))!;
  await table.checkpoint(l, 'w', SHARD_END, 0);
}

// s0 split into s2, s3; s1 + s3 merged into s4.
const topology = [shard('s4', ['s1', 's3']), shard('s0', [], true), shard('s1', [], true), shard('s2', ['s0']), shard('s3', ['s0'], true)];

t.test('TRIM_HORIZON: roots first; children only after every parent is at SHARD_END', async (t) => {
  const table = createMemoryLeaseTable();
  t.equal(await syncShardLeases(table, topology, TRIM_HORIZON, silentLogger), 2);
  let l = await leases(table);
  t.same(Object.keys(l).sort(), ['s0', 's1'], 'only the roots');
  t.equal(l.s0!.checkpoint, TRIM_HORIZON);

  await finish(table, 's0');
  await syncShardLeases(table, topology, TRIM_HORIZON, silentLogger);
  l = await leases(table);
  t.same(Object.keys(l).sort(), ['s0', 's1', 's2', 's3'], 'split children once s0 ended');
  t.equal(l.s2!.checkpoint, TRIM_HORIZON, 'a child starts at TRIM_HORIZON');
  t.same(l.s3!.parentShardIds, ['s0']);

  await finish(table, 's3');
  await syncShardLeases(table, topology, TRIM_HORIZON, silentLogger);
  t.notOk('s4' in (await leases(table)), 'merge child waits for its second parent (s1)');
  await finish(table, 's1');
  await syncShardLeases(table, topology, TRIM_HORIZON, silentLogger);
  l = await leases(table);
  t.same([...l.s4!.parentShardIds].sort(), ['s1', 's3'], 'merge child created with both parents');
  t.equal(await syncShardLeases(table, topology, TRIM_HORIZON, silentLogger), 0, 'idempotent');
});

t.test('LATEST: closed roots are SHARD_END at once and their descendants start at LATEST', async (t) => {
  const table = createMemoryLeaseTable();
  await syncShardLeases(table, topology, LATEST, silentLogger);
  const l = await leases(table);
  t.same(Object.keys(l).sort(), ['s0', 's1', 's2', 's3', 's4']);
  t.equal(l.s0!.checkpoint, SHARD_END);
  t.equal(l.s3!.checkpoint, SHARD_END, 'closed child of a skipped root: skipped too');
  t.equal(l.s2!.checkpoint, LATEST, 'open descendant: the initial position');
  t.equal(l.s4!.checkpoint, LATEST);
});

t.test('AT_TIMESTAMP: roots get the AT_TIMESTAMP sentinel', async (t) => {
  const table = createMemoryLeaseTable();
  await syncShardLeases(table, [shard('a')], { timestamp: new Date('2026-01-01T00:00:00Z') }, silentLogger);
  t.equal((await table.get('a'))!.checkpoint, 'AT_TIMESTAMP');
});

t.test('a parent trimmed from the listing does not block; a finished shard whose child has a lease is never re-created', async (t) => {
  const table = createMemoryLeaseTable();
  // s9 is gone (retention): s2 is a root now.
  await syncShardLeases(table, [shard('s2', ['s9'])], TRIM_HORIZON, silentLogger);
  t.equal((await table.get('s2'))!.checkpoint, TRIM_HORIZON);
  t.same((await table.get('s2'))!.parentShardIds, [], 'only listed parents are recorded');
  // s0's lease was cleaned up after its child started: it must not be read again.
  await table.create(newLease({ leaseKey: 's5', checkpoint: '12345', parentShardIds: ['s0'] }));
  await syncShardLeases(table, [shard('s0', [], true), shard('s5', ['s0'])], TRIM_HORIZON, silentLogger);
  t.equal(await table.get('s0'), null);
});

t.test('a finished lease whose shard is past retention is deleted; an unfinished one is kept', async (t) => {
  const table = createMemoryLeaseTable();
  await table.create(newLease({ leaseKey: 'gone-done', checkpoint: SHARD_END }));
  await table.create(newLease({ leaseKey: 'gone-midway', checkpoint: '123' }));
  await table.create(newLease({ leaseKey: 'listed-done', checkpoint: SHARD_END }));
  await syncShardLeases(table, [shard('listed-done', [], true)], TRIM_HORIZON, silentLogger);
  t.same(Object.keys(await leases(table)).sort(), ['gone-midway', 'listed-done']);
});
