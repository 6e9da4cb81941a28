/**
 * furrow's additions around the sink: durable acknowledgement, the back-pressure bound (503 + Retry-After),
 * the response timeout (408, spec check 60), graceful shutdown that flushes, the mountable express router,
 * and /metrics.
 */
import t from 'tap';
import express from 'express';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import type { WriteResult } from '../../streams/sink.js';
import { createCollector } from '../../collector/collector.js';
import { startCollectorServer } from '../../collector/server.js';
import type { CollectorSink } from '../../collector/sinks/sink.js';
import { StdoutSink } from '../../collector/sinks/stdout-sink.js';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { Capture, configFrom, send } from './helpers.js';

/** A sink whose acknowledgements the test controls. */
class ManualSink implements CollectorSink {
  readonly collectorName = 'manualsink';
  readonly maxBytes = 1_000_000;
  readonly usesPartitionKey = true;
  stored: Buffer[] = [];
  waiting: Array<{ records: readonly Buffer[]; resolve: (r: WriteResult) => void }> = [];
  pending = 0;
  isHealthy(): boolean {
    return true;
  }
  pendingBytes(): number {
    return this.pending;
  }
  write(records: readonly Buffer[]): Promise<WriteResult> {
    return new Promise((resolve) => this.waiting.push({ records, resolve }));
  }
  enqueue(records: readonly Buffer[], _key: string, onDone: (r: WriteResult) => void): void {
    void this.write(records).then(onDone);
  }
  ackAll(fail = false): void {
    for (const w of this.waiting.splice(0)) {
      if (!fail) this.stored.push(...w.records);
      w.resolve(fail ? { sent: 0, failed: [...w.records] } : { sent: w.records.length, failed: [] });
    }
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

const base = 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, streams { good { name = g }, bad { name = b } } }';

async function start(extra: string, good: CollectorSink, bad: CollectorSink) {
  const config = await configFrom(extra, base);
  const collector = createCollector(config, { sinks: { good, bad }, defaultMetrics: false });
  const running = await startCollectorServer(collector);
  return { collector, running, port: running.port };
}

t.test('durable: 200 only after the sink accepted; 503 + Retry-After when it failed', async (t) => {
  const good = new ManualSink();
  const s = await start('collector.furrow.acknowledge = durable', good, new ManualSink());
  t.teardown(() => s.running.shutdown(0));
  let answered = false;
  const p = send(s.port, 'GET', '/i?e=pv').then((r) => {
    answered = true;
    return r;
  });
  for (let i = 0; i < 50 && good.waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(good.waiting.length, 1, 'record handed to the sink');
  await new Promise((r) => setTimeout(r, 50));
  t.equal(answered, false, 'no answer while the sink has not acknowledged');
  good.ackAll();
  const r = await p;
  t.equal(r.status, 200);
  t.equal(r.body.length, 43);
  t.equal(good.stored.length, 1);

  const q = send(s.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], '{}');
  for (let i = 0; i < 50 && good.waiting.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  good.ackAll(true);
  const failed = await q;
  t.equal(failed.status, 503);
  t.equal(failed.headers['retry-after'], '5');
});

t.test('60: a sink that never answers gives 408 after responseHeaderTimeout', async (t) => {
  const good = new ManualSink();
  const s = await start('collector { furrow.acknowledge = durable, networking.responseHeaderTimeout = 300 millis }', good, new ManualSink());
  t.teardown(async () => {
    good.ackAll();
    await s.running.shutdown(0);
  });
  const t0 = Date.now();
  const r = await send(s.port, 'GET', '/i');
  t.equal(r.status, 408);
  t.equal(r.body.toString(), 'Response timed out');
  t.ok(Date.now() - t0 >= 250);
});

t.test('back-pressure: beyond maxPendingBytes tracking requests get 503, nothing taken in', async (t) => {
  const good = new ManualSink();
  const s = await start('collector.furrow { maxPendingBytes = 1000, retryAfter = 7 seconds }', good, new ManualSink());
  t.teardown(() => s.running.shutdown(0));
  t.equal((await send(s.port, 'GET', '/i')).status, 200);
  good.pending = 1001;
  const r = await send(s.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], '{}');
  t.equal(r.status, 503);
  t.equal(r.headers['retry-after'], '7');
  t.equal(r.body.toString(), 'Service Unavailable');
  t.equal((await send(s.port, 'GET', '/health')).status, 200, 'health is not affected');
  t.equal(good.waiting.length, 1, 'only the first request reached the sink');
  good.pending = 0;
  t.equal((await send(s.port, 'GET', '/i')).status, 200);
  good.ackAll();
});

t.test('graceful shutdown: in-flight records are flushed, then the port closes', async (t) => {
  const out = new Capture();
  // A slow stream: each write completes 100 ms later.
  const slow = new (class extends Capture {
    override _write(chunk: Buffer, enc: BufferEncoding, cb: () => void): void {
      setTimeout(() => super._write(chunk, enc, cb), 100);
    }
  })();
  const good = new StdoutSink({ out: slow, maxBytes: 1_000_000 });
  const bad = new StdoutSink({ out, maxBytes: 1_000_000 });
  const s = await start('collector.preTerminationPeriod = 200 millis', good, bad);
  for (let i = 0; i < 30; i++) t.equal((await send(s.port, 'GET', `/i?n=${i}`)).status, 200);
  t.ok(slow.lines.length < 30, 'records still buffered when shutdown starts');
  const stopping = s.running.shutdown();
  // Still serving during the pre-termination period.
  t.equal((await send(s.port, 'GET', '/i?n=late')).status, 200);
  await stopping;
  t.equal(slow.lines.length, 31, 'every accepted record was written before shutdown resolved');
  t.same(slow.lines.map((l) => decodeCollectorPayload(Buffer.from(l, 'base64')).querystring).at(-1), 'n=late');
  await t.rejects(send(s.port, 'GET', '/health'), 'port closed');
});

t.test('the collector as an express router mounted in another app', async (t) => {
  const good = new Capture();
  const config = await configFrom('', base);
  const collector = createCollector(config, { stdout: good, stderr: new Capture(), defaultMetrics: false });
  const app = express();
  app.get('/app/hello', (_req, res) => {
    res.send('hello');
  });
  app.use('/collector', collector.router);
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const pixel = await send(port, 'GET', '/collector/i?e=pv');
  t.equal(pixel.status, 200);
  t.equal(pixel.headers['content-type'], 'image/gif');
  const ok = await send(port, 'POST', '/collector/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], '{}');
  t.equal(ok.body.toString(), 'ok');
  t.equal((await send(port, 'GET', '/collector/health')).body.toString(), 'ok');
  t.equal((await send(port, 'GET', '/collector/nope')).status, 404);
  t.equal((await send(port, 'GET', '/app/hello')).body.toString(), 'hello');
  await collector.close();
  const paths = good.lines.map((l) => decodeCollectorPayload(Buffer.from(l, 'base64')).path);
  t.same(paths, ['/i', '/com.snowplowanalytics.snowplow/tp2']);
});

t.test('/metrics counts requests and records', async (t) => {
  const config = await configFrom('', base);
  const collector = createCollector(config, { stdout: new Capture(), stderr: new Capture() });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  await send(running.port, 'GET', '/i');
  await send(running.port, 'GET', '/i');
  await send(running.port, 'GET', '/nope');
  const m = await send(running.port, 'GET', '/metrics');
  t.equal(m.status, 200);
  t.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const text = m.body.toString();
  t.match(text, /furrow_collector_requests_total\{route="pixel",code="200"\} 2/);
  t.match(text, /furrow_collector_requests_total\{route="not_found",code="404"\} 1/);
  t.match(text, /furrow_collector_records_total\{stream="good"\} 2/);
  t.match(text, /furrow_collector_sink_healthy\{stream="good"\} 1/);
  t.match(text, /furrow_collector_process_cpu_user_seconds_total/);
});

t.test('a port in use stops start-up with COLLECTOR_LISTEN', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => blocker.close(() => r())));
  const port = (blocker.address() as AddressInfo).port;
  const config = await configFrom('', base);
  const collector = createCollector(config, { stdout: new Capture(), stderr: new Capture(), defaultMetrics: false });
  await t.rejects(startCollectorServer(collector, { port }), { code: 'COLLECTOR_LISTEN', message: new RegExp(`COLLECTOR_LISTEN: cannot listen on 127\\.0\\.0\\.1:${port}`) });
});

t.test('stdout sink: a broken output stream makes the sink unhealthy instead of crashing', async (t) => {
  const { Writable } = await import('node:stream');
  const broken = new Writable({ write(_c, _e, cb) { cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })); } });
  const sink = new StdoutSink({ out: broken, maxBytes: 1_000_000 });
  t.equal(sink.isHealthy(), true);
  const r = await sink.write([Buffer.from('x')], '');
  t.equal(r.sent, 0, 'nothing reported sent');
  t.equal(r.failed.length, 1, 'the record is reported failed (durable mode answers 503)');
  t.equal(sink.isHealthy(), false);
  let failed = 0;
  sink.enqueue([Buffer.from('y')], '', (res) => (failed += res.failed.length));
  await sink.flush();
  t.equal(failed, 1, 'enqueued records are reported failed');
});
