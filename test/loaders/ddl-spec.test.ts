/**
 * The generated DDL and COPY statements, checked against facts the repository owns: the enriched field order
 * (formats/enriched-event.ts), the enricher's atomic field length limits (formats/atomic-fields.ts, which Enrich validates
 * so that every value fits the Redshift column), the field kinds of forwarders/forward-event.ts, and the
 * statement layouts of RDB Loader / snowplow-postgres-loader written out below. The text-for-text comparison with
 * Snowplow's DDL files (../shared/spec/atomic-events-*.sql) runs in `npm run conformance` (test-conformance/ddl-spec.test.ts).
 */
import t from 'tap';
import { DEFAULT_ATOMIC_FIELD_LIMITS } from '../../formats/atomic-fields.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { ATOMIC_COLUMNS } from '../../loaders/atomic-columns.js';
import { ATOMIC_KINDS } from '../../forwarders/forward-event.js';
import { atomicEventsSql, copyAtomicSql as pgCopyAtomicSql, createShredTableSql } from '../../loaders/postgres/ddl.js';
import { atomicEventsDdl, copyAtomicSql, copyShredSql, manifestDdl, shredTableDdl } from '../../loaders/redshift/sql.js';
import { flattenSchema, parseTableKey, snakeCase, tableName } from '../../loaders/schema-ddl.js';

type Kind = (typeof ATOMIC_KINDS)[keyof typeof ATOMIC_KINDS];

/** Column lines of a CREATE TABLE statement: name → definition after the name. */
function columnsOf(ddl: string): Array<[string, string]> {
  const open = ddl.indexOf('(');
  let depth = 0;
  let close = open;
  for (; close < ddl.length; close++) {
    if (ddl[close] === '(') depth++;
    else if (ddl[close] === ')' && --depth === 0) break;
  }
  const body = ddl.slice(open + 1, close);
  return body
    .split(',\n')
    .map((l) => l.trim())
    .filter((l) => !/^(CONSTRAINT|FOREIGN KEY|"?_?load_tstamp)/i.test(l.replace(/^"/, '')))
    .map((l) => {
      const m = /^"?([a-z0-9_]+)"?\s+(.*?),?$/.exec(l);
      if (m === null) throw new Error(`not a column line: ${l}`);
      return [m[1]!, m[2]!] as [string, string];
    });
}

const JSON_COLUMNS = new Set(['contexts', 'unstruct_event', 'derived_contexts']);
/** Columns Enrich always fills: the only NOT NULL ones in both warehouses. */
const ALWAYS_SET = ['collector_tstamp', 'event_id', 'v_collector', 'v_etl'];

t.test('atomic.events has the 128 atomic fields in TSV order, in both warehouses', async (t) => {
  const fields = ENRICHED_FIELDS.filter((f) => !JSON_COLUMNS.has(f));
  t.equal(fields.length, 128);
  t.same(ATOMIC_COLUMNS.map((c) => c.name), fields, 'table order is TSV order without the three JSON columns');
  t.same(ATOMIC_COLUMNS.map((c) => c.tsvIndex), fields.map((f) => ENRICHED_FIELDS.indexOf(f)));
  t.same(columnsOf(atomicEventsSql('atomic')).map(([n]) => n), fields, 'PostgreSQL DDL');
  t.same(columnsOf(atomicEventsDdl('atomic')).map(([n]) => n), fields, 'Redshift DDL');
  t.match(atomicEventsDdl('atomic'), /load_tstamp\s+timestamp/i, 'Redshift adds load_tstamp after the atomic columns');
  t.same(ATOMIC_COLUMNS.filter((c) => c.notNull).map((c) => c.name), ALWAYS_SET);
  t.same(ATOMIC_COLUMNS.filter((c) => /not null/i.test(c.redshift)).map((c) => c.name), ALWAYS_SET);
});

