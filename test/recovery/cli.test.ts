/**
 * `furrow recover` as a real child process, end to end with the real enricher CLI: records → `furrow enrich` → bad
 * rows → `furrow recover` (fixes, selection, ledger, dry run) → `furrow enrich` → good events; counts add up. Inputs
 * and outputs on real stand-ins: kinesalite (bad stream in, raw stream and failed stream out) and s3rver (a prefix).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../streams/aws-clients.js';
import { createStream, putRecords, readAll, startLocalAws } from '../support/local-aws.js';
import { startS3rver } from '../loaders/fixtures/s3rver.js';
import { BUILTIN_REGISTRY, TEST_REGISTRY } from '../support/fixtures.js';
import { badSchema, column, enrichAll, EVENT_ID, failingRecords, qs, record } from './support.js';

interface Run { code: number | null; stdout: string; stderr: string }

function furrow(args: string[], opts: { stdin?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

const dir = mkdtempSync(join(tmpdir(), 'furrow-recover-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const resolverJson = join(dir, 'resolver.json');
writeFileSync(resolverJson, JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
  data: {
    cacheSize: 500,
    repositories: [
      { name: 'test registry', priority: 0, vendorPrefixes: [], connection: { embedded: { path: TEST_REGISTRY } } },
      { name: 'Iglu Central copy', priority: 1, vendorPrefixes: [], connection: { embedded: { path: BUILTIN_REGISTRY } } },
    ],
  },
}));
const IGLU = ['--iglu-config', resolverJson, '--offline'];

/** Every record's bytes (readAll decodes them as text, which a Thrift record is not). */
async function readRecords(kinesis: KinesisClient, stream: string): Promise<Buffer[]> {
  const shards = (await kinesis.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: Buffer[] = [];
  for (const s of shards) {
    let it = (await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let i = 0; it && i < 100; i++) {
      const r = await kinesis.send(new GetRecordsCommand({ ShardIterator: it }));
      for (const rec of r.Records ?? []) out.push(Buffer.from(rec.Data!));
      if ((r.Records ?? []).length === 0) break;
      it = r.NextShardIterator;
    }
  }
  return out;
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

/** The bad rows of `furrow enrich` on the failing records plus two good ones. */
async function enrichedBadRows(): Promise<{ bad: string[]; good: string[] }> {
  const input = join(dir, 'raw.b64');
  const good = [record({ querystring: qs({ e: 'pv', p: 'web', tv: 't' }) }), record({ querystring: qs({ e: 'pp', p: 'web', tv: 't' }) })];
  writeFileSync(input, [...Object.values(failingRecords()), ...good].map((r) => r.toString('base64')).join('\n') + '\n');
  const out = join(dir, 'enrich-1');
  const r = await furrow(['enrich', '--input', input, '--output', out, ...IGLU, '--log-level', 'warn']);
  if (r.code !== 0) throw new Error(r.stderr);
  return { bad: lines(join(out, 'bad.jsonl')), good: lines(join(out, 'good.tsv')) };
}

let badRows: string[] = [];
t.before(async () => {
  const first = await enrichedBadRows();
  badRows = first.bad;
});

t.test('--help lists the command and its flags', async (t) => {
  const main = await furrow(['--help']);
  t.match(main.stdout, /recover\s+fix Snowplow bad rows/);
  const r = await furrow(['recover', '--help']);
  for (const f of ['--input', '--output', '--ledger', '--dry-run', '--config', '--set-schema', '--type', '--since']) t.match(r.stdout, f);
});

t.test('usage errors: no input, no ledger, config + quick fixes, a bad config', async (t) => {
  t.equal((await furrow(['recover', '--output', 'x'])).code, 2);
  const noLedger = await furrow(['recover', '--input', '-', '--output', join(dir, 'x')]);
  t.equal(noLedger.code, 2);
  t.match(noLedger.stderr, /--ledger FILE is required/);
  const cfg = join(dir, 'bad-config.json');
  writeFileSync(cfg, JSON.stringify({ 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/*-*-*': [{ name: 'x', steps: [{ op: 'Nope' }] }] }));
  const both = await furrow(['recover', '--input', '-', '--dry-run', '--config', cfg, '--remove', '$.a']);
  t.equal(both.code, 2);
  const bad = await furrow(['recover', '--input', '-', '--dry-run', '--config', cfg, '--no-validate']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /CONFIG_INVALID_VALUE.*unknown step op "Nope"/);
});

t.test('enrich → recover (quick fixes, a selection) → enrich: good events, counts add up, re-run is idempotent', async (t) => {
  t.equal(badRows.length, 6);
  const badFile = join(dir, 'bad.jsonl');
  writeFileSync(badFile, badRows.join('\n') + '\n');
  const out = join(dir, 'recovered.b64');
  const failed = join(dir, 'failed.jsonl');
  const ledger = join(dir, 'ledger.txt');
  const args = ['recover', '--input', badFile, '--output', out, '--failed', failed, '--ledger', ledger, ...IGLU,
    '--type', 'schema_violations,enrichment_failures',
    '--remove', '$.raw.parameters.ue_pr.data.data.extra',
    '--set-schema', 'iglu:com.acme/test/jsonschema/1-0-0=iglu:com.acme/test/jsonschema/1-0-1'];
  const r = await furrow(args);
  t.equal(r.code, 0, r.stderr);
  // legacyAd (enrichment_failures) gets no fix that helps: still failing, with the enricher's failure.
  t.match(r.stderr, 'read 6 bad rows: recovered 2 (2 records written), still failing 1, skipped 3');
  t.equal(lines(out).length, 2);
  const failedRows = lines(failed).map((l) => JSON.parse(l) as { schema: string; data: { failure: { error: string }; payload: { schema: string } } });
  t.equal(failedRows.length, 1);
  t.equal(failedRows[0]!.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/recovery_error/jsonschema/1-0-1');
  t.match(failedRows[0]!.data.failure.error, /still failing after the fixes: enrichment_failures/);
  t.match(failedRows[0]!.data.payload.schema, /enrichment_failures/);

  const again = join(dir, 'enrich-2');
  const e = await furrow(['enrich', '--input', out, '--output', again, ...IGLU, '--log-level', 'warn']);
  t.equal(e.code, 0, e.stderr);
  const good = lines(join(again, 'good.tsv'));
  t.equal(good.length, 2);
  t.same(lines(join(again, 'bad.jsonl')), []);
  t.ok(good.some((g) => column(g, 'event_id') === EVENT_ID), 'the tracker event id is kept');

  // Re-run: the ledger skips the two recovered rows; nothing new is written.
  const r2 = await furrow(args);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stderr, 'read 6 bad rows: recovered 0 (0 records written), still failing 1, skipped 5');
  t.match(r2.stderr, /2 × already recovered by an earlier run/);
  t.equal(lines(out).length, 2);

  // The still-failing row is recovered from the failed output by a run with the right fix.
  const r3 = await furrow(['recover', '--input', failed, '--output', out, '--ledger', ledger, ...IGLU, '--set', '$.raw.parameters.e=pv']);
  t.equal(r3.code, 0, r3.stderr);
  // The failed output got the row twice (both runs appended it): it is recovered once.
  t.match(r3.stderr, 'read 2 bad rows: recovered 1 (1 records written), still failing 0, skipped 1');
  t.equal(lines(out).length, 3);
});

t.test('--dry-run prints each outcome and the changes, writes nothing', async (t) => {
  const folder = join(dir, 'bad-folder');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  writeFileSync(join(folder, 'a.jsonl'), badRows.slice(0, 3).join('\n') + '\n');
  writeFileSync(join(folder, 'sub', 'b.jsonl.gz'), gzipSync(badRows.slice(3).join('\n') + '\n'));
  const r = await furrow(['recover', '--input', folder, '--dry-run', ...IGLU, '--set-schema', 'iglu:com.acme/test/jsonschema/1-0-*=iglu:com.acme/test/jsonschema/1-0-1']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'dry run: read 6 bad rows: recovered 1 (1 records not written), still failing 5, skipped 0');
  t.match(r.stdout, /schema_violations recovered \(flow "command line"\)\n {2}\$\.raw\.parameters\.cx\.data\[0\]\.schema: "iglu:com\.acme\/test\/jsonschema\/1-0-0" → "iglu:com\.acme\/test\/jsonschema\/1-0-1"/);
  t.match(r.stdout, /schema_violations failed \(flow "command line"\): still failing after the fixes: schema_violations/);
});

t.test('a Snowplow recovery config with a Script step, from a file', async (t) => {
  const script = join(dir, 'fix.js');
  writeFileSync(script, `function recover(payload, badRow) {
    payload.querystring = payload.querystring.replace(/[{}]/g, '');
    return payload;
  }`);
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/recoveries/jsonschema/4-0-0',
    data: {
      'iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0': [
        { name: 'curly braces', conditions: [{ op: 'Test', path: '$.failure.message.payloadField', value: { value: 'querystring' } }], steps: [{ op: 'Script', file: 'fix.js' }] },
      ],
    },
  }));
  const out = join(dir, 'script.b64');
  const r = await furrow(['recover', '--input', '-', '--output', out, '--ledger', join(dir, 'ledger-script.txt'), '--config', cfg, ...IGLU], { stdin: badRows.join('\n') });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'read 6 bad rows: recovered 1 (1 records written), still failing 0, skipped 5');
  const { good, bad } = await enrichAll(lines(out).map((l) => Buffer.from(l, 'base64')));
  t.same(bad, []);
  t.equal(column(good[0]!, 'page_url'), 'https://x.example/id');
});

t.test('Kinesis: bad stream in, raw stream and failed stream out (kinesalite)', async (t) => {
  const aws = await startLocalAws();
  t.teardown(() => aws.close());
  await createStream(aws.kinesis, 'bad', 2);
  await createStream(aws.kinesis, 'raw', 1);
  await createStream(aws.kinesis, 'failed', 1);
  await putRecords(aws.kinesis, 'bad', [...badRows, 'not a bad row']);
  const r = await furrow(['recover', '--input', 'kinesis://bad', '--output', 'kinesis://raw', '--failed', 'kinesis://failed', '--ledger', join(dir, 'ledger-k.txt'),
    '--kinesis-endpoint', aws.kinesisEndpoint, ...IGLU, '--type', 'tracker_protocol_violations,adapter_failures',
    '--set', '$.contentType=application/json'], { env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' } });
  t.equal(r.code, 0, r.stderr);
  // tracker_protocol_violations is fixed by the content type; the adapter failure (unknown vendor) is not, and the
  // line that is not a bad row is still failing too.
  t.match(r.stderr, 'read 7 bad rows: recovered 1 (1 records written), still failing 2, skipped 4');
  const raw = await readRecords(aws.kinesis, 'raw');
  t.equal(raw.length, 1);
  const { good, bad } = await enrichAll(raw);
  t.same(bad, []);
  t.equal(good.length, 2, 'the POST held two events');
  const failed = await readAll(aws.kinesis, 'failed');
  t.equal(failed.length, 2);
  t.same(failed.map(badSchema), ['recovery_error', 'recovery_error']);
});

t.test('S3: every object under a prefix (s3rver)', async (t) => {
  const s3 = await startS3rver(['lake']);
  t.teardown(() => s3.stop());
  const client = createS3Client({ endpoint: s3.endpoint }, {});
  await client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'bad/2026/12/07/10/part-1.gz', Body: gzipSync(badRows.slice(0, 4).join('\n') + '\n') }));
  await client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'bad/2026/12/07/11/part-2', Body: badRows.slice(4).join('\n') + '\n' }));
  await client.send(new PutObjectCommand({ Bucket: 'lake', Key: 'other/part-3', Body: badRows.join('\n') }));
  client.destroy();
  const out = join(dir, 's3.b64');
  const r = await furrow(['recover', '--input', 's3://lake/bad/', '--output', out, '--ledger', join(dir, 'ledger-s3.txt'), '--s3-endpoint', s3.endpoint, ...IGLU,
    '--type', 'adapter_failures', '--set', '$.vendor=com.snowplowanalytics.snowplow', '--set', '$.version=tp2'], { env: { AWS_ACCESS_KEY_ID: 'furrow-local', AWS_SECRET_ACCESS_KEY: 'furrow-local' } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, 'read 6 bad rows: recovered 1 (1 records written), still failing 0, skipped 5');
  const { good } = await enrichAll(lines(out).map((l) => Buffer.from(l, 'base64')));
  t.equal(good.length, 1);
});
