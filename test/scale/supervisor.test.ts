/**
 * The worker supervisor with stand-in workers (fixtures/supervised-child.mjs): restart with backoff, SIGTERM
 * forwarding, fatal exit codes, SIGKILL after the grace period.
 */
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { ENRICH_YOUNG_GENERATION_FLAG, hasYoungGenerationFlag, parseWorkerIndex, parseWorkers, superviseWorkers, workerArgs, workerExecArgv, type SupervisorOptions, type WorkerEvent } from '../../enricher/supervisor.js';
import { spawn } from 'node:child_process';
import { waitFor } from '../support/wait-for.js';

const CHILD = join(import.meta.dirname, 'fixtures/supervised-child.mjs');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ev {
  ev: string;
  pid: number;
  at: number;
  /** The worker index passed by argsFor ('-' if none). */
  index: string;
}

function setup(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-sup-'));
  const file = join(dir, 'events.log');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const events = (): Ev[] =>
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const [ev, pid, at, index] = l.split(' ');
            return { ev: ev!, pid: Number(pid), at: Number(at), index: index! };
          })
      : [];
  /** What the supervisor did, timed by the supervisor itself (child start-up time is not part of it). */
  const sup: WorkerEvent[] = [];
  /** Delays from each exit to the next start of the same worker slot. */
  const restartDelays = (worker = 0) => {
    const evs = sup.filter((e) => e.worker === worker);
    const out: number[] = [];
    for (let i = 1; i < evs.length; i++) if (evs[i - 1]!.type === 'exit' && evs[i]!.type === 'start') out.push(evs[i]!.at - evs[i - 1]!.at);
    return out;
  };
  const run = (mode: string, extra: Partial<SupervisorOptions> = {}) => {
    const ac = new AbortController();
    const done = superviseWorkers({
      workers: 3,
      command: process.execPath,
      args: [CHILD, file, mode],
      stdio: 'ignore',
      logger: silentLogger,
      restartInitialMs: 100,
      restartMaxMs: 1_000,
      shutdownTimeoutMs: 3_000,
      signal: ac.signal,
      onEvent: (e) => sup.push(e),
      ...extra,
    });
    // Never leave children behind, even if an assertion fails.
    t.teardown(async () => {
      ac.abort();
      await done;
    });
    return { ac, done };
  };
  return { events, run, sup, restartDelays };
}


const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

t.test('runs N workers, restarts one killed with -9, forwards SIGTERM and waits for all', async (t) => {
  const { events, run, sup, restartDelays } = setup(t);
  const { ac, done } = run('serve', { argsFor: (i) => ['--worker-index', String(i)] });
  await waitFor('3 workers', () => events().filter((e) => e.ev === 'start').length === 3, { timeoutMs: 15_000, everyMs: 20 });
  const first = events().map((e) => e.pid);
  t.equal(new Set(first).size, 3, 'three processes');
  t.same(events().map((e) => e.index).sort(), ['0', '1', '2'], 'each worker got its own index');
  const slot = sup.find((e) => e.type === 'start' && e.pid === first[1])!.worker;
  process.kill(first[1]!, 'SIGKILL');
  await waitFor('a replacement', () => events().filter((e) => e.ev === 'start').length === 4, { timeoutMs: 15_000, everyMs: 20 });
  const replacement = events().filter((e) => e.ev === 'start')[3]!;
  t.notOk(first.includes(replacement.pid), 'a new process');
  t.equal(replacement.index, String(slot), 'with the index of the worker it replaces');
  t.match(sup.find((e) => e.type === 'exit'), { worker: slot, signal: 'SIGKILL' }, 'the supervisor saw the kill');
  t.ok(restartDelays(slot)[0]! >= 100, `restarted after the backoff (${restartDelays(slot)[0]} ms)`);
  ac.abort();
  t.equal(await done, 0, 'exit 0 after a clean shutdown');
  const live = [first[0]!, first[2]!, replacement.pid];
  t.same(events().filter((e) => e.ev === 'term').map((e) => e.pid).sort(), [...live].sort(), 'every live worker got SIGTERM');
  t.ok(live.every((p) => !alive(p)), 'no worker left running');
});

t.test('a worker that keeps dying is restarted with doubling backoff, capped', async (t) => {
  const { run, sup, restartDelays } = setup(t);
  // Without the cap the delays would go on 400, 800, 1600 ms.
  const { ac, done } = run('crash', { workers: 1, restartInitialMs: 100, restartMaxMs: 200 });
  await waitFor('6 starts', () => sup.filter((e) => e.type === 'start').length >= 6, { timeoutMs: 30_000, everyMs: 20 });
  ac.abort();
  t.equal(await done, 0, 'nothing running at shutdown');
  const d = restartDelays();
  t.comment(`restart delays: ${d.join(', ')} ms`);
  t.ok(d[0]! >= 100 && d[1]! >= 200, 'delays 100, then 200 ms');
  t.ok(d.slice(2, 5).every((x) => x >= 200 && x < 1_000), 'then capped at 200 ms');
});

