/**
 * The /metrics (Prometheus text) and /health endpoint of furrow enrich, load and forward
 * (`--metrics-port N` / `monitoring.healthProbe.port`); port 0 picks a free one (logged).
 */
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export interface MetricsServerOptions {
  /** Body of a 200 /health answer. Default 'ok' (text/plain); Snowplow enrich's probe answers 'OK'. */
  readonly healthBody?: string;
}

export async function serveMetrics(port: number, registry: Registry, logger: Logger, opts: MetricsServerOptions = {}): Promise<Server> {
  const health = opts.healthBody ?? 'ok';
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end(health);
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
