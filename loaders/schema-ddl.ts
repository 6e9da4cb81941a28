/**
 * From an Iglu schema to a warehouse table: table naming, flattening of JSON Schema properties into
 * columns, and column type inference, for PostgreSQL and Redshift. Pure functions, run once per schema
 * version (never per event).
 *
 * Facts (../shared/spec/atomic-events-postgres.sql, ecosystem.md §2):
 *   iglu:com.acme/link_click/jsonschema/1-0-0  →  com_acme_link_click_1   (vendor . → _, snake_case, MODEL only)
 *   meta columns schema_vendor, schema_name, schema_format, schema_version, root_id, root_tstamp first,
 *   then one column per flattened leaf property (nested objects joined with "_"),
 *   required non-nullable properties first (NOT NULL), then the rest, each group by name.
 */
import { DOWNSTREAM_MAX_JSON_DEPTH } from '../common/json-depth.js';
import { parseSchemaKey, type SchemaKey } from '../formats/schema-key.js';

/** A parsed Iglu key (formats/schema-key.ts) with the URI it came from. */
export interface TableKey extends SchemaKey {
  /** `iglu:vendor/name/format/M-R-A` */
  readonly uri: string;
}

/** The key of an entity's schema URI, or null when it is not an Iglu URI. */
export function parseTableKey(uri: string): TableKey | null {
  const k = parseSchemaKey(uri);
  return k === null ? null : { vendor: k.vendor, name: k.name, format: k.format, model: k.model, revision: k.revision, addition: k.addition, uri };
}

/** Iglu's snake_case: `linkClick` → `link_click`, `HTMLParser` → `html_parser`, `a-b.c` → `a_b_c`. */
export function snakeCase(s: string): string {
  return s
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z\d])([A-Z])/g, '$1_$2')
    .replace(/[-.\s]/g, '_')
    .toLowerCase();
}

/** `com_acme_link_click_1` */
export function tableName(key: SchemaKey): string {
  return `${snakeCase(key.vendor.replace(/\./g, '_'))}_${snakeCase(key.name)}_${key.model}`;
}

/** What a column holds; decides how a JSON value is rendered for COPY. */
export type ColumnKind = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp' | 'date' | 'uuid' | 'json';

export interface ShredColumn {
  /** Column name (snake_case path joined with `_`). */
  readonly name: string;
  /** Property path inside the entity's data. */
  readonly path: readonly string[];
  readonly kind: ColumnKind;
  readonly pgType: string;
  readonly redshiftType: string;
  readonly notNull: boolean;
}

type JsonSchema = Record<string, unknown>;

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
const INT16_MAX = 32767;
const INT16_MIN = -32768;

function typesOf(s: JsonSchema): string[] {
  const t = s['type'];
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return [];
}

interface Inferred {
  kind: ColumnKind;
  pg: string;
  redshift: string;
}

const JSON_COL: Inferred = { kind: 'json', pg: 'JSONB', redshift: 'VARCHAR(65535)' };

/** Type inference in the order of snowplow-postgres-loader's shredding/Type.scala suggestions. */
function inferType(s: JsonSchema): Inferred {
  const types = typesOf(s).filter((t) => t !== 'null');
  const en = s['enum'];
  if (Array.isArray(en)) {
    const values = en.filter((v) => v !== null);
    if (values.length > 0 && values.every((v) => typeof v === 'string')) {
      const longest = Math.max(...values.map((v) => (v as string).length), 1);
      return { kind: 'string', pg: `VARCHAR(${longest})`, redshift: `VARCHAR(${longest})` };
    }
    if (values.length > 0 && values.every((v) => typeof v === 'number' && Number.isInteger(v))) {
      const max = Math.max(...(values as number[]));
      const min = Math.min(...(values as number[]));
      return integerType(min, max);
    }
    return JSON_COL; // complex enum
  }
  if (types.length > 1) {
    // integer+number is still numeric; any other union is JSON.
    if (types.every((t) => t === 'integer' || t === 'number')) return { kind: 'number', pg: 'DOUBLE PRECISION', redshift: 'DOUBLE PRECISION' };
    return JSON_COL;
  }
  const t = types[0];
  const format = s['format'];
  if (t === 'string') {
    if (format === 'date-time') return { kind: 'timestamp', pg: 'TIMESTAMP', redshift: 'TIMESTAMP' };
    if (format === 'date') return { kind: 'date', pg: 'DATE', redshift: 'DATE' };
    const minL = s['minLength'];
    const maxL = s['maxLength'];
    if (typeof minL === 'number' && typeof maxL === 'number' && minL === maxL && maxL > 0) {
      return { kind: 'string', pg: `CHAR(${maxL})`, redshift: `CHAR(${Math.min(maxL, 4096)})` };
    }
    if (format === 'uuid') return { kind: 'uuid', pg: 'UUID', redshift: 'CHAR(36)' };
    if (typeof maxL === 'number' && maxL > 0) {
      return { kind: 'string', pg: `VARCHAR(${Math.min(maxL, 10485760)})`, redshift: `VARCHAR(${Math.min(maxL, 65535)})` };
    }
    return { kind: 'string', pg: 'VARCHAR(4096)', redshift: 'VARCHAR(4096)' };
  }
  if (t === 'integer') {
    const max = typeof s['maximum'] === 'number' ? (s['maximum'] as number) : undefined;
    const min = typeof s['minimum'] === 'number' ? (s['minimum'] as number) : undefined;
    return integerType(min, max);
  }
  if (t === 'number') return { kind: 'number', pg: 'DOUBLE PRECISION', redshift: 'DOUBLE PRECISION' };
  if (t === 'boolean') return { kind: 'boolean', pg: 'BOOLEAN', redshift: 'BOOLEAN' };
  return JSON_COL;
}

