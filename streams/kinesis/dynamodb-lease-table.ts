/**
 * The KCL 2.x lease table in DynamoDB: hash key `leaseKey` (S), PAY_PER_REQUEST, created if absent.
 *
 * Writes are conditional UpdateItems (condition expressions; KCL uses the legacy `Expected` form, which is
 * the same check). The SDK may retry a write whose first attempt did land; the second attempt then fails its
 * condition, so on ConditionalCheckFailed the lease is re-read and a row that already shows our write
 * (owner == us, counter == expected + 1) counts as success, as KCL's renewer does.
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { sleep } from '../../common/timing.js';
import { FurrowError } from '../../common/errors.js';
import { leaseFromItem, leaseToItem, type Item, type Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';

export interface DynamoDbLeaseTableOptions {
  /** How long ensureExists() waits for a new table to become ACTIVE. Default 60 s. */
  createTimeoutMs?: number;
}

function isConditionFailure(e: unknown): boolean {
  return e instanceof ConditionalCheckFailedException || (e as Error | undefined)?.name === 'ConditionalCheckFailedException';
}

function isNotFound(e: unknown): boolean {
  return e instanceof ResourceNotFoundException || (e as Error | undefined)?.name === 'ResourceNotFoundException';
}

export function createDynamoDbLeaseTable(ddb: DynamoDBClient, tableName: string, opts: DynamoDbLeaseTableOptions = {}): LeaseTable {
  const createTimeoutMs = opts.createTimeoutMs ?? 60_000;

  /** Runs a conditional update; null when the condition failed and the re-read does not show our write. */
  async function conditional(
    input: Omit<UpdateItemCommandInput, 'TableName' | 'ReturnValues'>,
    alreadyApplied: (current: Lease) => boolean,
  ): Promise<Lease | null> {
    try {
      const out = await ddb.send(new UpdateItemCommand({ ...input, TableName: tableName, ReturnValues: 'ALL_NEW' }));
      return out.Attributes ? leaseFromItem(out.Attributes) : null;
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const key = input.Key?.leaseKey?.S;
      const current = key === undefined ? null : await get(key);
      return current !== null && alreadyApplied(current) ? current : null;
    }
  }

  async function get(leaseKey: string): Promise<Lease | null> {
    const out = await ddb.send(new GetItemCommand({ TableName: tableName, Key: { leaseKey: { S: leaseKey } }, ConsistentRead: true }));
    return out.Item ? leaseFromItem(out.Item) : null;
  }

  const key = (lease: Lease) => ({ leaseKey: { S: lease.leaseKey } });
  const n = (v: number) => ({ N: String(v) });

  return {
    name: tableName,

    async ensureExists() {
      const deadline = Date.now() + createTimeoutMs;
      try {
        for (;;) {
          let status: string | undefined;
          try {
            status = (await ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
          } catch (e) {
            if (!isNotFound(e)) throw e;
            try {
              await ddb.send(
                new CreateTableCommand({
                  TableName: tableName,
                  KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
                  AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
                  BillingMode: 'PAY_PER_REQUEST',
                }),
              );
            } catch (ce) {
              // Another worker created it first: fine.
              if (!(ce instanceof ResourceInUseException || (ce as Error).name === 'ResourceInUseException')) throw ce;
            }
          }
          if (status === 'ACTIVE' || status === 'UPDATING') return;
          if (Date.now() > deadline) throw new Error(`table status ${status ?? 'absent'} after ${createTimeoutMs} ms`);
          await sleep(200);
        }
      } catch (e) {
        throw new FurrowError('LEASE_TABLE_UNAVAILABLE', `lease table '${tableName}': ${(e as Error).message}`, { cause: e });
      }
    },

    async list() {
      const leases: Lease[] = [];
      let start: Item | undefined;
      // Bounded: a lease table holds one row per shard (a few thousand at most).
      for (let page = 0; page < 10_000; page++) {
        const out = await ddb.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const item of out.Items ?? []) {
          const lease = leaseFromItem(item);
          if (lease !== null) leases.push(lease);
        }
        start = out.LastEvaluatedKey;
        if (start === undefined) break;
      }
      return leases;
    },

    get,

    async create(lease) {
      try {
        await ddb.send(new PutItemCommand({ TableName: tableName, Item: leaseToItem(lease), ConditionExpression: 'attribute_not_exists(leaseKey)' }));
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },

    renew(lease, owner) {
      const next = lease.leaseCounter + 1;
      return conditional(
        {
          Key: key(lease),
          UpdateExpression: 'SET leaseCounter = :next',
          ConditionExpression: 'leaseCounter = :c AND leaseOwner = :o',
          ExpressionAttributeValues: { ':next': n(next), ':c': n(lease.leaseCounter), ':o': { S: owner } },
        },
        (cur) => cur.leaseOwner === owner && cur.leaseCounter === next,
      );
    },

    take(lease, owner, handoffFrom) {
      const next = lease.leaseCounter + 1;
      const switching = lease.leaseOwner !== owner;
      const handoff = handoffFrom !== undefined ? ', checkpointOwner = :from' : '';
      return conditional(
        {
          Key: key(lease),
          UpdateExpression: `SET leaseCounter = :next, leaseOwner = :o${handoff}${handoff ? '' : ' REMOVE checkpointOwner'}${switching ? ' ADD ownerSwitchesSinceCheckpoint :one' : ''}`,
          ConditionExpression: 'leaseCounter = :c',
          ExpressionAttributeValues: {
            ':next': n(next),
            ':c': n(lease.leaseCounter),
            ':o': { S: owner },
            ...(switching ? { ':one': n(1) } : {}),
            ...(handoffFrom !== undefined ? { ':from': { S: handoffFrom } } : {}),
          },
        },
        (cur) => cur.leaseOwner === owner && cur.leaseCounter === next,
      );
    },

    async evict(lease, owner) {
      const out = await conditional(
        {
          Key: key(lease),
          UpdateExpression: 'REMOVE leaseOwner, checkpointOwner ADD leaseCounter :one',
          ConditionExpression: 'attribute_exists(leaseKey) AND leaseOwner = :o',
          ExpressionAttributeValues: { ':one': n(1), ':o': { S: owner } },
        },
        (cur) => cur.leaseOwner === null && cur.leaseCounter > lease.leaseCounter,
      );
      return out !== null;
    },

    checkpoint(lease, owner, checkpoint, subSequenceNumber, childShardIds) {
      const next = lease.leaseCounter + 1;
      const values: Item = {
        ':next': n(next),
        ':c': n(lease.leaseCounter),
        ':o': { S: owner },
        ':cp': { S: checkpoint },
        ':sub': n(subSequenceNumber),
        ':zero': n(0),
      };
      let set = 'SET leaseCounter = :next, checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero';
      if (childShardIds !== undefined && childShardIds.length > 0) {
        set += ', childShardIds = :children';
        values[':children'] = { SS: [...childShardIds] };
      }
      return conditional(
        {
          Key: key(lease),
          UpdateExpression: `${set} REMOVE pendingCheckpoint, pendingCheckpointSubSequenceNumber, pendingCheckpointState`,
          ConditionExpression: 'leaseCounter = :c AND leaseOwner = :o',
          ExpressionAttributeValues: values,
        },
        (cur) => cur.leaseOwner === owner && cur.leaseCounter === next && cur.checkpoint === checkpoint,
      );
    },

    async handoffCheckpoint(leaseKey, from, checkpoint, subSequenceNumber, childShardIds) {
      const values: Item = { ':from': { S: from }, ':cp': { S: checkpoint }, ':sub': n(subSequenceNumber), ':zero': n(0) };
      let set = 'SET checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero';
      if (childShardIds !== undefined && childShardIds.length > 0) {
        set += ', childShardIds = :children';
        values[':children'] = { SS: [...childShardIds] };
      }
      const out = await conditional(
        { Key: { leaseKey: { S: leaseKey } }, UpdateExpression: set, ConditionExpression: 'checkpointOwner = :from', ExpressionAttributeValues: values },
        (cur) => cur.checkpointOwner === from && cur.checkpoint === checkpoint,
      );
      return out !== null;
    },

    async endHandoff(leaseKey, from) {
      const out = await conditional(
        { Key: { leaseKey: { S: leaseKey } }, UpdateExpression: 'REMOVE checkpointOwner', ConditionExpression: 'checkpointOwner = :from', ExpressionAttributeValues: { ':from': { S: from } } },
        (cur) => cur.checkpointOwner === null,
      );
      return out !== null;
    },

    cancelHandoff(leaseKey, owner) {
      return conditional(
        { Key: { leaseKey: { S: leaseKey } }, UpdateExpression: 'REMOVE checkpointOwner', ConditionExpression: 'leaseOwner = :o', ExpressionAttributeValues: { ':o': { S: owner } } },
        (cur) => cur.leaseOwner === owner && cur.checkpointOwner === null,
      );
    },

    async delete(leaseKey) {
      await ddb.send(new DeleteItemCommand({ TableName: tableName, Key: { leaseKey: { S: leaseKey } } }));
    },
  };
}
