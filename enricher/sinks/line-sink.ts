/**
 * A RecordSink writing one record per line to a Writable (stdout, stderr or a file), honouring
 * back-pressure: write() resolves once the stream accepted the data (after 'drain' when its buffer is full).
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { RecordSink, WriteResult } from '../../common/stream.js';

const NEWLINE = Buffer.from('\n');

export class LineSink implements RecordSink {
  constructor(
    private readonly out: Writable,
    /** End the stream on close (files); stdout/stderr are left open. */
    private readonly ownsStream: boolean,
  ) {}

  async write(records: readonly Buffer[]): Promise<WriteResult> {
    if (records.length === 0) return { sent: 0, failed: [] };
    const parts: Buffer[] = new Array(records.length * 2);
    for (let i = 0; i < records.length; i++) {
      parts[2 * i] = records[i]!;
      parts[2 * i + 1] = NEWLINE;
    }
    if (!this.out.write(Buffer.concat(parts))) await once(this.out, 'drain');
    return { sent: records.length, failed: [] };
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    if (!this.ownsStream) return;
    await new Promise<void>((resolve, reject) => {
      this.out.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }
}
