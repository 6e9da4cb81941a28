/**
 * Lines that are hostile to the loaders: JSON columns nested thousands deep (a RangeError in the COPY renderer
 * used to end `furrow load postgres` with exit 1, no bad row and no commit, on every restart, so every line after
 * the poison one stayed unloaded), and carriage returns inside fields, which must reach the table unchanged.
 * Real PostgreSQL (test/support/postgres.ts), the real CLI, real S3 (s3rver) for the Redshift loader's staging.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../streams/aws-clients.js';
import { silentLogger } from '../../common/logger.js';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';
import { MemoryBadRowOutput } from '../../loaders/bad-row-output.js';
import { igluBadRow, runtimeBadRow } from '../../loaders/bad-rows.js';
import { PostgresLoader } from '../../loaders/postgres/postgres-loader.js';
import { DryRunExecutor, RedshiftLoader } from '../../loaders/redshift/redshift-loader.js';
import { flattenSchema } from '../../loaders/schema-ddl.js';
import { ENRICHED_INDEX as F, generateColumns } from '../support/enriched-generator.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { startS3rver } from './fixtures/s3rver.js';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'furrow-poison-'));
let db: TestPostgres;
t.before(async () => {
  db = await startPostgres();
});
t.teardown(async () => {
  await db?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const CONTEXTS = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0';
const WEB_PAGE = 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0';

/** Line i of the generator, with one JSON column holding a value nested `depth` deep (a real schema's property). */
function poisoned(i: number, column: 'contexts' | 'unstruct_event' | 'derived_contexts', depth = 5000): string {
  const cols = generateColumns(i, { seed: 5 });
  const entity = `{"schema":"${WEB_PAGE}","data":{"id":${nested(depth)}}}`;
  if (column === 'unstruct_event') {
    cols[F.event] = 'unstruct';
    cols[F.unstruct_event] = `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":${entity}}`;
  } else cols[F[column]] = `{"schema":"${CONTEXTS}","data":[${entity}]}`;
  return cols.join('\t');
}

/** The built-in registry (schemas/ of this repository) as a resolver config: no network, no ../shared. */
function resolverConfig(): string {
  const file = join(dir, 'resolver.json');
  writeFileSync(file, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 50, repositories: [{ name: 'built-in', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: ROOT } } }] },
  }));
  return file;
}

function furrow(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stderr });
    });
  });
}

