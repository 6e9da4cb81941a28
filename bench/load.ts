/**
 * `npm run bench:load`: rows/s of `furrow load postgres` against `psql \copy` of the same atomic rows,
 * in the same run, into the same throwaway PostgreSQL on 127.0.0.1 (test/support/postgres.ts, or PG_URL).
 *
 *   corpus   EVENTS enriched TSV lines (test/support/enriched-generator.ts) in a temp file
 *   floor    psql \copy <schema>.events FROM a file holding exactly the 128 atomic columns of those lines
 *            (COPY text format, rendered before timing): PostgreSQL's own bulk path, no parsing on our side
 *   furrow   FileSource → PostgresLoader (read + split 131 columns + checks + COPY per batch, one
 *            transaction per batch with the position row) into a fresh schema
 *   cases    atomic-only events (the floor's exact rows; the ratio the target applies to), and events with
 *            a context + derived context + unstruct event (informational: 2-3 extra tables per event)
 *
 * Each measurement runs ROUNDS times, floor and furrow in alternating order, each after a CHECKPOINT; the
 * median is printed. Target ratio ≥ 0.7.
 * BENCH_EVENTS (default 100000), BENCH_ROUNDS (default 3), BENCH_BATCH (default 2000, as furrow load postgres).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../common/logger.js';
import { MemoryBadRowOutput } from '../loaders/bad-row-output.js';
import { runLoader } from '../loaders/loader.js';
import { atomicEventsSql, createSchemaSql } from '../loaders/postgres/ddl.js';
import { ATOMIC_COLUMNS } from '../loaders/atomic-columns.js';
import { escapeCopy } from '../loaders/postgres/copy-text.js';
import { PostgresLoader } from '../loaders/postgres/postgres-loader.js';
import { FileSource } from '../streams/sources/file-source.js';
import { generateColumns, generateLine } from '../test/support/enriched-generator.js';
import { findPsql, startPostgres } from '../test/support/postgres.js';
import { dirResolver, IGLU_CENTRAL } from '../test/loaders/fixtures/dir-resolver.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const BATCH = Number(process.env['BENCH_BATCH'] ?? 2000);
const TARGET = 0.7;

/** The floor's input: the 128 atomic columns in COPY text format, rendered independently of the loader. */
function floorRow(cols: string[]): string {
  return ATOMIC_COLUMNS.map((c) => (cols[c.tsvIndex] === '' ? '\\N' : escapeCopy(cols[c.tsvIndex]!))).join('\t') + '\n';
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-load-'));
  const server = await startPostgres();
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const psql = findPsql();
  let schemaSeq = 0;
  try {
    const cases: Array<{ name: string; atomicOnly: boolean }> = [
      { name: 'atomic-only events', atomicOnly: true },
      { name: 'events with 3 entities', atomicOnly: false },
    ];
    const results: string[] = [];
    for (const c of cases) {
      const tsvFile = join(dir, `${c.atomicOnly ? 'atomic' : 'full'}.tsv`);
      const copyFile = join(dir, `${c.atomicOnly ? 'atomic' : 'full'}.copy`);
      const tsv: string[] = new Array(EVENTS);
      const rows: string[] = new Array(EVENTS);
      for (let i = 0; i < EVENTS; i++) {
        tsv[i] = generateLine(i, { seed: 3, atomicOnly: c.atomicOnly });
        rows[i] = floorRow(generateColumns(i, { seed: 3, atomicOnly: c.atomicOnly }));
      }
      writeFileSync(tsvFile, tsv.join('\n') + '\n');
      writeFileSync(copyFile, rows.join(''));

      const floor: number[] = [];
      const ours: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Each run starts from a quiet server (CHECKPOINT: the previous run's dirty pages are written), and
        // the order alternates per round so neither side always runs behind the other's background work.
        const fs = `floor_${schemaSeq++}`;
        const ls = `load_${schemaSeq++}`;
        const runFloor = async (): Promise<void> => {
          await admin.query(createSchemaSql(fs));
          await admin.query(atomicEventsSql(fs));
          await admin.query('CHECKPOINT');
          const t0 = performance.now();
          const p = spawnSync(psql, [server.url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', `\\copy ${fs}.events FROM '${copyFile}'`], { encoding: 'utf8' });
          const floorMs = performance.now() - t0;
          if (p.status !== 0) throw new Error(`psql failed: ${p.stderr}`);
          floor.push((EVENTS * 1000) / floorMs);
        };
        const runOurs = async (): Promise<void> => {
          const pool = new pg.Pool({ connectionString: server.url, max: 3 });
          const bad = new MemoryBadRowOutput();
          // Wired as `furrow load postgres` does: binary lines (latin1 source, byte-for-byte COPY of atomic columns).
          const loader = new PostgresLoader(pool, dirResolver([IGLU_CENTRAL]), bad, silentLogger, { schema: ls, retryForMs: 60_000, binaryLines: true });
          await loader.start();
          await admin.query('CHECKPOINT');
          const t1 = performance.now();
          const cpu0 = process.cpuUsage();
          const totals = await runLoader(new FileSource(tsvFile, { batchSize: BATCH, maxDelayMs: 1000, encoding: 'latin1' }), loader, new AbortController().signal, silentLogger);
          const ourMs = performance.now() - t1;
          const used = process.cpuUsage(cpu0);
          cpu.push((used.user + used.system) / EVENTS);
          await pool.end();
          if (totals.loaded !== EVENTS || bad.rows.length !== 0) throw new Error(`loaded ${totals.loaded}/${EVENTS}, bad ${bad.rows.length}`);
          ours.push((EVENTS * 1000) / ourMs);
        };
        if (r % 2 === 0) {
          await runFloor();
          await runOurs();
        } else {
          await runOurs();
          await runFloor();
        }
        const check = await admin.query(`SELECT (SELECT count(*) FROM ${fs}.events)::int AS f, (SELECT count(*) FROM ${ls}.events)::int AS l`);
        if (check.rows[0].f !== EVENTS || check.rows[0].l !== EVENTS) throw new Error(`row counts ${JSON.stringify(check.rows[0])}`);
        await admin.query(`DROP SCHEMA ${fs} CASCADE; DROP SCHEMA ${ls} CASCADE`);
      }
      const f = median(floor);
      const o = median(ours);
      results.push(
        `${c.name.padEnd(24)} psql \\copy ${Math.round(f).toString().padStart(8)} rows/s   furrow load postgres ${Math.round(o).toString().padStart(8)} rows/s   ratio ${(o / f).toFixed(2)}` +
          `   loader CPU ${median(cpu).toFixed(1)} µs/row` +
          (c.atomicOnly ? `   (target >= ${TARGET}: ${o / f >= TARGET ? 'met' : 'NOT met'})` : '   (informational)'),
      );
    }
    const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
    process.stdout.write(`bench:load  ${EVENTS} events, batch ${BATCH}, median of ${ROUNDS} rounds, load average ${load} on ${(await import('node:os')).cpus().length} CPUs\n${results.join('\n')}\n`);
  } finally {
    await admin.end();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
});
