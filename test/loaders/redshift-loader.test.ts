/**
 * Redshift cannot run here: the loader stages real files in s3rver (127.0.0.1) and its SQL goes to a
 * recording (dry-run) executor; the test checks the staged files against the COPY statements and the
 * statement sequence of one load (manifest check, COPYs, manifest row, position, in one transaction).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../streams/aws-clients.js';
import { silentLogger } from '../../common/logger.js';
import { MemoryBadRowOutput } from '../../loaders/bad-row-output.js';
import { DryRunExecutor, RedshiftLoader } from '../../loaders/redshift/redshift-loader.js';
import { ENRICHED_INDEX as F, generateColumns, generateLine } from '../support/enriched-generator.js';
import { dirResolver, IGLU_CENTRAL } from './fixtures/dir-resolver.js';
import { startS3rver, type LocalS3 } from './fixtures/s3rver.js';

let server: LocalS3;
let s3: S3Client;
const dir = mkdtempSync(join(tmpdir(), 'furrow-rs-'));
t.before(async () => {
  server = await startS3rver(['stage']);
  s3 = createS3Client({ endpoint: server.endpoint, region: 'us-east-1' }, {});
});
t.teardown(async () => {
  s3?.destroy();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function staged(url: string): Promise<string[]> {
  const m = /^s3:\/\/stage\/(.+)$/.exec(url)!;
  const r = await s3.send(new GetObjectCommand({ Bucket: 'stage', Key: `${m[1]}part-00000.gz` }));
  return gunzipSync(Buffer.from(await r.Body!.transformToByteArray())).toString('utf8').split('\n').filter((l) => l !== '');
}

t.test('one batch: staged gzipped TSV per table, COPY each in one transaction with the manifest row', async (t) => {
  const db = new DryRunExecutor(null);
  const bad = new MemoryBadRowOutput();
  const loader = new RedshiftLoader(db, s3, { bucket: 'stage', prefix: 'shredded' }, dirResolver([IGLU_CENTRAL]), bad, silentLogger, {
    schema: 'atomic', iamRole: 'arn:aws:iam::123456789012:role/loader', region: 'eu-west-1', maxError: 1,
  });
  await loader.start();
  t.match(db.statements[1], /^CREATE TABLE IF NOT EXISTS atomic\.events \(/);
  t.match(db.statements.join('\n'), /CREATE TABLE IF NOT EXISTS atomic\.manifest/);
  db.statements.length = 0;

  const lines = Array.from({ length: 30 }, (_, i) => generateLine(i, { seed: 66 }));
  lines.push('garbage line');
  const out = await loader.load(lines, 'rs-stream', '31');
  t.same(out, { loaded: 30, bad: 1, skipped: false });
  t.equal(bad.rows.length, 1);

  const sql = db.statements;
  const creates = sql.filter((s) => s.startsWith('CREATE TABLE IF NOT EXISTS atomic.com_'));
  t.equal(creates.length, 3, 'web_page, ua_parser_context and link_click tables created (before the transaction)');
  t.match(creates.join('\n'), /DISTKEY \(root_id\)\nSORTKEY \(root_tstamp\);/);
  const begin = sql.indexOf('BEGIN;');
  const commit = sql.indexOf('COMMIT;');
  t.ok(begin > 0 && commit > begin, 'a transaction');
  t.match(sql[begin + 1], /^SELECT base FROM atomic\.manifest WHERE base = 's3:\/\/stage\/shredded\/run=\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f]{8}\/'$/);
  const copies = sql.slice(begin, commit).filter((s) => s.startsWith('COPY '));
  t.equal(copies.length, 4, 'atomic.events + 3 shredded tables');
  t.match(copies[0], /^COPY atomic\.events \(app_id,platform,/);
  t.match(copies[0], /CREDENTIALS 'aws_iam_role=arn:aws:iam::123456789012:role\/loader' REGION 'eu-west-1' MAXERROR 1 TIMEFORMAT 'auto' DELIMITER '\\t' EMPTYASNULL FILLRECORD TRUNCATECOLUMNS ACCEPTINVCHARS GZIP;$/);
  const insert = sql.slice(begin, commit).find((s) => s.startsWith('INSERT INTO atomic.manifest'));
  t.match(insert, /'\["iglu:com\.snowplowanalytics\.snowplow\/web_page\/jsonschema\/1-0-0",.*\]'.*'GZIP', 'furrow-loader', '0\.1\.0', 30\)$/);
  t.ok(sql.slice(begin, commit).some((s) => s === `INSERT INTO atomic.furrow_load_state ("stream", "position") VALUES ('rs-stream', '31')`), 'position in the same transaction');

  // Each COPY points at a staged folder whose file matches the COPY's column list.
  for (const c of copies) {
    const folder = /FROM '([^']+)'/.exec(c)![1]!;
    const colCount = /\(([^)]*)\) FROM/.exec(c)![1]!.split(',').length;
    const rows = await staged(folder);
    t.ok(rows.length > 0, `${folder} staged`);
    t.ok(rows.every((r) => r.split('\t').length === colCount), `${folder}: ${colCount} columns per row`);
  }
  const atomicRows = await staged(/FROM '([^']+)'/.exec(copies[0]!)![1]!);
  t.equal(atomicRows.length, 30);
  const first = generateColumns(0, { seed: 66 });
  t.equal(atomicRows[0]!.split('\t')[6], first[F.event_id], 'event_id in its column');
  const link = copies.find((c) => c.includes('link_click'))!;
  const linkRows = await staged(/FROM '([^']+)'/.exec(link)![1]!);
  t.equal(linkRows.length, 10);
  const cells = linkRows[0]!.split('\t');
  t.same(cells.slice(0, 4), ['com.snowplowanalytics.snowplow', 'link_click', 'jsonschema', '1-0-1']);
  t.same(cells.slice(6, 9), ['events', 'events', 'events'], 'ref_root/ref_tree/ref_parent');
});

t.test('furrow load redshift --dry-run prints the SQL and stages the files', async (t) => {
  const input = join(dir, 'in.tsv');
  writeFileSync(input, Array.from({ length: 5 }, (_, i) => generateLine(i, { seed: 67, light: true })).join('\n') + '\n');
  const resolverJson = join(dir, 'resolver.json');
  writeFileSync(resolverJson, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 50, repositories: [{ name: 'local', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: join(IGLU_CENTRAL, '..') } } }] },
  }));
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'load', 'redshift', '--dry-run', '--stage', 's3://stage/dry',
    '--s3-endpoint', server.endpoint, '--region', 'us-east-1', '--iglu-config', resolverJson, '--input', input, '--bad', join(dir, 'bad.jsonl'), '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  t.equal(code, 0, stderr);
  t.match(stdout, /^CREATE SCHEMA IF NOT EXISTS atomic;\nCREATE TABLE IF NOT EXISTS atomic\.events \(/);
  t.match(stdout, /CREATE TABLE IF NOT EXISTS atomic\.com_snowplowanalytics_snowplow_web_page_1 \(/);
  t.match(stdout, /\nBEGIN;\nSELECT base FROM atomic\.manifest WHERE base = 's3:\/\/stage\/dry\/run=[^']+';\n/);
  t.match(stdout, /COPY atomic\.events \(.*\) FROM 's3:\/\/stage\/dry\/run=[^']+\/output=good\/vendor=com\.snowplowanalytics\.snowplow\/name=atomic\/format=tsv\/model=1\/revision=0\/addition=0\/' REGION 'us-east-1' MAXERROR 1/);
  t.match(stdout, /INSERT INTO atomic\.manifest .* 5\);\n/);
  t.match(stdout, /COMMIT;\n$/);
});
