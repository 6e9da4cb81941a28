import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { silentLogger } from '../../common/logger.js';
import { ATOMIC_COLUMNS } from '../../loaders/atomic-columns.js';
import { MemoryBadRowOutput } from '../../loaders/bad-row-output.js';
import { PostgresLoader } from '../../loaders/postgres/postgres-loader.js';
import { ENRICHED_INDEX as F, generateColumns, generateLine, GENERATOR_SCHEMAS } from '../support/enriched-generator.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { dirResolver, IGLU_CENTRAL } from './fixtures/dir-resolver.js';

let server: TestPostgres;
const pools: pg.Pool[] = [];
const schemaDir = mkdtempSync(join(tmpdir(), 'furrow-schemas-'));

t.before(async () => {
  server = await startPostgres();
});
t.teardown(async () => {
  for (const p of pools) await p.end().catch(() => undefined);
  await server?.stop();
  rmSync(schemaDir, { recursive: true, force: true });
});

function newPool(): pg.Pool {
  const pool = new pg.Pool({ connectionString: server.url, max: 3 });
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

async function newLoader(schema: string, dirs = [IGLU_CENTRAL], logger = silentLogger) {
  const pool = newPool();
  const bad = new MemoryBadRowOutput();
  const loader = new PostgresLoader(pool, dirResolver(dirs), bad, logger, { schema, retryForMs: 60_000 });
  await loader.start();
  return { pool, bad, loader };
}

/** How PostgreSQL prints a value we loaded from the TSV column, for comparison. */
function expectedText(pgType: string, v: string): string | null {
  if (v === '') return null;
  if (pgType === 'BOOLEAN') return v === '1' ? 'true' : 'false';
  if (pgType === 'TIMESTAMP') return v.replace(' ', 'T').replace(/\.?0*$/, '');
  return v;
}

function actualText(pgType: string, v: unknown): string | null {
  if (v === null) return null;
  if (pgType === 'TIMESTAMP') return String(v).replace(/\.?0*$/, '');
  return String(v);
}

t.test('TSV lines load and SELECT returns the same values; contexts join by root_id', async (t) => {
  const { pool, bad, loader } = await newLoader('atomic');
  const lines = Array.from({ length: 60 }, (_, i) => generateLine(i, { seed: 11 }));
  const out = await loader.load(lines, 'test-stream', '60');
  t.same(out, { loaded: 60, bad: 0, skipped: false });
  t.equal(bad.rows.length, 0);

  // Every atomic column of every event, as text, equals the TSV column.
  const select = ATOMIC_COLUMNS.map((c) => (c.pgType === 'TIMESTAMP' ? `to_char("${c.name}", 'YYYY-MM-DD"T"HH24:MI:SS.US') AS "${c.name}"` : `"${c.name}"::text AS "${c.name}"`));
  const res = await pool.query(`SELECT ${select.join(', ')} FROM atomic.events`);
  t.equal(res.rowCount, 60);
  const byId = new Map(res.rows.map((r: Record<string, unknown>) => [r['event_id'] as string, r]));
  let compared = 0;
  for (let i = 0; i < 60; i++) {
    const cols = generateColumns(i, { seed: 11 });
    const row = byId.get(cols[F.event_id]!);
    if (!row) {
      t.fail(`event ${i} missing`);
      continue;
    }
    for (const c of ATOMIC_COLUMNS) {
      const want = expectedText(c.pgType, cols[c.tsvIndex]!);
      const got = actualText(c.pgType, row[c.name]);
      if (want !== got) t.fail(`event ${i} column ${c.name}: want ${want} got ${got}`);
      compared++;
    }
  }
  t.equal(compared, 60 * 128, 'compared every column');

  const joined = await pool.query(
    `SELECT e.event_id::text AS id, w.id::text AS page_view_id, w.schema_version, u.useragent_family, u.useragent_patch
       FROM atomic.events e
       JOIN atomic.com_snowplowanalytics_snowplow_web_page_1 w ON w.root_id = e.event_id AND w.root_tstamp = e.collector_tstamp
       JOIN atomic.com_snowplowanalytics_snowplow_ua_parser_context_1 u ON u.root_id = e.event_id`,
  );
  t.equal(joined.rowCount, 60, 'every event has its web_page and ua_parser rows');
  t.ok(joined.rows.every((r) => /^[0-9a-f-]{36}$/.test(r.page_view_id) && r.schema_version === '1-0-0'), 'web_page rows carry id and version');
  t.ok(joined.rows.every((r) => r.useragent_family === 'Chrome' && r.useragent_patch === null), 'derived context values');
  const clicks = await pool.query(
    `SELECT c.target_url, c.element_classes, c.element_id FROM atomic.com_snowplowanalytics_snowplow_link_click_1 c
       JOIN atomic.events e ON e.event_id = c.root_id ORDER BY c.target_url`,
  );
  t.equal(clicks.rowCount, 20, 'one link_click row per unstruct event');
  t.same(clicks.rows[0].element_classes, ['nav', 'c2'], 'array property lands as JSONB');
  const types = await pool.query(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
      WHERE table_schema = 'atomic' AND table_name = 'com_snowplowanalytics_snowplow_link_click_1' ORDER BY ordinal_position`,
  );
  t.same(
    types.rows.map((r) => `${r.column_name}:${r.data_type}:${r.is_nullable}`),
    [
      'schema_vendor:character varying:NO', 'schema_name:character varying:NO', 'schema_format:character varying:NO',
      'schema_version:character varying:NO', 'root_id:uuid:NO', 'root_tstamp:timestamp without time zone:NO',
      'target_url:character varying:NO', 'element_classes:jsonb:YES', 'element_content:character varying:YES',
      'element_id:character varying:YES', 'element_target:character varying:YES',
    ],
  );
  const comment = await pool.query(`SELECT obj_description('atomic.com_snowplowanalytics_snowplow_link_click_1'::regclass, 'pg_class') AS c`);
  t.equal(comment.rows[0].c, GENERATOR_SCHEMAS.linkClick);

  // The same batch again (a replay after a crash) is recognised by its stored position.
  const again = await loader.load(lines, 'test-stream', '60');
  t.equal(again.skipped, true);
  t.equal((await pool.query('SELECT count(*)::int AS n FROM atomic.events')).rows[0].n, 60);
  t.equal(await loader.position('test-stream'), '60');
});

t.test('unloadable events become bad rows with a reason; the batch continues', async (t) => {
  const { pool, bad, loader } = await newLoader('hostile');
  const good = (i: number) => generateColumns(i, { seed: 22 });
  const withCol = (i: number, field: number, v: string) => {
    const c = good(i);
    c[field] = v;
    return c.join('\t');
  };
  const lines = [
    good(0).join('\t'),
    'not a tsv line at all',
    good(1).slice(0, 100).join('\t'),
    withCol(2, F.event_id, 'not-a-uuid'),
    withCol(3, F.collector_tstamp, ''),
    withCol(4, F.contexts, '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":'),
    withCol(5, F.contexts, JSON.stringify({ schema: GENERATOR_SCHEMAS.contexts, data: [{ schema: 'iglu:com.acme/missing/jsonschema/1-0-0', data: {} }] })),
    withCol(6, F.geo_country, 'DEU'), // CHAR(2): value too long
    withCol(7, F.page_urlport, 'eighty'), // INTEGER
    withCol(8, F.dvce_created_tstamp, '2024-13-45 99:00:00.000'), // not a timestamp
    withCol(9, F.unstruct_event, JSON.stringify({ schema: GENERATOR_SCHEMAS.unstruct, data: { schema: GENERATOR_SCHEMAS.linkClick, data: { elementId: 'x' } } })), // NOT NULL target_url
    withCol(10, F.page_title, 'nul \u0000 byte'),
    withCol(11, F.page_title, 'x'.repeat(2001)), // VARCHAR(2000)
    good(12).join('\t'),
    withCol(13, F.page_url, 'https://e.com/a\\tb\\\\c\rd'),
  ];
  const out = await loader.load(lines, 'hostile-stream', String(lines.length));
  t.equal(out.loaded + out.bad, lines.length - 0, 'every line is loaded or a bad row');
  t.equal(out.loaded, 3);
  t.equal(out.bad, 12);
  t.equal(bad.rows.length, 12);
  const parsed = bad.rows.map((r) => JSON.parse(r) as { schema: string; data: { failure: unknown; payload: unknown } });
  const kinds = parsed.map((p) => p.schema.split('/')[1]);
  t.same(kinds.filter((k) => k === 'loader_parsing_error').length, 5);
  t.same(kinds.filter((k) => k === 'loader_iglu_error').length, 1);
  t.same(kinds.filter((k) => k === 'loader_runtime_error').length, 6);
  const runtime = parsed.filter((p) => p.schema.includes('loader_runtime_error'));
  t.ok(runtime.some((p) => /value too long/.test(String(p.data.failure))), 'the reason names the problem');
  t.ok(runtime.every((p) => typeof (p.data.payload as Record<string, unknown>)['event_id'] === 'string'), 'payload is the event');
  const ids = (await pool.query('SELECT event_id::text AS id, page_url FROM hostile.events ORDER BY collector_tstamp')).rows;
  t.same(ids.map((r) => r.id), [good(0)[F.event_id], good(12)[F.event_id], good(13)[F.event_id]]);
  t.equal(ids[2].page_url, 'https://e.com/a\\tb\\\\c\rd', 'backslashes and CR survive COPY escaping');
  // Rows of rejected events did not leak into the context tables.
  const ctx = await pool.query('SELECT count(*)::int AS n FROM hostile.com_snowplowanalytics_snowplow_web_page_1');
  t.equal(ctx.rows[0].n, 3);
});

t.test('schema evolution: 1-0-0 then 1-0-1 with a new optional property → one table with the new column', async (t) => {
  const dir = join(schemaDir, 'com.acme', 'evolve', 'jsonschema');
  mkdirSync(dir, { recursive: true });
  const base = {
    $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#',
    self: { vendor: 'com.acme', name: 'evolve', format: 'jsonschema', version: '1-0-0' },
    type: 'object',
    properties: { name: { type: 'string', maxLength: 64 }, count: { type: 'integer', minimum: 0, maximum: 1000 } },
    required: ['name'],
    additionalProperties: false,
  };
  writeFileSync(join(dir, '1-0-0'), JSON.stringify(base));
  writeFileSync(
    join(dir, '1-0-1'),
    JSON.stringify({
      ...base,
      self: { ...base.self, version: '1-0-1' },
      properties: { ...base.properties, details: { type: ['object', 'null'], properties: { colourCode: { type: 'string', format: 'date-time' } } } },
    }),
  );
  const { pool, bad, loader } = await newLoader('evo', [schemaDir, IGLU_CENTRAL]);
  const withCtx = (i: number, version: string, data: unknown) => {
    const c = generateColumns(i, { seed: 33, atomicOnly: true });
    c[F.contexts] = JSON.stringify({ schema: GENERATOR_SCHEMAS.contexts, data: [{ schema: `iglu:com.acme/evolve/jsonschema/${version}`, data }] });
    return c.join('\t');
  };
  const first = await loader.load([withCtx(0, '1-0-0', { name: 'a', count: 1 })], 'evo', '1');
  t.equal(first.loaded, 1);
  const cols1 = await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='evo' AND table_name='com_acme_evolve_1' ORDER BY ordinal_position`);
  t.same(cols1.rows.map((r) => r.column_name).slice(6), ['name', 'count']);
  t.equal(cols1.rows.find((r) => r.column_name === 'count').data_type, 'integer');

  const second = await loader.load(
    [withCtx(1, '1-0-1', { name: 'b', count: 2, details: { colourCode: '2024-05-01T10:00:00Z' } }), withCtx(2, '1-0-0', { name: 'c' })],
    'evo',
    '3',
  );
  t.equal(second.loaded, 2);
  t.equal(bad.rows.length, 0);
  const tables = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema='evo' AND table_name LIKE 'com_acme_evolve%'`);
  t.same(tables.rows.map((r) => r.table_name), ['com_acme_evolve_1'], 'one table for the model');
  const cols2 = await pool.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='evo' AND table_name='com_acme_evolve_1' ORDER BY ordinal_position`);
  t.same(cols2.rows.map((r) => `${r.column_name}:${r.data_type}`).slice(6), ['name:character varying', 'count:integer', 'details_colour_code:timestamp without time zone']);
  const rows = await pool.query(`SELECT name, count, details_colour_code::text AS d, schema_version FROM evo.com_acme_evolve_1 ORDER BY name`);
  t.same(rows.rows, [
    { name: 'a', count: 1, d: null, schema_version: '1-0-0' },
    { name: 'b', count: 2, d: '2024-05-01 10:00:00', schema_version: '1-0-1' },
    { name: 'c', count: null, d: null, schema_version: '1-0-0' },
  ]);
  const comment = await pool.query(`SELECT obj_description('evo.com_acme_evolve_1'::regclass, 'pg_class') AS c`);
  t.equal(comment.rows[0].c, 'iglu:com.acme/evolve/jsonschema/1-0-1', 'comment records the newest version');

  // A second loader (own cache) that sees the table at 1-0-1 and loads 1-0-0 data changes nothing.
  const other = await newLoader('evo', [schemaDir, IGLU_CENTRAL]);
  t.equal((await other.loader.load([withCtx(3, '1-0-0', { name: 'd' })], 'evo-2', '1')).loaded, 1);
  const comment2 = await pool.query(`SELECT obj_description('evo.com_acme_evolve_1'::regclass, 'pg_class') AS c`);
  t.equal(comment2.rows[0].c, 'iglu:com.acme/evolve/jsonschema/1-0-1');
});

