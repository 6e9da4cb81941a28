/**
 * Compressed raw records (Snowplow collector 3.6 `compression { enabled = true }`): wraps the good sink and
 * writes many CollectorPayloads per stream record, in the layout Snowplow enrich 6.1+ and furrow's enricher read
 * (formats/record-framing.ts):
 *
 *   gzip( [0x01 compression format][0x01 payload format] then per payload [int32 BE length][Thrift bytes] )
 *
 *   write/enqueue(records) ──▶ pending batch ──(next payload would pass the uncompressed budget, or
 *                                              MAX_PAYLOADS, or timeLimitMs since the first, or an awaited
 *                                              write at the end of this event-loop turn, or flush())──▶
 *   gzip in libuv's thread pool (never on the event loop) ──▶ < targetBytes? one record to the inner sink
 *                                                          └─ else split the batch in halves and retry;
 *                                                             a single payload that does not fit is written
 *                                                             as is (an uncompressed record, also readable)
 *
 * The uncompressed budget follows the ratio the last batch reached (records land just under targetBytes:
 * fewer PutRecords entries and bytes), capped at MAX_UNCOMPRESSED_BYTES. Each caller's outcome is the outcome
 * of the records its payloads went into. Bad rows are not compressed (Snowplow neither).
 */
import { randomUUID } from 'node:crypto';
import { gzip } from 'node:zlib';
import type { WriteResult } from '../../streams/sink.js';
import type { CollectorSink } from './sink.js';

/** Payloads in one compressed record; furrow's enricher refuses more than 100 000 (record-framing.ts). */
export const MAX_PAYLOADS = 20_000;
/** Uncompressed bytes in one compressed record (Snowplow enrich's default maxBytesSinglePayload; under maxBytesInBatch). */
export const MAX_UNCOMPRESSED_BYTES = 10_000_000;
/** Head room under the budget the last ratio allows (the next batch may compress worse). */
const SAFETY = 0.9;

export interface CompressingSinkOptions {
  inner: CollectorSink;
  /** gzip level (compression.gzipCompressionLevel). */
  level: number;
  /** Longest a payload waits for its batch to fill (the good stream's buffer.timeLimit). */
  timeLimitMs: number;
  /** A compressed record stays strictly under this (default: the inner sink's maxBytes, capped at 10 MB). */
  targetBytes?: number;
}

interface Ticket {
  remaining: number;
  readonly awaited: boolean;
  readonly result: WriteResult & { failed: Buffer[]; invalid: Buffer[] };
  readonly done: (r: WriteResult) => void;
}

interface Pending {
  payloads: Buffer[];
  /** The ticket of each payload (parallel to payloads). */
  owners: Ticket[];
  bytes: number;
}

const HEADER = Buffer.from([1, 1]);

function gzipAsync(data: Buffer, level: number): Promise<Buffer> {
  return new Promise((resolve, reject) => gzip(data, { level }, (err, out) => (err ? reject(err) : resolve(out))));
}

export class CompressingSink implements CollectorSink {
  readonly collectorName: string;
  readonly maxBytes: number;
  readonly usesPartitionKey = false;
  private readonly inner: CollectorSink;
  private readonly level: number;
  private readonly timeLimitMs: number;
  private readonly target: number;
  private budget: number;
  private pending: Pending = { payloads: [], owners: [], bytes: 2 };
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private compressingBytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private awaitedInFlight = 0;
  private flushWhenSettled = false;

  constructor(o: CompressingSinkOptions) {
    this.inner = o.inner;
    this.collectorName = o.inner.collectorName;
    this.maxBytes = o.inner.maxBytes;
    this.level = o.level;
    this.timeLimitMs = o.timeLimitMs;
    this.target = o.targetBytes ?? Math.min(o.inner.maxBytes - 1, MAX_UNCOMPRESSED_BYTES);
    this.budget = this.target;
  }

  isHealthy(): boolean {
    return this.inner.isHealthy();
  }

  pendingBytes(): number {
    return this.pending.bytes - 2 + this.compressingBytes + this.inner.pendingBytes();
  }

  write(records: readonly Buffer[], _partitionKey: string): Promise<WriteResult> {
    return new Promise((resolve) => this.add(records, true, resolve));
  }

  enqueue(records: readonly Buffer[], _partitionKey: string, onDone: (r: WriteResult) => void): void {
    this.add(records, false, onDone);
  }

