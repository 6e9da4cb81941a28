/**
 * Prometheus metrics of a loader (`--metrics-port N` serves /metrics and /health on that port).
 * Counters per outcome, batch duration histogram, and the collector_tstamp lag is left to the warehouse.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import type { BatchOutcome } from './loader.js';

export interface LoaderMetrics {
  /** One committed (or skipped) batch and how long it took. */
  batch(out: BatchOutcome, lines: number, seconds: number): void;
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

/** Serves /metrics (Prometheus text) and /health; port 0 picks a free one (logged). */
export async function serveMetrics(port: number, registry: Registry, logger: Logger): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  const addr = server.address();
  logger.info({ port: typeof addr === 'object' && addr !== null ? addr.port : port }, 'serving /metrics and /health');
  return server;
}

export { Registry };
