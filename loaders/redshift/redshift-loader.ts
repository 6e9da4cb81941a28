/**
 * The Redshift loader, RDB Loader style: each batch is shredded into gzipped TSV per table, staged in S3,
 * then loaded in one transaction.
 *
 *   lines ─shred─> atomic TSV + one TSV per schema version ─gzip─> PutObject
 *     s3://stage/run=YYYY-MM-DD-hh-mm-ss-<id>/output=good/vendor=V/name=N/format=tsv/model=M/revision=R/addition=A/part-00000.gz
 *   BEGIN
 *     SELECT base FROM atomic.manifest WHERE base = <run folder>   (present → already loaded: ROLLBACK, skip)
 *     SELECT position FROM furrow_load_state                        (= this batch's → already loaded: skip)
 *     ALTER TABLE … ADD COLUMN …                                    (new schema versions)
 *     COPY atomic.events … ; COPY atomic.<table> … (one per staged folder)
 *     INSERT INTO atomic.manifest …; DELETE+INSERT furrow_load_state
 *   COMMIT
 *
 * Redshift speaks the PostgreSQL protocol, so the executor is a `pg` pool. With --dry-run the executor
 * prints every statement (and answers every SELECT with no rows) and nothing touches a database; the files
 * are still staged so the printed COPY statements point at real objects.
 */
import { randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FurrowError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ClientError, IgluResolver } from '../../iglu-resolver/types.js';
import { igluBadRow, LOADER_ARTIFACT, LOADER_VERSION, runtimeBadRow } from '../bad-rows.js';
import type { BadRowOutput } from '../bad-row-output.js';
import type { BatchLoader, BatchOutcome } from '../loader.js';
import { flattenSchema, quoteLiteral, tableName, type TableKey, type ShredColumn } from '../schema-ddl.js';
import { atomicTsvOf, columnsOf, shredLineSafely, type Entity } from '../shred.js';
import type { S3Location } from '../../streams/sources/s3-source.js';
import { addColumnDdl, atomicEventsDdl, copyAtomicSql, copyShredSql, manifestDdl, shredTableDdl, stateDdl, type CopyAuth } from './sql.js';

export interface SqlExecutor {
  query(sql: string, params?: readonly unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}

function inline(sql: string, params: readonly unknown[] = []): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const v = params[Number(n) - 1];
    return v === null || v === undefined ? 'NULL' : typeof v === 'number' ? String(v) : quoteLiteral(String(v));
  });
}

/** Prints statements instead of running them; every SELECT returns no rows. */
export class DryRunExecutor implements SqlExecutor {
  readonly statements: string[] = [];
  constructor(private readonly out: Writable | null) {}
  async query(sql: string, params?: readonly unknown[]) {
    const text = inline(sql, params);
    this.statements.push(text);
    this.out?.write(`${text.endsWith(';') ? text : `${text};`}\n`);
    return { rows: [] };
  }
  async close() {}
}

/** `url` null = dry run (print to `out`). */
export async function createRedshiftExecutor(url: string | null, out: Writable, logger: Logger): Promise<SqlExecutor> {
  if (url === null) return new DryRunExecutor(out);
  const pg = (await import('pg')).default;
  const pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 10_000 });
  pool.on('error', (err) => logger.warn({ err: err.message }, 'idle connection lost'));
  let client: import('pg').PoolClient | null = null;
  return {
    async query(sql, params) {
      // One session: the statements of a transaction must share it.
      client ??= await pool.connect();
      try {
        const r = await client.query(sql, params as unknown[] | undefined);
        return { rows: r.rows as Array<Record<string, unknown>> };
      } catch (err) {
        if ((err as { code?: unknown }).code === undefined) {
          client.release(err as Error);
          client = null;
        }
        throw err;
      }
    },
    async close() {
      client?.release();
      await pool.end();
    },
  };
}

export interface RedshiftLoaderOptions extends CopyAuth {
  readonly schema: string;
}

interface Binding {
  readonly key: TableKey;
  readonly table: string;
  readonly columns: readonly ShredColumn[];
}

const TSV_UNSAFE = /[\t\n\r]/g;

/** Shredded TSV cell: \N for null (Redshift's default NULL AS), JSON for objects; TAB/LF/CR become spaces. */
function cell(v: unknown, kind: ShredColumn['kind']): string {
  if (v === undefined || v === null) return '\\N';
  const s = kind === 'json' || typeof v === 'object' ? JSON.stringify(v) : typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v);
  return s.replace(TSV_UNSAFE, ' ');
}

