/**
 * bench:mini-store — where `furrow mini --data DIR` keeps its events, measured before choosing (issue 19 item 3):
 *
 *   memory   MiniStore alone, as mini runs without --data: the floor every persistent store is compared with
 *   journal  MiniStore + the append-only journal of mini/store-journal.ts (what --data uses): one write() per
 *            record, replayed into MiniStore at start; queries are MiniStore's
 *   pglite   @electric-sql/pglite (PostgreSQL in WebAssembly, in this process) with the Postgres loader's
 *            atomic.events (its DDL and COPY) plus a mini_records table (stream line, raw event, and the
 *            columns the Micro API filters on, indexed); inserts in transactions of 100 (a reader batch), two
 *            COPYs each; queries in SQL, answers built from the stored line as the memory store does. The
 *            per-schema tables are left out, so its insert figure is an upper bound
 *
 * For each: start-up empty, insert rate (events/s; 90 % good, 10 % bad rows, each with its raw event), the
 * Micro API queries as JSON text (/micro/all; POST /micro/good {event_type, schema, limit: 100}; POST /micro/good
 * {contexts}; /micro/bad) in answers/s, and start-up again holding the events (restart).
 *
 * Backends run one after the other in each of ROUNDS rounds (default 3); every figure is the median of its rounds,
 * so a load that shifts during the run (other processes on the machine) hits them alike.
 *
 *   npm run bench:mini-store            (or: npx tsx bench/mini-store.ts [--events N] [--rounds N] [--skip-pglite])
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ATOMIC_COLUMNS } from '../loaders/atomic-columns.js';
import { atomicEventsSql, copyAtomicSql, createSchemaSql } from '../loaders/postgres/ddl.js';
import { escapeCopy } from '../loaders/postgres/copy-text.js';
import { createLogger } from '../common/logger.js';
import { parseEnrichedTsv, type EnrichedEvent } from '../formats/enriched-event.js';
import { parseBadRow } from '../mini/bad-events.js';
import { parseContexts, toSdkEvent } from '../mini/event-json.js';
import type { MicroRawEvent } from '../mini/raw-events.js';
import { MiniStore, type FiltersGood } from '../mini/store.js';
import { openStoreJournal } from '../mini/store-journal.js';
import { GENERATOR_SCHEMAS, eventIdFor, generateLine } from '../test/support/enriched-generator.js';
import { schemaViolation } from '../test/mini/fixtures.js';

const args = process.argv.slice(2);
const EVENTS = Number(args[args.indexOf('--events') + 1] ?? 10_000) || 10_000;
const SKIP_PGLITE = args.includes('--skip-pglite');
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] ?? 3) || 3;
const QUERY_MS = 1500;
const log = createLogger('bench', 'silent');

// ---------------------------------------------------------------- the events

function rawEventOf(i: number, eid: string): MicroRawEvent {
  return {
    api: { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' },
    parameters: {
      e: 'pv', eid, tv: 'js-3.24.0', p: 'web', aid: 'shop', url: `https://shop.example.com/p/${i % 1000}`, page: `Product ${i % 1000}`,
      res: '1920x1080', vp: '1280x800', cd: '24', tz: 'Europe/Berlin', lang: 'de-DE', cs: 'UTF-8', duid: `d${i % 4099}`, vid: String(1 + (i % 17)),
      dtm: String(1714564800000 + i * 37), stm: String(1714564800100 + i * 37),
      co: JSON.stringify({ schema: GENERATOR_SCHEMAS.contexts, data: [{ schema: GENERATOR_SCHEMAS.webPage, data: { id: eid } }] }),
    },
    contentType: 'application/json',
    source: { name: 'ssc-3.4.0-kinesis', encoding: 'UTF-8', hostname: 'localhost' },
    context: {
      timestamp: new Date(Date.UTC(2024, 4, 1, 12) + i * 37).toISOString(), ipAddress: '192.0.2.1',
      useragent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36', refererUri: null,
      headers: ['Host: localhost:9090', 'Content-Type: application/json', 'Origin: https://shop.example.com'], userId: null,
    },
  };
}

interface Input {
  kind: 'good' | 'bad';
  line: string;
  raw: MicroRawEvent | null;
}

const inputs: Input[] = [];
for (let i = 0; i < EVENTS; i++) {
  if (i % 10 === 9) inputs.push({ kind: 'bad', line: schemaViolation(eventIdFor(9, i)), raw: null });
  else inputs.push({ kind: 'good', line: generateLine(i, { seed: 7 }), raw: rawEventOf(i, eventIdFor(7, i)) });
}

const Q_GOOD_FILTER: FiltersGood = { event_type: 'unstruct', schema: GENERATOR_SCHEMAS.linkClick, limit: 100 };
const Q_GOOD_CONTEXTS: FiltersGood = { contexts: [GENERATOR_SCHEMAS.webPage] };

// ---------------------------------------------------------------- backends

interface Backend {
  name: string;
  add(batch: Input[]): Promise<void>;
  all(): Promise<string>;
  good(f: FiltersGood): Promise<string>;
  bad(): Promise<string>;
  close(): Promise<void>;
}

/** A store whose tap hands each good event the raw event the bench prepared for it. */
function memoryStore(persistence: ConstructorParameters<typeof MiniStore>[0] = {}): { store: MiniStore; feed(batch: Input[]): void } {
  let next: MicroRawEvent | null = null;
  const tap = { take: () => (next === null ? undefined : { raw: next }), payloadFor: () => null, clear() {} };
  const store = new MiniStore({ maxEvents: EVENTS * 2, tap: tap as never, ...persistence });
  return {
    store,
    feed(batch) {
      for (const e of batch) {
        next = e.raw;
        if (e.kind === 'good') store.addGood(e.line);
        else store.addBad(e.line);
      }
    },
  };
}

