/**
 * Sources and sinks of records, shared by the enricher, loaders and forwarders.
 *
 *   StreamSource --RecordBatch--> processor --write--> RecordSink(s)
 *                      ^                                    |
 *                      +------------ batch.commit() <-------+  (only after every sink acknowledged)
 *
 * A Kinesis source checkpoints the batch's last sequence number on commit(); a file/stdin source is a no-op.
 */
export interface RecordBatch {
  readonly records: readonly Buffer[];
  /** Shard (or file) the batch came from; informational. */
  readonly origin: string;
  /** Marks every record of this batch as fully processed (checkpoint). Call after all sinks acknowledged. */
  commit(): Promise<void>;
}

export interface StreamSource {
  /** Reads until the input ends or `signal` aborts, awaiting `onBatch` before reading further (back-pressure). */
  run(onBatch: (batch: RecordBatch) => Promise<void>, signal: AbortSignal): Promise<void>;
}

/** Outcome of a write: data paths return outcomes, they do not throw. */
export interface WriteResult {
  sent: number;
  /** Records the sink could not write even after its retries. */
  failed: Buffer[];
  /** Records the sink can never take (e.g. larger than Kinesis' per-record limit); make them bad rows. */
  invalid?: Buffer[];
}

export interface RecordSink {
  /** Writes records; resolves when they are durably accepted (or reported failed). */
  write(records: readonly Buffer[]): Promise<WriteResult>;
  /** Flushes any buffered records. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
