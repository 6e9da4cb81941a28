/**
 * The one sink contract of furrow: records out, an outcome back (data paths return outcomes, they do not throw).
 *
 *   sink.write(records, partitionKey?) ──▶ buffer ──▶ stream / file / stdout
 *        resolves with { sent, failed, invalid } once the records were durably accepted or given up on
 *
 * Implementations: streams/kinesis/kinesis-writer.ts (Kinesis PutRecords), streams/sinks/line-sink.ts (one
 * record per line to a Writable); the collector's sinks add its health and back-pressure rules
 * (collector/sinks/sink.ts).
 */
export interface WriteResult {
  sent: number;
  /** Records the sink could not write even after its retries. */
  failed: Buffer[];
  /** Records the sink can never take (e.g. larger than Kinesis' per-record limit); make them bad rows. */
  invalid?: Buffer[];
}

export interface Sink {
  /** Writes records; resolves when they are durably accepted (or reported failed). Never rejects. */
  write(records: readonly Buffer[], partitionKey?: string): Promise<WriteResult>;
  /** Flushes any buffered records. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