function valueAt(data: unknown, path: readonly string[]): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

export class RedshiftLoader implements BatchLoader {
  private readonly bindings = new Map<string, Promise<{ ok: true; b: Binding } | { ok: false; error: ClientError }>>();
  /** Columns each table is known to have (from this process's DDL or the catalog). */
  private readonly tableColumns = new Map<string, Set<string>>();
  private readonly auth: CopyAuth;

  constructor(
    private readonly db: SqlExecutor,
    private readonly s3: S3Client,
    private readonly stage: S3Location,
    private readonly resolver: IgluResolver,
    private readonly badRows: BadRowOutput,
    private readonly logger: Logger,
    private readonly options: RedshiftLoaderOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.auth = { iamRole: options.iamRole, region: options.region, maxError: options.maxError };
  }

  async start(): Promise<void> {
    const s = this.options.schema;
    await this.db.query(`CREATE SCHEMA IF NOT EXISTS ${s};`);
    await this.db.query(atomicEventsDdl(s));
    for (const q of manifestDdl(s)) await this.db.query(q);
    await this.db.query(stateDdl(s));
  }

  async position(stream: string): Promise<string | null> {
    const r = await this.db.query(`SELECT "position" FROM ${this.options.schema}.furrow_load_state WHERE "stream" = $1`, [stream]);
    return (r.rows[0]?.['position'] as string | undefined) ?? null;
  }

  private bind(key: TableKey) {
    let b = this.bindings.get(key.uri);
    if (b === undefined) {
      b = (async () => {
        const found = await this.resolver.lookupSchema(key.uri);
        if (!found.ok) return { ok: false as const, error: found.error };
        return { ok: true as const, b: { key, table: tableName(key), columns: flattenSchema(found.schema) } };
      })();
      this.bindings.set(key.uri, b);
    }
    return b;
  }

