/**
 * Real Snowplow enriched events (moved from npm test): the full 131-column expectations of Stream Enrich's tests
 * (../shared/conformance/enrich/legacy_full_tsv, 6 events + their 6 PII events) load into PostgreSQL and
 * SELECT returns the same values; their contexts and unstruct events land in the per-schema tables joined
 * by root_id. Implementation-specific columns (regex/placeholder) get concrete values first.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../common/logger.js';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import { ATOMIC_COLUMNS } from '../loaders/atomic-columns.js';
import { MemoryBadRowOutput } from '../loaders/bad-row-output.js';
import { PostgresLoader } from '../loaders/postgres/postgres-loader.js';
import { parseTableKey, tableName } from '../loaders/schema-ddl.js';
import { startPostgres } from '../test/support/postgres.js';
import { dirResolver } from '../test/loaders/fixtures/dir-resolver.js';
import { IGLU_CENTRAL, VECTORS } from './support.js';

const DIR = join(VECTORS, 'legacy_full_tsv');

type Expected = Record<string, string | { regex: string } | { placeholder: string }>;

function concrete(fields: Expected, parentId: string | null): { cols: string[]; id: string } {
  const id = randomUUID();
  const collector = fields['collector_tstamp'] as string;
  const cols = ENRICHED_FIELDS.map((name) => {
    const v = fields[name];
    if (typeof v === 'string') return v;
    if (name === 'event_id') return id;
    if (name === 'v_etl') return 'furrow-0.1.0';
    if (name.endsWith('_tstamp')) return collector;
    if (name === 'contexts' && parentId !== null) {
      return JSON.stringify({
        schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
        data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0', data: { parentEventId: parentId } }],
      });
    }
    throw new Error(`no concrete value for ${name}`);
  });
  return { cols, id };
}

t.test('Stream Enrich test events load and read back column for column', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const pool = new pg.Pool({ connectionString: server.url, max: 3 });
  t.teardown(() => pool.end());
  const bad = new MemoryBadRowOutput();
  const loader = new PostgresLoader(pool, dirResolver([join(IGLU_CENTRAL, 'schemas')]), bad, silentLogger, { schema: 'atomic', retryForMs: 30_000 });
  await loader.start();

  const events: Array<{ cols: string[]; id: string; file: string }> = [];
  let piiAsIs: string | null = null;
  const V_COLLECTOR = ENRICHED_FIELDS.indexOf('v_collector');
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()) {
    const vector = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { expected: { tsv_fields: Expected; pii_event_tsv_fields?: Expected } };
    const main = concrete(vector.expected.tsv_fields, null);
    events.push({ ...main, file });
    if (vector.expected.pii_event_tsv_fields) {
      // The legacy PII events have an empty v_collector, which atomic.events declares NOT NULL: as they
      // are, they are bad rows (checked below); with the parent's v_collector they load.
      const pii = concrete(vector.expected.pii_event_tsv_fields, main.id);
      piiAsIs ??= pii.cols.join('\t');
      pii.cols[V_COLLECTOR] = main.cols[V_COLLECTOR]!;
      events.push({ ...pii, file: `${file} (pii)` });
    }
  }
  t.equal(events.length, 12);
  const out = await loader.load(events.map((e) => e.cols.join('\t')).concat([piiAsIs!]), 'conformance', String(events.length + 1));
  t.equal(out.loaded, 12);
  t.equal(bad.rows.length, 1);
  t.match(JSON.parse(bad.rows[0]!), { data: { failure: { type: 'RowDecodingError', errors: [{ key: 'v_collector', message: 'required field is empty' }] } } });

  const select = ATOMIC_COLUMNS.map((c) =>
    c.pgType === 'TIMESTAMP' ? `to_char("${c.name}", 'YYYY-MM-DD HH24:MI:SS.MS') AS "${c.name}"` : `"${c.name}"::text AS "${c.name}"`,
  );
  const rows = new Map((await pool.query(`SELECT ${select.join(', ')} FROM atomic.events`)).rows.map((r: Record<string, string | null>) => [r['event_id'], r]));
  const mismatches: string[] = [];
  for (const e of events) {
    const row = rows.get(e.id);
    if (!row) {
      mismatches.push(`${e.file}: missing`);
      continue;
    }
    for (const c of ATOMIC_COLUMNS) {
      const tsv = e.cols[c.tsvIndex]!;
      let want: string | null = tsv === '' ? null : tsv;
      if (want !== null && c.pgType === 'BOOLEAN') want = want === '1' ? 'true' : 'false';
      if (want !== null && c.pgType === 'DOUBLE PRECISION') want = String(Number(want));
      if (want !== null && c.pgType === 'TIMESTAMP' && /\d{2}:\d{2}:\d{2}$/.test(want)) want += '.000';
      if (row[c.name] !== want) mismatches.push(`${e.file}: ${c.name} want ${want} got ${row[c.name]}`);
    }
  }
  t.same(mismatches, [], 'every atomic column of every event reads back as written');

  // Every entity of every event is in its table, joined by root_id.
  let entities = 0;
  for (const e of events) {
    for (const field of ['contexts', 'derived_contexts', 'unstruct_event'] as const) {
      const raw = e.cols[ENRICHED_FIELDS.indexOf(field)]!;
      if (raw === '') continue;
      const sdj = JSON.parse(raw) as { data: unknown };
      const items = (Array.isArray(sdj.data) ? sdj.data : [sdj.data]) as Array<{ schema: string; data: Record<string, unknown> }>;
      for (const item of items) {
        const table = tableName(parseTableKey(item.schema)!);
        const r = await pool.query(
          `SELECT t.schema_version FROM atomic.${table} t JOIN atomic.events e ON e.event_id = t.root_id AND e.collector_tstamp = t.root_tstamp WHERE e.event_id = $1`,
          [e.id],
        );
        if (r.rowCount === 0) t.fail(`${e.file}: ${item.schema} not in ${table}`);
        entities++;
      }
    }
  }
  t.ok(entities >= 12, `${entities} entities found in their tables`);
  const pii = await pool.query(`SELECT count(*)::int AS n FROM atomic.com_snowplowanalytics_snowplow_pii_transformation_1 WHERE jsonb_array_length(pii_pojo) = 2 AND strategy_pseudonymize_hash_function = 'SHA-1'`);
  t.equal(pii.rows[0].n, 6, 'nested unstruct properties flattened (pii.pojo as JSONB, strategy.pseudonymize.hashFunction)');
});
