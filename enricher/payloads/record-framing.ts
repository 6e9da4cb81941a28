/**
 * Stream-record framing (../shared/spec/enrich.md §0 step 1).
 *
 *   record starts with 1f 8b (gzip) or 28 b5 2f fd (zstd):
 *     decompress -> [v1=0x01][v2=0x01] then repeated [int32 BE length][Thrift CollectorPayload]
 *   otherwise:
 *     the record itself is one Thrift CollectorPayload
 *
 * zstd is decoded with fzstd (pure JavaScript; Node 20's zlib has no zstd).
 */
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';

export type FramingOutcome =
  | { ok: true; payloads: Buffer[] }
  | { ok: false; kind: 'size'; actualSizeBytes: number; maximumAllowedSizeBytes: number; expectation: string }
  | { ok: false; kind: 'format'; error: string };

export interface FramingLimits {
  /** `decompression.maxBytesSinglePayload` (Snowplow default 10 000 000). */
  maxBytesSinglePayload: number;
  /** Upper bound on a whole decompressed record (zip-bomb guard). */
  maxBytesInBatch: number;
}

export function isCompressedRecord(record: Uint8Array): boolean {
  return (record.length >= 2 && record[0] === 0x1f && record[1] === 0x8b) ||
    (record.length >= 4 && record[0] === 0x28 && record[1] === 0xb5 && record[2] === 0x2f && record[3] === 0xfd);
}

export function unframeRecord(record: Buffer, limits: FramingLimits): FramingOutcome {
  if (!isCompressedRecord(record)) return { ok: true, payloads: [record] };
  let data: Buffer;
  try {
    if (record[0] === 0x1f) {
      data = gunzipSync(record, { maxOutputLength: limits.maxBytesInBatch });
    } else {
      const out = zstdDecompress(record);
      if (out.length > limits.maxBytesInBatch) {
        return { ok: false, kind: 'size', actualSizeBytes: out.length, maximumAllowedSizeBytes: limits.maxBytesInBatch, expectation: 'decompressed record exceeds the maximum batch size' };
      }
      data = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  } catch (e) {
    const msg = (e as Error).message;
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || /larger than|too large/i.test(msg)) {
      return { ok: false, kind: 'size', actualSizeBytes: record.length, maximumAllowedSizeBytes: limits.maxBytesInBatch, expectation: 'decompressed record exceeds the maximum batch size' };
    }
    return { ok: false, kind: 'format', error: `cannot decompress record: ${msg}` };
  }
  if (data.length < 2 || data[0] !== 1 || data[1] !== 1) {
    return { ok: false, kind: 'format', error: `unsupported compressed payload version ${data[0] ?? 'none'}.${data[1] ?? 'none'} (expected 1.1)` };
  }
  const payloads: Buffer[] = [];
  let o = 2;
  while (o < data.length) {
    if (o + 4 > data.length) return { ok: false, kind: 'format', error: `truncated length prefix at offset ${o}` };
    const n = data.readInt32BE(o);
    o += 4;
    if (n < 0) return { ok: false, kind: 'format', error: `negative payload length ${n} at offset ${o - 4}` };
    if (n > limits.maxBytesSinglePayload) {
      return { ok: false, kind: 'size', actualSizeBytes: n, maximumAllowedSizeBytes: limits.maxBytesSinglePayload, expectation: 'a single decompressed payload must not exceed decompression.maxBytesSinglePayload' };
    }
    if (o + n > data.length) return { ok: false, kind: 'format', error: `truncated payload: need ${n} bytes at offset ${o}, have ${data.length - o}` };
    payloads.push(data.subarray(o, o + n));
    o += n;
  }
  return { ok: true, payloads };
}