function storeQueries(store: MiniStore) {
  return {
    all: async () => JSON.stringify(store.summary()),
    good: async (f: FiltersGood) => JSON.stringify(store.filterGood(f).map((r) => store.goodEventJson(r))),
    bad: async () => JSON.stringify(store.filterBad().map((r) => store.badEventJson(r))),
  };
}

async function memoryBackend(): Promise<Backend> {
  const m = memoryStore();
  return { name: 'memory', add: async (b) => m.feed(b), ...storeQueries(m.store), close: async () => m.store.close() };
}

async function journalBackend(dir: string): Promise<Backend & { restored: number }> {
  const { journal, records } = openStoreJournal({ dir, maxEvents: EVENTS * 2, logger: log });
  const m = memoryStore({ persistence: journal });
  m.store.restore(records);
  return {
    name: 'journal', restored: records.length, add: async (b) => m.feed(b), ...storeQueries(m.store),
    close: async () => {
      m.store.close();
      journal.close();
    },
  };
}

const MINI_RECORDS_SQL = `CREATE TABLE atomic.mini_records (
  seq bigserial PRIMARY KEY, valid boolean NOT NULL, received_at bigint NOT NULL, event_id text, event_type text,
  schema_uri text, contexts text[], line text NOT NULL, tapped jsonb)`;
const MINI_INDEXES_SQL = [
  'CREATE INDEX mini_records_valid ON atomic.mini_records (valid, seq)',
  'CREATE INDEX mini_records_type ON atomic.mini_records (event_type, schema_uri)',
  'CREATE INDEX mini_records_contexts ON atomic.mini_records USING gin (contexts)',
];

