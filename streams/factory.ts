/**
 * The factories of the stream layer: every stage (enricher, loaders, forwarders, furrow mini) builds its
 * inputs and outputs here from its parsed config, and nowhere else creates a Kinesis, DynamoDB or S3 client
 * for a stream. Clients can be injected instead (furrow mini's embedded AWS, tests).
 *
 *   input   'stdin' | '-' | path            → line source        (FileSource: positions = line count)
 *           s3://bucket/prefix               → S3 source          (positions = key + line count)
 *           Kinesis stream (+ lease table)   → leased Kinesis source (checkpoints in DynamoDB)
 *   output  Kinesis stream                   → KinesisWriter (buffered PutRecords, retried)
 *           stdout / stderr / file           → LineSink (one record a line)
 */
import { createReadStream, createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { createDynamoDbClient, createKinesisClient } from './aws-clients.js';
import { createKinesisSource, type KinesisSource, type KinesisSourceOptions } from './kinesis/kinesis-source.js';
import { KinesisWriter, type KinesisWriterOptions } from './kinesis/kinesis-writer.js';
import { LineSink } from './sinks/line-sink.js';
import type { Source } from './source.js';
import { Base64LineSource } from './sources/base64-line-source.js';
import { FileSource } from './sources/file-source.js';
import { parseS3Url, S3Source } from './sources/s3-source.js';
import { TextLineSource } from './sources/text-line-source.js';

/** Where a stream is: region and endpoint (null/absent: the SDK's defaults and AWS_ENDPOINT_URL_*). */
export interface AwsLocation {
  readonly region?: string | null;
  readonly endpoint?: string | null;
}

function aws(l: AwsLocation): { region?: string; endpoint?: string } {
  return { ...(l.region ? { region: l.region } : {}), ...(l.endpoint ? { endpoint: l.endpoint } : {}) };
}

/** A Kinesis client for a stream's location. */
export function kinesisClientFor(l: AwsLocation): KinesisClient {
  return createKinesisClient(aws(l));
}

export interface KinesisInputLocation extends AwsLocation {
  /** Keep leases and checkpoints in DynamoDB (KCL compatible); false: one process, in-memory checkpoints. */
  readonly leases: boolean;
  /** The lease table's endpoint; default `endpoint`. */
  readonly dynamodbEndpoint?: string | null;
}

export type KinesisInputOptions = Omit<KinesisSourceOptions, 'kinesis' | 'dynamodb'>;

/** The leased Kinesis source: clients built for `where`, or the injected ones. */
export function createKinesisInput(
  opts: KinesisInputOptions,
  where: KinesisInputLocation | { readonly kinesis: KinesisClient; readonly dynamodb: DynamoDBClient | null },
): KinesisSource {
  if ('kinesis' in where) return createKinesisSource({ ...opts, kinesis: where.kinesis, dynamodb: where.dynamodb });
  const dynamo = { region: where.region ?? null, endpoint: where.dynamodbEndpoint ?? where.endpoint ?? null };
  return createKinesisSource({
    ...opts,
    kinesis: kinesisClientFor(where),
    dynamodb: where.leases ? createDynamoDbClient(aws(dynamo)) : null,
  });
}

export interface LineInputConfig {
  /** 'stdin', '-', a file path (plain or .gz), or s3://bucket/prefix. */
  readonly input: string | null;
  readonly batchSize: number;
  readonly batchMaxDelayMs: number;
  /** Names a stdin input so its positions are kept (the same name must mean the same data). */
  readonly streamName: string | null;
}

/** A line source with positions: stdin, a file, or an s3:// prefix of the lake (the loaders' input). */
export function createLineInput(cfg: LineInputConfig, s3: () => S3Client, encoding: 'utf8' | 'latin1' = 'utf8'): Source<string> {
  const input = cfg.input;
  if (input === null) throw new FurrowError('CONFIG_MISSING_KEY', 'input is required');
  const opts = { batchSize: cfg.batchSize, maxDelayMs: cfg.batchMaxDelayMs, encoding };
  if (input.startsWith('s3://')) {
    const loc = parseS3Url(input);
    if (loc === null) throw new FurrowError('CONFIG_INVALID_VALUE', `input: '${input}' is not s3://bucket/prefix`);
    return new S3Source(s3(), loc, opts, cfg.streamName ?? undefined);
  }
  if (/^[a-z0-9]+:\/\//.test(input)) throw new FurrowError('CONFIG_UNSUPPORTED', `input: '${input}': only a file, '-' (stdin) or s3://… are supported`);
  return new FileSource(input, opts, cfg.streamName ?? undefined);
}

export type KinesisOutputOptions = Omit<KinesisWriterOptions, 'client' | 'logger'>;

/** A buffered Kinesis output; the client is built for `where` or injected. */
export function createKinesisOutput(o: KinesisOutputOptions, where: AwsLocation | KinesisClient, logger: Logger): KinesisWriter {
  const client = 'send' in where ? where : kinesisClientFor(where);
  return new KinesisWriter({ client, logger, ...o });
}

/** One record a line to stdout/stderr (left open on close) or appended to a file (closed on close). */
export function createLineOutput(to: 'stdout' | 'stderr' | { readonly path: string } | Writable): LineSink {
  if (to === 'stdout') return new LineSink(process.stdout, false);
  if (to === 'stderr') return new LineSink(process.stderr, false);
  if ('path' in to) return new LineSink(createWriteStream(to.path, { flags: 'a' }), true);
  return new LineSink(to, false);
}

/**
 * Collector records as base64 lines (the collector's stdout format) from 'stdin'/'-' or a file: the
 * enricher's local input. No positions: stdin cannot be replayed.
 */
export function createPayloadLineInput(input: string, batchSize?: number): Source {
  const stream = input === 'stdin' || input === '-' ? process.stdin : createReadStream(input, { highWaterMark: PAYLOAD_FILE_CHUNK });
  return new Base64LineSource(stream, input, batchSize);
}

/**
 * Read size of a payload-lines file: 1 MiB instead of the stream default of 64 KiB. Fewer reads and fewer lines cut
 * in two by a chunk edge (bench:enrich: ~5 % more events/s; a readline-based reader is slower with big chunks, the
 * Base64LineSource splitter is not).
 */
export const PAYLOAD_FILE_CHUNK = 1024 * 1024;

/** Text lines as records (the forwarders' local input); `path` null reads stdin. No positions. */
export function createTextLineInput(path: string | null, batchSize: number, lingerMs: number): Source {
  return path === null ? TextLineSource.stdin(batchSize, lingerMs) : TextLineSource.file(path, batchSize, lingerMs);
}
