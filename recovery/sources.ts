/**
 * Where bad rows are read from: a file (.gz ok) or stdin, a folder (every file below it, in path order), an S3
 * prefix (the lake that `furrow load s3 --purpose bad` writes), or a Kinesis bad stream read from its oldest record
 * (or a start time) up to its tip at the moment of reading — a recovery run ends, it does not follow the stream.
 *
 *   BadRowSource.run(onLines) ──lines (batches, back-pressure: the next batch waits for onLines)──▶ recoverer
 *
 * File, folder and S3 reuse the loaders' line sources (loaders/sources/).
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import { FurrowError } from '../common/errors.js';
import { FileSource } from '../streams/sources/file-source.js';
import type { Source } from '../streams/source.js';
import { parseS3Url, S3Source } from '../streams/sources/s3-source.js';

export interface BadRowSource {
  /** What is read, for logs and the summary. */
  readonly description: string;
  run(onLines: (lines: string[]) => Promise<void>, signal: AbortSignal): Promise<void>;
}

/** Lines per batch handed to the recoverer. */
export const BATCH_LINES = 500;
const BATCHING = { batchSize: BATCH_LINES, maxDelayMs: 1000 } as const;

function fromLineSources(description: string, sources: () => Source<string>[]): BadRowSource {
  return {
    description,
    async run(onLines, signal) {
      for (const s of sources()) {
        if (signal.aborted) return;
        try {
          await s.run((b) => onLines([...b.records]), signal);
        } catch (e) {
          if (e instanceof FurrowError && e.code !== 'LOADER_INPUT') throw e;
          throw new FurrowError('RECOVER_INPUT', `${description}: ${(e as Error).message}`, { cause: e });
        }
      }
    },
  };
}

/** Files below `dir`, sorted by path; bounded to `max` files. */
function filesBelow(dir: string, max = 100_000): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 32) return;
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile()) {
        if (out.length >= max) throw new FurrowError('RECOVER_INPUT', `${dir}: more than ${max} files`);
        out.push(p);
      }
    }
  };
  walk(dir, 0);
  return out;
}

/** `-` (stdin), a file, or a folder. */
export function localSource(input: string): BadRowSource {
  if (input === '-' || input === 'stdin') return fromLineSources('stdin', () => [new FileSource('-', BATCHING)]);
  const abs = resolve(input);
  let st;
  try {
    st = statSync(abs);
  } catch (e) {
    throw new FurrowError('RECOVER_INPUT', `${input}: ${(e as Error).message}`);
  }
  if (st.isDirectory()) return fromLineSources(`folder ${abs}`, () => filesBelow(abs).map((f) => new FileSource(f, BATCHING)));
  return fromLineSources(`file ${abs}`, () => [new FileSource(abs, BATCHING)]);
}

export function s3Source(url: string, s3: S3Client): BadRowSource {
  const loc = parseS3Url(url);
  if (loc === null) throw new FurrowError('CONFIG_INVALID_VALUE', `'${url}' is not s3://bucket/prefix`);
  return fromLineSources(url, () => [new S3Source(s3, loc, BATCHING)]);
}

export interface KinesisReadOptions {
  readonly streamName: string;
  /** Read records written at or after this time (AT_TIMESTAMP); null = from the oldest (TRIM_HORIZON). */
  readonly since: Date | null;
  /** GetRecords limit per call. */
  readonly limit?: number;
  /** Most GetRecords calls per shard (a bound on a stream written faster than it is read). */
  readonly maxCallsPerShard?: number;
  /** Pause after a throttled call (ms). */
  readonly throttleBackoffMs?: number;
}

/**
 * Every shard of the stream, oldest record first, until the shard's tip at the time of reading (an empty answer
 * with MillisBehindLatest 0) or its end (a closed shard). Shards are read one after the other; a parent before its
 * children (ListShards order), so resharded streams are read in order.
 */
export function kinesisSource(kinesis: KinesisClient, o: KinesisReadOptions): BadRowSource {
  const description = `kinesis stream ${o.streamName}`;
  const send = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw new FurrowError('RECOVER_INPUT', `${description}: ${what}: ${(e as Error).message}`, { cause: e });
    }
  };
  return {
    description,
    async run(onLines, signal) {
      const shards: Shard[] = [];
      let token: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const res = await send('ListShards', () => kinesis.send(new ListShardsCommand(token === undefined ? { StreamName: o.streamName } : { NextToken: token })));
        shards.push(...(res.Shards ?? []));
        token = res.NextToken;
        if (token === undefined) break;
      }
      for (const shard of shards) {
        if (signal.aborted) return;
        const it = await send('GetShardIterator', () => kinesis.send(new GetShardIteratorCommand({
          StreamName: o.streamName,
          ShardId: shard.ShardId!,
          ...(o.since === null ? { ShardIteratorType: 'TRIM_HORIZON' } : { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: o.since }),
        })));
        let iterator = it.ShardIterator;
        const maxCalls = o.maxCallsPerShard ?? 100_000;
        for (let call = 0; iterator !== undefined && iterator !== null && call < maxCalls; call++) {
          if (signal.aborted) return;
          let res;
          try {
            res = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: o.limit ?? 1000 }));
          } catch (e) {
            if ((e as { name?: string }).name === 'ProvisionedThroughputExceededException') {
              await new Promise((r) => setTimeout(r, o.throttleBackoffMs ?? 1000));
              continue;
            }
            throw new FurrowError('RECOVER_INPUT', `${description}: GetRecords on ${shard.ShardId}: ${(e as Error).message}`, { cause: e });
          }
          const records = res.Records ?? [];
          if (records.length > 0) await onLines(records.map((r) => Buffer.from(r.Data ?? new Uint8Array()).toString('utf8').replace(/\r?\n$/, '')));
          iterator = res.NextShardIterator;
          if (records.length === 0 && (res.MillisBehindLatest ?? 0) === 0) break;
        }
      }
    },
  };
}
