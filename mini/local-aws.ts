/**
 * mini's embedded AWS stand-ins: kinesalite (Kinesis) and dynalite (DynamoDB), in this process, in memory,
 * on 127.0.0.1 with ports the OS picks. The pipeline talks to them through the ordinary AWS SDK clients
 * (streams/aws-clients.ts), exactly as it would talk to AWS.
 */
import { sleep } from '../common/timing.js';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient, createKinesisClient } from '../streams/aws-clients.js';
import { FurrowError } from '../common/errors.js';

const require = createRequire(import.meta.url);
type ServerFactory = (opts: Record<string, unknown>) => Server;

export interface LocalAws {
  readonly kinesisEndpoint: string;
  readonly dynamoEndpoint: string;
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  createStream(name: string, shards: number): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: Server, what: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new FurrowError('MINI_EMBEDDED_AWS', `${what} could not listen on 127.0.0.1: ${e.message}`, { cause: e })));
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startLocalAws(): Promise<LocalAws> {
  const kinesalite = require('kinesalite') as ServerFactory;
  const dynalite = require('dynalite') as ServerFactory;
  const k = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
  const d = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  // No idle timeout on their keep-alive connections. With Node's default (5 s) the server closes a socket the
  // SDK's agent may be reusing at that moment, and the request fails with `read ECONNRESET`; the Kinesis client
  // makes one attempt (callers own retries), so a store reader's first ListShards after a slow phase 2 failed
  // and took mini down (seen under load in test/mini/network.test.ts). The only clients are this process's own.
  k.keepAliveTimeout = 0;
  d.keepAliveTimeout = 0;
  const closeServer = (s: Server) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()));
  let kinesisEndpoint: string;
  let dynamoEndpoint: string;
  try {
    [kinesisEndpoint, dynamoEndpoint] = await Promise.all([listen(k, 'kinesalite'), listen(d, 'dynalite')]);
  } catch (e) {
    await Promise.all([closeServer(k), closeServer(d)]);
    throw e;
  }
  const kinesis = createKinesisClient({ endpoint: kinesisEndpoint, region: 'us-east-1' }, {});
  const dynamodb = createDynamoDbClient({ endpoint: dynamoEndpoint, region: 'us-east-1' }, {});
  return {
    kinesisEndpoint,
    dynamoEndpoint,
    kinesis,
    dynamodb,
    async createStream(name, shards) {
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (let i = 0; i < 400; i++) {
        const s = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
        await sleep(10);
      }
      throw new FurrowError('MINI_EMBEDDED_AWS', `embedded Kinesis stream ${name} never became ACTIVE`);
    },
    async close() {
      kinesis.destroy();
      dynamodb.destroy();
      for (const s of [k, d]) s.closeAllConnections?.();
      await Promise.all([closeServer(k), closeServer(d)]);
    },
  };
}
