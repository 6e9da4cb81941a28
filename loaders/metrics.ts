/**
 * Prometheus metrics of a loader (`--metrics-port N` serves /metrics and /health on that port).
 * Counters per outcome, batch duration histogram, and the collector_tstamp lag is left to the warehouse.
 */
import { Counter, Histogram, Registry } from 'prom-client';

/** What a batch came to (BatchOutcome of loader.ts, named here so the two files do not import each other). */
export interface BatchCounts {
  readonly loaded: number;
  readonly bad: number;
  readonly skipped: boolean;
}

export interface LoaderMetrics {
  /** One committed (or skipped) batch and how long it took. */
  batch(out: BatchCounts, lines: number, seconds: number): void;
  /** One object uploaded by the S3 loader. */
  upload(lines: number, bytes: number): void;
}

export function createLoaderMetrics(registry: Registry, target: string): LoaderMetrics {
  const labels = { target };
  const events = new Counter({ name: 'furrow_loader_events_total', help: 'Lines handled by the loader, by outcome (loaded, bad, skipped = already loaded before a restart)', labelNames: ['target', 'outcome'], registers: [registry] });
  const batches = new Counter({ name: 'furrow_loader_batches_total', help: 'Batches committed', labelNames: ['target'], registers: [registry] });
  const duration = new Histogram({ name: 'furrow_loader_batch_seconds', help: 'Time to load and commit one batch', labelNames: ['target'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry] });
  const uploads = new Counter({ name: 'furrow_loader_uploaded_objects_total', help: 'Objects uploaded to S3 (furrow load s3)', labelNames: ['target'], registers: [registry] });
  const uploadedBytes = new Counter({ name: 'furrow_loader_uploaded_bytes_total', help: 'Gzipped bytes uploaded to S3 (furrow load s3)', labelNames: ['target'], registers: [registry] });
  const uploadedLines = new Counter({ name: 'furrow_loader_uploaded_lines_total', help: 'Lines in uploaded objects (furrow load s3)', labelNames: ['target'], registers: [registry] });
  return {
    batch(out, lines, seconds) {
      batches.inc(labels);
      if (out.skipped) events.inc({ target, outcome: 'skipped' }, lines);
      else {
        events.inc({ target, outcome: 'loaded' }, out.loaded);
        events.inc({ target, outcome: 'bad' }, out.bad);
      }
      duration.observe(labels, seconds);
    },
    upload(lines, bytes) {
      uploads.inc(labels);
      uploadedBytes.inc(labels, bytes);
      uploadedLines.inc(labels, lines);
    },
  };
}

export { serveMetrics } from '../common/metrics-server.js';
export { Registry };
