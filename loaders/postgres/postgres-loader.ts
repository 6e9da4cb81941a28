/**
 * The PostgreSQL loader: one transaction per batch, COPY into atomic.events and the per-schema tables,
 * and the stream position written in that same transaction, so a batch is either fully loaded with its
 * position or not at all (exactly-once across crashes, kill -9 and database restarts).
 *
 *   lines ─shred─> events ─bind tables (resolver → CREATE/ALTER under advisory lock, cached)─>
 *   BEGIN
 *     SELECT position … FOR UPDATE        (already there? the batch committed before a crash: skip)
 *     SAVEPOINT; COPY events; COPY <table> …   ── data error ─> ROLLBACK TO SAVEPOINT, split the batch
 *                                                               in halves until the bad event is alone
 *                                                               → loader_runtime_error bad row
 *     UPSERT furrow_load_state(stream, position)
 *   COMMIT   ── connection lost anywhere ─> reconnect with back-off, redo the batch (re-reading the position)
 */
import { sleep } from '../../common/timing.js';
import { compareSchemaVer } from '../../formats/schema-key.js';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { FurrowError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import type { ClientError, IgluResolver } from '../../iglu-resolver/types.js';
import { igluBadRow, runtimeBadRow } from '../bad-rows.js';
import type { BadRowOutput } from '../bad-row-output.js';
import type { BatchLoader, BatchOutcome, PreparedBatch } from '../loader.js';
import { flattenSchema, parseTableKey, quoteIdent, quoteLiteral, tableName, type TableKey, type ShredColumn } from '../schema-ddl.js';
import { columnsOf, shredLineSafely, type ShreddedEvent } from '../shred.js';
import { atomicBinaryBuffer, atomicRow, shredRow } from './copy-text.js';
import {
  STATE_TABLE, addColumnSql, atomicEventsSql, commentSql, copyAtomicSql, copyShredSql, createSchemaSql, createShredTableSql,
  stateTableSql,
} from './ddl.js';

export interface PostgresLoaderOptions {
  /** Target schema (Snowplow's `schema` setting); default `atomic`. */
  readonly schema: string;
  /** Give up on an unreachable database after this long (ms); the batch is then not acknowledged. */
  readonly retryForMs: number;
  /** Lines are binary strings (LineSource encoding 'latin1'): atomic columns go to COPY byte for byte. */
  readonly binaryLines?: boolean;
}

export const POSTGRES_LOADER_DEFAULTS: PostgresLoaderOptions = Object.freeze({ schema: 'atomic', retryForMs: 10 * 60_000 });

/** A per-schema table bound to one schema version: the COPY statement and the columns it fills. */
interface TableBinding {
  readonly table: string;
  readonly columns: readonly ShredColumn[];
  readonly copySql: string;
}

interface PgPreparedBatch extends PreparedBatch {
  readonly events: PreparedEvent[];
  readonly bad: string[];
}

type Binding = { ok: true; binding: TableBinding } | { ok: false; error: ClientError };

/** An event ready to COPY: its rows, precomputed once so a split batch does not rebuild them. */
interface PreparedEvent {
  /** What the bad-row and atomic paths need; not the whole event, so parsed entity JSON dies young. */
  readonly event: Pick<ShreddedEvent, 'line' | 'binary' | 'atomicSegments'>;
  /** The atomic.events row (text mode); null with binary lines (built per COPY from the segments). */
  readonly atomic: string | null;
  readonly shreds: ReadonlyArray<readonly [TableBinding, string]>;
}

/** SQLSTATE classes that mean "this data does not fit", not "the database is unwell". */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && (code.startsWith('22') || code.startsWith('23') || code.startsWith('54'));
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function errorMessage(err: unknown): string {
  const e = err as { message?: string; code?: string; where?: string };
  return `${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}${e.where ? ` (${e.where})` : ''}`;
}

/** Stable 32-bit key for pg_advisory_xact_lock from a name (FNV-1a). */
function lockKey(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

export class PostgresLoader implements BatchLoader {
  private readonly schema: string;
  private readonly bindings = new Map<string, Promise<Binding>>();
  private readonly copyAtomic: string;
  private readonly stateSelect: string;
  private readonly stateTable: string;
  /** Per stream: the position of the last batch handed to commit() (or read at start); null = none stored. */
  private readonly lastIssued = new Map<string, string | null>();
  /** Settles when the last commit() settled (commits are chained in call order). */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly pool: pg.Pool,
    private readonly resolver: IgluResolver,
    private readonly badRows: BadRowOutput,
    private readonly logger: Logger,
    private readonly options: PostgresLoaderOptions = POSTGRES_LOADER_DEFAULTS,
  ) {
    this.schema = options.schema;
    const q = quoteIdent(this.schema);
    this.copyAtomic = copyAtomicSql(this.schema);
    this.stateTable = `${q}.${STATE_TABLE}`;
    this.stateSelect = `SELECT "position" FROM ${this.stateTable} WHERE "stream" = $1`;
  }

  /** Runs `fn` with a pooled client, retrying on connection-level failures with back-off. */
  private async withRetry<T>(what: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.retryForMs;
    let delay = 100;
    let otherFailures = 0;
    for (;;) {
      let client: pg.PoolClient | undefined;
      // A checked-out client whose connection drops emits 'error'; the failing query reports it to us.
      const onClientError = (e: Error): void => this.logger.debug({ err: e.message }, 'connection error');
      try {
        client = await this.pool.connect();
        client.on('error', onClientError);
        const out = await fn(client);
        client.removeListener('error', onClientError);
        client.release();
        return out;
      } catch (err) {
        if (client !== undefined) {
          client.removeListener('error', onClientError);
          client.on('error', () => undefined);
          await client.query('ROLLBACK').catch(() => undefined);
          client.release(err as Error); // destroys the connection
        }
        if (err instanceof FurrowError) throw err;
        const sqlState = (err as { code?: unknown }).code;
        const connectionLevel = typeof sqlState !== 'string' || sqlState.length !== 5 || /^(08|57|53|58)/.test(sqlState);
        if (!connectionLevel && ++otherFailures > 3) {
          throw new FurrowError('LOADER_DATABASE', `${what}: ${errorMessage(err)}`, { cause: err });
        }
        if (Date.now() > deadline) {
          throw new FurrowError('LOADER_DATABASE_UNREACHABLE', `${what}: gave up after ${this.options.retryForMs} ms: ${errorMessage(err)}`, { cause: err });
        }
        this.logger.warn({ err: errorMessage(err), retryInMs: delay }, `${what} failed; retrying`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  async start(): Promise<void> {
    await this.withRetry('create atomic tables', async (c) => {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`furrow:${this.schema}`)]);
      await c.query(createSchemaSql(this.schema));
      const exists = await c.query(`SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'events'`, [this.schema]);
      if (exists.rowCount === 0) await c.query(atomicEventsSql(this.schema));
      await c.query(stateTableSql(this.schema));
      await c.query('COMMIT');
    });
  }

  async position(stream: string): Promise<string | null> {
    const p = await this.withRetry('read position', async (c) => {
      const r = await c.query<{ position: string }>(this.stateSelect, [stream]);
      return r.rows[0]?.position ?? null;
    });
    this.lastIssued.set(stream, p);
    return p;
  }

  /** The table for one schema version, created or migrated on first use (cached per URI). */
  private bind(key: TableKey): Promise<Binding> {
    let b = this.bindings.get(key.uri);
    if (b === undefined) {
      b = this.resolveAndMigrate(key);
      this.bindings.set(key.uri, b);
      // A failure to reach the database is not cached; a resolution failure is (the resolver caches too).
      b.catch(() => this.bindings.delete(key.uri));
    }
    return b;
  }

  private async resolveAndMigrate(key: TableKey): Promise<Binding> {
    const found = await this.resolver.lookupSchema(key.uri);
    if (!found.ok) return { ok: false, error: found.error };
    const columns = flattenSchema(found.schema);
    const table = tableName(key);
    await this.withRetry(`migrate ${table}`, (c) => this.migrate(c, key, table, columns));
    return { ok: true, binding: { table, columns, copySql: copyShredSql(this.schema, table, columns) } };
  }

  /**
   * Creates the table, or adds the columns this version has and the table lacks, under an advisory lock
   * so concurrent loaders serialize. The table comment records the newest version seen.
   */
  private async migrate(c: pg.PoolClient, key: TableKey, table: string, columns: readonly ShredColumn[]): Promise<void> {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [lockKey(`furrow:${this.schema}.${table}`)]);
    const existing = await c.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2',
      [this.schema, table],
    );
    if (existing.rowCount === 0) {
      await c.query(createShredTableSql(this.schema, table, columns));
      await c.query(commentSql(this.schema, table, key));
      this.logger.info({ table: `${this.schema}.${table}`, schema: key.uri }, 'created table');
    } else {
      const have = new Set(existing.rows.map((r) => r.column_name));
      const added: string[] = [];
      for (const col of columns) {
        if (have.has(col.name)) continue;
        await c.query(addColumnSql(this.schema, table, col));
        added.push(col.name);
      }
      const comment = await c.query<{ c: string | null }>('SELECT obj_description(to_regclass($1), \'pg_class\') AS c', [
        `${quoteIdent(this.schema)}.${quoteIdent(table)}`,
      ]);
      const current = comment.rows[0]?.c ? parseTableKey(comment.rows[0].c) : null;
      if (current === null || compareSchemaVer(current, key) < 0) await c.query(commentSql(this.schema, table, key));
      if (added.length > 0) this.logger.info({ table: `${this.schema}.${table}`, schema: key.uri, added }, 'added columns');
    }
    await c.query('COMMIT');
  }

  async load(lines: readonly string[], stream: string | null, position: string): Promise<BatchOutcome> {
    return this.commit(await this.prepare(lines), stream, position);
  }

  async prepare(lines: readonly string[]): Promise<PgPreparedBatch> {
    const bad: string[] = [];
    const shredded: ShreddedEvent[] = [];
    const binary = this.options.binaryLines === true;
    for (let i = 0; i < lines.length; i++) {
      const out = shredLineSafely(lines[i]!, binary);
      if (out.ok) shredded.push(out.event);
      else bad.push(out.badRow);
      // Yield now and then so the previous batch's transaction (running meanwhile) gets its replies
      // handled promptly instead of waiting for this whole batch to be parsed.
      if ((i & 511) === 511) await new Promise<void>((r) => setImmediate(r));
    }
    return { lineCount: lines.length, events: await this.render(shredded, bad), bad };
  }

  /**
   * Commits may overlap (runLoader keeps two in flight, each on its own connection): a batch COPYs while
   * the previous one is still committing, and only then waits for it, locks the position row and checks
   * that it holds the previous batch's position (or its own: already committed) before committing. So
   * commits stay in stream order and a failed predecessor can never be skipped over.
   */
  async commit(batch: PreparedBatch, stream: string | null, position: string): Promise<BatchOutcome> {
    const expected = stream === null ? undefined : this.lastIssued.get(stream);
    if (stream !== null) this.lastIssued.set(stream, position);
    const previous = this.tail;
    const mine = this.commitInOrder(batch as PgPreparedBatch, stream, position, expected, previous);
    this.tail = mine.then(
      () => undefined,
      () => {
        // Not stored: the stream's position is unknown again (a later load() re-checks without expecting it).
        if (stream !== null && this.lastIssued.get(stream) === position) this.lastIssued.delete(stream);
      },
    );
    return mine;
  }

  private async commitInOrder(
    batch: PgPreparedBatch,
    stream: string | null,
    position: string,
    expected: string | null | undefined,
    previous: Promise<void>,
  ): Promise<BatchOutcome> {
    const { events: prepared, bad } = batch;
    const runtimeBad: string[] = [];
    const committed = await this.withRetry('load batch', async (c) => {
      runtimeBad.length = 0;
      // Round trips are batched as simple multi-statement queries (literals quoted).
      await c.query('BEGIN; SAVEPOINT furrow_batch');
      await this.copyEvents(c, prepared, runtimeBad, false);
      await previous;
      if (stream !== null) {
        const r = await c.query<{ position: string }>(`SELECT "position" FROM ${this.stateTable} WHERE "stream" = ${quoteLiteral(stream)} FOR UPDATE`);
        const stored = r.rows[0]?.position ?? null;
        // Our own earlier attempt committed (e.g. the connection died during COMMIT): nothing to do.
        if (stored === position) {
          await c.query('ROLLBACK');
          return false;
        }
        if (expected !== undefined && stored !== expected) {
          await c.query('ROLLBACK');
          throw new FurrowError('LOADER_STREAM_CONFLICT', `position of ${stream} is ${JSON.stringify(stored)}, expected ${JSON.stringify(expected)} (another loader on this stream, or the previous batch failed)`);
        }
      }
      // Bad rows are written before the commit: a crash may repeat them, never lose them.
      await this.badRows.write(bad.concat(runtimeBad));
      const upsert = stream === null
        ? ''
        : `INSERT INTO ${this.stateTable} ("stream", "position") VALUES (${quoteLiteral(stream)}, ${quoteLiteral(position)}) ` +
          `ON CONFLICT ("stream") DO UPDATE SET "position" = EXCLUDED."position", "updated_at" = now(); `;
      await c.query(`RELEASE SAVEPOINT furrow_batch; ${upsert}COMMIT`);
      return true;
    });
    if (!committed) return { loaded: 0, bad: 0, skipped: true };
    return { loaded: prepared.length - runtimeBad.length, bad: bad.length + runtimeBad.length, skipped: false };
  }

  /** Binds every entity's table and renders the COPY rows; events whose schema cannot be resolved become bad rows. */
  private async render(events: readonly ShreddedEvent[], bad: string[]): Promise<PreparedEvent[]> {
    // Bind each schema of the batch once, then render synchronously (no await per entity).
    const bound = new Map<string, Binding>();
    for (const ev of events) {
      for (const ent of ev.entities) if (!bound.has(ent.key.uri)) bound.set(ent.key.uri, await this.bind(ent.key));
    }
    const out: PreparedEvent[] = [];
    for (const ev of events) {
      const shreds: Array<readonly [TableBinding, string]> = [];
      let failures: Array<{ schemaKey: string; error: ClientError }> | null = null;
      let unrenderable: unknown;
      for (const ent of ev.entities) {
        const b = bound.get(ent.key.uri)!;
        if (!b.ok) {
          (failures ??= []).push({ schemaKey: ent.key.uri, error: b.error });
          continue;
        }
        try {
          shreds.push([b.binding, shredRow(ent, ev.eventId, ev.collectorTstamp, b.binding.columns)]);
        } catch (e) {
          // A row that cannot be rendered is this event's problem only (see shredLineSafely).
          unrenderable = e;
          break;
        }
      }
      if (unrenderable !== undefined) bad.push(runtimeBadRow(columnsOf(ev), `the event could not be rendered for COPY: ${errorText(unrenderable)}`));
      else if (failures !== null) bad.push(igluBadRow(columnsOf(ev), failures));
      else {
        out.push({
          event: { line: ev.line, binary: ev.binary, atomicSegments: ev.atomicSegments },
          atomic: this.options.binaryLines === true ? null : atomicRow(ev.atomicSegments),
          shreds,
        });
      }
    }
    return out;
  }

  private async copyText(c: pg.PoolClient, sql: string, text: string | Buffer): Promise<void> {
    const stream = c.query(copyFrom(sql));
    stream.end(text);
    await finished(stream);
  }

  /**
   * COPYs `events` inside a savepoint; on a data error splits them until each bad event is isolated.
   * `own` = this call creates and releases its savepoint (the top level's is made and released by commit()).
   */
  private async copyEvents(c: pg.PoolClient, events: readonly PreparedEvent[], bad: string[], own = true): Promise<void> {
    if (events.length === 0) return;
    if (own) await c.query('SAVEPOINT furrow_batch');
    try {
      let atomic = '';
      const perTable = new Map<TableBinding, string>();
      for (const p of events) {
        if (p.atomic !== null) atomic += p.atomic;
        for (const [b, row] of p.shreds) perTable.set(b, (perTable.get(b) ?? '') + row);
      }
      await this.copyText(c, this.copyAtomic, this.options.binaryLines === true ? atomicBinaryBuffer(events.map((p) => p.event.atomicSegments)) : atomic);
      for (const [b, text] of perTable) await this.copyText(c, b.copySql, text);
      if (own) await c.query('RELEASE SAVEPOINT furrow_batch');
    } catch (err) {
      if (!isDataError(err)) throw err;
      // Back to the state before this COPY; the savepoint stays (released by whoever created it).
      await c.query('ROLLBACK TO SAVEPOINT furrow_batch');
      if (own) await c.query('RELEASE SAVEPOINT furrow_batch');
      if (events.length === 1) {
        bad.push(runtimeBadRow(columnsOf(events[0]!.event), errorMessage(err)));
        return;
      }
      const mid = events.length >> 1;
      await this.copyEvents(c, events.slice(0, mid), bad);
      await this.copyEvents(c, events.slice(mid), bad);
    }
  }

  async close(): Promise<void> {
    await this.badRows.close();
  }
}