  /** CREATE (outside the load transaction, as RDB Loader) or the ADD COLUMN statements (inside it). */
  private async migrations(b: Binding): Promise<string[]> {
    const s = this.options.schema;
    let have = this.tableColumns.get(b.table);
    if (have === undefined) {
      const r = await this.db.query('SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [s, b.table]);
      have = new Set(r.rows.map((row) => String(row['column_name'])));
      if (have.size === 0) {
        for (const q of shredTableDdl(s, b.table, b.key, b.columns)) await this.db.query(q);
        have = new Set(b.columns.map((c) => c.name));
      }
      this.tableColumns.set(b.table, have);
    }
    const out: string[] = [];
    for (const c of b.columns) {
      if (have.has(c.name)) continue;
      out.push(addColumnDdl(s, b.table, c));
      have.add(c.name);
    }
    return out;
  }

  private async put(key: string, lines: string[]): Promise<void> {
    const body = gzipSync(lines.join('\n') + '\n');
    await this.s3.send(new PutObjectCommand({ Bucket: this.stage.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
  }

  async load(lines: readonly string[], stream: string | null, position: string): Promise<BatchOutcome> {
    const s = this.options.schema;
    const bad: string[] = [];
    const atomic: string[] = [];
    const perVersion = new Map<Binding, string[]>();
    let minT: string | null = null;
    let maxT: string | null = null;
    const started = this.now();
    for (const line of lines) {
      const out = shredLineSafely(line);
      if (!out.ok) {
        bad.push(out.badRow);
        continue;
      }
      const ev = out.event;
      const rows: Array<[Binding, Entity]> = [];
      let failures: Array<{ schemaKey: string; error: ClientError }> | null = null;
      for (const ent of ev.entities) {
        const r = await this.bind(ent.key);
        if (r.ok) rows.push([r.b, ent]);
        else (failures ??= []).push({ schemaKey: ent.key.uri, error: r.error });
      }
      if (failures !== null) {
        bad.push(igluBadRow(columnsOf(ev), failures));
        continue;
      }
      // Render every row of the event before keeping any: one that cannot be rendered makes the event a bad row.
      const rendered: Array<[Binding, string]> = [];
      try {
        for (const [b, ent] of rows) {
          const k = ent.key;
          let row = `${k.vendor}\t${k.name}\t${k.format}\t${k.model}-${k.revision}-${k.addition}\t${ev.eventId}\t${ev.collectorTstamp}\tevents\tevents\tevents`;
          for (const c of b.columns) row += '\t' + cell(valueAt(ent.data, c.path), c.kind);
          rendered.push([b, row]);
        }
      } catch (e) {
        bad.push(runtimeBadRow(columnsOf(ev), `the event could not be rendered for COPY: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`));
        continue;
      }
      atomic.push(atomicTsvOf(ev));
      if (minT === null || ev.collectorTstamp < minT) minT = ev.collectorTstamp;
      if (maxT === null || ev.collectorTstamp > maxT) maxT = ev.collectorTstamp;
      for (const [b, row] of rendered) {
        let list = perVersion.get(b);
        if (list === undefined) perVersion.set(b, (list = []));
        list.push(row);
      }
    }

    // Stage the files (a retried batch gets a new run folder; the stored position prevents a double load).
    const d = new Date(started);
    const run = `run=${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}-${randomBytes(4).toString('hex')}`;
    const root = `${this.stage.prefix.replace(/\/+$/, '')}${this.stage.prefix === '' ? '' : '/'}${run}/`;
    const base = `s3://${this.stage.bucket}/${root}`;
    const folder = (vendor: string, name: string, m: number, r: number, a: number) =>
      `output=good/vendor=${vendor}/name=${name}/format=tsv/model=${m}/revision=${r}/addition=${a}/`;
    const copies: string[] = [];
    const types: string[] = [];
    const migrations: string[] = [];
    if (atomic.length > 0) {
      const f = folder('com.snowplowanalytics.snowplow', 'atomic', 1, 0, 0);
      await this.put(`${root}${f}part-00000.gz`, atomic);
      copies.push(copyAtomicSql(s, `${base}${f}`, this.auth));
      for (const [b, rows] of perVersion) {
        const k = b.key;
        const f2 = folder(k.vendor, k.name, k.model, k.revision, k.addition);
        await this.put(`${root}${f2}part-00000.gz`, rows);
        migrations.push(...(await this.migrations(b)));
        copies.push(copyShredSql(s, b.table, b.columns, `${base}${f2}`, this.auth));
        types.push(k.uri);
      }
    }

    await this.badRows.write(bad);
    if (copies.length === 0 && stream === null) return { loaded: 0, bad: bad.length, skipped: false };
    await this.db.query('BEGIN;');
    try {
      const m = await this.db.query(`SELECT base FROM ${s}.manifest WHERE base = $1`, [base]);
      const p = stream === null ? { rows: [] } : await this.db.query(`SELECT "position" FROM ${s}.furrow_load_state WHERE "stream" = $1`, [stream]);
      if (m.rows.length > 0 || p.rows[0]?.['position'] === position) {
        await this.db.query('ROLLBACK;');
        this.logger.info({ base }, 'already loaded (manifest/position); skipped');
        return { loaded: 0, bad: 0, skipped: true };
      }
      for (const q of migrations) await this.db.query(q);
      for (const q of copies) await this.db.query(q);
      if (copies.length > 0) {
        await this.db.query(
          `INSERT INTO ${s}.manifest (base, types, shredding_started, shredding_completed, min_collector_tstamp, max_collector_tstamp, ingestion_tstamp, compression, processor_artifact, processor_version, count_good) ` +
            `VALUES ($1, $2, $3, $4, $5, $6, getdate(), 'GZIP', $7, $8, $9)`,
          [base, JSON.stringify(types), new Date(started).toISOString(), new Date(this.now()).toISOString(), minT, maxT, LOADER_ARTIFACT, LOADER_VERSION, atomic.length],
        );
      }
      if (stream !== null) {
        await this.db.query(`DELETE FROM ${s}.furrow_load_state WHERE "stream" = $1`, [stream]);
        await this.db.query(`INSERT INTO ${s}.furrow_load_state ("stream", "position") VALUES ($1, $2)`, [stream, position]);
      }
      await this.db.query('COMMIT;');
    } catch (err) {
      await this.db.query('ROLLBACK;').catch(() => undefined);
      throw new FurrowError('LOADER_DATABASE', `load of ${base} failed: ${(err as Error).message}`, { cause: err });
    }
    this.logger.info({ base, events: atomic.length, tables: types.length }, 'loaded');
    return { loaded: atomic.length, bad: bad.length, skipped: false };
  }

  async close(): Promise<void> {
    await this.badRows.close();
  }
}
