/**
 * The collector's non-tracking routes on an express Router: /health, /sink-health, /robots.txt, the
 * optional root response and crossdomain.xml, /metrics, and 404 for the rest (spec §2.1, §2.7).
 * Exact bodies and headers are built once here. Every route is GET only (HEAD ⇒ 404, as Snowplow).
 */
import express, { type Request, type Response, type Router } from 'express';
import type { CollectorConfig } from './config.js';
import type { CollectorMetrics } from './metrics.js';
import type { CollectorSink } from './sinks/sink.js';
import type { TrackingHandler } from './tracking-handler.js';

const TEXT_UTF8 = 'text/plain; charset=UTF-8';
const ROBOTS = 'User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /';

export interface RouterDeps {
  config: CollectorConfig;
  good: CollectorSink;
  bad: CollectorSink;
  metrics: CollectorMetrics;
  /** When set, tracking routes are served by this router too (the mountable router). */
  tracking: TrackingHandler | null;
  /** Metrics text (cluster workers answer with the aggregate of all workers). */
  metricsText: () => Promise<string>;
}

function crossDomainXml(c: CollectorConfig['crossDomain']): string {
  const lines = c.domains.map((d) => `<allow-access-from domain="${d}" secure="${c.secure}" />`);
  return ['<?xml version="1.0"?>', '<cross-domain-policy>', ...lines, '</cross-domain-policy>'].join('\n');
}

export function createRoutes(d: RouterDeps): Router {
  const c = d.config;
  const m = d.metrics;
  const hsts: string[] = c.hsts.enable ? ['Strict-Transport-Security', `max-age=${c.hsts.maxAgeSec}; includeSubDomains`] : [];
  const reply = (res: Response, status: number, contentType: string | null, body: Buffer, route: Parameters<CollectorMetrics['request']>[0], extra: readonly string[] = []): void => {
    const h = [...hsts, ...extra];
    if (contentType !== null) h.push('Content-Type', contentType);
    h.push('Content-Length', String(body.length));
    res.writeHead(status, h);
    res.end(body);
    m.request(route, status);
  };
  const OK = Buffer.from('ok');
  const UNAVAILABLE = Buffer.from('Service Unavailable');
  const NOT_FOUND = Buffer.from('Not found');
  const ROBOTS_BODY = Buffer.from(ROBOTS);
  const CROSS = c.crossDomain.enabled ? Buffer.from(crossDomainXml(c.crossDomain), 'utf8') : null;
  const ROOT = c.rootResponse.enabled ? Buffer.from(c.rootResponse.body, 'utf8') : null;
  const rootHeaders = Object.entries(c.rootResponse.headers).flat();

  const router = express.Router({ caseSensitive: true, strict: true });
  const tracking = d.tracking;
  if (tracking !== null) {
    router.use((req: Request, res: Response, next) => {
      if (!tracking.handle(req, res)) next();
    });
  }
  router.use((req: Request, res: Response, next) => {
    // Only GET is served here; HEAD /health is a 404 in Snowplow too.
    if (req.method !== 'GET') reply(res, 404, TEXT_UTF8, NOT_FOUND, 'not_found');
    else next();
  });
  router.get('/health', (_req, res) => reply(res, 200, TEXT_UTF8, OK, 'health'));
  router.get('/sink-health', (_req, res) => {
    if (d.good.isHealthy() && d.bad.isHealthy()) reply(res, 200, TEXT_UTF8, OK, 'sink_health');
    else reply(res, 503, TEXT_UTF8, UNAVAILABLE, 'sink_health');
  });
  router.get('/robots.txt', (_req, res) => reply(res, 200, TEXT_UTF8, ROBOTS_BODY, 'robots'));
  if (ROOT !== null) router.get('/', (_req, res) => reply(res, c.rootResponse.statusCode, null, ROOT, 'root', rootHeaders));
  if (CROSS !== null) router.get('/crossdomain.xml', (_req, res) => reply(res, 200, 'text/xml', CROSS, 'crossdomain'));
  router.get('/metrics', (_req, res) => {
    d.metricsText().then(
      (text) => reply(res, 200, m.registry.contentType, Buffer.from(text, 'utf8'), 'metrics'),
      () => reply(res, 500, TEXT_UTF8, Buffer.from('metrics unavailable'), 'metrics'),
    );
  });
  router.use((_req: Request, res: Response) => reply(res, 404, TEXT_UTF8, NOT_FOUND, 'not_found'));
  return router;
}
