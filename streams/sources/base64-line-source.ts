/**
 * A Source over text lines, one base64-encoded Thrift CollectorPayload per line (stdin or a file):
 * the format of `furrow collector`'s stdout sink and of Snowplow's stdout collector.
 *
 *   Buffer chunks ──split on \n (indexOf on the bytes, no per-line promise)──▶ line ──base64──▶ record
 *
 * A line that is not valid base64 is passed on as its raw UTF-8 bytes: it fails the Thrift loader and becomes
 * a collector_payload_format_violation whose payload (base64 of those bytes) gives the original line back.
 * CR before LF, surrounding spaces and blank lines are ignored. Batches are handed over only after the previous
 * one was processed (back-pressure: the stream is not read meanwhile); commit() is a no-op.
 * (Replacing `readline` with this splitter made the whole enrich bench ~1.3x faster: readline awaits per line.)
 */
import type { Readable } from 'node:stream';
import { NO_COMMIT, type Batch, type Source } from '../source.js';

/** Standard or URL-safe alphabet, optional padding (Node's base64 decoder takes both alphabets). */
const BASE64_LINE = /^[A-Za-z0-9+/_-]+={0,2}$/;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0b || c === 0x0c;
}

export class Base64LineSource implements Source {
  /** stdin and a growing file cannot be replayed: positions are not kept. */
  readonly streamId = null;

  constructor(
    private readonly input: Readable,
    private readonly origin: string,
    private readonly batchSize = 256,
  ) {}

  async run(onBatch: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
    let records: Buffer[] = [];
    const hand = async (): Promise<void> => {
      const batch: Batch = { records, origin: this.origin, position: null, commit: NO_COMMIT };
      records = [];
      await onBatch(batch);
    };
    const line = (buf: Buffer, start: number, end: number): void => {
      while (start < end && isSpace(buf[start]!)) start++;
      while (end > start && isSpace(buf[end - 1]!)) end--;
      if (end === start) return;
      const text = buf.toString('latin1', start, end);
      const len = end - start;
      if ((len & 3) === 0) {
        // Padded base64 (what collectors write): decode first, then compare the length with what the text
        // promises. Node's decoder skips characters outside the alphabet, and for a length of 4n every skipped
        // character (or misplaced '=') shortens the output, so equal lengths mean a valid line. This replaces a
        // regex over the whole line (~1.2 µs of ~25 µs per bench event); base64-line-source.test.ts holds the two
        // rules equal on random lines, so a Node whose decoder behaves otherwise fails the tests.
        const bytes = Buffer.from(text, 'base64');
        const pad = buf[end - 1] === 0x3d ? (buf[end - 2] === 0x3d ? 2 : 1) : 0;
        records.push(bytes.length === ((len - pad) * 3) >>> 2 ? bytes : Buffer.from(buf.subarray(start, end)));
        return;
      }
      // A length of 4n+1 is never base64 (decoding would silently drop bytes): keep such a line as raw bytes.
      const base64 = (len & 3) !== 1 && BASE64_LINE.test(text);
      records.push(base64 ? Buffer.from(text, 'base64') : Buffer.from(buf.subarray(start, end)));
    };
    const stop = (): void => {
      this.input.destroy();
    };
    signal.addEventListener('abort', stop, { once: true });
    // Bytes of a line that started in an earlier chunk.
    let pending: Buffer[] = [];
    try {
      reading: for await (const chunk of this.input as AsyncIterable<Buffer | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        let start = 0;
        for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a, start)) {
          if (pending.length > 0) {
            pending.push(buf.subarray(0, nl));
            const whole = Buffer.concat(pending);
            pending = [];
            line(whole, 0, whole.length);
          } else line(buf, start, nl);
          start = nl + 1;
          if (records.length >= this.batchSize) await hand();
          if (signal.aborted) break reading;
        }
        if (start < buf.length) pending.push(start === 0 ? buf : buf.subarray(start));
      }
      if (pending.length > 0 && !signal.aborted) {
        const whole = Buffer.concat(pending);
        line(whole, 0, whole.length);
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    }
    try {
      // Lines already read are processed, also after an abort ("finish the current batch").
      if (records.length > 0) await hand();
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }
}
