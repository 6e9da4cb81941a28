/**
 * The Kinesis sink: the shared buffered PutRecords writer (common/kinesis) plus Snowplow's health rules:
 * unhealthy until DescribeStreamSummary says ACTIVE or a put succeeds, unhealthy again after
 * `backoffPolicy.maxRetries` failed attempts, records retried forever (nothing dropped).
 */
import type { KinesisStreamConfig } from '../../config/collector-config.js';
import { KinesisWriter, type KinesisSender, type KinesisWriterObserver } from '../../common/kinesis/kinesis-writer.js';
import type { Logger } from '../../common/logger.js';
import type { WriteResult } from '../../common/stream.js';
import type { CollectorSink } from './sink.js';

export interface KinesisSinkOptions {
  config: KinesisStreamConfig;
  client: KinesisSender;
  logger: Logger;
  observer?: KinesisWriterObserver;
  /** Check the stream at start (default true). */
  healthCheck?: boolean;
}

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
  store(records: readonly Buffer[], partitionKey: string): Promise<WriteResult> {
    return this.writer.write(records, partitionKey);
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
