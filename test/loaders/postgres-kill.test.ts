/**
 * Exactly-once across kill -9: `furrow load postgres` is killed 20 times at random points while it loads
 * 100k events from a file; after a final uninterrupted run the table holds every event exactly once.
 * Kill points: 20 random stream positions; the loader is killed right after (a random 0-40 ms after) the
 * first batch at or past each point commits, so kills land between and in the middle of COPYs/commits.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateTsv } from '../support/enriched-generator.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { IGLU_CENTRAL } from './fixtures/dir-resolver.js';

const TOTAL = 100_000;
const KILLS = 20;
const BATCH = 1000;

let server: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'furrow-kill-'));
t.before(async () => {
  server = await startPostgres();
});
t.teardown(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs the loader; kills it -9 once a committed position >= killAt (if given) is logged. */
function runLoader(args: string[], killAt: number | null): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'load', 'postgres', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let killing = false;
    child.stdout.resume();
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      stderr += text;
      if (killAt === null || killing) return;
      for (const m of text.matchAll(/"position":"(\d+)"/g)) {
        if (Number(m[1]) >= killAt) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 40));
          break;
        }
      }
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stderr: stderr.slice(-4000) });
    });
  });
}

t.test('kill -9 at 20 random points while loading 100k events: every event exactly once', async (t) => {
  const input = join(dir, 'events.tsv');
  writeFileSync(input, generateTsv(TOTAL, { seed: 77, light: true }));
  const resolverJson = join(dir, 'resolver.json');
  writeFileSync(resolverJson, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 500, repositories: [{ name: 'Iglu Central (local copy)', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: join(IGLU_CENTRAL, '..') } } }] },
  }));
  const badFile = join(dir, 'bad.jsonl');
  const args = ['--url', server.url, '--iglu-config', resolverJson, '--input', input, '--batch-size', String(BATCH), '--bad', badFile, '--log-level', 'debug'];

  const points = Array.from({ length: KILLS }, () => Math.floor(Math.random() * (TOTAL - 2 * BATCH))).sort((a, b) => a - b);
  let kills = 0;
  for (const p of points) {
    const r = await runLoader(args, p);
    if (r.signal !== 'SIGKILL') {
      t.fail(`run for kill point ${p} ended without being killed (code ${r.code}): ${r.stderr}`);
      break;
    }
    kills++;
  }
  t.equal(kills, KILLS, 'killed 20 times');
  const final = await runLoader(args, null);
  t.equal(final.code, 0, `final run completes: ${final.code === 0 ? '' : final.stderr}`);

  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  try {
    const ev = await c.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM atomic.events');
    t.same(ev.rows[0], { n: TOTAL, d: TOTAL }, 'row count equals input; no event_id twice');
    const ctx = await c.query('SELECT count(*)::int AS n, count(DISTINCT root_id)::int AS d FROM atomic.com_snowplowanalytics_snowplow_web_page_1');
    t.same(ctx.rows[0], { n: TOTAL, d: TOTAL }, 'context rows exactly once too');
    const state = await c.query('SELECT position FROM atomic.furrow_load_state');
    t.same(state.rows.map((r) => r.position), [String(TOTAL)]);
  } finally {
    await c.end();
  }
});
