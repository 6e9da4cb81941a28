/**
 * PostgreSQL DDL as snowplow-postgres-loader 0.3.3 creates it (../shared/spec/atomic-events-postgres.sql),
 * plus furrow's state table holding each stream's position (written in the same transaction as the rows).
 */
import { ATOMIC_COLUMNS } from '../atomic-columns.js';
import { PG_META_COLUMNS, quoteIdent, quoteLiteral, type TableKey, type ShredColumn } from '../schema-ddl.js';

export const STATE_TABLE = 'furrow_load_state';

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`;
}

/** `CREATE TABLE <schema>.events (...) WITH (OIDS=FALSE)` with the 128 spec columns. */
export function atomicEventsSql(schema: string): string {
  const cols = ATOMIC_COLUMNS.map((c) => `  ${quoteIdent(c.name)} ${c.pgType}${c.notNull ? ' NOT NULL' : ''}`);
  return `CREATE TABLE ${quoteIdent(schema)}.events (\n${cols.join(',\n')}\n) WITH (OIDS=FALSE)`;
}

export function stateTableSql(schema: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(schema)}.${STATE_TABLE} (\n` +
    `  "stream" TEXT PRIMARY KEY,\n  "position" TEXT NOT NULL,\n  "updated_at" TIMESTAMPTZ NOT NULL DEFAULT now()\n)`
  );
}

export function createShredTableSql(schema: string, table: string, columns: readonly ShredColumn[]): string {
  const lines = PG_META_COLUMNS.map(([n, t]) => `  ${quoteIdent(n)} ${t}`);
  for (const c of columns) lines.push(`  ${quoteIdent(c.name)} ${c.pgType}${c.notNull ? ' NOT NULL' : ' NULL'}`);
  return `CREATE TABLE ${quoteIdent(schema)}.${quoteIdent(table)} (\n${lines.join(',\n')}\n)`;
}

/** Columns added by a later version are always nullable: existing rows have no value for them. */
export function addColumnSql(schema: string, table: string, column: ShredColumn): string {
  return `ALTER TABLE ${quoteIdent(schema)}.${quoteIdent(table)} ADD COLUMN ${quoteIdent(column.name)} ${column.pgType} NULL`;
}

export function commentSql(schema: string, table: string, key: TableKey): string {
  return `COMMENT ON TABLE ${quoteIdent(schema)}.${quoteIdent(table)} IS ${quoteLiteral(key.uri)}`;
}

/** COPY statement for atomic.events (explicit column list, text format, empty column = NULL as in the TSV). */
export function copyAtomicSql(schema: string): string {
  return `COPY ${quoteIdent(schema)}.events (${ATOMIC_COLUMNS.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN WITH (NULL '')`;
}

export function copyShredSql(schema: string, table: string, columns: readonly ShredColumn[]): string {
  const names = [...PG_META_COLUMNS.map(([n]) => n), ...columns.map((c) => c.name)].map(quoteIdent);
  return `COPY ${quoteIdent(schema)}.${quoteIdent(table)} (${names.join(', ')}) FROM STDIN`;
}
