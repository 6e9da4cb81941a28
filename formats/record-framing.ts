/**
 * Stream-record framing (../shared/spec/enrich.md §0 step 1; the layout Snowplow collector 3.6+ writes with
 * `compression.enabled = true` and Snowplow enrich 6.1+ reads).
 *
 *   record starts with 1f 8b (gzip) or 28 b5 2f fd (zstd):
 *     inflate -> [v1=0x01][v2=0x01] then repeated [int32 BE length][Thrift CollectorPayload]
 *   otherwise:
 *     the record itself is one Thrift CollectorPayload
 *
 * Inflating is streamed and bounded (a record is untrusted: a few kilobytes of zstd RLE blocks inflate to
 * gigabytes):
 *
 *   compressed record ─slices─▶ inflater ─chunks─▶ FrameReader ─items─▶ caller (one payload at a time)
 *                                  │ stops once the output passes maxBytesInBatch (one size_violation)
 *                                  │ zstd: a frame whose window/content size passes it is refused unread
 *                              FrameReader: a payload over maxBytesSinglePayload is skipped unkept
 *                                  (one size_violation each, the others go on, as Snowplow enrich does);
 *                                  more than MAX_PAYLOADS_PER_RECORD payloads, a zero or negative length,
 *                                  a cut-off payload or unknown versions end the record (one bad row);
 *                                  payloads read before that are kept.
 *
 * zstd is decoded with fzstd (pure JavaScript; Node 20's zlib has no zstd).
 */
import { createGunzip, gunzipSync } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';

export type FramingItem =
  | { kind: 'payload'; bytes: Buffer }
  | { kind: 'size'; actualSizeBytes: number; maximumAllowedSizeBytes: number; expectation: string }
  | { kind: 'format'; error: string };

export interface FramingLimits {
  /** `decompression.maxBytesSinglePayload` (Snowplow default 10 000 000). */
  maxBytesSinglePayload: number;
  /** Upper bound on a whole decompressed record (zip-bomb guard; Snowplow's `decompression.maxBytesInBatch`). */
  maxBytesInBatch: number;
}

/**
 * Payloads one compressed record may hold. Bounds what one record can turn into (a 5-byte payload still makes
 * a bad row of hundreds); furrow's collector writes at most COLLECTOR_MAX_PAYLOADS_PER_RECORD.
 */
export const MAX_PAYLOADS_PER_RECORD = 100_000;

/** Compressed input handed to the inflater at once: bounds the work done between two yields. */
const SLICE_BYTES = 16 * 1024;

export function isCompressedRecord(record: Uint8Array): boolean {
  return (record.length >= 2 && record[0] === 0x1f && record[1] === 0x8b) ||
    (record.length >= 4 && record[0] === 0x28 && record[1] === 0xb5 && record[2] === 0x2f && record[3] === 0xfd);
}

/** Thrown inside an inflater callback to stop inflating (the output passed maxBytesInBatch). */
class Enough extends Error {}

/**
 * Parses the decompressed byte stream incrementally. push() appends the items found to `items` and returns
 * false once the record is finished (an error or a bound): the caller stops inflating.
 */
export class FrameReader {
  private header = 0; // version bytes seen
  private lenBuf = Buffer.alloc(4);
  private lenHave = 0;
  /** Bytes of the current payload still to read (-1: reading a length). */
  private need = -1;
  private parts: Buffer[] = [];
  private skipping = false;
  private count = 0;
  private total = 0;
  private stopped = false;

  constructor(private readonly limits: FramingLimits) {}

  get done(): boolean {
    return this.stopped;
  }