t.test('column types follow the field kinds; every Redshift text width is the enricher field limit', async (t) => {
  const pgFor: Record<Kind, RegExp> = {
    timestamp: /^TIMESTAMP$/, int: /^INTEGER$/, bool: /^BOOLEAN$/, float: /^DOUBLE PRECISION$/, decimal: /^DOUBLE PRECISION$/,
    string: /^(VARCHAR\(\d+\)|CHAR\(\d+\)|UUID)$/, json: /^$/,
  };
  const rsFor: Record<Kind, RegExp> = {
    timestamp: /^timestamp(?= )/, int: /^int(?= )/, bool: /^boolean(?= )/, float: /^double precision(?= )/, decimal: /^(dec\(18, ?2\)|double precision)(?= )/,
    string: /^(var)?char\(\d+\)/, json: /^$/,
  };
  const wrong: string[] = [];
  for (const c of ATOMIC_COLUMNS) {
    const kind = ATOMIC_KINDS[c.name as keyof typeof ATOMIC_KINDS];
    if (!pgFor[kind].test(c.pgType)) wrong.push(`${c.name} (${kind}): PostgreSQL ${c.pgType}`);
    if (!rsFor[kind].test(c.redshift)) wrong.push(`${c.name} (${kind}): Redshift ${c.redshift}`);
    const width = /^(?:var)?char\((\d+)\)/.exec(c.redshift);
    const limit = DEFAULT_ATOMIC_FIELD_LIMITS[c.name];
    if ((width === null ? undefined : Number(width[1])) !== limit) wrong.push(`${c.name}: Redshift width ${width?.[1]} vs enricher limit ${limit}`);
  }
  t.same(wrong, []);
  t.same(Object.keys(DEFAULT_ATOMIC_FIELD_LIMITS).filter((f) => !ATOMIC_COLUMNS.some((c) => c.name === f)), [], 'every limited field is a column');
  // The generated statements carry exactly these definitions.
  t.same(columnsOf(atomicEventsSql('atomic')), ATOMIC_COLUMNS.map((c) => [c.name, `${c.pgType}${c.notNull ? ' NOT NULL' : ''}`]));
  t.same(columnsOf(atomicEventsDdl('atomic')), ATOMIC_COLUMNS.map((c) => [c.name, c.redshift]));
  t.match(atomicEventsSql('atomic'), /^CREATE TABLE "atomic"\.events \(\n[\s\S]*\n\) WITH \(OIDS=FALSE\)$/);
  t.match(atomicEventsDdl('atomic'), /CONSTRAINT event_id_0110_pk PRIMARY KEY\(event_id\)\n\)\nDISTSTYLE KEY\nDISTKEY \(event_id\)\nSORTKEY \(collector_tstamp\);$/);
});

t.test('Redshift manifest table (RDB Loader 0.2.0 layout)', async (t) => {
  const [ddl, comment] = manifestDdl('atomic');
  t.same(columnsOf(ddl!).map(([n]) => n), ['base', 'types', 'shredding_started', 'shredding_completed', 'min_collector_tstamp', 'max_collector_tstamp', 'ingestion_tstamp', 'compression', 'processor_artifact', 'processor_version', 'count_good']);
  t.match(ddl!, /"base"\s+VARCHAR\(512\)\s+ENCODE ZSTD NOT NULL\s+PRIMARY KEY/);
  t.equal(comment, "COMMENT ON TABLE atomic.manifest IS '0.2.0';");
});

t.test('shredded tables: names, meta columns, keys, comment', async (t) => {
  const key = parseTableKey('iglu:com.acme/some_context/jsonschema/2-0-0')!;
  t.equal(tableName(key), 'com_acme_some_context_2');
  t.equal(tableName(parseTableKey('iglu:com.acme/linkClick/jsonschema/1-0-0')!), 'com_acme_link_click_1');
  t.equal(snakeCase('HTMLParser'), 'html_parser');
  const columns = flattenSchema({ type: 'object', properties: { targetUrl: { type: 'string' }, elementId: { type: 'string', maxLength: 64 } }, required: ['targetUrl'] });
  const [rs, rsComment] = shredTableDdl('atomic', 'com_acme_some_context_2', key, columns);
  t.equal(rs, [
    'CREATE TABLE IF NOT EXISTS atomic.com_acme_some_context_2 (',
    '  "schema_vendor"  VARCHAR(128)  ENCODE ZSTD NOT NULL,',
    '  "schema_name"    VARCHAR(128)  ENCODE ZSTD NOT NULL,',
    '  "schema_format"  VARCHAR(128)  ENCODE ZSTD NOT NULL,',
    '  "schema_version" VARCHAR(128)  ENCODE ZSTD NOT NULL,',
    '  "root_id"        CHAR(36)      ENCODE RAW  NOT NULL,',
    '  "root_tstamp"    TIMESTAMP     ENCODE ZSTD NOT NULL,',
    '  "ref_root"       VARCHAR(255)  ENCODE ZSTD NOT NULL,',
    '  "ref_tree"       VARCHAR(1500) ENCODE ZSTD NOT NULL,',
    '  "ref_parent"     VARCHAR(255)  ENCODE ZSTD NOT NULL,',
    '  "target_url" VARCHAR(4096) ENCODE ZSTD NOT NULL,',
    '  "element_id" VARCHAR(64) ENCODE ZSTD,',
    '  FOREIGN KEY (root_id) REFERENCES atomic.events(event_id)',
    ')',
    'DISTSTYLE KEY',
    'DISTKEY (root_id)',
    'SORTKEY (root_tstamp);',
  ].join('\n'));
  t.equal(rsComment, "COMMENT ON TABLE atomic.com_acme_some_context_2 IS 'iglu:com.acme/some_context/jsonschema/2-0-0';");
  t.equal(createShredTableSql('atomic', 'com_acme_link_click_1', columns), [
    'CREATE TABLE "atomic"."com_acme_link_click_1" (',
    '  "schema_vendor" VARCHAR(128) NOT NULL,',
    '  "schema_name" VARCHAR(128) NOT NULL,',
    '  "schema_format" VARCHAR(128) NOT NULL,',
    '  "schema_version" VARCHAR(128) NOT NULL,',
    '  "root_id" UUID NOT NULL,',
    '  "root_tstamp" TIMESTAMP NOT NULL,',
    '  "target_url" VARCHAR(4096) NOT NULL,',
    '  "element_id" VARCHAR(64) NULL',
    ')',
  ].join('\n'));
});

