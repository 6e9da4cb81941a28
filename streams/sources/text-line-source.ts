/**
 * A Source over newline-separated text (stdin or a file): each line is one record. A batch is emitted
 * when `batchSize` lines are waiting, when the input has been idle for `lingerMs` with lines waiting (so a
 * live pipe is forwarded promptly), and at the end. Reading waits for `onBatch` (back-pressure: while the
 * forwarder's queues are full, stdin is not read and the writer upstream blocks). commit() is a no-op:
 * stdin cannot be re-read, so there is nothing to checkpoint.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { NO_COMMIT, type Batch, type Source } from '../source.js';

const IDLE = Symbol('idle');

export class TextLineSource implements Source {
  /** stdin cannot be replayed: positions are not kept. */
  readonly streamId = null;

  constructor(
    private readonly open: () => Readable,
    private readonly origin: string,
    private readonly batchSize: number,
    private readonly lingerMs: number,
  ) {}

  static stdin(batchSize: number, lingerMs: number): TextLineSource {
    return new TextLineSource(() => process.stdin, 'stdin', batchSize, lingerMs);
  }

  static file(path: string, batchSize: number, lingerMs: number): TextLineSource {
    return new TextLineSource(() => createReadStream(path), path, batchSize, lingerMs);
  }

  async run(onBatch: (batch: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
    const stream = this.open();
    const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
    let pending: Buffer[] = [];
    let partial = '';
    const emit = async (n: number) => {
      const records = pending.slice(0, n);
      pending = pending.slice(n);
      await onBatch({ records, origin: this.origin, position: null, commit: NO_COMMIT });
    };
    let next: Promise<IteratorResult<Buffer | string>> | null = null;
    let idleTimer: NodeJS.Timeout | null = null;
    const aborted = abortPromise(signal); // one listener for the whole run
    try {
      for (;;) {
        if (signal.aborted) break;
        next ??= it.next();
        let r: IteratorResult<Buffer | string> | typeof IDLE;
        if (pending.length > 0) {
          const idle = new Promise<typeof IDLE>((res) => {
            idleTimer = setTimeout(() => res(IDLE), this.lingerMs);
          });
          r = await Promise.race([next, idle, aborted]);
          if (idleTimer) clearTimeout(idleTimer);
          if (signal.aborted) break;
        } else {
          r = await Promise.race([next, aborted]);
          if (r === IDLE) break;
        }
        if (r === IDLE) {
          await emit(pending.length);
          continue;
        }
        next = null;
        if (r.done) break;
        const text = partial + (typeof r.value === 'string' ? r.value : r.value.toString('utf8'));
        const lines = text.split('\n');
        partial = lines.pop()!;
        for (const l of lines) {
          const line = l.endsWith('\r') ? l.slice(0, -1) : l;
          if (line.length > 0) pending.push(Buffer.from(line, 'utf8'));
        }
        while (pending.length >= this.batchSize) await emit(this.batchSize);
      }
      if (!signal.aborted) {
        if (partial.length > 0) pending.push(Buffer.from(partial.endsWith('\r') ? partial.slice(0, -1) : partial, 'utf8'));
        while (pending.length > 0) await emit(Math.min(pending.length, this.batchSize));
      }
    } finally {
      // Also for stdin: a pipe left open upstream would otherwise keep the process alive after a stop.
      stream.destroy();
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<typeof IDLE> {
  return new Promise((res) => {
    if (signal.aborted) res(IDLE);
    else signal.addEventListener('abort', () => res(IDLE), { once: true });
  });
}