  push(chunk: Uint8Array, items: FramingItem[]): boolean {
    if (this.stopped) return false;
    this.total += chunk.length;
    if (this.total > this.limits.maxBytesInBatch) {
      this.stop(items, { kind: 'size', actualSizeBytes: this.total, maximumAllowedSizeBytes: this.limits.maxBytesInBatch, expectation: 'decompressed record exceeds decompression.maxBytesInBatch' });
      return false;
    }
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let o = 0;
    while (o < buf.length) {
      if (this.header < 2) {
        const v = buf[o++]!;
        if (v !== 1) {
          this.stop(items, { kind: 'format', error: `unsupported versions in compressed record header: byte ${this.header} is ${v} (expected 1.1)` });
          return false;
        }
        this.header++;
        continue;
      }
      if (this.need < 0) {
        const take = Math.min(4 - this.lenHave, buf.length - o);
        buf.copy(this.lenBuf, this.lenHave, o, o + take);
        this.lenHave += take;
        o += take;
        if (this.lenHave < 4) break;
        this.lenHave = 0;
        const n = this.lenBuf.readInt32BE(0);
        if (n <= 0) {
          this.stop(items, { kind: 'format', error: `corrupt compressed record: payload length ${n}` });
          return false;
        }
        if (++this.count > MAX_PAYLOADS_PER_RECORD) {
          this.stop(items, { kind: 'format', error: `corrupt compressed record: more than ${MAX_PAYLOADS_PER_RECORD} payloads` });
          return false;
        }
        this.need = n;
        this.skipping = n > this.limits.maxBytesSinglePayload;
        if (this.skipping) {
          items.push({ kind: 'size', actualSizeBytes: n, maximumAllowedSizeBytes: this.limits.maxBytesSinglePayload, expectation: 'a single decompressed payload must not exceed decompression.maxBytesSinglePayload' });
        }
        continue;
      }
      const take = Math.min(this.need, buf.length - o);
      if (!this.skipping) this.parts.push(buf.subarray(o, o + take));
      this.need -= take;
      o += take;
      if (this.need === 0) {
        this.need = -1;
        if (!this.skipping) {
          // Copy: the chunk may be a view of an inflater buffer that is reused.
          items.push({ kind: 'payload', bytes: Buffer.concat(this.parts) });
          this.parts = [];
        }
      }
    }
    return true;
  }

  /** The inflated stream ended (cleanly, or with `error`). */
  end(items: FramingItem[], error?: string): void {
    if (this.stopped) return;
    if (error !== undefined) this.stop(items, { kind: 'format', error: `cannot decompress record: ${error}` });
    else if (this.header < 2) this.stop(items, { kind: 'format', error: 'corrupt compressed record: no version header' });
    // A payload being skipped (already its size_violation) may end with the stream, as Snowplow's skip() does.
    else if ((this.need >= 0 && !this.skipping) || this.lenHave > 0) this.stop(items, { kind: 'format', error: 'corrupt compressed record: truncated payload' });
    this.stopped = true;
  }

  private stop(items: FramingItem[], item: FramingItem): void {
    this.stopped = true;
    this.parts = [];
    items.push(item);
  }
}

/**
 * The payloads of one stream record (and one bad-row item per failure), yielded one batch at a time so the
 * caller can process them before more is inflated.
 */
export async function* unframeRecord(record: Buffer, limits: FramingLimits): AsyncGenerator<FramingItem[]> {
  if (!isCompressedRecord(record)) {
    yield [{ kind: 'payload', bytes: record }];
    return;
  }
  if (record[0] === 0x1f) yield* gunzipFrames(record, limits);
  else yield* zstdFrames(record, limits);
}

async function* gunzipFrames(record: Buffer, limits: FramingLimits): AsyncGenerator<FramingItem[]> {
  const reader = new FrameReader(limits);
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  let error: string | undefined;
  gunzip.on('error', (e) => { error ??= e.message; });
  gunzip.end(record);
  try {
    for await (const chunk of gunzip) {
      const items: FramingItem[] = [];
      reader.push(chunk as Buffer, items);
      if (items.length > 0) yield items;
      if (reader.done) return;
    }
  } catch (e) {
    error ??= (e as Error).message;
  } finally {
    gunzip.destroy();
  }
  const items: FramingItem[] = [];
  reader.end(items, error);
  if (items.length > 0) yield items;
}

/**
 * The largest window or content size any zstd frame of `b` asks for (fzstd allocates this much before it decodes
 * a block: a hostile header must not make it allocate gigabytes), or null when the frames cannot be walked
 * (cut off, a reserved block type, not zstd). Walks frame and block headers only: O(blocks), nothing is inflated.
 */
