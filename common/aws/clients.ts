/**
 * The one place AWS clients are built (factories; everything else receives clients injected).
 *
 * The SDK's default handler speaks HTTP/2 to Kinesis, which fails against a plain-HTTP endpoint
 * such as kinesalite or a VPC proxy, so every client gets NodeHttpHandler (HTTP/1.1, keep-alive).
 * With a custom endpoint and no credentials in the environment, dummy credentials are used
 * (kinesalite/dynalite/s3rver accept any).
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface AwsClientOptions {
  region?: string;
  /** e.g. http://127.0.0.1:4567 for kinesalite; undefined = the real AWS endpoint. */
  endpoint?: string;
  /** Max sockets per client. */
  maxSockets?: number;
  /** Request timeout in ms. */
  requestTimeoutMs?: number;
}

function common(opts: AwsClientOptions, env: NodeJS.ProcessEnv) {
  const maxSockets = opts.maxSockets ?? 64;
  const requestHandler = new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    connectionTimeout: 5_000,
  });
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const localCredentials =
    opts.endpoint !== undefined && env.AWS_ACCESS_KEY_ID === undefined
      ? { credentials: { accessKeyId: 'furrow-local', secretAccessKey: 'furrow-local' } }
      : {};
  return { region, requestHandler, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), ...localCredentials, maxAttempts: 1 };
}

/** maxAttempts is 1: callers own their retry policy (PutRecords partial failures need it anyway). */
export function createKinesisClient(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): KinesisClient {
  return new KinesisClient(common(opts, env));
}

export function createDynamoDbClient(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({ ...common(opts, env), maxAttempts: 3 });
}

export function createS3Client(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ ...common(opts, env), maxAttempts: 3, forcePathStyle: opts.endpoint !== undefined });
}
