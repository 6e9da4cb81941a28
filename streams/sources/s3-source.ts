/**
 * Lines from the data lake: every object under s3://bucket/prefix, in key order (date-partitioned keys
 * YYYY/MM/DD/HH/… sort chronologically), gunzipped when the key ends in .gz. This is how a warehouse is
 * rebuilt or back-filled from what `furrow load s3` wrote.
 *
 * Position = `<key>\n<lines consumed in that key>`; on restart, earlier keys are skipped and the key is
 * resumed after that line.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { FurrowError } from '../../common/errors.js';
import { createGunzip } from 'node:zlib';
import { NO_COMMIT, type BatchingOptions, type Batch, type Source } from '../source.js';
import { batchingSink, readLines } from './read-lines.js';

export interface S3Location {
  readonly bucket: string;
  /** Key prefix without a leading slash; '' for the whole bucket. */
  readonly prefix: string;
}

/** Parses `s3://bucket/some/prefix` (null when it is not an s3 URL). */
export function parseS3Url(url: string): S3Location | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (m === null) return null;
  return { bucket: m[1]!, prefix: m[2]! };
}

export class S3Source implements Source<string> {
  readonly streamId: string;

  constructor(private readonly s3: S3Client, private readonly loc: S3Location, private readonly opts: BatchingOptions, streamName?: string) {
    this.streamId = streamName ?? `s3://${loc.bucket}/${loc.prefix}`;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new FurrowError('LOADER_INPUT', `${what} s3://${this.loc.bucket}/${this.loc.prefix}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async listKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.send('list', () => this.s3.send(new ListObjectsV2Command({ Bucket: this.loc.bucket, Prefix: this.loc.prefix, ContinuationToken: token })));
      for (const o of res.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) keys.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys.sort();
  }

  async run(onBatch: (batch: Batch<string>) => Promise<void>, signal: AbortSignal, from: string | null = null): Promise<void> {
    let fromKey = '';
    let fromLine = 0;
    if (from !== null) {
      const nl = from.lastIndexOf('\n');
      fromKey = from.slice(0, nl);
      fromLine = Number(from.slice(nl + 1)) || 0;
    }
    for (const key of await this.listKeys()) {
      if (signal.aborted) return;
      if (key < fromKey) continue;
      const skip = key === fromKey ? fromLine : 0;
      const res = await this.send(`get ${key} from`, () => this.s3.send(new GetObjectCommand({ Bucket: this.loc.bucket, Key: key })));
      const body = res.Body as Readable;
      const input = key.endsWith('.gz') ? body.pipe(createGunzip()) : body;
      const sink = batchingSink(this.opts.batchSize, (n) => `${key}\n${n}`, (records, position) => onBatch({ records, position, origin: key, commit: NO_COMMIT }));
      await readLines(input, skip, this.opts, sink, signal);
    }
  }
}
