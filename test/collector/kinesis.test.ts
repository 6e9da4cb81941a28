/**
 * The Kinesis sink against a real Kinesis API: kinesalite in-process on 127.0.0.1. Streams are created,
 * requests sent through the collector, records read back with GetRecords and decoded. Throttling
 * (ProvisionedThroughputExceededException on some entries of a PutRecords response) loses nothing.
 */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand, type KinesisClient, type PutRecordsCommandOutput, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
// @ts-expect-error kinesalite ships no types
import kinesalite from 'kinesalite';
import { createKinesisClient } from '../../streams/aws-clients.js';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { KinesisWriter, PUT_RECORDS_MAX_BYTES, type KinesisSender } from '../../streams/kinesis/kinesis-writer.js';
import { createCollector } from '../../collector/collector.js';
import { startCollectorServer } from '../../collector/server.js';
import { configFrom, send } from './helpers.js';

interface Kinesalite {
  endpoint: string;
  client: KinesisClient;
  close(): Promise<void>;
}

async function startKinesalite(): Promise<Kinesalite> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createKinesisClient({ endpoint, region: 'us-east-1' }, {});
  return {
    endpoint,
    client,
    close: () => {
      client.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function createStream(client: KinesisClient, name: string, shards = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 100; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stream ${name} never became ACTIVE`);
}

/** Every record in the stream (all shards, from TRIM_HORIZON). */
async function readAll(client: KinesisClient, name: string): Promise<Array<{ data: Buffer; key: string }>> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: Array<{ data: Buffer; key: string }> = [];
  for (const s of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let i = 0; i < 1000 && it; i++) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      for (const rec of r.Records ?? []) out.push({ data: Buffer.from(rec.Data!), key: rec.PartitionKey! });
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/**
 * Wraps the real client: for PutRecords, entries chosen by `fail` get ProvisionedThroughputExceededException
 * (and are not sent); the others really go to kinesalite. Result order matches the request, as in AWS.
 */
function throttling(client: KinesisClient, fail: (data: Buffer, attemptOfThisRecord: number) => boolean): KinesisSender & { calls: number[]; throttled: number } {
  const attempts = new Map<string, number>();
  const wrapper = {
    calls: [] as number[],
    throttled: 0,
    async send(cmd: PutRecordsCommand | DescribeStreamSummaryCommand): Promise<unknown> {
      if (!(cmd instanceof PutRecordsCommand)) return client.send(cmd);
      const entries = cmd.input.Records ?? [];
      wrapper.calls.push(entries.length);
      const pass: typeof entries = [];
      const failed = new Set<number>();
      entries.forEach((e, i) => {
        const id = Buffer.from(e.Data!).toString('hex');
        const n = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, n);
        if (fail(Buffer.from(e.Data!), n)) failed.add(i);
        else pass.push(e);
      });
      const real = pass.length ? await client.send(new PutRecordsCommand({ StreamName: cmd.input.StreamName, Records: pass })) : { Records: [] };
      const results: PutRecordsResultEntry[] = [];
      let k = 0;
      for (let i = 0; i < entries.length; i++) {
        if (failed.has(i)) {
          wrapper.throttled++;
          results.push({ ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard' });
        } else results.push(real.Records![k++]!);
      }
      return { FailedRecordCount: failed.size, Records: results } satisfies Partial<PutRecordsCommandOutput>;
    },
  };
  return wrapper;
}

t.test('collector → kinesalite: records and bad rows land, decoded', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'good');
  await createStream(k.client, 'bad');
  const config = await configFrom(`collector.streams {
    good { name = good, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis, buffer { timeLimit = 50 } }
    bad { name = bad, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis, buffer { timeLimit = 50 } }
  }`, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }');
  t.equal(config.streams.sink, 'kinesis');
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));

  for (let i = 0; i < 200 && (await send(running.port, 'GET', '/sink-health')).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal((await send(running.port, 'GET', '/sink-health')).status, 200, 'healthy once the streams are ACTIVE');

  for (let i = 0; i < 20; i++) t.equal((await send(running.port, 'GET', `/i?e=pv&n=${i}`)).status, 200);
  const body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}';
  t.equal((await send(running.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Content-Type', 'application/json']], body)).status, 200);
  // A non-JSON body between maxBytes (1 000 000) and maxPayloadSize: a size_violation on the bad stream.
  t.equal((await send(running.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], 's'.repeat(1_000_100))).status, 200);
  await collector.good.flush();
  await collector.bad.flush();

  const good = await readAll(k.client, 'good');
  t.equal(good.length, 21);
  const decoded = good.map((r) => decodeCollectorPayload(r.data));
  t.same(decoded.filter((p) => p.path === '/i').map((p) => p.querystring).sort(), Array.from({ length: 20 }, (_, i) => `e=pv&n=${i}`).sort());
  const post = decoded.find((p) => p.body !== undefined)!;
  t.equal(post.body, body);
  t.equal(post.collector, 'ssc-3.4.0-kinesissink');
  t.ok(good.every((r) => /^[0-9a-f-]{36}$/.test(r.key)), 'random UUID partition keys');
  t.ok(good.every((r) => r.data.subarray(0, 3).toString('hex') === '0b0064'));
  const bad = await readAll(k.client, 'bad');
  t.equal(bad.length, 1);
  const row = JSON.parse(bad[0]!.data.toString('utf8'));
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0');
  t.equal(row.data.failure.maximumAllowedSizeBytes, 1000000);

  const metrics = (await send(running.port, 'GET', '/metrics')).body.toString();
  t.match(metrics, /furrow_kinesis_put_records_total\{stream="good",outcome="ok"\} 21/);
  t.match(metrics, /furrow_collector_records_total\{stream="bad"\} 1/);
});

t.test('useIpAddressAsPartitionKey', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'g2');
  const config = await configFrom(`collector.streams {
    useIpAddressAsPartitionKey = true
    good { name = g2, region = us-east-1, customEndpoint = "${k.endpoint}", buffer { timeLimit = 20 } }
    bad { name = b2, region = us-east-1, customEndpoint = "${k.endpoint}" }
  }`, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }');
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  await send(running.port, 'GET', '/i', [['Host', 'x'], ['X-Forwarded-For', '203.0.113.9']]);
  await collector.good.flush();
  const recs = await readAll(k.client, 'g2');
  t.equal(recs.length, 1);
  t.equal(recs[0]!.key, '203.0.113.9');
});

t.test('stream missing at start: unhealthy, events kept and delivered once it exists', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  const config = await configFrom(`collector.streams {
    good { name = late, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis, backoffPolicy { minBackoff = 20, maxBackoff = 40, maxRetries = 2 }, buffer { timeLimit = 20 } }
    bad { name = late-bad, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis }
  }`, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }');
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  t.equal((await send(running.port, 'GET', '/sink-health')).status, 503);
  for (let i = 0; i < 5; i++) t.equal((await send(running.port, 'GET', `/i?n=${i}`)).status, 200, 'accepted while the sink is unhealthy');
  await new Promise((r) => setTimeout(r, 200));
  t.ok(collector.good.pendingBytes() > 0, 'records wait in memory');
  await createStream(k.client, 'late');
  await createStream(k.client, 'late-bad');
  await collector.good.flush();
  const recs = await readAll(k.client, 'late');
  t.equal(recs.length, 5);
  t.equal(collector.good.pendingBytes(), 0);
  for (let i = 0; i < 200 && (await send(running.port, 'GET', '/sink-health')).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  t.equal((await send(running.port, 'GET', '/sink-health')).status, 200);
});

t.test('KinesisWriter: throttled entries are retried alone, nothing lost or duplicated', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'throttled', 4);
  // Every third record is throttled on its first two attempts.
  const client = throttling(k.client, (data, attempt) => data.readUInt32BE(0) % 3 === 0 && attempt <= 2);
  const puts: Array<[number, number, number]> = [];
  const w = new KinesisWriter({
    client, streamName: 'throttled', recordLimit: 100, byteLimit: 1_000_000, timeLimitMs: 10,
    backoff: { minBackoffMs: 5, maxBackoffMs: 10, maxRetries: 5 },
    observer: { onPut: (ok, failed, thr) => puts.push([ok, failed, thr]) },
  });
  const records = Array.from({ length: 1000 }, (_, i) => {
    const b = Buffer.alloc(64);
    b.writeUInt32BE(i, 0);
    return b;
  });
  const results = await Promise.all([w.write(records.slice(0, 400)), w.write(records.slice(400))]);
  t.same(results.map((r) => r.sent), [400, 600]);
  t.same(results.map((r) => r.failed.length), [0, 0]);
  t.equal(w.pendingRecords, 0);
  t.ok(client.throttled >= 2 * 334, `throttled ${client.throttled} entries`);
  t.ok(puts.some(([, , thr]) => thr > 0), 'observer saw throttling');
  t.ok(client.calls.every((n) => n <= 100));
  const stored = await readAll(k.client, 'throttled');
  t.equal(stored.length, 1000, 'each record exactly once');
  t.same(stored.map((r) => r.data.readUInt32BE(0)).sort((a, b) => a - b), records.map((_, i) => i));
  t.equal(w.isHealthy(), true);
  await w.close();
});

t.test('collector with a throttling client (durable mode) loses nothing', async (t) => {
  // Durable writes are given up after backoffPolicy.maxRetries attempts (503): enough attempts here for
  // every record to get through the every-other-entry throttling.
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'dg');
  await createStream(k.client, 'db');
  let n = 0;
  const client = throttling(k.client, () => n++ % 2 === 0);
  const config = await configFrom(`collector.streams {
    good { name = dg, region = us-east-1, customEndpoint = "${k.endpoint}", backoffPolicy { minBackoff = 5, maxBackoff = 10, maxRetries = 20 }, buffer { timeLimit = 5 } }
    bad { name = db, region = us-east-1, customEndpoint = "${k.endpoint}", backoffPolicy { minBackoff = 5, maxBackoff = 10, maxRetries = 20 }, buffer { timeLimit = 5 } }
  }
  collector.furrow.acknowledge = durable`, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }');
  const collector = createCollector(config, { defaultMetrics: false, kinesisClient: client });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => send(running.port, 'GET', `/i?n=${i}`)));
  t.ok(replies.every((r) => r.status === 200));
  // Durable: every 200 means the record is already in the stream (no flush needed).
  const recs = await readAll(k.client, 'dg');
  t.equal(recs.length, 60);
  t.same(new Set(recs.map((r) => decodeCollectorPayload(r.data).querystring)).size, 60);
  t.ok(client.throttled > 0);
});

t.test('KinesisWriter: call limits, invalid records, whole-call errors, give-up', async (t) => {
  const calls: Array<{ n: number; bytes: number }> = [];
  let throwNext = 1;
  const fake: KinesisSender = {
    async send(cmd) {
      if (!(cmd instanceof PutRecordsCommand)) return { StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } };
      if (throwNext-- > 0) throw Object.assign(new Error('socket hang up'), { name: 'NetworkingError' });
      const recs = cmd.input.Records!;
      calls.push({ n: recs.length, bytes: recs.reduce((s, r) => s + r.Data!.length + Buffer.byteLength(r.PartitionKey!), 0) });
      return { FailedRecordCount: 0, Records: recs.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    },
  };
  const w = new KinesisWriter({ client: fake, streamName: 's', recordLimit: 100_000, byteLimit: 64 * 1024 * 1024, timeLimitMs: 60_000, backoff: { minBackoffMs: 1, maxBackoffMs: 2, maxRetries: 3 } });
  const small = Array.from({ length: 1200 }, () => Buffer.alloc(10));
  const big = Array.from({ length: 12 }, () => Buffer.alloc(900_000));
  const tooBig = Buffer.alloc(1024 * 1024);
  const p1 = w.write(small);
  const p2 = w.write([...big, tooBig]);
  await w.flush();
  const [r1, r2] = await Promise.all([p1, p2]);
  t.equal(r1.sent, 1200);
  t.equal(r2.sent, 12);
  t.equal(r2.invalid?.length, 1, 'a record over 1 MiB (with its key) is invalid, not sent');
  t.ok(calls.every((c) => c.n <= 500 && c.bytes <= PUT_RECORDS_MAX_BYTES), JSON.stringify(calls));
  t.equal(calls.reduce((s, c) => s + c.n, 0), 1212, 'the failed first call was retried whole');

  const down: KinesisSender = { send: async () => { throw new Error('down'); } };
  const g = new KinesisWriter({ client: down, streamName: 's', timeLimitMs: 1, backoff: { minBackoffMs: 1, maxBackoffMs: 1, maxRetries: 1 }, giveUpAfterAttempts: 3 });
  const r = await g.write([Buffer.from('x')]);
  t.same({ sent: r.sent, failed: r.failed.length }, { sent: 0, failed: 1 });
  t.equal(g.isHealthy(), false);

  // close() bounds retries of a dead stream and reports what was left.
  const h = new KinesisWriter({ client: down, streamName: 's', timeLimitMs: 1, backoff: { minBackoffMs: 5, maxBackoffMs: 5, maxRetries: 1 }, closeTimeoutMs: 50 });
  const pending = h.write([Buffer.from('y')]);
  const t0 = Date.now();
  await h.close();
  t.ok(Date.now() - t0 < 2000);
  t.equal((await pending).failed.length, 1);
});

t.test('buffer flushes before adding a record that would pass recordLimit / byteLimit', async (t) => {
  const sizes: number[] = [];
  const fake: KinesisSender = {
    async send(cmd) {
      const recs = (cmd as PutRecordsCommand).input.Records!;
      sizes.push(recs.length);
      return { FailedRecordCount: 0, Records: recs.map(() => ({ SequenceNumber: '1', ShardId: 's' })) };
    },
  };
  const w = new KinesisWriter({ client: fake, streamName: 's', recordLimit: 3, byteLimit: 1_000_000, timeLimitMs: 60_000, partitionKey: () => 'k' });
  const p = w.write(Array.from({ length: 7 }, () => Buffer.alloc(1)));
  await new Promise((r) => setTimeout(r, 20));
  t.same(sizes, [3, 3], 'two full batches sent, one record still buffered');
  t.equal(w.pendingRecords, 1);
  await w.flush();
  t.same(sizes, [3, 3, 1]);
  t.equal((await p).sent, 7);
  const b = new KinesisWriter({ client: fake, streamName: 's', recordLimit: 100, byteLimit: 25, timeLimitMs: 60_000, partitionKey: () => 'k' });
  sizes.length = 0;
  void b.write(Array.from({ length: 5 }, () => Buffer.alloc(9)));
  await new Promise((r) => setTimeout(r, 20));
  t.same(sizes, [2, 2], '10 bytes each (data + key): two per 25-byte buffer');
  await b.close();
});
