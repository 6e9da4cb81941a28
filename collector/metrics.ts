/**
 * Prometheus metrics of one collector process (served at GET /metrics).
 *
 * The hot path only bumps plain numbers (`request()`, `records()`); prom-client objects are filled from them
 * when /metrics is scraped (`collect`). A prom-client child `inc()` hashes its labels on every call, which
 * measured ~5 % of GET /i throughput (bench/collector.ts).
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { KinesisWriterObserver } from '../streams/kinesis/kinesis-writer.js';
import type { BodyBudget } from './body-budget.js';
import type { CollectorSink } from './sinks/sink.js';

export type RouteLabel =
  | 'pixel' | 'post' | 'redirect' | 'bounce' | 'preflight' | 'health' | 'sink_health' | 'robots' | 'root'
  | 'crossdomain' | 'metrics' | 'not_found' | 'redirects_disabled' | 'bad_request' | 'too_large'
  | 'unavailable' | 'timeout' | 'unsupported_encoding';

export class CollectorMetrics {
  readonly registry = new Registry();
  /** Requests answered by this process (all routes). */
  served = 0;
  private readonly byRoute = new Map<RouteLabel, Map<number, number>>();
  private goodRecords = 0;
  private badRecords = 0;
  private goodBytes = 0;
  private badBytes = 0;
  private dnt = 0;
  private bounced = 0;
  private evictedIdle = 0;
  private evictedNoRequest = 0;
  /** Open connections of the server (set by startCollectorServer; absent when embedded elsewhere). */
  openConnections: (() => number) | null = null;
  readonly sinkFailures: Counter<'stream'>;
  private readonly kinesisPuts: Counter<'stream' | 'outcome'>;

  constructor(sinks: { good: () => CollectorSink | null; bad: () => CollectorSink | null }, withDefaultMetrics = true, budget: BodyBudget | null = null) {
    const r = this.registry;
    const self = this;
    if (withDefaultMetrics) collectDefaultMetrics({ register: r, prefix: 'furrow_collector_' });
    new Counter({
      name: 'furrow_collector_requests_total', help: 'HTTP requests by route and status code', labelNames: ['route', 'code'], registers: [r],
      collect() {
        this.reset();
        for (const [route, codes] of self.byRoute) for (const [code, n] of codes) this.inc({ route, code: String(code) }, n);
      },
    });
    new Counter({
      name: 'furrow_collector_records_total', help: 'Records handed to the sinks', labelNames: ['stream'], registers: [r],
      collect() {
        this.reset();
        this.inc({ stream: 'good' }, self.goodRecords);
        this.inc({ stream: 'bad' }, self.badRecords);
      },
    });
    new Counter({
      name: 'furrow_collector_record_bytes_total', help: 'Bytes of records handed to the sinks', labelNames: ['stream'], registers: [r],
      collect() {
        this.reset();
        this.inc({ stream: 'good' }, self.goodBytes);
        this.inc({ stream: 'bad' }, self.badBytes);
      },
    });
    new Counter({
      name: 'furrow_collector_not_sunk_total', help: 'Tracking requests deliberately not sunk (do-not-track cookie, cookie bounce)', labelNames: ['reason'], registers: [r],
      collect() {
        this.reset();
        this.inc({ reason: 'do_not_track' }, self.dnt);
        this.inc({ reason: 'bounce' }, self.bounced);
      },
    });
    new Counter({
      name: 'furrow_collector_connections_closed_for_room_total', help: 'Connections closed to keep room for new ones near maxConnections (idle keep-alive, or no request head yet)', labelNames: ['reason'], registers: [r],
      collect() {
        this.reset();
        this.inc({ reason: 'idle' }, self.evictedIdle);
        this.inc({ reason: 'no_request' }, self.evictedNoRequest);
      },
    });
    new Gauge({
      name: 'furrow_collector_open_connections', help: 'Open client connections', registers: [r],
      collect() {
        if (self.openConnections !== null) this.set(self.openConnections());
      },
    });
    this.sinkFailures = new Counter({ name: 'furrow_collector_sink_failures_total', help: 'Records a sink reported failed or invalid', labelNames: ['stream'], registers: [r] });
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
    if (budget !== null) {
      new Gauge({
        name: 'furrow_collector_body_bytes_in_flight', help: 'Request-body bytes held across open requests (received, inflated, decoder windows)', registers: [r],
        collect() {
          this.set(budget.inUse);
        },
      });
    }
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

  /** Totals for the periodic progress log line. */
  snapshot(): { requests: number; goodRecords: number; badRecords: number; goodBytes: number; badBytes: number } {
    return { requests: this.served, goodRecords: this.goodRecords, badRecords: this.badRecords, goodBytes: this.goodBytes, badBytes: this.badBytes };
  }

  request(route: RouteLabel, code: number): void {
    this.served++;
    let codes = this.byRoute.get(route);
    if (codes === undefined) {
      codes = new Map();
      this.byRoute.set(route, codes);
    }
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }

  records(stream: 'good' | 'bad', count: number, bytes: number): void {
    if (stream === 'good') {
      this.goodRecords += count;
      this.goodBytes += bytes;
    } else {
      this.badRecords += count;
      this.badBytes += bytes;
    }
  }

  connectionEvicted(reason: 'idle' | 'no_request'): void {
    if (reason === 'idle') this.evictedIdle++;
    else this.evictedNoRequest++;
  }

  notSunk(reason: 'do_not_track' | 'bounce'): void {
    if (reason === 'do_not_track') this.dnt++;
    else this.bounced++;
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
