/**
 * Durable acknowledgement on a failing Kinesis (issue 15, item 8). The collector's Kinesis sink talks over
 * HTTP to a Kinesis endpoint on 127.0.0.1 whose PutRecords the test makes hang, answer 500 or succeed
 * (DescribeStreamSummary always says ACTIVE). Durable requests must get 503 + Retry-After (not 408 after
 * networking.responseHeaderTimeout), the records of a refused request must leave the writer (no retrying
 * forever), `furrow_collector_sink_healthy` must drop to 0 after a hung call (collector.furrow.
 * kinesisCallTimeout, 3 s by default), and durable requests must not wait for buffer.timeLimit.
 *
 * Before the fix: 408 after 30 s without Retry-After in both cases, records retried forever, sink_healthy
 * still 1 two minutes into a hang; with timeLimit = 1 hour a durable request was never acknowledged.
 */
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCollector, type Collector } from '../../collector/collector.js';
import { startCollectorServer, type RunningCollector } from '../../collector/server.js';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { configFrom, send, type Reply } from './helpers.js';

type Mode = 'ok' | 'hang' | '500';

interface FakeKinesis {
  endpoint: string;
  mode: Mode;
  /** Records of every PutRecords call, in order. */
  calls: Buffer[][];
  /** Records accepted (mode ok). */
  stored: Buffer[];
  close(): Promise<void>;
}

async function fakeKinesis(): Promise<FakeKinesis> {
  const hung: ServerResponse[] = [];
  const f: FakeKinesis = {
    endpoint: '', mode: 'ok', calls: [], stored: [],
    close: () => {
      for (const r of hung) r.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const reply = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      if (target.endsWith('.DescribeStreamSummary')) {
        reply(200, { StreamDescriptionSummary: { StreamName: 's', StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', StreamStatus: 'ACTIVE', RetentionPeriodHours: 24, StreamCreationTimestamp: 0, EnhancedMonitoring: [], OpenShardCount: 1 } });
        return;
      }
      const records = (JSON.parse(Buffer.concat(chunks).toString()) as { Records: Array<{ Data: string }> }).Records.map((r) => Buffer.from(r.Data, 'base64'));
      f.calls.push(records);
      if (f.mode === 'hang') {
        hung.push(res);
        return;
      }
      if (f.mode === '500') {
        reply(500, { __type: 'InternalFailure', message: 'injected by the test' });
        return;
      }
      f.stored.push(...records);
      reply(200, { FailedRecordCount: 0, Records: records.map((_, i) => ({ SequenceNumber: String(i), ShardId: 'shardId-000000000000' })) });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  f.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return f;
}

async function startDurable(k: FakeKinesis, extra = 'startupCheckInterval = 1 second'): Promise<{ collector: Collector; running: RunningCollector; port: number }> {
  const stream = (name: string): string =>
    `${name} { name = ${name}, region = us-east-1, customEndpoint = "${k.endpoint}", backoffPolicy { minBackoff = 100, maxBackoff = 200, maxRetries = 3 }, ${extra} }`;
  const config = await configFrom(
    `collector { furrow.acknowledge = durable, streams { ${stream('good')}, ${stream('bad')} } }`,
    'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }',
  );
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  for (let i = 0; i < 100 && !(collector.good.isHealthy() && collector.bad.isHealthy()); i++) await new Promise((r) => setTimeout(r, 20));
  return { collector, running, port: running.port };
}

function sinkHealthy(text: string): string | undefined {
  return /furrow_collector_sink_healthy\{stream="good"\} (\d)/.exec(text)?.[1];
}

function check503(t: Test, replies: Reply[], what: string): void {
  t.same([...new Set(replies.map((r) => r.status))], [503], `${what}: 503`);
  t.ok(replies.every((r) => r.headers['retry-after'] === '5'), `${what}: with Retry-After`);
}

t.test('PutRecords hangs: 503 + Retry-After, sink_healthy 0, nothing retried forever; recovers', async (t) => {
  const k = await fakeKinesis();
  t.teardown(() => k.close());
  const s = await startDurable(k);
  t.teardown(() => s.running.shutdown(0));
  t.equal((await send(s.port, 'GET', '/i?n=ok')).status, 200, 'a durable request while Kinesis answers');
  k.mode = 'hang';
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(s.port, 'GET', `/i?n=${i}`)));
  check503(t, replies, 'requests in the hung calls');
  t.equal(s.collector.good.pendingBytes(), 0, 'their records left the writer (not retried forever)');
  t.equal(sinkHealthy(await s.collector.metrics.registry.metrics()), '0', 'sink_healthy 0 after the call timeout');
  t.equal((await send(s.port, 'GET', '/sink-health')).status, 503);
  check503(t, await Promise.all(Array.from({ length: 5 }, () => send(s.port, 'GET', '/i?n=later'))), 'requests while unhealthy');

  k.mode = 'ok';
  let r: Reply | null = null;
  // Recovery goes through a probe (one durable write at a time while unhealthy).
  for (let i = 0; i < 50 && r?.status !== 200; i++) {
    r = await send(s.port, 'GET', '/i?n=recovered');
    if (r.status !== 200) await new Promise((res) => setTimeout(res, 100));
  }
  t.equal(r?.status, 200, 'acknowledged again once Kinesis answers');
  t.equal(sinkHealthy(await s.collector.metrics.registry.metrics()), '1');
  t.same(k.stored.map((b) => decodeCollectorPayload(b).querystring).filter((q) => q === 'n=ok' || q === 'n=recovered'), ['n=ok', 'n=recovered'], 'acknowledged records are stored');
});

t.test('PutRecords answers 500: 503 + Retry-After after backoffPolicy.maxRetries attempts, then at once', async (t) => {
  const k = await fakeKinesis();
  t.teardown(() => k.close());
  const s = await startDurable(k);
  t.teardown(() => s.running.shutdown(0));
  k.mode = '500';
  const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => send(s.port, 'GET', `/i?n=${i}`)));
  check503(t, replies, 'requests during the failures');
  t.equal(s.collector.good.pendingBytes(), 0, 'their records left the writer');
  const attempts = new Map<string, number>();
  for (const call of k.calls) for (const b of call) attempts.set(decodeCollectorPayload(b).querystring!, (attempts.get(decodeCollectorPayload(b).querystring!) ?? 0) + 1);
  t.ok([...attempts.values()].every((n) => n <= 3), `each record was tried at most maxRetries = 3 times (${JSON.stringify([...attempts.values()])})`);
  t.equal(s.collector.good.isHealthy(), false);
  const before = k.calls.length;
  check503(t, await Promise.all(Array.from({ length: 5 }, () => send(s.port, 'GET', '/i?n=later'))), 'requests once unhealthy');
  t.ok(k.calls.length - before <= 1, 'at most one of them was sent (the probe)');
});

t.test('durable requests are acknowledged without waiting for buffer.timeLimit', async (t) => {
  const k = await fakeKinesis();
  t.teardown(() => k.close());
  const s = await startDurable(k, 'buffer { timeLimit = 1 hour }');
  t.teardown(() => s.running.shutdown(0));
  const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => send(s.port, 'GET', `/i?n=${i}`)));
  t.same([...new Set(replies.map((r) => r.status))], [200], 'all acknowledged');
  t.equal(k.stored.length, 30, 'all in the stream when acknowledged');
});
