/**
 * Compressed raw records (Snowplow collector 3.6 `compression {}`): the collector batches good payloads into
 * gzip records; the enricher reads them back. Real servers: the collector on 127.0.0.1 and kinesalite.
 */
import t from 'tap';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
// @ts-expect-error kinesalite ships no types
import kinesalite from 'kinesalite';
import { createKinesisClient } from '../../streams/aws-clients.js';
import { createCollector } from '../../collector/collector.js';
import { startCollectorServer } from '../../collector/server.js';
import { isCompressedRecord } from '../../formats/record-framing.js';
import { column, testEnricher } from '../enricher/support.js';
import { CompressingSink } from '../../collector/sinks/compressing-sink.js';
import { StdoutSink } from '../../collector/sinks/stdout-sink.js';
import { Capture, configFrom, send, startTestCollector } from './helpers.js';

const KINESIS_BASE = 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds }';

async function startKinesalite(): Promise<{ endpoint: string; client: KinesisClient; close(): Promise<void> }> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = createKinesisClient({ endpoint, region: 'us-east-1' }, {});
  return { endpoint, client, close: () => { client.destroy(); return new Promise<void>((r) => server.close(() => r())); } };
}

async function createStream(client: KinesisClient, name: string): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (let i = 0; i < 100; i++) {
    const s = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (s.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`stream ${name} never became ACTIVE`);
}

async function readAll(client: KinesisClient, name: string): Promise<Buffer[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: Buffer[] = [];
  for (const s of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let i = 0; i < 1000 && it; i++) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10000 }));
      for (const rec of r.Records ?? []) out.push(Buffer.from(rec.Data!));
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

/** Enriches every record; returns the good lines and the number of bad rows. */
async function enrichAll(records: Buffer[]): Promise<{ good: string[]; bad: number }> {
  const { processor } = await testEnricher();
  const good: string[] = [];
  let bad = 0;
  for (const r of records) {
    const out = await processor.process(r);
    good.push(...out.good);
    bad += out.bad.length;
  }
  return { good, bad };
}

const tp2 = (n: number): string => JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  data: [{ e: 'pv', p: 'web', tv: 'js-3.0.0', aid: `post-${n}-a` }, { e: 'pv', p: 'web', tv: 'js-3.0.0', aid: `post-${n}-b` }],
});

t.test('config: Snowplow 3.6 keys; off by default; zstd is written as gzip with a warning; bad values name the key', async (t) => {
  t.same((await configFrom()).compression, { enabled: false, type: 'zstd', gzipCompressionLevel: 6, zstdCompressionLevel: 9 });
  const zstd = await configFrom('collector.compression { enabled = true }');
  t.equal(zstd.compression.enabled, true, "Snowplow's minimal snippet (type defaults to zstd) starts");
  t.same(zstd.warnings.filter((w) => w.key === 'collector.compression.type').length, 1, 'one warning names collector.compression.type');
  t.match(zstd.warnings.find((w) => w.key === 'collector.compression.type')?.message, /gzip/);
  t.same((await configFrom('collector.compression { enabled = true, type = GZIP, gzipCompressionLevel = 9 }')).compression,
    { enabled: true, type: 'gzip', gzipCompressionLevel: 9, zstdCompressionLevel: 9 });
  t.equal((await configFrom('collector.compression { enabled = false, type = zstd }')).compression.enabled, false, 'zstd is fine while disabled');
  await t.rejects(configFrom('collector.compression { enabled = true, type = lz4 }'), { code: 'CONFIG_INVALID_VALUE', message: /collector\.compression\.type/ });
  await t.rejects(configFrom('collector.compression { enabled = true, type = gzip, gzipCompressionLevel = 12 }'), { message: /collector\.compression\.gzipCompressionLevel/ });
  await t.rejects(configFrom('collector.compression { enabled = true, type = gzip, level = 3 }'), { message: /collector\.compression\.level/ });
});

