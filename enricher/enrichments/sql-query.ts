/**
 * sql_query_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/
 * 1-0-*): runs a PostgreSQL query per event and adds contexts from the rows.
 *
 *   start:  the JDBC `?` placeholders (outside quotes/comments) become $1..$n once; every placeholder needs an input;
 *           a pg.Pool is created (connections opened lazily; connect and statement timeouts bounded)
 *   event:  inputs ──► values by placeholder; a missing value → no query, no output
 *           cache (size, ttl s) keyed by the values ──miss──► query
 *           rows checked against expectedRows (EXACTLY_ONE, AT_MOST_ONE, AT_LEAST_ONE, AT_LEAST_ZERO)
 *           column names renamed (AS_IS, CAMEL_CASE, PASCAL_CASE, SNAKE_CASE, LOWER_CASE, UPPER_CASE)
 *           EVERY_ROW → one context per row; ALL_ROWS → one context: the row when EXACTLY_ONE/AT_MOST_ONE, else the
 *           array of rows; no rows → no context. date → "yyyy-MM-ddT00:00:00", timestamp → "yyyy-MM-ddTHH:mm:ss[.f]"
 *   failures (database unreachable, SQL error, timeout, row count) → identifier `sql-query`, unless ignoreOnError.
 *   MySQL connections are refused at start (furrow ships only the PostgreSQL driver).
 */
import pg from 'pg';
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { FurrowError } from '../../common/errors.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { parseSchemaKey } from '../../formats/schema-key.js';
import { configInvalid, readParameters } from './enrichment-config.js';
import { inputSource, inputSourceKeys, pullValue, type InputSource } from './inputs.js';
import { t } from '../../config/schema.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
const DEFAULT_TIMEOUT_MS = 5000;

const EXPECTED = ['EXACTLY_ONE', 'AT_MOST_ONE', 'AT_LEAST_ONE', 'AT_LEAST_ZERO'] as const;
const DESCRIBES = ['ALL_ROWS', 'EVERY_ROW'] as const;
const NAMES = ['AS_IS', 'CAMEL_CASE', 'PASCAL_CASE', 'SNAKE_CASE', 'LOWER_CASE', 'UPPER_CASE'] as const;

/** Replaces JDBC `?` placeholders with $1..$n, skipping quoted text and comments. Returns the count. */
export function toNumberedPlaceholders(sql: string): { text: string; count: number } {
  let out = '';
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === '?') {
      out += `$${++n}`;
    } else out += c;
  }
  return { text: out, count: n };
}

const words = (name: string): string[] =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[_\s-]+/)
    .filter((w) => w !== '');

export function renameColumn(name: string, mode: (typeof NAMES)[number]): string {
  switch (mode) {
    case 'AS_IS':
      return name;
    case 'LOWER_CASE':
      return name.toLowerCase();
    case 'UPPER_CASE':
      return name.toUpperCase();
    case 'SNAKE_CASE':
      return words(name).map((w) => w.toLowerCase()).join('_');
    case 'CAMEL_CASE':
    case 'PASCAL_CASE': {
      const ws = words(name).map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase());
      const joined = ws.join('');
      return mode === 'PASCAL_CASE' ? joined : joined.charAt(0).toLowerCase() + joined.slice(1);
    }
  }
}