async function query<T>(sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

t.test('furrow load postgres: poison lines become bad rows and every other line loads, also on a restart', async (t) => {
  // The file: 1,000 lines, batch 200, the first poison line at 500 (here also one per JSON column).
  const poison = new Map<number, 'contexts' | 'unstruct_event' | 'derived_contexts'>([[500, 'contexts'], [650, 'unstruct_event'], [999, 'derived_contexts']]);
  const lines = Array.from({ length: 1000 }, (_, i) => (poison.has(i) ? poisoned(i, poison.get(i)!) : generateColumns(i, { seed: 5 }).join('\t')));
  const input = join(dir, 'poison.tsv');
  writeFileSync(input, lines.join('\n') + '\n');
  const badFile = join(dir, 'bad.jsonl');
  const args = ['load', 'postgres', '--url', db.url, '--input', input, '--batch-size', '200', '--iglu-config', resolverConfig(), '--bad', badFile, '--log-level', 'warn'];

  const first = await furrow(args);
  t.equal(first.code, 0, `exit 0 (stderr: ${first.stderr.slice(-600)})`);
  t.notMatch(first.stderr, /RangeError/);
  t.same(await query('SELECT count(*)::int AS n FROM atomic.events'), [{ n: 997 }], 'the 997 valid lines are loaded');
  const bad = readFileSync(badFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { schema: string; data: { failure: { errors: Array<{ key: string; message: string }> }; payload: string } });
  t.equal(bad.length, 3, 'one bad row per poison line');
  for (const b of bad) {
    t.equal(b.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0');
    t.match(b.data.failure.errors[0]!.message, /JSON nested deeper than 1000 levels/);
    t.ok(lines.includes(b.data.payload), 'the bad row carries the line');
  }
  t.same(bad.map((b) => b.data.failure.errors[0]!.key), ['contexts', 'unstruct_event', 'derived_contexts']);

  const again = await furrow(args);
  t.equal(again.code, 0, 'a restart over the same input exits 0');
  t.same(await query('SELECT count(*)::int AS n FROM atomic.events'), [{ n: 997 }], 'nothing loaded twice');
  t.equal(readFileSync(badFile, 'utf8').trim().split('\n').length, 3, 'no bad row repeated');
});

t.test('the Redshift loader makes the same lines bad rows and stages the rest', async (t) => {
  const s3rver = await startS3rver(['stage']);
  const s3: S3Client = createS3Client({ endpoint: s3rver.endpoint, region: 'us-east-1' }, {});
  t.teardown(async () => {
    s3.destroy();
    await s3rver.stop();
  });
  const bad = new MemoryBadRowOutput();
  const loader = new RedshiftLoader(new DryRunExecutor(null), s3, { bucket: 'stage', prefix: 'p' }, await createBuiltinResolver({ offline: true }), bad, silentLogger, {
    schema: 'atomic', iamRole: null, region: 'us-east-1', maxError: 1,
  });
  await loader.start();
  const lines = [...Array.from({ length: 10 }, (_, i) => generateColumns(i, { seed: 6 }).join('\t')), poisoned(10, 'contexts'), poisoned(11, 'unstruct_event')];
  t.same(await loader.load(lines, 'rs', '12'), { loaded: 10, bad: 2, skipped: false });
  t.match(bad.rows[0], /loader_parsing_error.*JSON nested deeper than 1000 levels/);
});

t.test('a JSON value deeper than the bound never reaches JSON.stringify in a bad row or a DDL walk', async (t) => {
  const cols = generateColumns(0, { seed: 7 });
  cols[F.contexts] = `{"schema":"${CONTEXTS}","data":[{"schema":"${WEB_PAGE}","data":${nested(10_000)}}]}`;
  // The bad-row payload keeps a column it may not parse as its text.
  const iglu = JSON.parse(igluBadRow(cols, [{ schemaKey: WEB_PAGE, error: { error: 'ResolutionError', lookupHistory: [] } }])) as { data: { payload: Record<string, unknown> } };
  t.equal(iglu.data.payload.contexts, cols[F.contexts]);
  t.equal((JSON.parse(runtimeBadRow(cols, 'x')) as { data: { payload: Record<string, unknown> } }).data.payload.contexts, cols[F.contexts]);
  // A registry serving a schema with properties nested 10,000 deep: flattened down to the bound, then one JSON column.
  let schema: Record<string, unknown> = { type: 'string' };
  for (let i = 0; i < 10_000; i++) schema = { type: 'object', properties: { p: schema } };
  const columns = flattenSchema(schema);
  t.equal(columns.length, 1);
  t.equal(columns[0]!.path.length, 1000);
  t.equal(columns[0]!.kind, 'json');
});

t.test('a carriage return inside a field reaches PostgreSQL unchanged (CLI over a CRLF file, and text lines)', async (t) => {
  const cr = (i: number, schema: string) => {
    const cols = generateColumns(i, { seed: 8 });
    cols[F.app_id] = 'before\rafter';
    cols[F.page_title] = '\rleading and trailing\r';
    cols[F.event] = 'unstruct';
    cols[F.unstruct_event] = JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
      data: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: 'http://x.example/', elementContent: `${schema}\rline\r\nend\\` } },
    });
    return cols.join('\t');
  };
  // CRLF line ends: the reader takes the CR before LF as the line end, not the ones inside fields.
  const input = join(dir, 'cr.tsv');
  writeFileSync(input, `${cr(0, 'cli')}\r\n${cr(1, 'cli')}\r\n`);
  const r = await furrow(['load', 'postgres', '--url', db.url, '--schema', 'crcli', '--input', input, '--iglu-config', resolverConfig(), '--bad', join(dir, 'cr-bad.jsonl'), '--log-level', 'warn']);
  t.equal(r.code, 0, r.stderr);
  // Text lines (what furrow mini's Kinesis path hands the loader).
  const pool = new pg.Pool({ connectionString: db.url });
  t.teardown(() => pool.end());
  const bad = new MemoryBadRowOutput();
  const loader = new PostgresLoader(pool, await createBuiltinResolver({ offline: true }), bad, silentLogger, { schema: 'crtext', retryForMs: 10_000 });
  await loader.start();
  t.same(await loader.load([cr(2, 'text')], null, '1'), { loaded: 1, bad: 0, skipped: false });
  for (const [schema, n, label] of [['crcli', 2, 'cli'], ['crtext', 1, 'text']] as const) {
    const events = await query<{ app_id: string; page_title: string }>(`SELECT app_id, page_title FROM ${schema}.events`);
    t.equal(events.length, n);
    t.ok(events.every((e) => e.app_id === 'before\rafter' && e.page_title === '\rleading and trailing\r'), `${schema}: atomic fields byte for byte`);
    const clicks = await query<{ element_content: string }>(`SELECT element_content FROM ${schema}.com_snowplowanalytics_snowplow_link_click_1`);
    t.same(clicks.map((c) => c.element_content), Array(n).fill(`${label}\rline\r\nend\\`), `${schema}: shredded string fields byte for byte`);
  }
});
