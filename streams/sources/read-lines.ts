/**
 * Splits a byte stream into lines and batches them, with back-pressure (the stream is pulled only when
 * the previous batch was handled) and a time-based flush for slow live input. Shared by the file, stdin
 * and S3 sources.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { FurrowError } from '../../common/errors.js';
import type { BatchingOptions } from '../source.js';

export interface LineSink {
  /** Called per line with its 1-based line number. Return false to stop reading. */
  line(text: string, lineNo: number): void;
  /** Hands out full batches; with `all`, also the partial rest (time elapsed, or end of input). */
  flush(all: boolean): Promise<void>;
  /** Number of lines waiting since the last flush. */
  pending(): number;
}

/**
 * Reads `input` to its end, calling sink.line for every non-empty line after `skipLines`.
 * Returns the number of lines read (including skipped and empty ones).
 */
export async function readLines(input: Readable, skipLines: number, opts: BatchingOptions, sink: LineSink, signal: AbortSignal): Promise<number> {
  const decoder = new StringDecoder(opts.encoding ?? 'utf8');
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let carry = '';
  let lineNo = 0;
  const emit = (text: string): void => {
    lineNo++;
    if (lineNo <= skipLines) return;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text !== '') sink.line(text, lineNo);
  };
  const pull = (): Promise<IteratorResult<Buffer | string>> =>
    it.next().catch((e: unknown) => {
      throw new FurrowError('LOADER_INPUT', `reading the input failed: ${(e as Error).message}`, { cause: e });
    });
  let next = pull();
  // An unawaited rejection while a flush runs must not crash the process; it is awaited below.
  next.catch(() => undefined);
  // Abort (SIGTERM) must also end a wait for input that may never come (an idle pipe).
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((r) => {
    onAbort = () => r('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  for (;;) {
    if (signal.aborted) break;
    let res: IteratorResult<Buffer | string> | 'timeout' | 'aborted';
    if (sink.pending() > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), opts.maxDelayMs);
      });
      res = await Promise.race([next, timeout, aborted]);
      clearTimeout(timer);
    } else {
      res = await Promise.race([next, aborted]);
    }
    if (res === 'aborted') break;
    if (res === 'timeout') {
      await sink.flush(true);
      continue;
    }
    if (res.done) break;
    next = pull();
    next.catch(() => undefined);
    const chunk = typeof res.value === 'string' ? res.value : decoder.write(res.value);
    let start = 0;
    let nl = chunk.indexOf('\n');
    if (nl !== -1) {
      emit(carry + chunk.slice(0, nl));
      carry = '';
      start = nl + 1;
      while ((nl = chunk.indexOf('\n', start)) !== -1) {
        emit(chunk.slice(start, nl));
        start = nl + 1;
      }
    }
    carry += chunk.slice(start);
    if (sink.pending() >= opts.batchSize) await sink.flush(false);
  }
  if (!signal.aborted) {
    carry += decoder.end();
    if (carry !== '') emit(carry);
  }
  signal.removeEventListener('abort', onAbort!);
  // Lines already read are loaded before returning, also on abort (graceful stop).
  await sink.flush(true);
  if (signal.aborted) input.destroy();
  return lineNo;
}

/** A LineSink that cuts batches of at most batchSize lines, handing each to `onBatch` with its end position. */
export function batchingSink(
  batchSize: number,
  position: (lastLineNo: number) => string,
  onBatch: (lines: string[], position: string) => Promise<void>,
): LineSink {
  let lines: string[] = [];
  // Line number of every batchSize-th pending line (a chunk can hold several batches).
  let cuts: number[] = [];
  let last = 0;
  return {
    line(text: string, lineNo: number) {
      lines.push(text);
      last = lineNo;
      if (lines.length % batchSize === 0) cuts.push(lineNo);
    },
    pending: () => lines.length,
    async flush(all: boolean) {
      while (lines.length >= batchSize || (all && lines.length > 0)) {
        if (lines.length > batchSize) {
          const take = lines.slice(0, batchSize);
          const end = cuts[0]!;
          lines = lines.slice(batchSize);
          cuts = cuts.slice(1);
          await onBatch(take, position(end));
        } else {
          const take = lines;
          lines = [];
          cuts = [];
          await onBatch(take, position(last));
        }
      }
    },
  };
}
