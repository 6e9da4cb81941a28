/**
 * Where the collector puts records. Good and bad rows go to two instances (`streams.good`, `streams.bad`).
 *
 *   tracking request ──records──▶ sink.write(records, partitionKey) ──▶ buffer ──▶ stream
 *                                        │ resolves when the stream took them (durable acknowledgement)
 *                                        └ pendingBytes() grows until then (back-pressure bound: 503)
 */
import type { Sink, WriteResult } from '../../streams/sink.js';

/** A Sink (streams/sink.ts) with the collector's health and back-pressure rules. */
export interface CollectorSink extends Sink {
  /** Lower-case class name Snowplow puts in the record's `collector` field (`kinesissink`, `printingsink`). */
  readonly collectorName: string;
  /** Records must be strictly smaller than this (else they are split or become size_violation bad rows). */
  readonly maxBytes: number;
  isHealthy(): boolean;
  /** Bytes accepted by write() and not yet written. */
  pendingBytes(): number;
  /** False when the sink ignores partition keys (then the collector does not draw one per request). */
  readonly usesPartitionKey: boolean;
  /**
   * True when write()/enqueue() are done with the record buffers when they return (the stdout sink encodes
   * them on the spot): the collector then passes views of its encoder's scratch buffer instead of copies.
   * Absent or false: every record is a buffer of its own that the sink may keep.
   */
  readonly consumesRecordsAtOnce?: boolean;
  /** Never rejects: the outcome says what was written (durable acknowledgement waits on it). */
  write(records: readonly Buffer[], partitionKey: string): Promise<WriteResult>;
  /** Fire-and-forget write (buffered acknowledgement): `onDone` gets the outcome, no promise is made. */
  enqueue(records: readonly Buffer[], partitionKey: string, onDone: (r: WriteResult) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}