t.test("COPY statements: the tables' column lists, RDB Loader's options in its order", async (t) => {
  const auth = { iamRole: 'arn:aws:iam::123456789012:role/loader', region: 'eu-west-1', maxError: 7 };
  const folder = 's3://b/run=1/output=good/vendor=com.snowplowanalytics.snowplow/name=atomic/format=tsv/model=1/revision=0/addition=0/';
  t.equal(
    copyAtomicSql('atomic', folder, auth),
    `COPY atomic.events (${ATOMIC_COLUMNS.map((c) => c.name).join(',')}) FROM '${folder}' CREDENTIALS 'aws_iam_role=${auth.iamRole}' REGION 'eu-west-1' ` +
      "MAXERROR 7 TIMEFORMAT 'auto' DELIMITER '\\t' EMPTYASNULL FILLRECORD TRUNCATECOLUMNS ACCEPTINVCHARS GZIP;",
  );
  const cols = flattenSchema({ type: 'object', properties: { a: { type: 'integer', maximum: 10, minimum: 0 } } });
  const shredFolder = 's3://b/run=1/output=good/vendor=com.acme/name=x/format=tsv/model=1/revision=0/addition=0/';
  t.equal(
    copyShredSql('atomic', 'com_acme_x_1', cols, shredFolder, auth),
    `COPY atomic.com_acme_x_1 ("schema_vendor","schema_name","schema_format","schema_version","root_id","root_tstamp","ref_root","ref_tree","ref_parent","a") FROM '${shredFolder}' ` +
      `DELIMITER '\\t' CREDENTIALS 'aws_iam_role=${auth.iamRole}' REGION AS 'eu-west-1' MAXERROR 7 TIMEFORMAT 'auto' TRUNCATECOLUMNS ACCEPTINVCHARS GZIP;`,
  );
  t.equal(pgCopyAtomicSql('atomic'), `COPY "atomic".events (${ATOMIC_COLUMNS.map((c) => `"${c.name}"`).join(', ')}) FROM STDIN WITH (NULL '')`, 'PostgreSQL: the DDL column list, empty = NULL');
});

t.test('column types inferred from JSON Schema', async (t) => {
  const cols = flattenSchema({
    type: 'object',
    required: ['id', 'count', 'nested'],
    properties: {
      id: { type: 'string', format: 'uuid' },
      count: { type: 'integer', maximum: 100, minimum: 0 },
      big: { type: 'integer' },
      price: { type: 'number' },
      ok: { type: 'boolean' },
      at: { type: 'string', format: 'date-time' },
      day: { type: 'string', format: 'date' },
      code: { type: 'string', minLength: 2, maxLength: 2 },
      name: { type: 'string', maxLength: 50 },
      free: { type: 'string' },
      colour: { enum: ['red', 'green'] },
      mixed: { enum: ['a', 1] },
      tags: { type: 'array', items: { type: 'string' } },
      either: { type: ['string', 'integer'] },
      nested: { type: 'object', required: ['innerValue'], properties: { innerValue: { type: ['number', 'null'] }, deep: { type: 'object', properties: { x: { type: 'boolean' } } } } },
      blob: { type: 'object' },
    },
  });
  t.same(
    cols.map((c) => `${c.name} ${c.pgType}${c.notNull ? ' NOT NULL' : ''} | ${c.redshiftType}`),
    [
      'count INTEGER NOT NULL | SMALLINT',
      'id UUID NOT NULL | CHAR(36)',
      'at TIMESTAMP | TIMESTAMP',
      'big BIGINT | BIGINT',
      'blob JSONB | VARCHAR(65535)',
      'code CHAR(2) | CHAR(2)',
      'colour VARCHAR(5) | VARCHAR(5)',
      'day DATE | DATE',
      'either JSONB | VARCHAR(65535)',
      'free VARCHAR(4096) | VARCHAR(4096)',
      'mixed JSONB | VARCHAR(65535)',
      'name VARCHAR(50) | VARCHAR(50)',
      'nested_deep_x BOOLEAN | BOOLEAN',
      'nested_inner_value DOUBLE PRECISION | DOUBLE PRECISION',
      'ok BOOLEAN | BOOLEAN',
      'price DOUBLE PRECISION | DOUBLE PRECISION',
      'tags JSONB | VARCHAR(65535)',
    ],
  );
});
