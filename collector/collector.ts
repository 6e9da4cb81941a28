/**
 * A collector: config + sinks + metrics + the tracking handler + the express routes, ready to serve.
 *
 *   node:http request ──▶ collector.listener ──tracking route?──▶ TrackingHandler (lean, no router)
 *                                               └──────otherwise──▶ express app (health, robots, metrics, 404)
 *
 *   app.use('/collector', collector.router)   // or mount everything in your own express app
 *
 * createCollector() builds; startCollectorServer() (server.ts) listens and shuts down gracefully.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import express, { type Express, type Router } from 'express';
import type { KinesisSender } from '../streams/kinesis/kinesis-writer.js';
import { silentLogger, type Logger } from '../common/logger.js';
import type { CollectorConfig } from './config.js';
import { BodyBudget } from './body-budget.js';
import { CollectorMetrics } from './metrics.js';
import { createRoutes } from './routes.js';
import { createSinks } from './sinks/factory.js';
import type { CollectorSink } from './sinks/sink.js';
import { TrackingHandler } from './tracking-handler.js';

export interface CollectorOptions {
  logger?: Logger;
  /** Inject sinks (tests, embedding); otherwise built from the config. */
  sinks?: { good: CollectorSink; bad: CollectorSink };
  kinesisClient?: KinesisSender;
  stdout?: Writable;
  stderr?: Writable;
  clock?: () => number;
  uuid?: () => string;
  /** Process metrics (GC, memory) in /metrics; default true. */
  defaultMetrics?: boolean;
  /** Replaces the local registry's text at /metrics (cluster workers serve the aggregate). */
  metricsText?: () => Promise<string>;
}

export class Collector {
  readonly config: CollectorConfig;
  readonly good: CollectorSink;
  readonly bad: CollectorSink;
  readonly metrics: CollectorMetrics;
  readonly tracking: TrackingHandler;
  /** Request-body memory across all requests (collector.furrow.maxBodyBytesInFlight). */
  readonly bodyBudget: BodyBudget;
  /** Everything (tracking + other routes + 404), for mounting in an express app. */
  readonly router: Router;
  /** The non-tracking routes, behind the lean listener. */
  readonly app: Express;
  /** node:http request listener: tracking routes without a router, the rest through express. */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly log: Logger;
  private closed: Promise<void> | null = null;

  constructor(config: CollectorConfig, o: CollectorOptions = {}) {
    this.config = config;
    this.log = o.logger ?? silentLogger;
    let sinks: { good: CollectorSink; bad: CollectorSink } | null = o.sinks ?? null;
    const budget = new BodyBudget(config.furrow.maxBodyBytesInFlight);
    this.bodyBudget = budget;
    this.metrics = new CollectorMetrics({ good: () => sinks?.good ?? null, bad: () => sinks?.bad ?? null }, o.defaultMetrics ?? true, budget);
    sinks ??= createSinks(config, {
      logger: this.log,
      metrics: this.metrics,
      ...(o.stdout ? { stdout: o.stdout } : {}),
      ...(o.stderr ? { stderr: o.stderr } : {}),
      ...(o.kinesisClient ? { kinesisClient: o.kinesisClient } : {}),
    });
    this.good = sinks.good;
    this.bad = sinks.bad;
    this.tracking = new TrackingHandler({
      config, good: this.good, bad: this.bad, metrics: this.metrics, logger: this.log, budget,
      ...(o.clock ? { clock: o.clock } : {}), ...(o.uuid ? { uuid: o.uuid } : {}),
    });
    const metricsText = o.metricsText ?? (() => this.metrics.registry.metrics());
    const base = { config, good: this.good, bad: this.bad, metrics: this.metrics, metricsText };
    this.router = createRoutes({ ...base, tracking: this.tracking });
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.disable('etag');
    this.app.use(createRoutes({ ...base, tracking: null }));
    const tracking = this.tracking;
    const app = this.app;
    const log = this.log;
    this.listener = (req, res) => {
      try {
        if (!tracking.handle(req, res)) app(req, res);
      } catch (e) {
        log.error({ err: e }, 'unexpected error handling a request');
        if (!res.headersSent) {
          res.writeHead(500, ['Connection', 'close', 'Content-Length', '0']);
          res.end();
        } else res.destroy();
      }
    };
  }

  /** Flushes and closes both sinks (idempotent). */
  close(): Promise<void> {
    this.closed ??= Promise.all([this.good.close(), this.bad.close()]).then(() => undefined);
    return this.closed;
  }
}

export function createCollector(config: CollectorConfig, o: CollectorOptions = {}): Collector {
  return new Collector(config, o);
}
