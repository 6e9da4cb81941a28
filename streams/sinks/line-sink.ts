/**
 * A Sink writing one record per line to a Writable (stdout, stderr or a file), honouring
 * back-pressure: write() resolves once the stream accepted the data (after 'drain' when its buffer is full).
 * A stream error (EPIPE when the reader went away, a full disk) makes every later write report its records
 * as failed, so the run stops before checkpointing instead of crashing or dropping lines silently.
 */
import type { Writable } from 'node:stream';
import type { Sink, WriteResult } from '../sink.js';

const NEWLINE = Buffer.from('\n');

export class LineSink implements Sink {
  private error: Error | null = null;

  constructor(
    private readonly out: Writable,
    /** End the stream on close (files); stdout/stderr are left open. */
    private readonly ownsStream: boolean,
  ) {
    out.on('error', (e: Error) => {
      this.error ??= e;
    });
  }

  async write(records: readonly Buffer[]): Promise<WriteResult> {
    if (records.length === 0) return { sent: 0, failed: [] };
    if (this.error !== null) return { sent: 0, failed: [...records] };
    const parts: Buffer[] = new Array(records.length * 2);
    for (let i = 0; i < records.length; i++) {
      parts[2 * i] = records[i]!;
      parts[2 * i + 1] = NEWLINE;
    }
    if (!this.out.write(Buffer.concat(parts))) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.out.off('drain', done);
          this.out.off('error', done);
          this.out.off('close', done);
          resolve();
        };
        this.out.on('drain', done);
        this.out.on('error', done);
        this.out.on('close', done);
      });
    }
    if (this.error !== null) return { sent: 0, failed: [...records] };
    return { sent: records.length, failed: [] };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (!this.ownsStream || this.error !== null) return;
    await new Promise<void>((resolve, reject) => {
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
