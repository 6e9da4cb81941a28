/**
 * `furrow mini --postgres URL --forward FILE`: the Postgres loader and the forwarders run beside the store, each
 * reading the embedded enriched stream with its own leases. A throwaway PostgreSQL and an HTTP destination on
 * 127.0.0.1 must receive exactly the good events.
 */
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '../../common/logger.js';
import { startMini } from '../../mini/pipeline.js';
import { startPostgres } from '../support/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('mini with --postgres and --forward', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const received: Array<Record<string, unknown>> = [];
  const dest = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const parsed = JSON.parse(body) as unknown;
      for (const e of Array.isArray(parsed) ? parsed : [parsed]) received.push(e as Record<string, unknown>);
      res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((r) => dest.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => dest.close(() => r())));
  const dir = mkdtempSync(join(tmpdir(), 'furrow-mini-forward-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fwd = join(dir, 'forward.json');
  writeFileSync(
    fwd,
    JSON.stringify({
      input: { type: 'stdin' },
      dead_letter: { type: 'file', path: join(dir, 'dead.jsonl') },
      destinations: [{ name: 'hook', target: { type: 'http', url: `http://127.0.0.1:${(dest.address() as AddressInfo).port}/events` } }],
    }),
  );

  const mini = await startMini({
    port: 0, host: '127.0.0.1', igluDirs: [], offline: true, enrichmentsDir: null, postgresUrl: db.url, forwardConfig: fwd,
    auth: { basic: null, token: null }, maxEvents: 1000, logger: silentLogger,
  });
  t.teardown(() => mini.stop());
  t.match(mini.info.postgres ?? '', /schema atomic/);
  t.match(mini.info.forward ?? '', /hook:http/);
  const base = `http://127.0.0.1:${mini.port}`;
  const ids = [crypto.randomUUID(), crypto.randomUUID()];
  for (const id of ids) t.equal((await fetch(`${base}/i?e=pv&p=web&tv=t-1&aid=pgtest&eid=${id}&url=${encodeURIComponent('http://pg.example/')}`)).status, 200);
  t.equal((await fetch(`${base}/i?e=pv&p=web&tv=t-1&eid=${crypto.randomUUID()}&tr_tt=not-a-number`)).status, 200, 'a bad event');
  const w = (await (await fetch(`${base}/micro/wait?event_id=${ids.join(',')}&count=3&timeout=20000`)).json()) as { ok: boolean; good: number; bad: number };
  t.equal(w.ok, true);
  t.equal(w.good, 2);
  t.equal(w.bad, 1);

  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  t.teardown(() => client.end());
  let rows: Array<{ event_id: string; app_id: string }> = [];
  for (let i = 0; i < 100 && (rows.length < 2 || received.length < 2); i++) {
    await sleep(100);
    rows = (await client.query('SELECT event_id, app_id FROM atomic.events ORDER BY event_id').catch(() => ({ rows: [] }))).rows as typeof rows;
  }
  t.same(rows.map((r) => r.event_id).sort(), [...ids].sort(), 'the good events are in atomic.events');
  t.ok(rows.every((r) => r.app_id === 'pgtest'));
  t.same(received.map((e) => e.event_id).sort(), [...ids].sort(), 'the HTTP destination received the good events');
});