  private add(records: readonly Buffer[], awaited: boolean, done: (r: WriteResult) => void): void {
    if (records.length === 0) {
      done({ sent: 0, failed: [] });
      return;
    }
    const ticket: Ticket = { remaining: records.length, awaited, result: { sent: 0, failed: [], invalid: [] }, done };
    for (const r of records) {
      const p = this.pending;
      if (p.payloads.length > 0 && (p.bytes + 4 + r.length > this.budget || p.payloads.length >= MAX_PAYLOADS)) this.startFlush();
      const q = this.pending;
      q.payloads.push(r);
      q.owners.push(ticket);
      q.bytes += 4 + r.length;
    }
    // Awaited (durable) writes: flushed at the end of this event-loop turn, or, while a batch is being written,
    // when it settles (group commit: requests arriving meanwhile ride together).
    if (awaited) {
      if (this.awaitedInFlight === 0) this.immediate ??= setImmediate(() => { this.immediate = null; this.startFlush(); });
      else this.flushWhenSettled = true;
    }
    else if (this.timer === null && this.pending.payloads.length > 0) this.timer = setTimeout(() => { this.timer = null; this.startFlush(); }, this.timeLimitMs);
  }

  private startFlush(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const batch = this.pending;
    if (batch.payloads.length === 0) return;
    this.pending = { payloads: [], owners: [], bytes: 2 };
    this.compressingBytes += batch.bytes;
    const job = this.writeBatch(batch).finally(() => {
      this.compressingBytes -= batch.bytes;
      this.inFlight.delete(job);
    });
    this.inFlight.add(job);
  }

  /** Compresses the batch and hands its records to the inner sink; tickets settle when the inner sink reports. */
  private async writeBatch(batch: Pending): Promise<void> {
    const awaited = batch.owners.some((t) => t.awaited);
    if (awaited) this.awaitedInFlight++;
    let records: { bytes: Buffer; count: number }[];
    try {
      records = await this.compress(batch.payloads);
    } catch {
      // zlib failing on a buffer is a bug, not input: report the payloads failed (the caller answers 503).
      records = [];
      for (let i = 0; i < batch.payloads.length; i++) {
        const t = batch.owners[i]!;
        t.result.failed.push(batch.payloads[i]!);
        if (--t.remaining === 0) t.done({ sent: t.result.sent, failed: t.result.failed });
      }
    }
    let at = 0;
    let unsettled = records.length + 1;
    const settled = (): void => {
      if (--unsettled > 0 || !awaited) return;
      this.awaitedInFlight--;
      if (this.awaitedInFlight === 0 && this.flushWhenSettled) {
        this.flushWhenSettled = false;
        this.startFlush();
      }
    };
    for (const { bytes, count } of records) {
      const from = at;
      at += count;
      const settle = (r: WriteResult): void => {
        const ok = r.sent > 0;
        const invalid = (r.invalid?.length ?? 0) > 0;
        for (let i = from; i < from + count; i++) {
          const t = batch.owners[i]!;
          if (ok) t.result.sent++;
          else if (invalid) t.result.invalid.push(batch.payloads[i]!);
          else t.result.failed.push(batch.payloads[i]!);
          if (--t.remaining === 0) t.done(t.result.invalid.length > 0 ? t.result : { sent: t.result.sent, failed: t.result.failed });
        }
        settled();
      };
      // One random partition key per compressed record (its payloads come from many requests).
      if (awaited) void this.inner.write([bytes], randomUUID()).then(settle);
      else this.inner.enqueue([bytes], randomUUID(), settle);
    }
    settled(); // the +1: every record handed over (also when there were none)
  }

  /** The batch as records under the target: one gzip member of the framed payloads, or halves of it. */
  private async compress(payloads: Buffer[]): Promise<{ bytes: Buffer; count: number }[]> {
    let raw = 2;
    for (const p of payloads) raw += 4 + p.length;
    const framed = Buffer.allocUnsafe(raw);
    HEADER.copy(framed, 0);
    let o = 2;
    for (const p of payloads) {
      framed.writeInt32BE(p.length, o);
      p.copy(framed, o + 4);
      o += 4 + p.length;
    }
    const out = await gzipAsync(framed, this.level);
    if (out.length < this.target) {
      // Next budget from this ratio; a batch sent early by the timer still tells the ratio.
      this.budget = Math.max(this.target, Math.min(MAX_UNCOMPRESSED_BYTES, Math.floor((this.target * raw * SAFETY) / out.length)));
      return [{ bytes: out, count: payloads.length }];
    }
    this.budget = Math.max(this.target, Math.floor(this.budget * 0.75));
    if (payloads.length === 1) return [{ bytes: payloads[0]!, count: 1 }];
    const half = payloads.length >> 1;
    const [a, b] = await Promise.all([this.compress(payloads.slice(0, half)), this.compress(payloads.slice(half))]);
    return [...a, ...b];
  }

  async flush(): Promise<void> {
    if (this.immediate !== null) { clearImmediate(this.immediate); this.immediate = null; }
    this.startFlush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.inner.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.inner.close();
  }
}
