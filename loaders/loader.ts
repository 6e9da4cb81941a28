/**
 * The contract of a warehouse loader and the loop that feeds it from a line Source (streams/source.ts).
 *
 *   Source<string> ──batch{records, position}──> BatchLoader.load ──> warehouse (+ position, atomically)
 *        ^                                       │
 *        └──── from = BatchLoader.position() ────┘  (on start: resume after the last loaded line)
 *
 * Every line in ends up loaded or as a bad row (data paths return outcomes; they throw only when the
 * warehouse stays unreachable, and then nothing after the stored position was acknowledged).
 */
import type { Logger } from '../common/logger.js';
import type { LoaderMetrics } from './metrics.js';
import type { Source } from '../streams/source.js';

export interface BatchOutcome {
  /** Events loaded (atomic rows). */
  readonly loaded: number;
  /** Lines that became bad rows. */
  readonly bad: number;
  /** True when the batch had already been loaded (found its position stored) and was skipped. */
  readonly skipped: boolean;
}

export interface BatchLoader {
  /** Creates schemas and tables that must exist before the first batch. */
  start(): Promise<void>;
  /** Stored position of a stream, or null. */
  position(stream: string): Promise<string | null>;
  /** Loads one batch and stores `position` for `stream` with it (stream null = positions not kept). */
  load(lines: readonly string[], stream: string | null, position: string): Promise<BatchOutcome>;
  /**
   * Optional split of load() for pipelining: prepare() does the CPU work (parse, shred, render rows) and may
   * run while the previous batch's commit() is in flight; commit() writes and stores the position.
   */
  prepare?(lines: readonly string[]): Promise<PreparedBatch>;
  commit?(prepared: PreparedBatch, stream: string | null, position: string): Promise<BatchOutcome>;
  close(): Promise<void>;
}

/** Opaque result of BatchLoader.prepare(). */
export interface PreparedBatch {
  readonly lineCount: number;
}

/** Commits in flight at once when the loader pipelines (each holds a database connection). */
const MAX_IN_FLIGHT = 2;

export interface RunTotals {
  batches: number;
  loaded: number;
  bad: number;
  skipped: number;
}

/** Feeds a loader from a source until the source ends or the signal aborts; logs progress. */
export async function runLoader(
  source: Source<string>,
  loader: BatchLoader,
  signal: AbortSignal,
  logger: Logger,
  metrics: LoaderMetrics | null = null,
  progressEveryMs = 5000,
): Promise<RunTotals> {
  const totals: RunTotals = { batches: 0, loaded: 0, bad: 0, skipped: 0 };
  const from = source.streamId === null ? null : await loader.position(source.streamId);
  if (from !== null) logger.info({ stream: source.streamId, from }, 'resuming after stored position');
  const started = Date.now();
  let lastLog = started;
  const done = (out: BatchOutcome, lineCount: number, position: string, startedAt: number): void => {
    metrics?.batch(out, lineCount, (performance.now() - startedAt) / 1000);
    totals.batches++;
    totals.loaded += out.loaded;
    totals.bad += out.bad;
    if (out.skipped) totals.skipped += lineCount;
    logger.debug({ position, loaded: out.loaded, bad: out.bad, skipped: out.skipped }, 'batch committed');
    const now = Date.now();
    if (now - lastLog >= progressEveryMs) {
      lastLog = now;
      logger.info({ ...totals, eventsPerSecond: Math.round((totals.loaded * 1000) / (now - started)) }, 'loading');
    }
  };
  // Pipelining (when the loader supports it): batch N+1 is parsed and rendered here while batches N and
  // N-1 are in the database (at most MAX_IN_FLIGHT commits; the loader keeps their commits in order).
  const inflight: Array<Promise<void>> = [];
  const prepare = loader.prepare?.bind(loader);
  const commit = loader.commit?.bind(loader);
  await source.run(
    async (batch) => {
      const t0 = performance.now();
      const lines = batch.records;
      const position = batch.position;
      if (position === null) throw new Error('runLoader: the source hands out no positions (use runKinesisLoader for Kinesis)');
      if (prepare === undefined || commit === undefined) {
        done(await loader.load(lines, source.streamId, position), lines.length, position, t0);
        return;
      }
      const prepared = await prepare(lines);
      while (inflight.length >= MAX_IN_FLIGHT) await inflight.shift();
      const p = commit(prepared, source.streamId, position).then((out) => done(out, lines.length, position, t0));
      // Keep a rejection from being reported as unhandled before the next batch (or the end) awaits it.
      p.catch(() => undefined);
      inflight.push(p);
    },
    signal,
    from,
  );
  while (inflight.length > 0) await inflight.shift();
  logger.info({ ...totals, ms: Date.now() - started }, 'input finished');
  return totals;
}
