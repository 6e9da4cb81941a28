/**
 * The generated DDL and COPY statements against Snowplow's DDL in ../shared/spec/atomic-events-*.sql (snowplow-postgres-
 * loader 0.3.3, RDB Loader 6.x), text for text. `npm test` checks the same statements against in-repo facts
 * (test/loaders/ddl-spec.test.ts).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import { ATOMIC_COLUMNS } from '../loaders/atomic-columns.js';
import { atomicEventsSql, createShredTableSql } from '../loaders/postgres/ddl.js';
import { atomicEventsDdl, copyAtomicSql, copyShredSql, manifestDdl, shredTableDdl } from '../loaders/redshift/sql.js';
import { flattenSchema, parseTableKey, snakeCase, tableName } from '../loaders/schema-ddl.js';
import { SPEC } from './support.js';

const pgSpec = readFileSync(join(SPEC, 'atomic-events-postgres.sql'), 'utf8');
const rsSpec = readFileSync(join(SPEC, 'atomic-events-redshift.sql'), 'utf8');

/** Drops `--` comments and collapses whitespace. */
function norm(sql: string): string {
  return sql
    .split('\n')
    .map((l) => l.replace(/--.*$/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .trim();
}

function between(text: string, start: string, end: string): string {
  const i = text.indexOf(start);
  const j = text.indexOf(end, i);
  if (i < 0 || j < 0) throw new Error(`spec section ${start} not found`);
  return text.slice(i, j + end.length);
}

t.test('PostgreSQL atomic.events DDL equals the spec (snowplow-postgres-loader 0.3.3)', async (t) => {
  const spec = between(pgSpec, 'CREATE TABLE atomic.events (', ') WITH (OIDS=FALSE);');
  t.equal(norm(atomicEventsSql('atomic') + ';').replace(/"atomic"\.events/, 'atomic.events'), norm(spec));
  t.equal(ATOMIC_COLUMNS.length, 128);
  t.same(
    ATOMIC_COLUMNS.map((c) => c.name),
    ENRICHED_FIELDS.filter((f) => f !== 'contexts' && f !== 'unstruct_event' && f !== 'derived_contexts'),
    'table order is TSV order without the three JSON columns',
  );
});

t.test('Redshift atomic.events and manifest DDL equal the spec (RDB Loader 6.x)', async (t) => {
  const spec = between(rsSpec, 'CREATE TABLE IF NOT EXISTS atomic.events (', 'SORTKEY (collector_tstamp);');
  t.equal(norm(atomicEventsDdl('atomic')), norm(spec));
  const manifest = between(rsSpec, 'CREATE TABLE IF NOT EXISTS atomic.manifest (', ');');
  const [ddl, comment] = manifestDdl('atomic');
  t.equal(norm(ddl!), norm(manifest));
  t.ok(rsSpec.includes(comment!), 'manifest comment');
});

t.test('shredded table DDL follows the spec templates', async (t) => {
  const key = parseTableKey('iglu:com.acme/some_context/jsonschema/2-0-0')!;
  t.equal(tableName(key), 'com_acme_some_context_2');
  t.equal(tableName(parseTableKey('iglu:com.acme/linkClick/jsonschema/1-0-0')!), 'com_acme_link_click_1');
  t.equal(snakeCase('HTMLParser'), 'html_parser');
  const columns = flattenSchema({ type: 'object', properties: { targetUrl: { type: 'string' } }, required: ['targetUrl'] });
  // Redshift: spec template with its meta columns, FK, DISTKEY/SORTKEY, comment.
  const [rs, rsComment] = shredTableDdl('atomic', 'com_acme_some_context_2', key, columns);
  const template = between(rsSpec, 'CREATE TABLE IF NOT EXISTS atomic.com_acme_some_context_2 (', 'SORTKEY (root_tstamp);');
  t.equal(norm(rs!).replace(' "target_url" VARCHAR(4096) ENCODE ZSTD NOT NULL,', ''), norm(template));
  t.ok(rsSpec.includes(rsComment!), 'comment as in the spec');
  // PostgreSQL: the spec's link_click example.
  const link = flattenSchema({
    type: 'object',
    properties: { targetUrl: { type: 'string' }, elementId: { type: 'string' } },
    required: ['targetUrl'],
  });
  const pgExample = pgSpec
    .slice(pgSpec.indexOf('--   CREATE TABLE atomic.com_acme_link_click_1'), pgSpec.indexOf("--   COMMENT ON TABLE atomic.com_acme_link_click_1"))
    .replace(/^--/gm, '');
  t.equal(norm(createShredTableSql('atomic', 'com_acme_link_click_1', link).replace(/"atomic"\."com_acme_link_click_1"/, 'atomic.com_acme_link_click_1') + ';'), norm(pgExample));
});

t.test('COPY statements carry RDB Loader\'s options in its order', async (t) => {
  const auth = { iamRole: 'arn:aws:iam::123456789012:role/loader', region: 'eu-west-1', maxError: 7 };
  const atomic = copyAtomicSql('atomic', 's3://b/run=1/output=good/vendor=com.snowplowanalytics.snowplow/name=atomic/format=tsv/model=1/revision=0/addition=0/', auth);
  t.ok(atomic.startsWith(`COPY atomic.events (${ATOMIC_COLUMNS.map((c) => c.name).join(',')}) FROM 's3://b/run=1/`));
  const specAtomic = norm(between(rsSpec, '-- COPY atomic.events (<128 atomic columns>)', 'GZIP;').replace(/^-- ?/gm, ''));
  const atomicOptions = atomic.slice(atomic.indexOf("' CREDENTIALS") + 2).replace(auth.iamRole, '...').replace("'eu-west-1'", "'<r>'").replace('MAXERROR 7', 'MAXERROR <n>');
  t.equal(atomicOptions, specAtomic.slice(specAtomic.indexOf('CREDENTIALS')));

  const cols = flattenSchema({ type: 'object', properties: { a: { type: 'integer', maximum: 10, minimum: 0 } } });
  const shred = copyShredSql('atomic', 'com_acme_x_1', cols, 's3://b/run=1/output=good/vendor=com.acme/name=x/format=tsv/model=1/revision=0/addition=0/', auth);
  t.ok(shred.startsWith('COPY atomic.com_acme_x_1 ("schema_vendor","schema_name","schema_format","schema_version","root_id","root_tstamp","ref_root","ref_tree","ref_parent","a") FROM'));
  const specShred = norm(between(rsSpec, '-- COPY atomic.com_acme_x_1', 'GZIP;').replace(/^-- ?/gm, ''));
  const shredOptions = shred.slice(shred.indexOf("/' DELIMITER") + 3).replace(`'aws_iam_role=${auth.iamRole}'`, "'...'").replace("'eu-west-1'", "'<r>'").replace('MAXERROR 7', 'MAXERROR <n>');
  t.equal(shredOptions, specShred.slice(specShred.indexOf("DELIMITER")));
});
