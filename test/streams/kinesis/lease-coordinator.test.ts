/**
 * The coordinator's taker and renewer, step by step on an in-memory table with a manual clock (timers are set
 * far in the future; each test drives rounds by hand).
 */
import t from 'tap';
import { silentLogger } from '../../../common/logger.js';
import { newLease, SHARD_END, TRIM_HORIZON } from '../../../streams/kinesis/lease.js';
import { LeaseCoordinator } from '../../../streams/kinesis/lease-coordinator.js';
import type { LeaseTable } from '../../../streams/kinesis/lease-table.js';
import { createMemoryLeaseTable } from '../../../streams/kinesis/memory-lease-table.js';

const LD = 10_000;
let clock = 0;

function coordinator(table: LeaseTable, workerId: string, extra: Partial<ConstructorParameters<typeof LeaseCoordinator>[0]> = {}) {
  const c = new LeaseCoordinator({
    table,
    workerId,
    leaseDurationMs: LD,
    // Manual rounds only: the timers would fire after 1 000 s (and are unref'd).
    renewIntervalMs: 3_000,
    takerIntervalMs: 1_000_000,
    logger: silentLogger,
    metrics: null,
    now: () => clock,
    ...extra,
  });
  t.teardown(() => c.stop());
  return c;
}

async function tableWith(n: number, extra: Array<[string, string]> = []): Promise<LeaseTable> {
  const table = createMemoryLeaseTable();
  for (let i = 0; i < n; i++) await table.create(newLease({ leaseKey: `shard-${i}`, checkpoint: TRIM_HORIZON }));
  for (const [key, cp] of extra) await table.create(newLease({ leaseKey: key, checkpoint: cp }));
  return table;
}

async function counts(table: LeaseTable): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const l of await table.list()) if (l.leaseOwner && l.checkpoint !== SHARD_END) out[l.leaseOwner] = (out[l.leaseOwner] ?? 0) + 1;
  return out;
}

t.beforeEach(() => {
  clock = 1_000_000;
});

t.test('balance: a lone worker takes all; joiners steal one lease per round from the busiest; ends at <= ceil(4/3)', async (t) => {
  const table = await tableWith(4);
  const a = coordinator(table, 'A');
  await a.start();
  t.same(await counts(table), { A: 4 }, 'alone: target = 4');
  t.ok(a.heldLeases().every((h) => h.readableAt === clock), 'unowned leases are readable at once');

  const b = coordinator(table, 'B');
  await b.start();
  t.same(await counts(table), { A: 3, B: 1 }, 'B steals exactly one in its first round');
  const stolen = b.heldLeases()[0]!;
  t.equal(stolen.readableAt, Infinity, 'a stolen lease is not readable until the hand-off');
  t.equal((await table.get(stolen.leaseKey))!.checkpointOwner, 'A', 'the row names the previous owner as checkpointOwner');
  await b.takerRound();
  t.same(await counts(table), { A: 2, B: 2 }, 'and one more the next round');
  await b.takerRound();
  t.same(await counts(table), { A: 2, B: 2 }, 'balanced: no more stealing');
  t.equal(a.heldLeases().length, 4, 'A has not noticed yet');
  await a.renewRound();
  t.equal(a.heldLeases().length, 2, 'A notices on its next renewal');
  const draining = a.drainingLeases();
  t.equal(draining.length, 2, 'and drains the two stolen leases');
  t.notOk(a.isHeld(draining[0]!.leaseKey, draining[0]!.token), 'no new batch may be delivered from a draining lease');
  t.equal(await a.checkpoint(draining[0]!.leaseKey, draining[0]!.token, '777'), 'ok', 'but the batch in flight may still checkpoint');
  t.equal((await table.get(draining[0]!.leaseKey))!.checkpoint, '777');
  for (const d of draining) await a.release(d.leaseKey, d.token);
  t.equal(a.drainingLeases().length, 0);
  await b.renewRound();
  t.ok(b.heldLeases().every((h) => h.readableAt === clock), 'readable as soon as the previous owner let go (no lease-duration fence)');
  t.ok((await table.list()).every((l) => l.checkpointOwner === null), 'hand-offs finished');

  const c = coordinator(table, 'C');
  await c.start();
  t.same(Object.values(await counts(table)).sort(), [1, 1, 2], 'C (needs 2, busiest has exactly the target 2) steals one');
  await c.takerRound();
  await a.renewRound();
  await b.renewRound();
  const final = await counts(table);
  t.same(Object.values(final).sort(), [1, 1, 2], 'steady state 2/1/1');
  t.ok(Object.values(final).every((n) => n <= 2), 'nobody above ceil(4/3)');
  for (const w of [a, b, c]) await w.takerRound();
  t.same(await counts(table), final, 'stable: further rounds change nothing');
});

t.test('expiry is observer-local: a dead owner\'s lease is taken only after a full lease duration without counter change', async (t) => {
  const table = await tableWith(1);
  const a = coordinator(table, 'A');
  await a.start();
  const b = coordinator(table, 'B');
  await b.start();
  t.same(await counts(table), { A: 1 }, 'B does not steal the only lease (target 1, A holds exactly 1)');

  clock += LD - 1;
  await a.renewRound(); // A is alive: counter changes
  clock += LD - 1;
  await b.takerRound();
  t.same(await counts(table), { A: 1 }, 'renewed within the lease duration: not expired');

  await a.stop(); // A dies without releasing
  clock += LD;
  await b.takerRound();
  t.same(await counts(table), { A: 1 }, 'exactly one lease duration is not yet expired');
  clock += 1;
  await b.takerRound();
  t.same(await counts(table), { B: 1 }, 'taken after expiry');
  t.equal(b.heldLeases()[0]!.readableAt, clock, 'an expired lease is readable at once (its owner\'s window is closed)');
  await a.renewRound();
  t.equal(a.heldLeases().length, 0, 'the old owner finds out on its next renewal');
});

