import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { createS3Client } from '../../streams/aws-clients.js';
import { FurrowError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { MemoryBadRowOutput } from '../../loaders/bad-row-output.js';
import { runLoader } from '../../loaders/loader.js';
import { PostgresLoader } from '../../loaders/postgres/postgres-loader.js';
import { LakeWriter, splitEnriched } from '../../loaders/s3/lake-loader.js';
import { S3Source } from '../../streams/sources/s3-source.js';
import { generateLine } from '../support/enriched-generator.js';
import { startPostgres } from '../support/postgres.js';
import { dirResolver, IGLU_CENTRAL } from './fixtures/dir-resolver.js';
import { startS3rver, type LocalS3 } from './fixtures/s3rver.js';

let server: LocalS3;
let s3: S3Client;

t.before(async () => {
  server = await startS3rver(['lake', 'other']);
  s3 = createS3Client({ endpoint: server.endpoint, region: 'us-east-1' }, {});
});
t.teardown(async () => {
  s3?.destroy();
  await server?.stop();
});

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!).sort();
}

async function readObject(bucket: string, key: string): Promise<string> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return gunzipSync(Buffer.from(await r.Body!.transformToByteArray())).toString('utf8');
}

t.test('rolls by size into gzipped, date-partitioned files; checkpoints only after the upload', async (t) => {
  let clock = Date.UTC(2024, 4, 1, 13, 59, 59, 500);
  const writer = new LakeWriter(s3, { location: { bucket: 'lake', prefix: 'enriched/good' }, purpose: 'enriched', rollBytes: 40_000, rollMs: 3_600_000, uploadAttempts: 2, now: () => clock }, silentLogger);
  const lines = Array.from({ length: 100 }, (_, i) => generateLine(i, { seed: 5 }));
  const commits: Array<{ batch: number; objectsAtCommit: number }> = [];
  for (let b = 0; b < 10; b++) {
    const batch = lines.slice(b * 10, b * 10 + 10);
    await writer.add(batch, async () => {
      commits.push({ batch: b, objectsAtCommit: (await listKeys('lake', 'enriched/good/')).length });
    });
    clock += 1000; // the second file opens in the next hour
  }
  const beforeClose = commits.length;
  t.ok(beforeClose < 10, 'the batches of the open file are not checkpointed yet');
  await writer.close();
  t.same(commits.map((c) => c.batch), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'every batch checkpointed once, in order');
  const keys = await listKeys('lake', 'enriched/good/');
  t.ok(keys.length >= 2, `rolled by size into ${keys.length} files`);
  for (const k of keys) t.match(k, /^enriched\/good\/2024\/05\/01\/1[34]\/enriched-20240501T1[34]\d{4}\d{3}-\d{6}-[0-9a-f]{8}\.gz$/);
  t.ok(keys.some((k) => k.includes('/2024/05/01/13/')) && keys.some((k) => k.includes('/2024/05/01/14/')), 'hour partitions follow the file opening time');
  // A commit ran only when the object holding its lines existed.
  let uploadedSoFar = 0;
  for (const c of commits) {
    t.ok(c.objectsAtCommit >= 1 && c.objectsAtCommit >= uploadedSoFar, `batch ${c.batch} committed after an upload`);
    uploadedSoFar = c.objectsAtCommit;
  }
  const text = (await Promise.all(keys.map((k) => readObject('lake', k)))).join('');
  t.equal(text, lines.join('\n') + '\n', 'the lake holds every line once, in order');
});

t.test('rolls by time', async (t) => {
  let clock = Date.UTC(2024, 4, 2, 8, 0, 0);
  const writer = new LakeWriter(s3, { location: { bucket: 'lake', prefix: 'timed' }, purpose: 'enriched', rollBytes: 1e9, rollMs: 60_000, uploadAttempts: 1, now: () => clock }, silentLogger);
  let committed = 0;
  await writer.add(['a\tb'], async () => void committed++);
  await writer.tick();
  t.equal(committed, 0, 'young file stays open');
  clock += 60_000;
  await writer.tick();
  t.equal(committed, 1);
  t.same(await listKeys('lake', 'timed/'), [writer.uploaded[0]]);
});

t.test('a failed upload checkpoints nothing and fails loudly', async (t) => {
  const writer = new LakeWriter(s3, { location: { bucket: 'no-such-bucket', prefix: 'x' }, purpose: 'enriched', rollBytes: 10, rollMs: 60_000, uploadAttempts: 2, now: Date.now }, silentLogger);
  let committed = 0;
  const err = await writer.add(['0123456789abcdef'], async () => void committed++).then(() => null, (e: unknown) => e);
  t.ok(err instanceof FurrowError && err.code === 'LOADER_UPLOAD', 'LOADER_UPLOAD');
  t.equal(committed, 0);
});