function pgArray(xs: string[]): string {
  return '{' + xs.map((x) => '"' + x.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

async function pgliteBackend(dir: string, fresh: boolean): Promise<Backend> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir);
  if (fresh) {
    await db.exec(createSchemaSql('atomic'));
    await db.exec(atomicEventsSql('atomic'));
    await db.exec(MINI_RECORDS_SQL);
    for (const s of MINI_INDEXES_SQL) await db.exec(s);
  }
  const copyAtomic = copyAtomicSql('atomic').replace('FROM STDIN', "FROM '/dev/blob'");
  const copyRecords =
    "COPY atomic.mini_records (valid, received_at, event_id, event_type, schema_uri, contexts, line, tapped) FROM '/dev/blob'";
  const nul = '\\N';
  const goodJson = (line: string, tapped: unknown) => {
    const ev = parseEnrichedTsv(line) as EnrichedEvent;
    const schema = ev.event_vendor !== null ? `iglu:${ev.event_vendor}/${ev.event_name}/${ev.event_format}/${ev.event_version}` : null;
    return { rawEvent: tapped ?? null, eventType: ev.event, schema, contexts: parseContexts(ev.contexts).map((c) => c.schema), event: toSdkEvent(ev), incomplete: false };
  };
  return {
    name: 'pglite',
    async add(batch) {
      let atomic = '';
      let recs = '';
      const now = Date.now();
      for (const e of batch) {
        if (e.kind === 'good') {
          const cols = e.line.split('\t');
          atomic += ATOMIC_COLUMNS.map((c) => cols[c.tsvIndex]!.replace(/\\/g, '\\\\').replace(/\r/g, '\\r')).join('\t') + '\n';
          const ev = parseEnrichedTsv(e.line) as EnrichedEvent;
          const schema = `iglu:${ev.event_vendor}/${ev.event_name}/${ev.event_format}/${ev.event_version}`;
          recs += `t\t${now}\t${ev.event_id}\t${ev.event}\t${escapeCopy(schema)}\t${escapeCopy(pgArray(parseContexts(ev.contexts).map((c) => c.schema)))}\t${escapeCopy(e.line)}\t${escapeCopy(JSON.stringify(e.raw))}\n`;
        } else {
          const b = parseBadRow(e.line);
          recs += `f\t${now}\t${b.eventId ?? nul}\t${nul}\t${nul}\t${nul}\t${escapeCopy(e.line)}\t${nul}\n`;
        }
      }
      await db.transaction(async (tx) => {
        if (atomic !== '') await tx.query(copyAtomic, [], { blob: new Blob([atomic]) });
        await tx.query(copyRecords, [], { blob: new Blob([recs]) });
      });
    },
    async all() {
      const r = await db.query<{ good: number; bad: number }>(
        'SELECT count(*) FILTER (WHERE valid)::int AS good, count(*) FILTER (WHERE NOT valid)::int AS bad FROM atomic.mini_records',
      );
      const { good, bad } = r.rows[0]!;
      return JSON.stringify({ total: good + bad, good, bad });
    },
    async good(f) {
      const where = ['valid'];
      const params: unknown[] = [];
      if (f.event_type != null) where.push(`event_type = $${params.push(f.event_type)}`);
      if (f.schema != null) where.push(`schema_uri = $${params.push(f.schema)}`);
      if (f.contexts != null) where.push(`contexts @> $${params.push(f.contexts)}::text[]`);
      const limit = f.limit != null ? ` LIMIT ${f.limit}` : '';
      const r = await db.query<{ line: string; tapped: unknown }>(
        `SELECT line, tapped FROM atomic.mini_records WHERE ${where.join(' AND ')} ORDER BY seq DESC${limit}`,
        params,
      );
      return JSON.stringify(r.rows.map((row) => goodJson(row.line, row.tapped)));
    },
    async bad() {
      const r = await db.query<{ line: string }>('SELECT line FROM atomic.mini_records WHERE NOT valid ORDER BY seq DESC');
      return JSON.stringify(
        r.rows.map((row) => {
          const b = parseBadRow(row.line);
          return { collectorPayload: b.collectorPayload, rawEvent: b.rawEvent, errors: b.errors };
        }),
      );
    },
    close: () => db.close(),
  };
}

// ---------------------------------------------------------------- measuring

interface Figures {
  startEmptyMs: number;
  insertPerSec: number;
  allPerSec: number;
  goodFilterPerSec: number;
  goodContextsPerSec: number;
  badPerSec: number;
  restartMs: number;
  dataBytes: number | null;
}

async function rate(fn: () => Promise<string>): Promise<number> {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < QUERY_MS && n < 100_000) {
    await fn();
    n++;
    t = performance.now();
  }
  return (n * 1000) / (t - t0);
}

function duBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else total += statSync(p).size;
    }
  };
  walk(dir);
  return total;
}

