/**
 * Inflating a compressed request body (`Content-Encoding: gzip | x-gzip | deflate | br`) under two bounds:
 * the inflated size (`dropPayloadSize`: past it ⇒ 413, the decoder stopped at once) and the process-wide
 * body budget (the decoder's window and every inflated chunk are charged: refused ⇒ 503).
 *
 *   compressed body (already charged) ──charge window──▶ zlib stream (libuv threadpool, 64 KiB chunks)
 *        each chunk: size > limit ⇒ destroy, 413 │ budget refuses ⇒ destroy, 503 │ else keep
 *        end ⇒ body (caller gives back `charged` once done) │ error ⇒ 400
 *
 * The window is charged before the decoder exists: a brotli bomb (53 bytes declaring a 16 MiB window) costs
 * 16 MiB of budget while it runs, so the number of such decoders alive at once is budget / 16 MiB, not the
 * number of requests. (Node's one-shot `brotliDecompress(buf, { maxOutputLength })` stops at the limit too,
 * but every concurrent call allocates and fills its window: that is where issue 15's 3.7 GB came from.)
 */
import { createBrotliDecompress, createGunzip, createInflate, type BrotliDecompress, type Gunzip, type Inflate } from 'node:zlib';
import type { BodyBudget } from './body-budget.js';

type Decoder = Gunzip | Inflate | BrotliDecompress;

const CREATE: Readonly<Record<string, () => Decoder>> = {
  gzip: () => createGunzip({ chunkSize: 64 * 1024 }),
  'x-gzip': () => createGunzip({ chunkSize: 64 * 1024 }),
  deflate: () => createInflate({ chunkSize: 64 * 1024 }),
  br: () => createBrotliDecompress({ chunkSize: 64 * 1024 }),
};

/** Content-Encodings the collector inflates. */
export function isSupportedEncoding(enc: string): boolean {
  return Object.hasOwn(CREATE, enc);
}

/** A decoder's own state beyond its window (zlib's inflate state ~7 KB, brotli's tables, the output chunk). */
const DECODER_STATE_BYTES = 64 * 1024;
/** zlib's (gzip, deflate) largest window. */
const ZLIB_WINDOW_BYTES = 32 * 1024;
/** Brotli's largest standard window (WBITS 24); large windows (RFC 7932 extension) are off in node. */
const BROTLI_MAX_WINDOW_BYTES = 1 << 24;

/**
 * The window a brotli stream declares in its first bits (RFC 7932 §9.1), in bytes; the largest window when
 * the stream is empty or uses the large-window marker (node's decoder then fails it anyway).
 */
export function brotliWindowBytes(b: Buffer): number {
  if (b.length === 0) return BROTLI_MAX_WINDOW_BYTES;
  const x = b[0]!;
  if ((x & 1) === 0) return 1 << 16;
  const n = (x >> 1) & 7;
  if (n !== 0) return 1 << (17 + n);
  const m = (x >> 4) & 7;
  if (m === 1) return BROTLI_MAX_WINDOW_BYTES;
  return m === 0 ? 1 << 17 : 1 << (8 + m);
}

export type InflateOutcome =
  | { readonly ok: true; readonly body: Buffer; /** Bytes of budget the caller gives back when done with body. */ readonly charged: number }
  | { readonly ok: false; readonly status: 400 | 413 | 503 };

/**
 * Inflates `input` (`encoding` must be supported). Calls `done` exactly once, asynchronously. On failure the
 * budget is already given back; on success the caller owns `charged` bytes of it.
 */
export function inflateBody(input: Buffer, encoding: string, limit: number, budget: BodyBudget, done: (o: InflateOutcome) => void): void {
  const windowBytes = (encoding === 'br' ? brotliWindowBytes(input) : ZLIB_WINDOW_BYTES) + DECODER_STATE_BYTES;
  if (!budget.take(windowBytes)) {
    queueMicrotask(() => done({ ok: false, status: 503 }));
    return;
  }
  const z = CREATE[encoding]!();
  const chunks: Buffer[] = [];
  let size = 0;
  let windowHeld = true;
  let finished = false;
  const releaseWindow = (): void => {
    if (windowHeld) {
      windowHeld = false;
      budget.give(windowBytes);
    }
  };
  const fail = (status: 400 | 413 | 503): void => {
    if (finished) return;
    finished = true;
    budget.give(size);
    z.destroy();
    done({ ok: false, status });
  };
  z.on('data', (c: Buffer) => {
    if (finished) return;
    if (size + c.length > limit) return fail(413);
    if (!budget.take(c.length)) return fail(503);
    size += c.length;
    chunks.push(c);
  });
  z.on('error', () => fail(400));
  z.on('end', () => {
    if (finished) return;
    finished = true;
    done({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), charged: size });
  });
  // The window stays charged until the stream closed (after 'end', or after destroy: a chunk still running in
  // the threadpool finishes first).
  z.on('close', releaseWindow);
  z.end(input);
}
