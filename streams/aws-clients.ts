/**
 * The one place AWS clients are built (factories; everything else receives clients injected).
 *
 * The SDK's default handler speaks HTTP/2 to Kinesis, which fails against a plain-HTTP endpoint
 * such as kinesalite or a VPC proxy, so every client gets NodeHttpHandler (HTTP/1.1, keep-alive).
 * Endpoint: the one passed in (a config's customEndpoint), else AWS_ENDPOINT_URL_<SERVICE> (KINESIS, DYNAMODB, S3),
 * else AWS_ENDPOINT_URL, as the AWS SDKs read them: unchanged Snowplow configs can point at local stand-ins.
 * When that endpoint is on loopback (127.0.0.0/8, localhost, [::1]) and the environment has no credentials,
 * dummy credentials are used (kinesalite/dynalite/s3rver accept any); a remote endpoint keeps the default chain.
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

type Service = 'KINESIS' | 'DYNAMODB' | 'S3';

/** The endpoint a client uses: explicit, else the service's AWS_ENDPOINT_URL_*, else AWS_ENDPOINT_URL. */
export function resolveEndpoint(service: Service, explicit: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const v = explicit ?? env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  return v === undefined || v === '' ? undefined : v;
}

/** Whether an endpoint URL points at this machine (127.0.0.0/8, localhost, ::1). */
export function isLoopbackEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

function common(service: Service, opts: AwsClientOptions, env: NodeJS.ProcessEnv) {
  const maxSockets = opts.maxSockets ?? 64;
  const requestHandler = new NodeHttpHandler({
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    connectionTimeout: 5_000,
  });
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = resolveEndpoint(service, opts.endpoint, env);
  const localCredentials =
    endpoint !== undefined && isLoopbackEndpoint(endpoint) && env.AWS_ACCESS_KEY_ID === undefined && env.AWS_PROFILE === undefined
      ? { credentials: { accessKeyId: 'furrow-local', secretAccessKey: 'furrow-local' } }
      : {};
  return { region, requestHandler, ...(endpoint !== undefined ? { endpoint } : {}), ...localCredentials, maxAttempts: 1 };
}

/** maxAttempts is 1: callers own their retry policy (PutRecords partial failures need it anyway). */
export function createKinesisClient(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): KinesisClient {
  return new KinesisClient(common('KINESIS', opts, env));
}

export function createDynamoDbClient(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  return new DynamoDBClient({ ...common('DYNAMODB', opts, env), maxAttempts: 3 });
}

export function createS3Client(opts: AwsClientOptions = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  return new S3Client({ ...common('S3', opts, env), maxAttempts: 3, forcePathStyle: resolveEndpoint('S3', opts.endpoint, env) !== undefined });
}
