/**
 * Kinesis good/bad/pii sinks: the shared PutRecords writer (streams/kinesis/kinesis-writer.ts) configured from the enrich HOCON
 * `output.*` sections. The good stream's partition key is the configured atomic field of each TSV line
 * (Snowplow `partitionKey`), else a random UUID.
 */
import { randomUUID } from 'node:crypto';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisWriter, type PartitionKeyStrategy } from '../kinesis/kinesis-writer.js';
import { FurrowError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { KinesisOutputConfig } from './kinesis-output-config.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';

/** The value of one TSV column, found by scanning tabs (no split, no per-field strings). */
export function tsvColumnKey(field: string): PartitionKeyStrategy {
  const index = (ENRICHED_FIELDS as readonly string[]).indexOf(field);
  if (index === -1) throw new FurrowError('CONFIG_INVALID_VALUE', `output.good.partitionKey: ${field} is not an enriched field`);
  return (record: Buffer): string => {
    let start = 0;
    for (let i = 0; i < index; i++) {
      const tab = record.indexOf(9, start);
      if (tab === -1) return randomUUID();
      start = tab + 1;
    }
    const end = record.indexOf(9, start);
    const v = record.toString('utf8', start, end === -1 ? record.length : end);
    return v === '' ? randomUUID() : v.slice(0, 256);
  };
}

export function createKinesisSink(client: KinesisClient, cfg: KinesisOutputConfig, logger: Logger, tsv: boolean): KinesisWriter {
  return new KinesisWriter({
    client,
    streamName: cfg.streamName,
    recordLimit: cfg.recordLimit,
    byteLimit: cfg.byteLimit,
    timeLimitMs: 1000,
    backoff: { minBackoffMs: cfg.minBackoffMs, maxBackoffMs: cfg.maxBackoffMs, maxRetries: cfg.maxRetries },
    ...(tsv && cfg.partitionKey !== null ? { partitionKey: tsvColumnKey(cfg.partitionKey) } : {}),
    logger,
  });
}
