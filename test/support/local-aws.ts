/**
 * Kinesis and DynamoDB stand-ins for lease tests: kinesalite and dynalite in this process, on 127.0.0.1,
 * ephemeral ports, in memory. Children get the endpoints (never a port guessed in advance).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient, createKinesisClient } from '../../streams/aws-clients.js';

const require = createRequire(import.meta.url);
type ServerFactory = (opts: Record<string, unknown>) => Server;
const kinesalite = require('kinesalite') as ServerFactory;
const dynalite = require('dynalite') as ServerFactory;

export interface LocalAws {
  kinesisEndpoint: string;
  dynamoEndpoint: string;
  kinesis: KinesisClient;
  dynamodb: DynamoDBClient;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startLocalAws(): Promise<LocalAws> {
  // updateStreamMs: split/merge complete after 50 ms (kinesalite's default is 500).
  const k = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 50, shardLimit: 200 });
  const d = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const kinesisEndpoint = await listen(k);
  const dynamoEndpoint = await listen(d);
  const kinesis = createKinesisClient({ endpoint: kinesisEndpoint });
  const dynamodb = createDynamoDbClient({ endpoint: dynamoEndpoint });
  return {
    kinesisEndpoint,
    dynamoEndpoint,
    kinesis,
    dynamodb,
    async close() {
      kinesis.destroy();
      dynamodb.destroy();
      await Promise.all([k, d].map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}

export async function waitActive(kinesis: KinesisClient, stream: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`stream ${stream} never became ACTIVE`);
}

export async function createStream(kinesis: KinesisClient, stream: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  await waitActive(kinesis, stream);
}

/** Puts records (batches of 500), retrying partial failures; partition keys spread them over the shards. */
export async function putRecords(kinesis: KinesisClient, stream: string, payloads: readonly string[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += 500) {
    let pending = payloads.slice(i, i + 500).map((p) => ({ Data: Buffer.from(p), PartitionKey: p.slice(0, 64) }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 20) throw new Error('PutRecords kept failing');
      const out = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending }));
      pending = pending.filter((_, j) => out.Records?.[j]?.ErrorCode !== undefined);
    }
  }
}

/** Reads every record of every shard from TRIM_HORIZON (a test oracle, not the code under test). */
export async function readAll(kinesis: KinesisClient, stream: string): Promise<string[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: string[] = [];
  for (const s of shards) {
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let i = 0; it && i < 10_000; i++) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const rec of r.Records ?? []) out.push(Buffer.from(rec.Data!).toString());
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}
