/**
 * Prometheus metrics of one collector process (served at GET /metrics). Counters the hot path touches are
 * resolved to label children once, here, so a request only does `child.inc()`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KinesisWriterObserver } from '../common/kinesis/kinesis-writer.js';
import type { CollectorSink } from './sinks/sink.js';

export type RouteLabel =
  | 'pixel' | 'post' | 'redirect' | 'bounce' | 'preflight' | 'health' | 'sink_health' | 'robots' | 'root'
  | 'crossdomain' | 'metrics' | 'not_found' | 'redirects_disabled' | 'bad_request' | 'too_large'
  | 'unavailable' | 'timeout' | 'unsupported_encoding';

type Inc = { inc(n?: number): void };

export class CollectorMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'code'>;
  private readonly children = new Map<string, Inc>();
  readonly goodRecords: Inc;
  readonly badRecords: Inc;
  readonly goodBytes: Inc;
  readonly badBytes: Inc;
  readonly notSunk: Counter<'reason'>;
  readonly sinkFailures: Counter<'stream'>;
  private readonly kinesisPuts: Counter<'stream' | 'outcome'>;

  constructor(sinks: { good: () => CollectorSink | null; bad: () => CollectorSink | null }, withDefaultMetrics = true) {
    const r = this.registry;
    if (withDefaultMetrics) collectDefaultMetrics({ register: r, prefix: 'furrow_collector_' });
    this.requests = new Counter({ name: 'furrow_collector_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [r] });
    const records = new Counter({ name: 'furrow_collector_records_total', help: 'Records handed to the sinks', labelNames: ['stream'], registers: [r] });
    const bytes = new Counter({ name: 'furrow_collector_record_bytes_total', help: 'Bytes of records handed to the sinks', labelNames: ['stream'], registers: [r] });
    this.goodRecords = records.labels('good');
    this.badRecords = records.labels('bad');
    this.goodBytes = bytes.labels('good');
    this.badBytes = bytes.labels('bad');
    this.notSunk = new Counter({ name: 'furrow_collector_not_sunk_total', help: 'Tracking requests deliberately not sunk (do-not-track, bounce)', labelNames: ['reason'], registers: [r] });
    this.sinkFailures = new Counter({ name: 'furrow_collector_sink_failures_total', help: 'Records a sink reported failed', labelNames: ['stream'], registers: [r] });
    this.kinesisPuts = new Counter({ name: 'furrow_kinesis_put_records_total', help: 'Records per PutRecords outcome (throttled is a subset of failed)', labelNames: ['stream', 'outcome'], registers: [r] });
    new Gauge({
      name: 'furrow_collector_sink_pending_bytes', help: 'Bytes accepted and not yet written by the sink', labelNames: ['stream'], registers: [r],
      collect() {
        const g = sinks.good();
        const b = sinks.bad();
        if (g) this.set({ stream: 'good' }, g.pendingBytes());
        if (b) this.set({ stream: 'bad' }, b.pendingBytes());
      },
    });
    new Gauge({
      name: 'furrow_collector_sink_healthy', help: '1 when the sink is healthy', labelNames: ['stream'], registers: [r],
      collect() {
        const g = sinks.good();
        const b = sinks.bad();
        if (g) this.set({ stream: 'good' }, g.isHealthy() ? 1 : 0);
        if (b) this.set({ stream: 'bad' }, b.isHealthy() ? 1 : 0);
      },
    });
  }

  /** Requests answered by this process (all routes). */
  served = 0;

  request(route: RouteLabel, code: number): void {
    this.served++;
    const key = route + code;
    let c = this.children.get(key);
    if (c === undefined) {
      c = this.requests.labels(route, String(code));
      this.children.set(key, c);
    }
    c.inc();
  }

  kinesisObserver(stream: 'good' | 'bad'): KinesisWriterObserver {
    const ok = this.kinesisPuts.labels(stream, 'ok');
    const failed = this.kinesisPuts.labels(stream, 'failed');
    const throttled = this.kinesisPuts.labels(stream, 'throttled');
    return {
      onPut(o, f, t) {
        if (o > 0) ok.inc(o);
        if (f > 0) failed.inc(f);
        if (t > 0) throttled.inc(t);
      },
    };
  }
}