t.test('round trip: collector -> kinesalite (gzip batches) -> enricher: every event comes out good', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'raw');
  await createStream(k.client, 'raw-bad');
  const config = await configFrom(`collector.compression { enabled = true, type = gzip }
  collector.streams {
    good { name = raw, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis, buffer { timeLimit = 60000 } }
    bad { name = raw-bad, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis }
  }`, KINESIS_BASE);
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  const GETS = 300;
  const POSTS = 50;
  for (let i = 0; i < GETS; i++) t.equal((await send(running.port, 'GET', `/i?e=pv&p=web&tv=js-3.0.0&aid=get-${i}`)).status, 200);
  for (let i = 0; i < POSTS; i++) {
    t.equal((await send(running.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'c'], ['Content-Type', 'application/json']], tp2(i))).status, 200);
  }
  t.same(await readAll(k.client, 'raw'), [], 'nothing written before the batch is full or flushed (timeLimit 60 s)');
  await collector.good.flush();
  const records = await readAll(k.client, 'raw');
  t.equal(records.length, 1, 'all 350 requests in one record');
  t.ok(records.every((r) => r[0] === 0x1f && r[1] === 0x8b), 'gzip records');
  t.same(await readAll(k.client, 'raw-bad'), []);
  const { good, bad } = await enrichAll(records);
  t.equal(bad, 0);
  t.equal(good.length, GETS + 2 * POSTS, 'every event in is one good event out');
  const ids = new Set(good.map((l) => column(l, 'app_id')));
  t.equal(ids.size, GETS + 2 * POSTS);
  t.ok(ids.has('get-0') && ids.has(`get-${GETS - 1}`) && ids.has('post-0-a') && ids.has(`post-${POSTS - 1}-b`));
});

t.test('durable acknowledgement: the 200 comes once the compressed record is in the stream', async (t) => {
  const k = await startKinesalite();
  t.teardown(() => k.close());
  await createStream(k.client, 'raw');
  await createStream(k.client, 'raw-bad');
  const config = await configFrom(`collector.compression { enabled = true, type = gzip }
  collector.furrow.acknowledge = durable
  collector.streams {
    good { name = raw, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis, buffer { timeLimit = 60000 } }
    bad { name = raw-bad, region = us-east-1, customEndpoint = "${k.endpoint}", startupCheckInterval = 50 millis }
  }`, KINESIS_BASE);
  const collector = createCollector(config, { defaultMetrics: false });
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  for (let i = 0; i < 200 && (await send(running.port, 'GET', '/sink-health')).status !== 200; i++) await new Promise((r) => setTimeout(r, 50));
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => send(running.port, 'GET', `/i?e=pv&p=web&tv=t&aid=d-${i}`)));
  t.same(replies.map((r) => r.status), Array(20).fill(200));
  const records = await readAll(k.client, 'raw');
  t.ok(records.length >= 1, `${records.length} record(s) in the stream when the 200s came, no flush needed`);
  const { good } = await enrichAll(records);
  t.equal(good.length, 20);
});

t.test('records stay under maxBytes: poorly compressing payloads split into several records', async (t) => {
  const c = await startTestCollector('collector.compression { enabled = true, type = gzip }\ncollector.streams.good.maxBytes = 20000');
  t.teardown(() => c.close());
  const N = 30;
  for (let i = 0; i < N; i++) {
    const r = await send(c.port, 'GET', `/i?e=pv&p=web&tv=t&aid=r-${i}&zz=${randomBytes(2500).toString('hex')}`);
    t.equal(r.status, 200);
  }
  await c.collector.good.flush();
  const records = c.goodLines.lines.map((l) => Buffer.from(l, 'base64'));
  t.ok(records.length > 3, `${records.length} records`);
  t.ok(records.every((r) => r.length < 20000), 'every record is under maxBytes');
  t.ok(records.every(isCompressedRecord));
  const { good, bad } = await enrichAll(records);
  t.equal(bad, 0);
  t.equal(good.length, N);
});

t.test('a payload that does not compress under the target is written as it is (an uncompressed record)', async (t) => {
  const lines = new Capture();
  const sink = new CompressingSink({ inner: new StdoutSink({ out: lines, maxBytes: 1000 }), level: 6, timeLimitMs: 60_000 });
  const incompressible = randomBytes(990);
  const small = randomBytes(100);
  const r = await sink.write([incompressible, small], 'k');
  t.same(r, { sent: 2, failed: [] });
  await sink.flush();
  const records = lines.lines.map((l) => Buffer.from(l, 'base64'));
  t.ok(records.every((rec) => rec.length < 1000));
  t.ok(records.some((rec) => rec.equals(incompressible)), 'the lone incompressible payload, as is');
  t.ok(records.some((rec) => isCompressedRecord(rec)), 'the other one, compressed');
});

t.test('without compression nothing changes: one record per request', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());
  for (let i = 0; i < 5; i++) await send(c.port, 'GET', `/i?e=pv&n=${i}`);
  t.equal((await c.good()).length, 5);
});
