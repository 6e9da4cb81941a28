/**
 * The Kinesis sink: the shared buffered PutRecords writer (streams/kinesis/kinesis-writer.ts) plus Snowplow's health rules:
 * unhealthy until DescribeStreamSummary says ACTIVE or a put succeeds, unhealthy again after
 * `backoffPolicy.maxRetries` failed attempts (or at once when a call hangs past `callTimeoutMs`).
 *
 *   enqueue (buffered acknowledgement) ──▶ records retried forever (nothing dropped)
 *   store (durable acknowledgement)    ──▶ awaited write: flushed on demand, given up after maxRetries
 *                                          attempts or once unhealthy, failed at once while unhealthy
 *                                          (one probe at a time): the request gets 503 + Retry-After
 */
import type { KinesisStreamConfig } from '../config.js';
import { KinesisWriter, type KinesisSender, type KinesisWriterObserver } from '../../streams/kinesis/kinesis-writer.js';
import type { Logger } from '../../common/logger.js';
import type { WriteResult } from '../../streams/sink.js';
import type { CollectorSink } from './sink.js';

export interface KinesisSinkOptions {
  config: KinesisStreamConfig;
  client: KinesisSender;
  logger: Logger;
  observer?: KinesisWriterObserver;
  /** Check the stream at start (default true). */
  healthCheck?: boolean;
  /** Abort a Kinesis call unanswered this long (collector.furrow.kinesisCallTimeout); default none. */
  callTimeoutMs?: number;
}

const AWAITED = { awaited: true } as const;

export class KinesisSink implements CollectorSink {
  readonly collectorName = 'kinesissink';
  readonly usesPartitionKey = true;
  readonly maxBytes: number;
  private readonly writer: KinesisWriter;

  constructor(o: KinesisSinkOptions) {
    const c = o.config;
    this.maxBytes = c.maxBytes;
    this.writer = new KinesisWriter({
      client: o.client,
      streamName: c.name,
      byteLimit: c.buffer.byteLimit,
      recordLimit: c.buffer.recordLimit,
      timeLimitMs: c.buffer.timeLimitMs,
      backoff: c.backoff,
      maxInFlight: c.threadPoolSize,
      logger: o.logger,
      ...(o.callTimeoutMs !== undefined ? { callTimeoutMs: o.callTimeoutMs } : {}),
      ...(o.observer ? { observer: o.observer } : {}),
    });
    if (o.healthCheck !== false) this.writer.startHealthCheck(c.startupCheckIntervalMs);
  }

  isHealthy(): boolean {
    return this.writer.isHealthy();
  }
  pendingBytes(): number {
    return this.writer.pendingBytes;
  }
  write(records: readonly Buffer[], partitionKey: string): Promise<WriteResult> {
    return this.writer.write(records, partitionKey, AWAITED);
  }
  enqueue(records: readonly Buffer[], partitionKey: string, onDone: (r: WriteResult) => void): void {
    void this.writer.write(records, partitionKey).then(onDone);
  }
  flush(): Promise<void> {
    return this.writer.flush();
  }
  close(): Promise<void> {
    return this.writer.close();
  }
}
