/**
 * A StreamSource over text lines, one base64-encoded Thrift CollectorPayload per line (stdin or a file):
 * the format of `furrow collector`'s stdout sink and of Snowplow's stdout collector.
 *
 * A line that is not valid base64 is passed on as its raw UTF-8 bytes: it fails the Thrift loader and becomes
 * a collector_payload_format_violation whose payload (base64 of those bytes) gives the original line back.
 * Batches are handed over only after the previous one was processed (back-pressure); commit() is a no-op.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { RecordBatch, StreamSource } from '../../common/stream.js';

/** Standard or URL-safe alphabet, optional padding (Node's base64 decoder takes both alphabets). */
const BASE64_LINE = /^[A-Za-z0-9+/_-]+={0,2}$/;

export class LineSource implements StreamSource {
  constructor(
    private readonly input: Readable,
    private readonly origin: string,
    private readonly batchSize = 256,
  ) {}

  async run(onBatch: (batch: RecordBatch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const rl = createInterface({ input: this.input, crlfDelay: Infinity });
    const stop = (): void => rl.close();
    signal.addEventListener('abort', stop, { once: true });
    let records: Buffer[] = [];
    const hand = async (): Promise<void> => {
      const batch: RecordBatch = { records, origin: this.origin, commit: async () => {} };
      records = [];
      await onBatch(batch);
    };
    try {
      for await (const line of rl) {
        const t = line.trim();
        if (t.length === 0) continue;
        records.push(BASE64_LINE.test(t) ? Buffer.from(t, 'base64') : Buffer.from(line, 'utf8'));
        if (records.length >= this.batchSize) await hand();
        if (signal.aborted) break;
      }
      if (records.length > 0) await hand();
    } finally {
      signal.removeEventListener('abort', stop);
      rl.close();
    }
  }
}
