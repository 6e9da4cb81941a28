/**
 * Where loaders read enriched TSV (or bad-row) lines from. A source hands out batches of lines, each with
 * the stream position just after its last line; a loader stores that position with the data it loaded
 * (PostgreSQL: in the same transaction) and passes it back as `from` on restart, so the source resumes
 * exactly after the last loaded line.
 *
 *   run(from) ──> [skip up to from] ──> batch{lines, position} ──await onBatch──> next batch …
 *
 * Positions are opaque strings owned by the source (file: line count; S3: `key\nline count`).
 */
export interface LineBatch {
  readonly lines: string[];
  /** Position after the last line of this batch. */
  readonly position: string;
}

export interface LineSource {
  /** Identity of the input (key of stored positions), or null when the input cannot be replayed (positions not kept). */
  readonly streamId: string | null;
  /** Reads until the input ends or `signal` aborts, awaiting onBatch before reading on (back-pressure). */
  run(from: string | null, onBatch: (batch: LineBatch) => Promise<void>, signal: AbortSignal): Promise<void>;
}

export interface BatchingOptions {
  /** Lines per batch. */
  readonly batchSize: number;
  /** A partial batch is handed out after this long without new input (live pipes). */
  readonly maxDelayMs: number;
  /**
   * 'utf8' (default): lines are text. 'latin1': lines are "binary strings", one char per input byte, so
   * UTF-8 bytes pass through untouched and cheaply (the PostgreSQL loader decodes only the JSON columns).
   */
  readonly encoding?: 'utf8' | 'latin1';
}
