/**
 * The lease table's conditional writes (KCL 2.x semantics), against dynalite and against the in-memory table
 * (which must behave the same, since the no-lease mode runs the same coordinator on it).
 */
import t from 'tap';
import { GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbLeaseTable } from '../../../streams/kinesis/dynamodb-lease-table.js';
import { leaseFromItem, newLease, SHARD_END, TRIM_HORIZON } from '../../../streams/kinesis/lease.js';
import type { LeaseTable } from '../../../streams/kinesis/lease-table.js';
import { createMemoryLeaseTable } from '../../../streams/kinesis/memory-lease-table.js';
import { startLocalAws } from '../../support/local-aws.js';

const aws = await startLocalAws();
t.teardown(() => aws.close());

let tableNo = 0;
const kinds: Array<[string, () => Promise<LeaseTable>]> = [
  [
    'dynamodb',
    async () => {
      const table = createDynamoDbLeaseTable(aws.dynamodb, `leases-${++tableNo}`);
      await table.ensureExists();
      return table;
    },
  ],
  ['memory', async () => createMemoryLeaseTable()],
];

for (const [kind, make] of kinds) {
  t.test(`${kind}: create is conditional on the key being absent`, async (t) => {
    const table = await make();
    const lease = newLease({ leaseKey: 'shardId-000000000000', checkpoint: TRIM_HORIZON, parentShardIds: ['shardId-000000000009'] });
    t.equal(await table.create(lease), true);
    t.equal(await table.create({ ...lease, checkpoint: 'LATEST' }), false, 'second create refused');
    const got = await table.get('shardId-000000000000');
    t.equal(got?.checkpoint, TRIM_HORIZON, 'first write kept');
    t.same(got?.parentShardIds, ['shardId-000000000009']);
    t.equal(got?.leaseOwner, null);
    t.equal(await table.get('nope'), null);
  });

  t.test(`${kind}: take, renew and checkpoint need the current leaseCounter; a stale view is refused`, async (t) => {
    const table = await make();
    await table.create(newLease({ leaseKey: 's1', checkpoint: TRIM_HORIZON }));
    const l0 = (await table.get('s1'))!;
    const a = await table.take(l0, 'A');
    t.equal(a?.leaseOwner, 'A');
    t.equal(a?.leaseCounter, 1);
    t.equal(a?.ownerSwitchesSinceCheckpoint, 1, 'owner switch counted');
    t.equal(await table.take(l0, 'B'), null, 'B with the stale counter cannot take');
    const a2 = await table.renew(a!, 'A');
    t.equal(a2?.leaseCounter, 2, 'renew increments the counter');
    const b = await table.take(a2!, 'B');
    t.equal(b?.leaseOwner, 'B', 'B steals with the current counter');
    t.equal(b?.ownerSwitchesSinceCheckpoint, 2);
    t.equal(await table.renew(a2!, 'A'), null, 'A can no longer renew');
    t.equal(await table.checkpoint(a2!, 'A', '123', 0), null, 'A can no longer checkpoint');
    const cp = await table.checkpoint(b!, 'B', '4567', 0);
    t.equal(cp?.checkpoint, '4567');
    t.equal(cp?.ownerSwitchesSinceCheckpoint, 0, 'checkpoint resets owner switches');
    t.equal(cp?.leaseCounter, b!.leaseCounter + 1);
    const end = await table.checkpoint(cp!, 'B', SHARD_END, 0, ['s2', 's3']);
    t.same([...(end?.childShardIds ?? [])].sort(), ['s2', 's3'], 'child shard ids recorded at SHARD_END');
  });

  t.test(`${kind}: hand-off: a steal names the previous owner, who may checkpoint until it lets go`, async (t) => {
    const table = await make();
    await table.create(newLease({ leaseKey: 's1', checkpoint: TRIM_HORIZON }));
    const a = (await table.take((await table.get('s1'))!, 'A'))!;
    const b = (await table.take(a, 'B', 'A'))!;
    t.equal(b.leaseOwner, 'B');
    t.equal(b.checkpointOwner, 'A');
    t.equal(await table.handoffCheckpoint('s1', 'C', '1', 0), false, 'only the named previous owner');
    t.equal(await table.handoffCheckpoint('s1', 'A', '500', 0), true);
    const mid = (await table.get('s1'))!;
    t.equal(mid.checkpoint, '500');
    t.equal(mid.leaseCounter, b.leaseCounter, 'the counter is untouched: the new owner keeps renewing');
    t.ok(await table.renew(b, 'B'), 'B renews through the hand-off');
    t.equal(await table.endHandoff('s1', 'C'), false);
    t.equal(await table.endHandoff('s1', 'A'), true);
    t.equal((await table.get('s1'))!.checkpointOwner, null);
    t.equal(await table.handoffCheckpoint('s1', 'A', '600', 0), false, 'no checkpoint after letting go');
    // The new owner may also give up waiting.
    const c = (await table.take((await table.get('s1'))!, 'C', 'B'))!;
    t.equal(await table.cancelHandoff('s1', 'B'), null, 'only the owner cancels');
    t.equal((await table.cancelHandoff('s1', 'C'))?.checkpointOwner, null);
    t.equal(await table.handoffCheckpoint('s1', 'B', '700', 0), false, 'a cancelled hand-off refuses the late checkpoint');
    t.equal((await table.get('s1'))!.checkpoint, '500');
    t.ok(c);
  });

  t.test(`${kind}: evict only by the owner; it clears the owner and bumps the counter`, async (t) => {
    const table = await make();
    await table.create(newLease({ leaseKey: 's1', checkpoint: TRIM_HORIZON }));
    const a = (await table.take((await table.get('s1'))!, 'A'))!;
    t.equal(await table.evict(a, 'B'), false, 'B cannot release A\'s lease');
    t.equal(await table.evict(a, 'A'), true);
    const after = (await table.get('s1'))!;
    t.equal(after.leaseOwner, null);
    t.equal(after.leaseCounter, a.leaseCounter + 1);
    t.equal(await table.renew(a, 'A'), null, 'a released lease cannot be renewed');
  });
}

