/**
 * `--data DIR` with mini started in process (startMini, on 127.0.0.1): /micro/reset clears the directory, so a
 * restart after it starts empty; a damaged event file stops start-up with MINI_DATA_CORRUPT naming file and line
 * and leaves the directory unlocked; the whole pipeline's status names the directory and what was restored.
 */
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { startMini, type RunningMini } from '../../mini/pipeline.js';

const start = (dataDir: string): Promise<RunningMini> =>
  startMini({
    port: 0, host: '127.0.0.1', igluDirs: [], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
    auth: { basic: null, token: null }, maxEvents: 1000, logger: silentLogger, dataDir,
  });

async function json<T>(url: string): Promise<T> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

t.test('--data: /micro/reset clears the directory; damaged data stops start-up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-mini-reset-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  const a = await start(dir);
  const eids = [crypto.randomUUID(), crypto.randomUUID()];
  for (const eid of eids) t.equal((await fetch(`${a.url}/i?e=pv&p=web&tv=reset-test&eid=${eid}`)).status, 200);
  t.equal((await json<{ ok: boolean }>(`${a.url}/micro/wait?event_id=${eids.join(',')}&timeout=60000`)).ok, true);
  await a.stop();

  const b = await start(dir);
  t.same(await json(`${b.url}/micro/all`), { total: 2, good: 2, bad: 0 }, 'restored');
  t.match(await json(`${b.url}/micro/status`), { data: { dir, restored: 2 } }, '/micro/status names the directory and what was restored');
  t.same(await json(`${b.url}/micro/reset`), { total: 0, good: 0, bad: 0 });
  const after = crypto.randomUUID();
  t.equal((await fetch(`${b.url}/i?e=pv&p=web&tv=reset-test&eid=${after}`)).status, 200);
  t.equal((await json<{ ok: boolean }>(`${b.url}/micro/wait?event_id=${after}&timeout=60000`)).ok, true);
  await b.stop();

  const c = await start(dir);
  t.same(await json(`${c.url}/micro/all`), { total: 1, good: 1, bad: 0 }, 'after a reset only the event sent after it comes back');
  t.equal((await json<{ records: unknown[] }>(`${c.url}/micro/events/${after}`)).records.length, 1);
  await c.stop();

  const seg = readdirSync(dir).find((f) => f.startsWith('events-'))!;
  writeFileSync(join(dir, seg), '{"furrow-mini-journal":1}\nthis is not a record\n');
  await t.rejects(start(dir), { code: 'MINI_DATA_CORRUPT', message: new RegExp(`${seg} line 2: not JSON`) });
  t.notOk(existsSync(join(dir, 'mini.lock')), 'the failed start left no lock');
});
