/**
 * Builds the good and bad sinks from the config (the only place sink I/O clients are created).
 * Kinesis clients come from streams/aws-clients.ts unless one is injected (tests pass a wrapper).
 */
import type { Writable } from 'node:stream';
import { createKinesisClient } from '../../streams/aws-clients.js';
import type { KinesisSender } from '../../streams/kinesis/kinesis-writer.js';
import type { Logger } from '../../common/logger.js';
import type { CollectorConfig, StreamConfig } from '../config.js';
import type { CollectorMetrics } from '../metrics.js';
import { CompressingSink } from './compressing-sink.js';
import { KinesisSink } from './kinesis-sink.js';
import type { CollectorSink } from './sink.js';
import { StdoutSink } from './stdout-sink.js';

export interface SinkDeps {
  logger: Logger;
  /** Absent: the Kinesis writers report to no metrics (furrow mini). */
  metrics?: CollectorMetrics;
  /** Where the stdout sink writes good rows (default process.stdout) and bad rows (default process.stderr). */
  stdout?: Writable;
  stderr?: Writable;
  kinesisClient?: KinesisSender;
}

function build(s: StreamConfig, which: 'good' | 'bad', d: SinkDeps, callTimeoutMs: number): CollectorSink {
  if (s.type === 'stdout') {
    const out = which === 'good' ? (d.stdout ?? process.stdout) : (d.stderr ?? process.stderr);
    return new StdoutSink({ out, maxBytes: s.maxBytes });
  }
  const client = d.kinesisClient ?? createKinesisClient({ region: s.region, ...(s.customEndpoint !== null ? { endpoint: s.customEndpoint } : {}), maxSockets: Math.max(s.threadPoolSize, 16) });
  return new KinesisSink({ config: s, client, logger: d.logger.child({ sink: which }), ...(d.metrics ? { observer: d.metrics.kinesisObserver(which) } : {}), callTimeoutMs });
}

export function createSinks(config: CollectorConfig, d: SinkDeps): { good: CollectorSink; bad: CollectorSink } {
  const t = config.furrow.kinesisCallTimeoutMs;
  let good = build(config.streams.good, 'good', d, t);
  const c = config.compression;
  if (c.enabled) {
    // Only good records are batched and compressed (bad rows stay one JSON per record, as in Snowplow).
    const g = config.streams.good;
    good = new CompressingSink({ inner: good, level: c.gzipCompressionLevel, timeLimitMs: g.type === 'kinesis' ? g.buffer.timeLimitMs : 1000 });
  }
  return { good, bad: build(config.streams.bad, 'bad', d, t) };
}