t.test('dynamodb: rows use the KCL 2.x attribute names and types; unknown attributes survive our writes', async (t) => {
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'leases-kcl');
  await table.ensureExists();
  await table.ensureExists(); // idempotent
  await table.create(newLease({ leaseKey: 'shardId-000000000001', checkpoint: TRIM_HORIZON, parentShardIds: ['shardId-000000000000'], startingHashKey: '0', endingHashKey: '99' }));
  const raw = async () => (await aws.dynamodb.send(new GetItemCommand({ TableName: 'leases-kcl', Key: { leaseKey: { S: 'shardId-000000000001' } }, ConsistentRead: true }))).Item!;
  const item = await raw();
  t.same(item.leaseKey, { S: 'shardId-000000000001' });
  t.same(item.leaseCounter, { N: '0' });
  t.same(item.checkpoint, { S: 'TRIM_HORIZON' });
  t.same(item.checkpointSubSequenceNumber, { N: '0' });
  t.same(item.ownerSwitchesSinceCheckpoint, { N: '0' });
  t.same(item.parentShardId, { SS: ['shardId-000000000000'] });
  t.same(item.startingHashKey, { S: '0' });
  t.same(item.endingHashKey, { S: '99' });
  t.notOk('leaseOwner' in item, 'unassigned = no leaseOwner attribute');

  // A KCL 3.x worker's extra attributes, and a pending checkpoint: preserved by take/renew, pending cleared by checkpoint.
  await aws.dynamodb.send(
    new UpdateItemCommand({
      TableName: 'leases-kcl',
      Key: { leaseKey: { S: 'shardId-000000000001' } },
      UpdateExpression: 'SET throughputKBps = :t, pendingCheckpoint = :p',
      ExpressionAttributeValues: { ':t': { N: '12.5' }, ':p': { S: '999' } },
    }),
  );
  const l = (await table.get('shardId-000000000001'))!;
  const taken = (await table.take(l, 'worker-1'))!;
  const renewed = (await table.renew(taken, 'worker-1'))!;
  t.same((await raw()).throughputKBps, { N: '12.5' }, 'unknown attribute kept');
  await table.checkpoint(renewed, 'worker-1', '49590338271490256608559692538361571095921575989136588898', 0);
  const after = await raw();
  t.same(after.throughputKBps, { N: '12.5' });
  t.same(after.leaseOwner, { S: 'worker-1' });
  t.same(after.checkpoint, { S: '49590338271490256608559692538361571095921575989136588898' });
  t.notOk('pendingCheckpoint' in after, 'pending checkpoint cleared by a checkpoint');
});

t.test('dynamodb: a lease row written by a KCL worker is read as-is', async (t) => {
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'leases-kcl2');
  await table.ensureExists();
  await aws.dynamodb.send(
    new PutItemCommand({
      TableName: 'leases-kcl2',
      Item: {
        leaseKey: { S: 'shardId-000000000007' },
        leaseOwner: { S: 'kcl-worker-7' },
        leaseCounter: { N: '42' },
        checkpoint: { S: '4959' },
        checkpointSubSequenceNumber: { N: '3' },
        ownerSwitchesSinceCheckpoint: { N: '1' },
        parentShardId: { SS: ['shardId-000000000001', 'shardId-000000000002'] },
        checkpointOwner: { S: 'kcl-worker-8' },
      },
    }),
  );
  const l = (await table.get('shardId-000000000007'))!;
  t.match(l, { leaseOwner: 'kcl-worker-7', leaseCounter: 42, checkpoint: '4959', checkpointSubSequenceNumber: 3, ownerSwitchesSinceCheckpoint: 1, checkpointOwner: 'kcl-worker-8' });
  t.same([...l.parentShardIds].sort(), ['shardId-000000000001', 'shardId-000000000002']);
  const taken = (await table.take(l, 'furrow'))!;
  t.equal(taken.checkpointOwner, null, 'take removes a KCL 3.x hand-off marker');
  t.equal(leaseFromItem({}), null, 'a row without leaseKey is not a lease');
});

t.test('dynamodb: an unreachable endpoint fails ensureExists with LEASE_TABLE_UNAVAILABLE', async (t) => {
  const { createDynamoDbClient } = await import('../../../streams/aws-clients.js');
  const dead = createDynamoDbClient({ endpoint: 'http://127.0.0.1:9', requestTimeoutMs: 500 });
  t.teardown(() => dead.destroy());
  await t.rejects(createDynamoDbLeaseTable(dead, 'whatever', { createTimeoutMs: 500 }).ensureExists(), { code: 'LEASE_TABLE_UNAVAILABLE' });
});