t.test('a PostgreSQL restart during loading loses nothing and the loader carries on', { skip: process.env['PG_URL'] ? 'needs a local cluster (PG_URL set)' : false }, async (t) => {
  const logs: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } }));
  const { pool, loader } = await newLoader('restart', [IGLU_CENTRAL], logger);
  const batches = 12;
  const per = 200;
  let restarted = 0;
  for (let b = 0; b < batches; b++) {
    const lines = Array.from({ length: per }, (_, j) => generateLine(b * per + j, { seed: 44 }));
    const loading = loader.load(lines, 'restart-stream', String((b + 1) * per));
    if (b === 3 || b === 8) {
      // Restart while the batch is in flight; the loader must reconnect and finish it.
      await server.restart(300);
      restarted++;
    }
    const out = await loading;
    t.equal(out.loaded + (out.skipped ? per : 0), per, `batch ${b} loaded`);
  }
  t.equal(restarted, 2);
  t.ok(logs.some((l) => l.includes('load batch failed; retrying')), 'the loader saw the connection drop and retried');
  const n = await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM restart.events');
  t.same(n.rows[0], { n: batches * per, d: batches * per });
  t.equal(await loader.position('restart-stream'), String(batches * per));
});

t.test('binary lines (latin1 source, as the CLI wires it): UTF-8 passes through COPY byte for byte', async (t) => {
  const pool = newPool();
  const bad = new MemoryBadRowOutput();
  const loader = new PostgresLoader(pool, dirResolver([IGLU_CENTRAL]), bad, silentLogger, { schema: 'bin', retryForMs: 30_000, binaryLines: true });
  await loader.start();
  const cols = generateColumns(1, { seed: 55 });
  cols[F.geo_city] = 'München';
  cols[F.page_title] = 'Grüße — 日本語 🎉';
  cols[F.unstruct_event] = JSON.stringify({ schema: GENERATOR_SCHEMAS.unstruct, data: { schema: GENERATOR_SCHEMAS.linkClick, data: { targetUrl: 'https://e.com/ü', elementContent: 'Ça va 🎉' } } });
  const asBinary = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const out = await loader.load([asBinary(cols.join('\t')), asBinary('kaputt – not a line')], 'bin', '2');
  t.same(out, { loaded: 1, bad: 1, skipped: false });
  const r = await pool.query('SELECT geo_city, page_title FROM bin.events');
  t.same(r.rows[0], { geo_city: 'München', page_title: 'Grüße — 日本語 🎉' });
  const c = await pool.query('SELECT target_url, element_content FROM bin.com_snowplowanalytics_snowplow_link_click_1');
  t.same(c.rows[0], { target_url: 'https://e.com/ü', element_content: 'Ça va 🎉' });
  t.match(JSON.parse(bad.rows[0]!), { data: { payload: 'kaputt – not a line' } }, 'bad-row payload is text again');
});

