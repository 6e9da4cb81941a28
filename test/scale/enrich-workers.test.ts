/**
 * `furrow enrich --workers 2` end to end: a supervisor and two enricher processes sharing a 4-shard raw stream
 * through the DynamoDB lease table (kinesalite + dynalite in this process), a worker killed with -9 and
 * restarted, SIGTERM to the supervisor.
 */
import t from 'tap';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createDynamoDbLeaseTable } from '../../streams/kinesis/dynamodb-lease-table.js';
import { createStream, readAll, startLocalAws } from '../support/local-aws.js';
import { column, qs, record } from '../enricher/support.js';
import { BUILTIN_REGISTRY, TEST_REGISTRY } from '../support/fixtures.js';
import { waitFor } from '../support/wait-for.js';

const ROOT = join(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePortPair(): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<Server | null>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(null));
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  for (let i = 0; i < 50; i++) {
    const a = await tryListen(0);
    if (a === null) continue;
    const port = (a.address() as AddressInfo).port;
    const b = await tryListen(port + 1);
    await new Promise((r) => a.close(r));
    if (b !== null) {
      await new Promise((r) => b.close(r));
      return port;
    }
  }
  throw new Error('no two free neighbouring ports');
}


t.test('furrow enrich --workers 2: shards shared through leases, a killed worker restarted, clean SIGTERM', async (t) => {
  const aws = await startLocalAws();
  const dir = mkdtempSync(join(tmpdir(), 'furrow-enrich-workers-'));
  t.teardown(async () => {
    await aws.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await createStream(aws.kinesis, 'raw', 4);
  await createStream(aws.kinesis, 'enriched', 1);
  await createStream(aws.kinesis, 'bad', 1);
  const resolver = join(dir, 'resolver.json');
  writeFileSync(
    resolver,
    JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
      data: {
        cacheSize: 500,
        repositories: [
          { name: 'test registry', priority: 0, vendorPrefixes: [], connection: { embedded: { path: TEST_REGISTRY } } },
          { name: 'Iglu Central copy', priority: 1, vendorPrefixes: [], connection: { embedded: { path: BUILTIN_REGISTRY } } },
        ],
      },
    }),
  );
  // Worker i serves /metrics on port + i: find two free neighbouring ports.
  const port = await freePortPair();
  const conf = join(dir, 'enrich.hocon');
  writeFileSync(
    conf,
    `monitoring { healthProbe { port = ${port} } }
     input { streamName = "raw", appName = "furrow-enrich-workers", region = "us-east-1", customEndpoint = "${aws.kinesisEndpoint}",
             dynamodbCustomEndpoint = "${aws.dynamoEndpoint}", leaseDuration = "2 seconds", workerIdentifier = "box1",
             initialPosition { type = TRIM_HORIZON } }
     output {
       good { streamName = "enriched", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1" }
       bad { streamName = "bad", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1" }
     }`,
  );
  const put = async (from: number, to: number) => {
    const recs = [];
    for (let i = from; i < to; i++) recs.push({ Data: record({ querystring: qs({ e: 'pv', p: 'web', tv: 'js-3', url: `https://x.example/p${i}` }) }), PartitionKey: `k${i}` });
    for (let i = 0; i < recs.length; i += 200) {
      const out = await aws.kinesis.send(new PutRecordsCommand({ StreamName: 'raw', Records: recs.slice(i, i + 200) }));
      if ((out.FailedRecordCount ?? 0) > 0) throw new Error('put failed');
    }
  };
  const enrichedUrls = async () => new Set((await readAll(aws.kinesis, 'enriched')).map((l) => column(l, 'page_url')));
  await put(0, 200);

  const sup = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', '--config', conf, '--iglu-config', resolver, '--offline', '--workers', '2', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  sup.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => sup.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (sup.exitCode === null) sup.kill('SIGKILL');
  });

  await waitFor('the first 200 events enriched', async () => (await enrichedUrls()).size === 200, { timeoutMs: 90_000, everyMs: 200 });
  const table = createDynamoDbLeaseTable(aws.dynamodb, 'furrow-enrich-workers');
  const owners = async () => new Set((await table.list()).map((l) => l.leaseOwner).filter((o): o is string => o !== null));
  const both = await waitFor('two workers holding leases', async () => ((await owners()).size === 2 ? owners() : null), { timeoutMs: 30_000, everyMs: 200 });
  t.same([...both].sort(), ['box1-0', 'box1-1'], 'each worker has its own id (workerIdentifier + index)');

  // Records on every shard now that both workers read: afterwards each has read and checkpointed.
  await put(200, 400);
  await waitFor('400 events enriched', async () => (await enrichedUrls()).size === 400, { timeoutMs: 90_000, everyMs: 200 });
  // Observability: each worker's /metrics shows its leases, per-shard lag, records read and checkpoints.
  const scrape = async () => Promise.all([port, port + 1].map(async (p) => (await fetch(`http://127.0.0.1:${p}/metrics`)).text()));
  const heldBy = (text: string) => Number(/^furrow_leases_held\{app="furrow-enrich-workers",worker="box1-\d"\} (\d+)$/m.exec(text)?.[1] ?? -1);
  const texts = await waitFor('4 leases held between the two workers', async () => {
    const tx = await scrape();
    return tx.every((x) => heldBy(x) >= 1) && tx.reduce((n, x) => n + heldBy(x), 0) === 4 ? tx : null;
  }, { timeoutMs: 20_000, everyMs: 200 });
  for (const [i, text] of texts.entries()) {
    t.match(text, /^furrow_kinesis_millis_behind_latest\{stream="raw",shard="shardId-\d+"\} \d+$/m, `worker ${i}: per-shard lag`);
    t.match(text, /^furrow_lease_checkpoints_total\{app="furrow-enrich-workers",result="ok"\} [1-9]/m, `worker ${i}: checkpoints`);
    t.match(text, /^furrow_kinesis_records_read_total\{stream="raw",shard="shardId-\d+"\} [1-9]/m, `worker ${i}: records read`);
  }

  // The supervisor's worker children (tsx may run an esbuild service child too: not a worker).
  const workerPids = () =>
    execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(sup.pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('bin/furrow.ts') && l.includes('--worker-index'))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
  const children = workerPids();
  t.equal(children.length, 2, `two worker processes (${children.join(', ')})`);
  process.kill(children[0]!, 'SIGKILL');
  await waitFor('a replacement worker', async () => {
    const now = workerPids();
    return now.length === 2 && !now.includes(children[0]!);
  }, { timeoutMs: 30_000, everyMs: 200 });
  await put(400, 600);
  await waitFor('all 600 events enriched', async () => (await enrichedUrls()).size === 600, { timeoutMs: 90_000, everyMs: 200 });
  t.equal((await readAll(aws.kinesis, 'bad')).length, 0, 'no bad rows');

  sup.kill('SIGTERM');
  const code = await exited;
  t.equal(code, 0, 'supervisor exits 0 on SIGTERM');
  if (code !== 0) t.comment(stderr.slice(-3000));
  t.ok((await table.list()).every((l) => l.leaseOwner === null), 'every lease released');
});

t.test('furrow enrich --workers with input.leases = false is refused before any worker starts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-enrich-workers-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'enrich.hocon');
  writeFileSync(
    conf,
    `input { streamName = "raw", region = "us-east-1", customEndpoint = "http://127.0.0.1:9", leases = false }
     output {
       good { streamName = "enriched", customEndpoint = "http://127.0.0.1:9", region = "us-east-1" }
       bad { streamName = "bad", customEndpoint = "http://127.0.0.1:9", region = "us-east-1" }
     }`,
  );
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', '--config', conf, '--offline', '--workers', '2'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 2);
  t.match(r.stderr, /--workers needs input\.leases = true/);
});