t.test('delivery window: isHeld needs a renewal sent within leaseDuration - renewInterval', async (t) => {
  const table = await tableWith(1);
  const a = coordinator(table, 'A');
  await a.start();
  const h = a.heldLeases()[0]!;
  t.ok(a.isHeld(h.leaseKey, h.token));
  t.notOk(a.isHeld(h.leaseKey, 'other-token'), 'a stale token is never held');
  clock += LD - 3_000;
  t.notOk(a.isHeld(h.leaseKey, h.token), 'window closed without a fresh renewal');
  t.ok(a.holds(h.leaseKey, h.token), 'but the lease is still ours');
  await a.renewRound();
  t.ok(a.isHeld(h.leaseKey, h.token), 'reopened by a renewal');
});

t.test('a hand-off the previous owner never finishes: the thief reads after one lease duration, and a late checkpoint is refused', async (t) => {
  const table = await tableWith(2);
  const a = coordinator(table, 'A');
  await a.start();
  const b = coordinator(table, 'B');
  await b.start();
  const stolen = b.heldLeases()[0]!;
  await a.renewRound();
  const d = a.drainingLeases()[0]!;
  t.equal(d.leaseKey, stolen.leaseKey);
  clock += LD - 1;
  await b.renewRound();
  t.equal(b.heldLeases()[0]!.readableAt, Infinity, 'still waiting');
  clock += 1;
  await b.renewRound();
  t.equal(b.heldLeases()[0]!.readableAt, clock, 'reads at the deadline');
  t.equal((await table.get(stolen.leaseKey))!.checkpointOwner, null, 'and cancelled the hand-off');
  t.equal(await a.checkpoint(d.leaseKey, d.token, '999'), 'lost', 'the old owner can no longer checkpoint');
  t.not((await table.get(stolen.leaseKey))!.checkpoint, '999');
});

t.test('renewals failing (DynamoDB unreachable) for a whole lease duration: the lease is dropped', async (t) => {
  const inner = await tableWith(1);
  let failing = false;
  const table: LeaseTable = {
    ...inner,
    renew: (l, o) => (failing ? Promise.reject(new Error('ECONNREFUSED')) : inner.renew(l, o)),
  };
  const a = coordinator(table, 'A');
  const lost: string[] = [];
  a.onLost = (key) => lost.push(key);
  await a.start();
  failing = true;
  clock += LD / 2;
  await a.renewRound();
  t.equal(a.heldLeases().length, 1, 'kept while within the lease duration');
  clock += LD / 2 + 1;
  await a.renewRound();
  t.equal(a.heldLeases().length, 0, 'dropped after it');
  t.same(lost, ['shard-0'], 'onLost called');
});

t.test('release: the lease goes back unowned and a peer takes it at once, without a fence', async (t) => {
  const table = await tableWith(2);
  const a = coordinator(table, 'A');
  await a.start();
  const b = coordinator(table, 'B', { maxLeasesToStealAtOneTime: 0 });
  await b.start();
  t.same(await counts(table), { A: 2 });
  await a.pauseTaking();
  await a.releaseAll();
  t.same(await counts(table), {}, 'released');
  await b.takerRound();
  t.same(await counts(table), { B: 2 }, 'taken on the next round');
  t.ok(b.heldLeases().every((h) => h.readableAt === clock));
});

t.test('SHARD_END leases are neither taken nor counted toward the target', async (t) => {
  const table = await tableWith(2, [['old-0', SHARD_END], ['old-1', SHARD_END], ['old-2', SHARD_END]]);
  const a = coordinator(table, 'A');
  await a.start();
  t.same(a.heldLeases().map((h) => h.leaseKey).sort(), ['shard-0', 'shard-1']);
  const b = coordinator(table, 'B');
  await b.start();
  t.same(await counts(table), { A: 1, B: 1 }, 'target ceil(2/2) = 1 each (5 rows, 2 active)');
});

t.test('maxLeasesForWorker caps the target', async (t) => {
  const table = await tableWith(4);
  const a = coordinator(table, 'A', { maxLeasesForWorker: 3 });
  await a.start();
  t.equal(a.heldLeases().length, 3);
});

t.test('checkpoint is refused with a stale token or after losing the lease', async (t) => {
  const table = await tableWith(1);
  const a = coordinator(table, 'A');
  await a.start();
  const h = a.heldLeases()[0]!;
  t.equal(await a.checkpoint(h.leaseKey, 'stale', '100'), 'lost');
  t.equal(await a.checkpoint(h.leaseKey, h.token, '100'), 'ok');
  t.equal((await table.get(h.leaseKey))!.checkpoint, '100');
  // Someone takes it behind A's back.
  await table.take((await table.get(h.leaseKey))!, 'B');
  t.equal(await a.checkpoint(h.leaseKey, h.token, '200'), 'lost');
  t.equal((await table.get(h.leaseKey))!.checkpoint, '100', 'checkpoint not moved by the old owner');
  t.equal(a.heldLeases().length, 0);
});

t.test('renewIntervalMs must be under half the lease duration', async (t) => {
  t.throws(() => new LeaseCoordinator({ table: createMemoryLeaseTable(), workerId: 'x', leaseDurationMs: 1000, renewIntervalMs: 600, logger: silentLogger, metrics: null }));
});
