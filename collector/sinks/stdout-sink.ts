/**
 * The stdout sink (Snowplow's "printing sink"): one base64 record per line, without padding; good rows on
 * stdout, bad rows on stderr. Lines are gathered and written once per event-loop turn (one write call
 * instead of one per request); store() resolves when the stream took the write.
 */
import type { Writable } from 'node:stream';
import type { WriteResult } from '../../common/stream.js';
import type { CollectorSink } from './sink.js';

export interface StdoutSinkOptions {
  out: Writable;
  maxBytes: number;
}

interface Waiter {
  count: number;
  resolve: (r: WriteResult) => void;
}

/** Counts of one enqueue() batch share this callback. */
interface Notify {
  count: number;
  onDone: (r: WriteResult) => void;
}

const CHUNK_BYTES = 64 * 1024;

// Buffer's native per-encoding methods (what toString('base64') and write(…, 'latin1') dispatch to after
// checking their arguments), called directly on the hot path when present.
interface NativeCodecs {
  base64Slice(start: number, end: number): string;
  latin1Write(s: string, offset: number, length: number): number;
}
const native = Buffer.prototype as unknown as Partial<NativeCodecs>;
const base64: (r: Buffer) => string =
  typeof native.base64Slice === 'function' ? (r) => (r as unknown as NativeCodecs).base64Slice(0, r.length) : (r) => r.toString('base64');
const latin1: (b: Buffer, s: string, o: number, n: number) => number =
  typeof native.latin1Write === 'function' ? (b, s, o, n) => (b as unknown as NativeCodecs).latin1Write(s, o, n) : (b, s, o, n) => b.write(s, o, n, 'latin1');
const EMPTY = Buffer.alloc(0);
const NONE: Buffer[] = [];

export class StdoutSink implements CollectorSink {
  readonly collectorName = 'printingsink';
  readonly usesPartitionKey = false;
  /** append() base64-encodes each record before returning. */
  readonly consumesRecordsAtOnce = true;
  readonly maxBytes: number;
  private readonly out: Writable;
  /** Lines of the current event-loop turn, written into `chunk`; full chunks wait in `full`. */
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private full: Buffer[] = [];
  private linesBytes = 0;
  private waiters: Waiter[] = [];
  private scheduled = false;
  private inFlightBytes = 0;
  private writesInFlight = 0;
  private readonly idle: Array<() => void> = [];

  private broken: Error | null = null;

  constructor(o: StdoutSinkOptions) {
    this.out = o.out;
    this.maxBytes = o.maxBytes;
    // A closed pipe (EPIPE, `| head`) must not crash the collector: the sink turns unhealthy, writes fail.
    this.out.on('error', (e: Error) => {
      this.broken ??= e;
    });
  }

  isHealthy(): boolean {
    return this.broken === null && !this.out.destroyed;
  }

  pendingBytes(): number {
    return this.linesBytes + this.inFlightBytes + this.out.writableLength;
  }

  private append(records: readonly Buffer[]): void {
    for (const r of records) {
      // Base64 straight into a byte chunk: building one big string and converting it at write time measured
      // ~5x slower per record. Snowplow prints base64 without padding.
      const b64 = base64(r);
      let n = b64.length;
      while (n > 0 && b64.charCodeAt(n - 1) === 61) n--;
      if (this.used + n + 1 > this.chunk.length) {
        if (this.used > 0) this.full.push(this.chunk.subarray(0, this.used));
        this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, n + 1));
        this.used = 0;
      }
      latin1(this.chunk, b64, this.used, n);
      this.used += n;
      this.chunk[this.used++] = 10;
      this.linesBytes += n + 1;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeOutBound);
    }
  }

  private readonly writeOutBound = (): void => this.writeOut();

  store(records: readonly Buffer[], _partitionKey: string): Promise<WriteResult> {
    if (records.length === 0) return Promise.resolve({ sent: 0, failed: [] });
    this.append(records);
    return new Promise((resolve) => this.waiters.push({ count: records.length, resolve }));
  }

  enqueue(records: readonly Buffer[], _partitionKey: string, onDone: (r: WriteResult) => void): void {
    if (records.length === 0) return;
    this.append(records);
    // One waiter per callback per turn: the callback is shared, so count records instead of requests.
    const last = this.notify[this.notify.length - 1];
    if (last !== undefined && last.onDone === onDone) last.count += records.length;
    else this.notify.push({ count: records.length, onDone });
  }

  private notify: Notify[] = [];

  private writeOut(): void {
    this.scheduled = false;
    if (this.linesBytes === 0) return;
    if (this.used > 0) this.full.push(this.chunk.subarray(0, this.used));
    const chunk = this.full.length === 1 ? this.full[0]! : Buffer.concat(this.full);
    // The written bytes belong to the stream now: continue in the untouched rest of the same slab instead of
    // allocating a fresh 64 KiB buffer per event-loop turn (every few requests under load); append() takes a
    // new slab when the rest is too short. Less allocation; the gain was within the ±2 µs noise of
    // bench/collector.ts's CPU per request, so it is kept for being no more complex, not for a measured win.
    this.chunk = this.chunk.subarray(this.used);
    this.used = 0;
    this.full = [];
    const bytes = this.linesBytes;
    const waiters = this.waiters;
    const notify = this.notify;
    this.linesBytes = 0;
    this.waiters = [];
    this.notify = [];
    this.inFlightBytes += bytes;
    this.writesInFlight++;
    const done = (err?: Error | null): void => {
      this.inFlightBytes -= bytes;
      this.writesInFlight--;
      // On a failed write the records are reported failed (as empty placeholders: lines are not kept).
      for (const w of waiters) w.resolve(err ? { sent: 0, failed: new Array<Buffer>(w.count).fill(EMPTY) } : { sent: w.count, failed: NONE });
      // A failed write of buffered lines: report them lost (counted, logged) through the callback.
      for (const n of notify) n.onDone(err ? { sent: 0, failed: new Array<Buffer>(n.count).fill(EMPTY) } : { sent: n.count, failed: NONE });
      if (this.writesInFlight === 0 && this.linesBytes === 0) for (const f of this.idle.splice(0)) f();
    };
    try {
      this.out.write(chunk, done);
    } catch (e) {
      done(e as Error);
    }
  }

  async flush(): Promise<void> {
    if (this.linesBytes !== 0) this.writeOut();
    if (this.writesInFlight === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  async close(): Promise<void> {
    await this.flush();
  }
}