export function zstdFrameMemory(b: Uint8Array): number | null {
  let at = 0;
  let max = 0;
  while (at < b.length) {
    if (b.length < at + 8) return null;
    const magic = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
    if ((magic & 0xfffffff0) === 0x184d2a50) { // skippable frame: 4-byte LE size, then that many bytes
      at += 8 + ((b[at + 4]! | (b[at + 5]! << 8) | (b[at + 6]! << 16) | (b[at + 7]! << 24)) >>> 0);
      continue;
    }
    if (magic !== 0xfd2fb528) return null;
    const flg = b[at + 4]!;
    const singleSegment = (flg >> 5) & 1;
    const fcsFlag = flg >> 6;
    const dictBytes = [0, 1, 2, 4][flg & 3]!;
    const fcsBytes = fcsFlag ? 1 << fcsFlag : singleSegment;
    const fcsAt = at + 5 + (singleSegment ? 0 : 1) + dictBytes;
    let mem: number;
    if (singleSegment) {
      let fcs = 0;
      for (let i = fcsBytes - 1; i >= 0; i--) fcs = fcs * 256 + (b[fcsAt + i] ?? 0);
      mem = fcsBytes === 2 ? fcs + 256 : fcs;
    } else {
      const wd = b[at + 5]!;
      const base = 2 ** (10 + (wd >> 3));
      mem = base + (base / 8) * (wd & 7);
    }
    if (mem > max) max = mem;
    at = fcsAt + fcsBytes;
    for (;;) {
      if (b.length < at + 3) return null;
      const bh = b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
      const type = (bh >> 1) & 3;
      if (type === 3) return null;
      at += 3 + (type === 1 ? 1 : bh >>> 3);
      if (bh & 1) break;
    }
    if ((flg >> 2) & 1) at += 4; // content checksum
  }
  return max;
}

/**
 * The items of one record read at once, for callers that are not on a hot path and hold the record anyway
 * (furrow recover splitting a size_violation). The same bounds as unframeRecord: gzip output stops past
 * maxBytesInBatch, zstd windows are checked before anything is inflated.
 */
export function unframeRecordSync(record: Buffer, limits: FramingLimits): FramingItem[] {
  if (!isCompressedRecord(record)) return [{ kind: 'payload', bytes: record }];
  if (record[0] !== 0x1f) return [...zstdFrames(record, limits)].flat();
  const reader = new FrameReader(limits);
  const items: FramingItem[] = [];
  let inflated: Buffer;
  try {
    inflated = gunzipSync(record, { maxOutputLength: limits.maxBytesInBatch + 1 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return [{ kind: 'size', actualSizeBytes: limits.maxBytesInBatch + 1, maximumAllowedSizeBytes: limits.maxBytesInBatch, expectation: 'decompressed record exceeds decompression.maxBytesInBatch' }];
    }
    reader.end(items, (e as Error).message);
    return items;
  }
  if (reader.push(inflated, items)) reader.end(items);
  return items;
}

function* zstdFrames(record: Buffer, limits: FramingLimits): Generator<FramingItem[]> {
  const reader = new FrameReader(limits);
  let items: FramingItem[] = [];
  const mem = zstdFrameMemory(record);
  if (mem === null) {
    yield [{ kind: 'format', error: 'cannot decompress record: corrupt or truncated zstd frame' }];
    return;
  }
  if (mem > limits.maxBytesInBatch) {
    yield [{ kind: 'size', actualSizeBytes: mem, maximumAllowedSizeBytes: limits.maxBytesInBatch, expectation: 'zstd frame window exceeds decompression.maxBytesInBatch' }];
    return;
  }
  const z = new ZstdDecompress((chunk) => {
    if (!reader.push(chunk, items)) throw new Enough();
  });
  let error: string | undefined;
  for (let o = 0; o < record.length && !reader.done; o += SLICE_BYTES) {
    const end = Math.min(record.length, o + SLICE_BYTES);
    try {
      z.push(record.subarray(o, end), end === record.length);
    } catch (e) {
      if (!(e instanceof Enough)) error = (e as Error).message;
    }
    if (items.length > 0) {
      yield items;
      items = [];
    }
    if (error !== undefined) break;
  }
  reader.end(items, error);
  if (items.length > 0) yield items;
}
