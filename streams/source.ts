/**
 * The one source contract of furrow: every input (stdin, a file, a directory of the lake on S3, a leased
 * Kinesis stream) hands out batches of records, with back-pressure, and says where the batch ends.
 *
 *   source.run(onBatch, signal, from?) ──Batch{records, position}──▶ stage ──write──▶ Sink(s)
 *                 ^                                                         │
 *                 └──────────── batch.commit() ◀────────────────────────────┘  (after every sink acknowledged)
 *
 * Two ways to resume after a restart, chosen by the source:
 * - the source keeps its own checkpoint (Kinesis: the lease table; commit() writes it), or
 * - the stage stores `batch.position` with what it wrote (the PostgreSQL loader: in the same transaction) and
 *   passes it back as `from`: the source skips up to there (file: line count; S3: `key\nline count`).
 * A source that can do neither (stdin without a name) has streamId null; its positions are not kept.
 *
 * Records are Buffers (enricher, forwarders) or text lines (loaders, whose sources split lines as strings).
 */
export interface Batch<R = Buffer> {
  readonly records: readonly R[];
  /** Shard, file or key the batch came from; informational. */
  readonly origin: string;
  /** Opaque position just after the last record, or null when the source keeps its own checkpoint. */
  readonly position: string | null;
  /** Marks every record of this batch as fully processed (checkpoint). Call after all sinks acknowledged. */
  commit(): Promise<void>;
}

export interface Source<R = Buffer> {
  /** Identity of the input (key of stored positions), or null when the input cannot be replayed. */
  readonly streamId: string | null;
  /**
   * Reads until the input ends or `signal` aborts, awaiting `onBatch` before reading further (back-pressure).
   * `from` is a position handed out earlier by this source: reading resumes just after it.
   */
  run(onBatch: (batch: Batch<R>) => Promise<void>, signal: AbortSignal, from?: string | null): Promise<void>;
}

/** How line sources cut batches. */
export interface BatchingOptions {
  /** Records per batch. */
  readonly batchSize: number;
  /** A partial batch is handed out after this long without new input (live pipes). */
  readonly maxDelayMs: number;
  /**
   * 'utf8' (default): lines are text. 'latin1': lines are "binary strings", one char per input byte, so
   * UTF-8 bytes pass through untouched and cheaply (the PostgreSQL loader decodes only the JSON columns).
   */
  readonly encoding?: 'utf8' | 'latin1';
}

/** commit() of a source that has nothing to checkpoint. */
export const NO_COMMIT = async (): Promise<void> => {};