function integerType(min: number | undefined, max: number | undefined): Inferred {
  if (max !== undefined && max <= INT32_MAX && (min === undefined || min >= INT32_MIN)) {
    const small = max <= INT16_MAX && min !== undefined && min >= INT16_MIN;
    return { kind: 'integer', pg: 'INTEGER', redshift: small ? 'SMALLINT' : 'INT' };
  }
  return { kind: 'integer', pg: 'BIGINT', redshift: 'BIGINT' };
}

function isNullable(s: JsonSchema): boolean {
  const types = typesOf(s);
  if (types.includes('null')) return true;
  const en = s['enum'];
  return Array.isArray(en) && en.includes(null);
}

/** An object schema with declared properties is flattened; a free-form object is one JSON column. */
function flattenableObject(s: JsonSchema): Record<string, JsonSchema> | null {
  const types = typesOf(s).filter((t) => t !== 'null');
  const props = s['properties'];
  if (types.length === 1 && types[0] === 'object' && props !== null && typeof props === 'object' && Object.keys(props).length > 0) {
    return props as Record<string, JsonSchema>;
  }
  return null;
}

/**
 * Flattens a JSON Schema's properties into columns, ordered: NOT NULL columns first, then nullable,
 * each group by column name. Returns [] for a schema without properties. Objects nested deeper than
 * DOWNSTREAM_MAX_JSON_DEPTH properties are not flattened further (one JSON column).
 */
export function flattenSchema(schema: JsonSchema): ShredColumn[] {
  const out: ShredColumn[] = [];
  const walk = (s: JsonSchema, path: string[], parentsRequired: boolean): void => {
    const props = flattenableObject(s);
    if (props === null) return;
    const required = new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);
    for (const [prop, sub] of Object.entries(props)) {
      if (sub === null || typeof sub !== 'object') continue;
      const p = [...path, prop];
      const req = parentsRequired && required.has(prop) && !isNullable(sub);
      // Past the downstream nesting bound an object stays one JSON column: the walk recurses per level, and a
      // registry serving a schema nested thousands deep must not overflow the loader's stack.
      if (flattenableObject(sub) !== null && p.length < DOWNSTREAM_MAX_JSON_DEPTH) {
        walk(sub, p, req);
        continue;
      }
      const inf = inferType(sub);
      out.push({ name: p.map(snakeCase).join('_'), path: p, kind: inf.kind, pgType: inf.pg, redshiftType: inf.redshift, notNull: req });
    }
  };
  walk(schema, [], true);
  out.sort((a, b) => (a.notNull === b.notNull ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.notNull ? -1 : 1));
  // Two paths can snake_case to one name (`aB` and `a_b`); keep the first, as a column can exist once.
  const seen = new Set<string>();
  return out.filter((c) => (seen.has(c.name) ? false : (seen.add(c.name), true)));
}

/** Meta columns every per-schema table starts with (PostgreSQL loader layout). */
export const PG_META_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['schema_vendor', 'VARCHAR(128) NOT NULL'],
  ['schema_name', 'VARCHAR(128) NOT NULL'],
  ['schema_format', 'VARCHAR(128) NOT NULL'],
  ['schema_version', 'VARCHAR(128) NOT NULL'],
  ['root_id', 'UUID NOT NULL'],
  ['root_tstamp', 'TIMESTAMP NOT NULL'],
];

/** Meta columns of an RDB Loader shredded table (Redshift). */
export const REDSHIFT_META_COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['schema_vendor', 'VARCHAR(128)  ENCODE ZSTD NOT NULL'],
  ['schema_name', 'VARCHAR(128)  ENCODE ZSTD NOT NULL'],
  ['schema_format', 'VARCHAR(128)  ENCODE ZSTD NOT NULL'],
  ['schema_version', 'VARCHAR(128)  ENCODE ZSTD NOT NULL'],
  ['root_id', 'CHAR(36)      ENCODE RAW  NOT NULL'],
  ['root_tstamp', 'TIMESTAMP     ENCODE ZSTD NOT NULL'],
  ['ref_root', 'VARCHAR(255)  ENCODE ZSTD NOT NULL'],
  ['ref_tree', 'VARCHAR(1500) ENCODE ZSTD NOT NULL'],
  ['ref_parent', 'VARCHAR(255)  ENCODE ZSTD NOT NULL'],
];

/** Double-quotes an identifier for SQL. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Single-quotes a SQL string literal. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