t.test('a worker that stayed up long enough starts again from the initial backoff', async (t) => {
  const { events, run, restartDelays } = setup(t);
  // Without the reset the delays would be 500, 1000, 2000, 4000 ms.
  const { ac, done } = run('serve', { workers: 1, restartInitialMs: 500, restartMaxMs: 10_000, stableAfterMs: 300 });
  for (let round = 0; round < 4; round++) {
    await waitFor(`start ${round + 1}`, () => events().filter((e) => e.ev === 'start').length === round + 1, { timeoutMs: 15_000, everyMs: 20 });
    await sleep(400);
    process.kill(events().filter((e) => e.ev === 'start')[round]!.pid, 'SIGKILL');
    await waitFor(`restart ${round + 1}`, () => restartDelays().length === round + 1, { timeoutMs: 15_000, everyMs: 20 });
  }
  const d = restartDelays();
  t.comment(`restart delays: ${d.join(', ')} ms`);
  t.ok(d.every((x) => x >= 500 && x < 900), 'each restart after the initial delay again');
  ac.abort();
  t.equal(await done, 0);
});

t.test('exit code 2 (configuration error) stops every worker and the supervisor exits 2', async (t) => {
  const { run } = setup(t);
  t.equal(await run('exit2').done, 2, 'all workers failing at start');
});

t.test('one worker exiting 2 while the others run: they get SIGTERM, the supervisor exits 2', async (t) => {
  const { events, run } = setup(t);
  const { done } = run('exit2-index0', { argsFor: (i) => ['--worker-index', String(i)] });
  t.equal(await done, 2);
  const others = events().filter((e) => e.ev === 'start' && e.index !== '0').map((e) => e.pid);
  t.equal(others.length, 2);
  t.same(events().filter((e) => e.ev === 'term').map((e) => e.pid).sort(), others.sort(), 'the others were stopped with SIGTERM');
  t.equal(events().filter((e) => e.ev === 'start').length, 3, 'nothing restarted');
});

t.test('workers that finish (exit 0) are not restarted; the supervisor exits 0 when all are done', async (t) => {
  const { events, run } = setup(t);
  const { done } = run('exit0');
  t.equal(await done, 0);
  await sleep(300);
  t.equal(events().length, 3, 'no restart');
});

t.test('a worker ignoring SIGTERM is killed after the grace period; exit 1', async (t) => {
  const { events, run } = setup(t);
  const { ac, done } = run('stubborn', { workers: 2, shutdownTimeoutMs: 500 });
  await waitFor('2 workers', () => events().filter((e) => e.ev === 'start').length === 2, { timeoutMs: 15_000, everyMs: 20 });
  const t0 = Date.now();
  ac.abort();
  t.equal(await done, 1);
  t.ok(Date.now() - t0 >= 450, 'waited the grace period');
  t.ok(events().filter((e) => e.ev === 'start').every((e) => !alive(e.pid)), 'killed');
});

t.test('command-line helpers', async (t) => {
  t.same(workerArgs(['--config', 'c.hocon', '--workers', '4', '--resolver', 'r.json']), ['--config', 'c.hocon', '--resolver', 'r.json']);
  t.same(workerArgs(['--workers=2', '--x', '--worker-index', '1', '--worker-index=3']), ['--x']);
  t.equal(parseWorkerIndex('7'), 7);
  for (const bad of ['-1', 'x', undefined, '2000']) t.throws(() => parseWorkerIndex(bad), { code: 'CONFIG_CLI_USAGE' }, String(bad));
  t.equal(parseWorkers('3'), 3);
  t.ok(parseWorkers('auto') >= 1);
  for (const bad of ['0', '-1', '1.5', 'many', undefined, '5000']) t.throws(() => parseWorkers(bad), { code: 'CONFIG_CLI_USAGE' }, String(bad));
  t.throws(() => superviseWorkers({ workers: 0, command: 'x', args: [], logger: silentLogger, signal: new AbortController().signal }), { code: 'CONFIG_INVALID_VALUE' });
});

t.test('workers get the young-generation flag unless one is set already (issue 18)', async (t) => {
  t.same(workerExecArgv(['--import', 'tsx'], ''), [ENRICH_YOUNG_GENERATION_FLAG, '--import', 'tsx'], 'added in front of the own flags');
  t.same(workerExecArgv(['--max-semi-space-size=64'], ''), ['--max-semi-space-size=64'], 'an operator-chosen size is kept');
  t.same(workerExecArgv(['--max_semi_space_size=8'], ''), ['--max_semi_space_size=8'], 'underscore spelling too');
  t.same(workerExecArgv([], '--max-old-space-size=4096 --max-semi-space-size=16'), [], 'NODE_OPTIONS counts');
  t.notOk(hasYoungGenerationFlag([], '--max-semi-space-sizes=1'), 'a longer flag name is not the flag');
  // The flag really reaches a worker: the stand-in child reports its own execArgv.
  const got = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [...workerExecArgv([], ''), '-e', 'process.stdout.write(JSON.stringify(process.execArgv))']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
  t.ok((JSON.parse(got) as string[]).includes(ENRICH_YOUNG_GENERATION_FLAG), 'node accepted the flag and the worker runs with it');
});
