/**
 * The stdout sink (Snowplow's "printing sink"): one base64 record per line, without padding; good rows on
 * stdout, bad rows on stderr. Lines are gathered and written once per event-loop turn (one write call
 * instead of one per request); store() resolves when the stream took the write.
 *
 *   append ──base64 line──▶ current slab [written…|flushed…used|free…]
 *   slab full ──▶ retired (its unwritten tail goes out with the next writeOut) ──▶ a free slab is taken
 *   writeOut (setImmediate) ──▶ out.write(view of each unwritten region) ──callbacks──▶ waiters
 *   a retired slab whose writes all called back ──▶ free list (reused: no allocation, no copy per turn)
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

/** Lines are written into slabs of this size (a line longer than that gets a buffer of its own). */
const SLAB_BYTES = 256 * 1024;
/** Free slabs kept for reuse. */
const MAX_FREE_SLABS = 4;

interface Slab {
  buf: Buffer;
  /** Bytes filled with lines. */
  used: number;
  /** Bytes handed to the stream so far. */
  flushed: number;
  /** Writes of this slab's regions not yet called back. */
  writing: number;
  /** No longer filled (full, or a one-off buffer for a long line). */
  retired: boolean;
}

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
  private slab: Slab = newSlab(SLAB_BYTES);
  /** Retired slabs with lines not yet handed to the stream. */
  private retired: Slab[] = [];
  private readonly free: Slab[] = [];
  private linesBytes = 0;
  private waiters: Waiter[] = [];
  private notify: Notify[] = [];
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
      // Base64 straight into a slab: building one big string and converting it at write time measured
      // ~5x slower per record. Snowplow prints base64 without padding.
      const b64 = base64(r);
      let n = b64.length;
      while (n > 0 && b64.charCodeAt(n - 1) === 61) n--;
      let slab = this.slab;
      if (slab.used + n + 1 > slab.buf.length) slab = this.nextSlab(n + 1);
      latin1(slab.buf, b64, slab.used, n);
      slab.used += n;
      slab.buf[slab.used++] = 10;
      this.linesBytes += n + 1;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeOutBound);
    }
  }

  /** Retires the current slab and makes current a slab with room for `need` bytes. */
  private nextSlab(need: number): Slab {
    const old = this.slab;
    old.retired = true;
    if (old.used > old.flushed) this.retired.push(old);
    else this.release(old);
    const slab = need > SLAB_BYTES ? newSlab(need) : (this.free.pop() ?? newSlab(SLAB_BYTES));
    this.slab = slab;
    return slab;
  }

  /** A retired slab whose writes are all done goes back to the free list. */
  private release(slab: Slab): void {
    if (!slab.retired || slab.writing > 0 || slab.flushed < slab.used) return;
    if (slab.buf.length === SLAB_BYTES && this.free.length < MAX_FREE_SLABS) {
      slab.used = 0;
      slab.flushed = 0;
      slab.retired = false;
      this.free.push(slab);
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

  private writeOut(): void {
    this.scheduled = false;
    if (this.linesBytes === 0) return;
    // The regions written now: the retired slabs' tails, then the current slab's new lines.
    const slabs = this.retired;
    this.retired = [];
    if (this.slab.used > this.slab.flushed) slabs.push(this.slab);
    const bytes = this.linesBytes;
    const waiters = this.waiters;
    const notify = this.notify;
    this.linesBytes = 0;
    this.waiters = [];
    this.notify = [];
    this.inFlightBytes += bytes;
    this.writesInFlight++;
    let left = slabs.length;
    let failure: Error | null = null;
    const done = (): void => {
      this.inFlightBytes -= bytes;
      this.writesInFlight--;
      const err = failure;
      // On a failed write the records are reported failed (as empty placeholders: lines are not kept).
      for (const w of waiters) w.resolve(err ? { sent: 0, failed: new Array<Buffer>(w.count).fill(EMPTY) } : { sent: w.count, failed: NONE });
      // A failed write of buffered lines: report them lost (counted, logged) through the callback.
      for (const n of notify) n.onDone(err ? { sent: 0, failed: new Array<Buffer>(n.count).fill(EMPTY) } : { sent: n.count, failed: NONE });
      if (this.writesInFlight === 0 && this.linesBytes === 0) for (const f of this.idle.splice(0)) f();
    };
    for (const slab of slabs) {
      const region = slab.buf.subarray(slab.flushed, slab.used);
      slab.flushed = slab.used;
      slab.writing++;
      const written = (err?: Error | null): void => {
        slab.writing--;
        if (err) failure ??= err;
        this.release(slab);
        if (--left === 0) done();
      };
      try {
        this.out.write(region, written);
      } catch (e) {
        written(e as Error);
      }
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

function newSlab(bytes: number): Slab {
  return { buf: Buffer.allocUnsafe(bytes), used: 0, flushed: 0, writing: 0, retired: false };
}
