/**
 * The stdout sink (Snowplow's "printing sink"): one base64 record per line, without padding; good rows on
 * stdout, bad rows on stderr. Lines are gathered and written once per event-loop turn (one write call
 * instead of one per request); store() resolves when the stream took the write.
 *
 *   append ──record bytes + 0-2 zero bytes (to a multiple of 3)──▶ raw staging
 *   convert (writeOut, or staging full) ──one base64 call over the staging──▶ current slab, then each
 *       record's text moved into place: the zero padding's trailing `A`s dropped, `\n` after each line
 *   slab: [written…|flushed…used|free…]; full ──▶ retired (its unwritten tail goes out with the next writeOut)
 *   writeOut (setImmediate) ──▶ out.write(view of each unwritten region) ──callbacks──▶ waiters
 *   a retired slab whose writes all called back ──▶ free list (reused: no allocation, no copy per turn);
 *   the current slab, once all written, starts over at 0
 *
 * Why the staging: zero-padding a record to a multiple of 3 bytes leaves its unpadded base64 text as it is
 * and appends `AA` (n mod 3 = 1) or `A` (n mod 3 = 2). So one native call encodes a whole turn of records,
 * instead of one call and one 1.4 KB string per record (the largest cost of the sink in a --cpu-prof of GET /i).
 */
import type { Writable } from 'node:stream';
import type { WriteResult } from '../../streams/sink.js';
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
/** Raw staging converted to text once it holds this much (bounds the one base64 string per conversion). */
const STAGING_BYTES = 96 * 1024;

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
const base64: (r: Buffer, start: number, end: number) => string =
  typeof native.base64Slice === 'function'
    ? (r, start, end) => (r as unknown as NativeCodecs).base64Slice(start, end)
    : (r, start, end) => r.toString('base64', start, end);
const latin1: (b: Buffer, s: string, o: number, n: number) => number =
  typeof native.latin1Write === 'function' ? (b, s, o, n) => (b as unknown as NativeCodecs).latin1Write(s, o, n) : (b, s, o, n) => b.write(s, o, n, 'latin1');
const EMPTY = Buffer.alloc(0);
const NONE: Buffer[] = [];

export class StdoutSink implements CollectorSink {
  readonly collectorName = 'printingsink';
  readonly usesPartitionKey = false;
  /** append() copies each record before returning. */
  readonly consumesRecordsAtOnce = true;
  readonly maxBytes: number;
  private readonly out: Writable;
  private slab: Slab = newSlab(SLAB_BYTES);
  /** Retired slabs with lines not yet handed to the stream. */
  private retired: Slab[] = [];
  private readonly free: Slab[] = [];
  /** Records of this turn not yet converted: bytes padded to multiples of 3, and their unpadded lengths. */
  private staging = Buffer.allocUnsafe(STAGING_BYTES);
  private staged = 0;
  private stagedLengths: number[] = [];
  /** Bytes of the lines (text + newline) appended and not yet handed to the stream. */
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
      const n = r.length;
      const padded = n + ((3 - (n % 3)) % 3);
      if (this.staged + padded > this.staging.length) {
        this.convert();
        if (padded > this.staging.length) this.staging = Buffer.allocUnsafe(padded);
      }
      const st = this.staging;
      st.set(r, this.staged);
      for (let i = this.staged + n; i < this.staged + padded; i++) st[i] = 0;
      this.staged += padded;
      this.stagedLengths.push(n);
      this.linesBytes += Math.ceil((4 * n) / 3) + 1;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.writeOutBound);
    }
  }

  /** Staged records → lines in the current slab (see the file comment). */
  private convert(): void {
    const lengths = this.stagedLengths;
    const count = lengths.length;
    if (count === 0) return;
    const text = base64(this.staging, 0, this.staged);
    // The text goes `count` bytes past the lines' start so that moving each line down never overtakes the
    // text still to be read (a line grows by at most its newline).
    let slab = this.slab;
    if (slab.used + count + text.length > slab.buf.length) slab = this.nextSlab(count + text.length);
    const buf = slab.buf;
    let w = slab.used;
    let r = w + count;
    latin1(buf, text, r, text.length);
    for (let i = 0; i < count; i++) {
      const n = lengths[i]!;
      const keep = Math.ceil((4 * n) / 3);
      if (w !== r) buf.copyWithin(w, r, r + keep);
      buf[w + keep] = 10;
      w += keep + 1;
      r += 4 * Math.ceil(n / 3);
    }
    slab.used = w;
    this.staged = 0;
    this.stagedLengths = [];
    // A one-off large staging buffer is not kept.
    if (this.staging.length > STAGING_BYTES) this.staging = Buffer.allocUnsafe(STAGING_BYTES);
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

  write(records: readonly Buffer[], _partitionKey: string): Promise<WriteResult> {
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
    this.convert();
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
        // The current slab with everything written starts over: the next lines land in memory still in cache.
        if (slab === this.slab && slab.writing === 0 && slab.flushed === slab.used) slab.used = slab.flushed = 0;
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
