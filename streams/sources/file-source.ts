/**
 * Lines from a file (plain or .gz) or stdin. Position = number of lines consumed, so a restarted loader
 * skips exactly the lines it already loaded. stdin is only resumable when the caller names the stream
 * (`--stream-name`): the same name must then mean the same data.
 */
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { NO_COMMIT, type BatchingOptions, type Batch, type Source } from '../source.js';
import { batchingSink, readLines } from './read-lines.js';

export class FileSource implements Source<string> {
  readonly streamId: string | null;
  private readonly open: () => Readable;

  /** `path` '-' or 'stdin' reads standard input. */
  constructor(path: string, private readonly opts: BatchingOptions, streamName?: string, stdin: Readable = process.stdin) {
    if (path === '-' || path === 'stdin') {
      this.streamId = streamName ?? null;
      this.open = () => stdin;
    } else {
      const abs = resolve(path);
      this.streamId = streamName ?? `file:${abs}`;
      this.open = () => {
        const raw = createReadStream(abs, { highWaterMark: 256 * 1024 });
        return abs.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
      };
    }
  }

  async run(onBatch: (batch: Batch<string>) => Promise<void>, signal: AbortSignal, from: string | null = null): Promise<void> {
    const origin = this.streamId ?? 'stdin';
    const skip = from === null ? 0 : Number(from);
    const sink = batchingSink(this.opts.batchSize, (n) => String(n), (records, position) => onBatch({ records, position, origin, commit: NO_COMMIT }));
    await readLines(this.open(), Number.isFinite(skip) ? skip : 0, this.opts, sink, signal);
  }
}