// Column values as JSON: int8/numeric become numbers (as the JDBC driver's Long/BigDecimal would), timestamps ISO text.
const TYPES = {
  getTypeParser(oid: number, format?: string): (v: string) => unknown {
    if (oid === 20 || oid === 1700) return (v) => (Number.isFinite(Number(v)) ? Number(v) : v);
    // date / timestamp as Snowplow prints them ("1980-06-12T00:00:00"); timestamptz as an ISO instant.
    if (oid === 1114) return (v) => v.replace(' ', 'T');
    if (oid === 1082) return (v) => `${v}T00:00:00`;
    if (oid === 1184) return (v) => new Date(v.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')).toISOString();
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

type QueryResult = { ok: true; contexts: SelfDescribingData[] } | { ok: false; error: string };

class SqlQueryEnrichment implements Enrichment {
  readonly identifier = 'sql-query';
  private readonly cache: LRUCache<string, SelfDescribingData[]> | null;

  constructor(
    readonly schemaKey: string,
    private readonly pool: pg.Pool,
    private readonly sql: string,
    private readonly inputs: Array<{ placeholder: number; src: InputSource }>,
    private readonly count: number,
    private readonly output: { expected: (typeof EXPECTED)[number]; schema: string; describes: (typeof DESCRIBES)[number]; names: (typeof NAMES)[number] },
    cache: { size: number; ttlSec: number },
    private readonly ignoreOnError: boolean,
    private readonly timeoutMs: number,
  ) {
    this.cache = cache.size > 0 && cache.ttlSec > 0 ? new LRUCache({ max: cache.size, ttl: cache.ttlSec * 1000 }) : null;
  }

  private async query(values: unknown[]): Promise<QueryResult> {
    let rows: Array<Record<string, unknown>>;
    try {
      const res = await this.pool.query({ text: this.sql, values, types: TYPES, query_timeout: this.timeoutMs } as pg.QueryConfig);
      rows = res.rows as Array<Record<string, unknown>>;
    } catch (err) {
      return { ok: false, error: `SQL query failed: ${(err as Error).message}` };
    }
    const o = this.output;
    const n = rows.length;
    if ((o.expected === 'EXACTLY_ONE' && n !== 1) || (o.expected === 'AT_MOST_ONE' && n > 1) || (o.expected === 'AT_LEAST_ONE' && n === 0)) {
      return { ok: false, error: `SQL query returned ${n} rows, expected ${o.expected}` };
    }
    const objects = rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(row)) out[renameColumn(k, o.names)] = v instanceof Date ? v.toISOString() : v;
      return out;
    });
    if (objects.length === 0) return { ok: true, contexts: [] };
    if (o.describes === 'EVERY_ROW') return { ok: true, contexts: objects.map((data) => ({ schema: o.schema, data })) };
    // ALL_ROWS: the row itself when at most one row is expected, else the array of rows.
    const single = o.expected === 'EXACTLY_ONE' || o.expected === 'AT_MOST_ONE';
    return { ok: true, contexts: [{ schema: o.schema, data: single ? objects[0] : objects }] };
  }

  async enrich(input: EnrichmentInput): Promise<EnrichmentOutput> {
    const values: unknown[] = new Array<unknown>(this.count).fill(undefined);
    for (const { placeholder, src } of this.inputs) {
      let v = pullValue(src, input);
      if (v !== null && typeof v === 'object') v = (v as { isLosslessNumber?: boolean }).isLosslessNumber === true ? String((v as { value: string }).value) : JSON.stringify(v);
      if (v !== null && v !== undefined) values[placeholder - 1] = v;
    }
    if (values.some((v) => v === undefined)) return NO_OUTPUT;
    const key = JSON.stringify(values);
    const hit = this.cache?.get(key);
    let contexts: SelfDescribingData[];
    if (hit !== undefined) contexts = hit;
    else {
      const r = await this.query(values);
      if (!r.ok) return this.ignoreOnError ? NO_OUTPUT : { failures: [{ error: r.error }] };
      contexts = r.contexts;
      this.cache?.set(key, contexts);
    }
    return contexts.length === 0 ? NO_OUTPUT : { derivedContexts: contexts.map((c) => ({ schema: c.schema, data: structuredClone(c.data) })) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

const between = (minimum: number, maximum: number) => t.integer({ minimum, maximum, expect: `must be between ${minimum} and ${maximum}` });
const str = () => t.string({ minLength: 0 });

/** `sql_query_enrichment_config` `parameters` (1-0-x). `database.mysql` is accepted here and refused by the factory. */
const sqlQueryParameters = t.object({
  inputs: t.array(t.object({ placeholder: between(1, 65535), ...inputSourceKeys })),
  database: t.object({
    postgresql: t.optional(
      t.object({ host: str(), port: between(1, 65535), sslMode: t.boolean({ default: false }), username: str(), password: str(), database: str() }),
    ),
    mysql: t.optional(t.any()),
  }),
  query: t.object({ sql: str() }),
  output: t.object({
    expectedRows: t.enum(EXPECTED),
    json: t.object({ schema: str(), describes: t.enum(DESCRIBES), propertyNames: t.enum(NAMES) }),
  }),
  cache: t.object({ size: between(0, 10_000_000), ttl: between(0, 86400) }),
  ignoreOnError: t.boolean({ default: false }),
});

export const sqlQueryFactory: EnrichmentFactory = {
  name: 'sql_query_enrichment_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, sqlQueryParameters);
    const inputs = p.inputs.map((item, i) => ({ placeholder: item.placeholder, src: inputSource(config, item, `parameters.inputs[${i}]`) }));
    const { text, count } = toNumberedPlaceholders(p.query.sql);
    for (const i of inputs) if (i.placeholder > count) throw configInvalid(config, 'parameters.inputs', `placeholder ${i.placeholder} does not exist: the query has ${count} "?"`);
    for (let n = 1; n <= count; n++) if (!inputs.some((i) => i.placeholder === n)) throw configInvalid(config, 'parameters.inputs', `no input for placeholder ${n}`);
    if (p.database.mysql !== undefined) {
      throw new FurrowError('ENRICH_ENRICHMENT_UNSUPPORTED', 'sql_query_enrichment_config: database.mysql is not supported (furrow ships only a PostgreSQL driver); use database.postgresql');
    }
    const conn = p.database.postgresql;
    if (conn === undefined) throw configInvalid(config, 'parameters.database.postgresql', 'is required');
    const j = p.output.json;
    if (parseSchemaKey(j.schema) === null) throw configInvalid(config, 'parameters.output.json.schema', `"${j.schema}" is not an Iglu URI`);
    const output = { expected: p.output.expectedRows, schema: j.schema, describes: j.describes, names: j.propertyNames };
    const cache = { size: p.cache.size, ttlSec: p.cache.ttl };
    const timeoutMs = deps.sqlTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ov = deps.postgresOverride ?? {};
    const pool = new pg.Pool({
      host: ov.host ?? conn.host,
      port: ov.port ?? conn.port,
      user: ov.user ?? conn.username,
      password: ov.password ?? conn.password,
      database: ov.database ?? conn.database,
      ssl: conn.sslMode ? { rejectUnauthorized: false } : false,
      max: 4,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: timeoutMs,
      statement_timeout: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'furrow-sql-enrichment',
    });
    // An idle client losing its server must not crash the process; the next query reports the failure.
    pool.on('error', (err) => deps.logger.warn({ err: err.message }, 'sql_query enrichment: idle PostgreSQL connection failed'));
    return new SqlQueryEnrichment(config.schema, pool, text, inputs, count, output, cache, p.ignoreOnError, timeoutMs);
  },
};
