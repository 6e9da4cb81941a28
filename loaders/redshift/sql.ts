/**
 * Redshift SQL as RDB Loader (6.x) writes it (../shared/spec/atomic-events-redshift.sql, ecosystem.md §2.2):
 * atomic.events and atomic.manifest DDL, shredded-table DDL (encodings, DISTKEY/SORTKEY, FK to events),
 * ADD COLUMN migrations, and the COPY statements with RDB Loader's options.
 */
import { ATOMIC_COLUMNS, REDSHIFT_LOAD_TSTAMP } from '../atomic-columns.js';
import { REDSHIFT_META_COLUMNS, quoteIdent, quoteLiteral, type TableKey, type ShredColumn } from '../schema-ddl.js';

export function atomicEventsDdl(schema: string): string {
  const cols = ATOMIC_COLUMNS.map((c) => `  ${c.name} ${c.redshift},`);
  return [
    `CREATE TABLE IF NOT EXISTS ${schema}.events (`,
    ...cols,
    `  ${REDSHIFT_LOAD_TSTAMP},`,
    '  CONSTRAINT event_id_0110_pk PRIMARY KEY(event_id)',
    ')',
    'DISTSTYLE KEY',
    'DISTKEY (event_id)',
    'SORTKEY (collector_tstamp);',
  ].join('\n');
}

export function manifestDdl(schema: string): string[] {
  return [
    [
      `CREATE TABLE IF NOT EXISTS ${schema}.manifest (`,
      '    "base"                 VARCHAR(512)   ENCODE ZSTD NOT NULL  PRIMARY KEY,',
      '    "types"                VARCHAR(65535) ENCODE ZSTD NOT NULL,',
      '    "shredding_started"    TIMESTAMP      ENCODE ZSTD NOT NULL,',
      '    "shredding_completed"  TIMESTAMP      ENCODE ZSTD NOT NULL,',
      '    "min_collector_tstamp" TIMESTAMP      ENCODE RAW  NULL,',
      '    "max_collector_tstamp" TIMESTAMP      ENCODE ZSTD NULL,',
      '    "ingestion_tstamp"     TIMESTAMP      ENCODE ZSTD NOT NULL,',
      '    "compression"          VARCHAR(16)    ENCODE ZSTD NOT NULL,',
      '    "processor_artifact"   VARCHAR(64)    ENCODE ZSTD NOT NULL,',
      '    "processor_version"    VARCHAR(32)    ENCODE ZSTD NOT NULL,',
      '    "count_good"           INT            ENCODE ZSTD NULL',
      ');',
    ].join('\n'),
    `COMMENT ON TABLE ${schema}.manifest IS '0.2.0';`,
  ];
}

/** furrow's position table (plain DDL Redshift accepts; upserts are DELETE + INSERT in the load transaction). */
export function stateDdl(schema: string): string {
  return `CREATE TABLE IF NOT EXISTS ${schema}.furrow_load_state ("stream" VARCHAR(1024) NOT NULL, "position" VARCHAR(4096) NOT NULL, "updated_at" TIMESTAMP NOT NULL DEFAULT getdate());`;
}

function propertyColumn(c: ShredColumn): string {
  return `  ${quoteIdent(c.name)} ${c.redshiftType} ENCODE ZSTD${c.notNull ? ' NOT NULL' : ''},`;
}

export function shredTableDdl(schema: string, table: string, key: TableKey, columns: readonly ShredColumn[]): string[] {
  return [
    [
      `CREATE TABLE IF NOT EXISTS ${schema}.${table} (`,
      ...REDSHIFT_META_COLUMNS.map(([n, d]) => `  ${quoteIdent(n).padEnd(16)} ${d},`),
      ...columns.map(propertyColumn),
      `  FOREIGN KEY (root_id) REFERENCES ${schema}.events(event_id)`,
      ')',
      'DISTSTYLE KEY',
      'DISTKEY (root_id)',
      'SORTKEY (root_tstamp);',
    ].join('\n'),
    `COMMENT ON TABLE ${schema}.${table} IS ${quoteLiteral(key.uri)};`,
  ];
}

export function addColumnDdl(schema: string, table: string, c: ShredColumn): string {
  // Added columns are nullable: rows already loaded have no value.
  return `ALTER TABLE ${schema}.${table} ADD COLUMN ${quoteIdent(c.name)} ${c.redshiftType} ENCODE ZSTD;`;
}

export interface CopyAuth {
  readonly iamRole: string | null;
  readonly region: string | null;
  readonly maxError: number;
}

function credentials(auth: CopyAuth): string {
  return auth.iamRole === null ? '' : ` CREDENTIALS ${quoteLiteral(`aws_iam_role=${auth.iamRole}`)}`;
}

export function copyAtomicSql(schema: string, folder: string, auth: CopyAuth): string {
  const cols = ATOMIC_COLUMNS.map((c) => c.name).join(',');
  return (
    `COPY ${schema}.events (${cols}) FROM ${quoteLiteral(folder)}` +
    `${credentials(auth)}${auth.region === null ? '' : ` REGION ${quoteLiteral(auth.region)}`}` +
    ` MAXERROR ${auth.maxError} TIMEFORMAT 'auto' DELIMITER '\\t' EMPTYASNULL FILLRECORD TRUNCATECOLUMNS ACCEPTINVCHARS GZIP;`
  );
}

export function copyShredSql(schema: string, table: string, columns: readonly ShredColumn[], folder: string, auth: CopyAuth): string {
  const names = [...REDSHIFT_META_COLUMNS.map(([n]) => n), ...columns.map((c) => c.name)].map(quoteIdent).join(',');
  return (
    `COPY ${schema}.${table} (${names}) FROM ${quoteLiteral(folder)} DELIMITER '\\t'` +
    `${credentials(auth)}${auth.region === null ? '' : ` REGION AS ${quoteLiteral(auth.region)}`}` +
    ` MAXERROR ${auth.maxError} TIMEFORMAT 'auto' TRUNCATECOLUMNS ACCEPTINVCHARS GZIP;`
  );
}