async function measure(name: string, open: (fresh: boolean) => Promise<Backend>, dir: string | null): Promise<Figures> {
  let t0 = performance.now();
  const b = await open(true);
  const startEmptyMs = performance.now() - t0;
  t0 = performance.now();
  for (let i = 0; i < inputs.length; i += 100) await b.add(inputs.slice(i, i + 100));
  const insertPerSec = (EVENTS * 1000) / (performance.now() - t0);
  const check = JSON.parse(await b.all()) as { total: number };
  if (check.total !== EVENTS) throw new Error(`${name}: ${check.total} events stored, expected ${EVENTS}`);
  const allPerSec = await rate(() => b.all());
  const goodFilterPerSec = await rate(() => b.good(Q_GOOD_FILTER));
  const goodContextsPerSec = await rate(() => b.good(Q_GOOD_CONTEXTS));
  const badPerSec = await rate(() => b.bad());
  await b.close();
  let restartMs = NaN;
  if (dir !== null) {
    t0 = performance.now();
    const again = await open(false);
    const after = JSON.parse(await again.all()) as { total: number };
    restartMs = performance.now() - t0;
    if (after.total !== EVENTS) throw new Error(`${name}: ${after.total} events after restart, expected ${EVENTS}`);
    await again.close();
  }
  return { startEmptyMs, insertPerSec, allPerSec, goodFilterPerSec, goodContextsPerSec, badPerSec, restartMs, dataBytes: dir === null ? null : duBytes(dir) };
}

const names = ['memory (floor)', 'journal (--data)', ...(SKIP_PGLITE ? [] : ['pglite'])];
const runs: Figures[][] = names.map(() => []);
for (let round = 0; round < ROUNDS; round++) {
  const dirs: string[] = [];
  const dir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  try {
    runs[0]!.push(await measure('memory', () => memoryBackend(), null));
    const jdir = dir('bench-mini-journal-');
    runs[1]!.push(await measure('journal', () => journalBackend(jdir), jdir));
    if (!SKIP_PGLITE) {
      const pdir = dir('bench-mini-pglite-');
      runs[2]!.push(await measure('pglite', (fresh) => pgliteBackend(pdir, fresh), pdir));
    }
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  process.stderr.write(`round ${round + 1}/${ROUNDS} done\n`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Array<[string, Figures]> = names.map((n, i) => {
  const rs = runs[i]!;
  const m = (get: (f: Figures) => number | null) => median(rs.map((f) => get(f) ?? NaN));
  return [n, {
    startEmptyMs: m((f) => f.startEmptyMs), insertPerSec: m((f) => f.insertPerSec), allPerSec: m((f) => f.allPerSec),
    goodFilterPerSec: m((f) => f.goodFilterPerSec), goodContextsPerSec: m((f) => f.goodContextsPerSec), badPerSec: m((f) => f.badPerSec),
    restartMs: m((f) => f.restartMs), dataBytes: rs[0]!.dataBytes,
  }];
});

const fmt = (n: number) => (!Number.isFinite(n) ? '–' : n < 10 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US'));
const floor = results[0]![1];
const ratio = (v: number, f: number) => (Number.isFinite(v) && f > 0 ? ` (${(v / f).toFixed(2)}×)` : '');
const rows: Array<[string, (f: Figures) => number, boolean]> = [
  ['start-up, empty (ms)', (f) => f.startEmptyMs, false],
  [`insert (events/s)`, (f) => f.insertPerSec, true],
  ['/micro/all (answers/s)', (f) => f.allPerSec, true],
  ['/micro/good {event_type, schema, limit 100} (answers/s)', (f) => f.goodFilterPerSec, true],
  [`/micro/good {contexts} → ${Math.round(EVENTS * 0.9)} events (answers/s)`, (f) => f.goodContextsPerSec, true],
  [`/micro/bad → ${EVENTS / 10} events (answers/s)`, (f) => f.badPerSec, true],
  [`restart with ${EVENTS} events (ms)`, (f) => f.restartMs, false],
  ['bytes on disk', (f) => f.dataBytes ?? NaN, false],
];
const out: string[] = [
  `bench:mini-store — ${EVENTS.toLocaleString('en-US')} events (90 % good, 10 % bad), median of ${ROUNDS} rounds, Node ${process.version}; (×) = against the floor`,
  '',
];
out.push(`| measure | ${results.map(([n]) => n).join(' | ')} |`, `|---|${results.map(() => '---:|').join('')}`);
for (const [label, get, isRate] of rows) {
  out.push(`| ${label} | ${results.map(([, f], i) => fmt(get(f)) + (i > 0 && isRate ? ratio(get(f), get(floor)) : '')).join(' | ')} |`);
}
process.stdout.write(out.join('\n') + '\n');