t.test('stream names and positions with quotes, $n and newlines are stored verbatim', async (t) => {
  const { loader } = await newLoader('quoting');
  const stream = `s3://b/it's $1 $2 "x"`;
  const position = `2024/05/01/12/part-1.gz\n7`;
  const out = await loader.load([generateLine(1, { seed: 56 })], stream, position);
  t.equal(out.loaded, 1);
  t.equal(await loader.position(stream), position);
  t.equal((await loader.load([generateLine(1, { seed: 56 })], stream, position)).skipped, true);
});

t.test('two loaders on one stream: the one whose expected position moved fails with LOADER_STREAM_CONFLICT', async (t) => {
  const a = await newLoader('conflict');
  const b = await newLoader('conflict');
  t.equal(await a.loader.position('shared'), null);
  t.equal(await b.loader.position('shared'), null);
  await b.loader.load([generateLine(1, { seed: 57 })], 'shared', '1');
  const err = await a.loader.load([generateLine(1, { seed: 57 })], 'shared', '1').then(() => null, (e: unknown) => e);
  t.equal(err, null, 'the same batch again is recognised as loaded (position equals its own)');
  const err2 = await a.loader.load([generateLine(2, { seed: 57 })], 'shared', '2').then(() => null, (e: unknown) => e);
  t.equal(err2, null, 'A now expects 1 and finds 1');
  await b.loader.load([generateLine(3, { seed: 57 })], 'shared', '3').then(
    () => t.fail('B expected 1 but the stream is at 2'),
    (e: unknown) => t.match(String(e), /LOADER_STREAM_CONFLICT/),
  );
  const n = await a.pool.query('SELECT count(*)::int AS n FROM conflict.events');
  t.equal(n.rows[0].n, 2, 'nothing loaded twice, nothing loaded out of order');
});

t.test('pipelined commits (two in flight) keep stream order and load everything once', async (t) => {
  const { pool, loader } = await newLoader('pipelined');
  const batches = Array.from({ length: 6 }, (_, b) => Array.from({ length: 300 }, (_, j) => generateLine(b * 300 + j, { seed: 58 })));
  const prepared = await Promise.all(batches.map((lines) => loader.prepare(lines)));
  const outs = await Promise.all(prepared.map((p, b) => loader.commit(p, 'pipe', String((b + 1) * 300))));
  t.same(outs.map((o) => o.loaded), [300, 300, 300, 300, 300, 300]);
  t.equal(await loader.position('pipe'), '1800');
  const n = await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM pipelined.events');
  t.same(n.rows[0], { n: 1800, d: 1800 });
});
