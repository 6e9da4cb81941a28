/**
 * Feeds a BatchLoader from the leased Kinesis source (streams/kinesis/kinesis-source.ts), exactly-once:
 * the warehouse stores, per shard, the last loaded batch `{first, last, count}` (sequence numbers) in the
 * same transaction as its rows; the Kinesis checkpoint (DynamoDB) follows after the commit.
 *
 *   batch(shard, first..last) ──> stored = position(kinesis:<stream>/<shard>)
 *       last  <= stored.last                 → already loaded (killed before the checkpoint): skip, commit
 *       first == stored.first                → re-read of the stored batch plus newer records: skip stored.count
 *       otherwise                            → load all records
 *   load(lines, stream, {first,last,count}) ──> batch.commit() (Kinesis checkpoint)
 *
 * The checkpoint follows every warehouse commit of a shard before the shard's next batch is read, so at
 * most the last stored batch is ahead of the checkpoint and a re-read starts at its first record.
 */
import type { Logger } from '../common/logger.js';
import type { Source } from '../streams/source.js';
import type { KinesisRecordBatch } from '../streams/kinesis/kinesis-source.js';
import { compareSequenceNumbers } from '../streams/kinesis/lease.js';
import type { BatchLoader, RunTotals } from './loader.js';
import type { LoaderConfig } from './config.js';
import type { Registry } from 'prom-client';
import type { LoaderMetrics } from './metrics.js';

interface StoredBatch {
  first: string;
  last: string;
  count: number;
}

function parseStored(s: string | null): StoredBatch | null {
  if (s === null) return null;
  try {
    const o = JSON.parse(s) as StoredBatch;
    return typeof o.first === 'string' && typeof o.last === 'string' && typeof o.count === 'number' ? o : null;
  } catch {
    return null;
  }
}

export async function runKinesisLoader(
  source: Source,
  streamName: string,
  loader: BatchLoader,
  signal: AbortSignal,
  logger: Logger,
  metrics: LoaderMetrics | null = null,
  /** 'latin1' for a loader that takes binary strings (PostgresLoader with binaryLines). */
  encoding: 'utf8' | 'latin1' = 'utf8',
): Promise<RunTotals> {
  const totals: RunTotals = { batches: 0, loaded: 0, bad: 0, skipped: 0 };
  await source.run(async (b) => {
    const batch = b as KinesisRecordBatch;
    const stream = `kinesis:${streamName}/${batch.shardId}`;
    // Read the stored position for every batch rather than caching it per shard: a shard's lease can move
    // to another loader and back, and that loader's commits move the position (one indexed SELECT per
    // batch of thousands of rows).
    const prev = parseStored(await loader.position(stream));
    let records = batch.records;
    const t0 = performance.now();
    if (prev !== null && compareSequenceNumbers(batch.lastSequenceNumber, prev.last) <= 0) {
      totals.skipped += records.length;
      metrics?.batch({ loaded: 0, bad: 0, skipped: true }, records.length, (performance.now() - t0) / 1000);
      await batch.commit();
      return;
    }
    if (prev !== null && batch.firstSequenceNumber === prev.first) {
      totals.skipped += Math.min(prev.count, records.length);
      records = records.slice(prev.count);
    } else if (prev !== null && compareSequenceNumbers(batch.firstSequenceNumber, prev.last) <= 0) {
      logger.warn({ stream, batchFirst: batch.firstSequenceNumber, storedLast: prev.last }, 'batch overlaps the stored position unexpectedly; loading it whole');
    }
    const lines = records.map((r) => r.toString(encoding).replace(/\r?\n$/, ''));
    const next: StoredBatch = { first: batch.firstSequenceNumber, last: batch.lastSequenceNumber, count: batch.records.length };
    const out = await loader.load(lines, stream, JSON.stringify(next));
    totals.batches++;
    totals.loaded += out.loaded;
    totals.bad += out.bad;
    metrics?.batch(out, lines.length, (performance.now() - t0) / 1000);
    await batch.commit();
  }, signal);
  return totals;
}

/** The leased Kinesis source described by a loader config's `kinesis` block (postgres, redshift and s3 loaders). */
export async function createLoaderKinesisSource(cfg: LoaderConfig, logger: Logger, registry: Registry | null): Promise<Source> {
  const k = cfg.kinesis;
  if (k === null) throw new Error('createLoaderKinesisSource: the config has no kinesis block');
  const { createKinesisInput } = await import('../streams/factory.js');
  return createKinesisInput(
    { streamName: k.streamName, appName: k.appName, initialPosition: k.initialPosition, logger, registry },
    { region: k.region ?? cfg.region, endpoint: k.endpoint, dynamodbEndpoint: k.dynamodbEndpoint, leases: k.leases },
  );
}
