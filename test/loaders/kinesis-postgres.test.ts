/**
 * The enriched Kinesis stream (kinesalite + dynalite, leased source) into PostgreSQL, and a replay of the
 * whole stream from TRIM_HORIZON (no-lease mode, as after lost checkpoints) that must not duplicate a row:
 * batches already stored are skipped by their per-shard position, and a re-read batch that grew is cut.
 */
import t from 'tap';
import pg from 'pg';
import { silentLogger } from '../../common/logger.js';
import { createKinesisSource } from '../../streams/kinesis/kinesis-source.js';
import { MemoryBadRowOutput } from '../../loaders/bad-row-output.js';
import { PostgresLoader } from '../../loaders/postgres/postgres-loader.js';
import { runKinesisLoader } from '../../loaders/kinesis-input.js';
import { generateLine } from '../support/enriched-generator.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { createStream, putRecords, startLocalAws, type LocalAws } from '../support/local-aws.js';
import { dirResolver, IGLU_CENTRAL } from './fixtures/dir-resolver.js';

let aws: LocalAws;
let server: TestPostgres;
let pool: pg.Pool;
t.before(async () => {
  [aws, server] = await Promise.all([startLocalAws(), startPostgres()]);
  pool = new pg.Pool({ connectionString: server.url, max: 3 });
});
t.teardown(async () => {
  await pool?.end();
  await aws?.close();
  await server?.stop();
});

async function count(): Promise<{ n: number; d: number }> {
  const r = await pool.query('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM atomic.events');
  return r.rows[0];
}

/**
 * Runs the loader until `total` events are accounted for, as rows in the table or as bad rows (bounded), then stops it.
 * Counting bad rows too matters: when the loader rejects events (e.g. a schema it cannot resolve), the wait ends at
 * once and the test fails on the bad rows instead of waiting out the deadline for rows that never come; so does a
 * loader that stops (its error fails the test). Each shard
 * is read in order, so when the last new event is in, every replayed record before it has been skipped or loaded:
 * the counts below are final without waiting for anything else.
 */
async function runUntil(useLeases: boolean, total: number) {
  const bad = new MemoryBadRowOutput();
  const loader = new PostgresLoader(pool, dirResolver([IGLU_CENTRAL]), bad, silentLogger, { schema: 'atomic', retryForMs: 30_000 });
  await loader.start();
  const source = createKinesisSource({
    kinesis: aws.kinesis, dynamodb: useLeases ? aws.dynamodb : null, streamName: 'enriched', appName: 'furrow-load-test',
    maxRecordsPerRead: 100, idleTimeBetweenReadsMs: 50, minReadIntervalMs: 0, leaseDurationMs: 2000, registry: null, progressLogIntervalMs: 0,
  });
  const ac = new AbortController();
  let stopped = false;
  const running = runKinesisLoader(source, 'enriched', loader, ac.signal, silentLogger).finally(() => (stopped = true));
  const deadline = Date.now() + 60_000;
  while (!stopped && Date.now() < deadline && (await count()).n + bad.rows.length < total) await new Promise((r) => setTimeout(r, 100));
  ac.abort();
  return { totals: await running, badRows: bad.rows };
}

t.test('Kinesis → PostgreSQL with leases, then a full replay adds nothing twice', async (t) => {
  await createStream(aws.kinesis, 'enriched', 2);
  await putRecords(aws.kinesis, 'enriched', Array.from({ length: 600 }, (_, i) => generateLine(i, { seed: 88, light: true })));
  const first = await runUntil(true, 600);
  t.equal(first.badRows.length, 0, first.badRows[0]?.slice(0, 400) ?? 'no bad rows');
  t.equal(first.totals.loaded, 600);
  t.same(await count(), { n: 600, d: 600 });
  const state = await pool.query(`SELECT stream, position FROM atomic.furrow_load_state ORDER BY stream`);
  t.equal(state.rowCount, 2, 'one position per shard');
  t.match(state.rows[0].stream, /^kinesis:enriched\/shardId-/);

  // 100 more events, then a replay of everything from TRIM_HORIZON (in-memory checkpoints): only the new load.
  await putRecords(aws.kinesis, 'enriched', Array.from({ length: 100 }, (_, i) => generateLine(600 + i, { seed: 88, light: true })));
  const replay = await runUntil(false, (await count()).n + 100);
  t.equal(replay.badRows.length, 0, replay.badRows[0]?.slice(0, 400) ?? 'no bad rows');
  t.equal(replay.totals.loaded, 100, 'only the new events load');
  t.equal(replay.totals.skipped, 600, 'the replayed events are recognised');
  t.same(await count(), { n: 700, d: 700 });
});