t.test('lines that are not enriched TSV become loader_parsing_error rows', async (t) => {
  const { good, bad } = splitEnriched([generateLine(1), 'garbage', 'a\tb']);
  t.equal(good.length, 1);
  t.equal(bad.length, 2);
  t.match(JSON.parse(bad[0]!), { schema: /loader_parsing_error\/jsonschema\/2-0-0$/, data: { failure: { type: 'NotTSV' }, payload: 'garbage' } });
  t.match(JSON.parse(bad[1]!), { data: { failure: { type: 'FieldNumberMismatch', fieldCount: 2 } } });
});

t.test('the lake is the replay source: load postgres --input s3://… resumes after its stored position', async (t) => {
  const pgServer = await startPostgres();
  t.teardown(() => pgServer.stop());
  const writer = new LakeWriter(s3, { location: { bucket: 'other', prefix: 'replay' }, purpose: 'enriched', rollBytes: 30_000, rollMs: 3_600_000, uploadAttempts: 1, now: Date.now }, silentLogger);
  const lines = Array.from({ length: 120 }, (_, i) => generateLine(i, { seed: 9, light: true }));
  for (let b = 0; b < 12; b++) await writer.add(lines.slice(b * 10, b * 10 + 10), async () => {});
  await writer.close();
  t.ok(writer.uploaded.length >= 3, 'several objects to replay');

  const pool = new pg.Pool({ connectionString: pgServer.url, max: 3 });
  t.teardown(() => pool.end());
  const loader = new PostgresLoader(pool, dirResolver([IGLU_CENTRAL]), new MemoryBadRowOutput(), silentLogger, { schema: 'atomic', retryForMs: 30_000 });
  await loader.start();
  // First pass stops (abort) after two batches; the second resumes from the stored position.
  const ac = new AbortController();
  let batches = 0;
  const stopping = new S3Source(s3, { bucket: 'other', prefix: 'replay' }, { batchSize: 25, maxDelayMs: 1000 });
  const from = await loader.position(stopping.streamId);
  t.equal(from, null);
  await stopping.run(async (b) => {
    await loader.load(b.records, stopping.streamId, b.position!);
    if (++batches === 2) ac.abort();
  }, ac.signal);
  const mid = await pool.query('SELECT count(*)::int AS n FROM atomic.events');
  const loadedFirst = mid.rows[0].n as number;
  t.ok(loadedFirst > 0 && loadedFirst < 120, `first pass stopped part-way (${loadedFirst})`);
  const totals = await runLoader(new S3Source(s3, { bucket: 'other', prefix: 'replay' }, { batchSize: 25, maxDelayMs: 1000 }), loader, new AbortController().signal, silentLogger);
  t.equal(totals.loaded, 120 - loadedFirst, 'the second run loads only the rest');
  const all = await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM atomic.events');
  t.same(all.rows[0], { n: 120, d: 120 });
});

function furrow(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env['AWS_ACCESS_KEY_ID'];
  delete env['AWS_SECRET_ACCESS_KEY'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(stdin);
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('CLI: furrow load s3 writes the lake (good + bad), furrow load postgres --input s3://… replays it', async (t) => {
  const lines = Array.from({ length: 25 }, (_, i) => generateLine(i, { seed: 12, light: true }));
  const s3Args = ['--s3-endpoint', server.endpoint, '--region', 'us-east-1'];
  const r = await furrow(['load', 's3', '--output', 's3://lake/cli/good', '--bad', 's3://lake/cli/bad', '--roll-bytes', '8000', '--batch-size', '5', ...s3Args], lines.join('\n') + '\nnot-tsv\n');
  t.equal(r.code, 0, r.stderr);
  const good = await listKeys('lake', 'cli/good/');
  const bad = await listKeys('lake', 'cli/bad/');
  t.ok(good.length >= 2, 'rolled by size');
  t.equal(bad.length, 1);
  t.match(bad[0], /^cli\/bad\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/bad-/);
  t.match(await readObject('lake', bad[0]!), /loader_parsing_error.*"payload":"not-tsv"/);
  t.equal((await Promise.all(good.map((k) => readObject('lake', k)))).join(''), lines.join('\n') + '\n');

  const pgServer = await startPostgres();
  t.teardown(() => pgServer.stop());
  const dir = mkdtempSync(join(tmpdir(), 'furrow-s3cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const resolverJson = join(dir, 'resolver.json');
  writeFileSync(resolverJson, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 50, repositories: [{ name: 'local', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: join(IGLU_CENTRAL, '..') } } }] },
  }));
  const replay = await furrow(['load', 'postgres', '--url', pgServer.url, '--iglu-config', resolverJson, '--input', 's3://lake/cli/good', ...s3Args], '');
  t.equal(replay.code, 0, replay.stderr);
  const c = new pg.Client({ connectionString: pgServer.url });
  await c.connect();
  const n = await c.query('SELECT count(*)::int AS n FROM atomic.events');
  await c.end();
  t.equal(n.rows[0].n, 25);
});
