/**
 * bench:mini — start-up of `furrow mini` to the first accepted event (issue target: under 5 s), measured from
 * process spawn: banner printed, first tracker request answered 200, that event queryable through the Micro API.
 * Runs `node --import tsx bin/furrow.ts mini` (or `node dist/bin/furrow.js mini` with --dist, as `npm start`
 * does after its build) RUNS times on 127.0.0.1 with a free port, and prints each run, the median and the target.
 *
 *   npm run bench:mini            (or: npx tsx bench/mini.ts [--dist] [--runs N])
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const TARGET_MS = 5000;
const args = process.argv.slice(2);
const useDist = args.includes('--dist');
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const entry = useDist ? ['dist/bin/furrow.js'] : ['--import', 'tsx', 'bin/furrow.ts'];
if (useDist && !existsSync(join(ROOT, 'dist/bin/furrow.js'))) {
  process.stderr.write('bench:mini --dist: run `npm run build` first\n');
  process.exit(2);
}

interface Run {
  bannerMs: number;
  acceptedMs: number;
  storedMs: number;
  inProcessMs: number;
}

/** A port that is free right now (the child binds it; mini accepts events before it prints its banner). */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

async function once(): Promise<Run> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, [...entry, 'mini', '--port', String(port), '--host', '127.0.0.1', '--offline', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  try {
    // First accepted event: poll the tracker endpoint until the collector answers 200 (bounded: 60 s).
    const eid = crypto.randomUUID();
    let acceptedMs = NaN;
    for (let i = 0; i < 6000 && child.exitCode === null; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/i?e=pv&p=web&tv=bench-1&eid=${eid}`).then((r) => r.status === 200, () => false);
      if (ok) {
        acceptedMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    if (Number.isNaN(acceptedMs)) throw new Error(`the collector never accepted the event: ${err}`);
    const w = (await (await fetch(`http://127.0.0.1:${port}/micro/wait?event_id=${eid}&timeout=30000`)).json()) as { ok: boolean };
    if (!w.ok) throw new Error('the event was not stored within 30 s');
    const storedMs = performance.now() - t0;
    for (let i = 0; i < 6000 && !/all started in/.test(out); i++) await new Promise((r) => setTimeout(r, 10));
    const bannerMs = performance.now() - t0;
    const inProcessMs = Number(/all started in (\d+) ms/.exec(out)?.[1] ?? NaN);
    return { bannerMs, acceptedMs, storedMs, inProcessMs };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Run[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(
    `run ${i + 1}: first event accepted ${r.acceptedMs.toFixed(0)} ms, stored ${r.storedMs.toFixed(0)} ms, banner by ${r.bannerMs.toFixed(0)} ms (startMini itself ${r.inProcessMs} ms)`,
  );
}
const acc = median(results.map((r) => r.acceptedMs));
const sto = median(results.map((r) => r.storedMs));
console.log(`entry: ${entry.join(' ')}`);
console.log(`median start-up to first accepted event: ${acc.toFixed(0)} ms; to stored: ${sto.toFixed(0)} ms; target < ${TARGET_MS} ms; ratio ${(acc / TARGET_MS).toFixed(2)} of target`);
process.exitCode = acc < TARGET_MS ? 0 : 1;
