/**
 * `furrow collector` as a process: --help, config errors, one process and --workers N (node:cluster),
 * SIGTERM stopping everything after flushing.
 */
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { send } from './helpers.js';

const FURROW = ['--import', 'tsx', 'bin/furrow.ts'];
const dir = mkdtempSync(join(tmpdir(), 'furrow-collector-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const STDOUT_CONFIG = `collector {
  interface = "127.0.0.1"
  port = 0
  preTerminationPeriod = 0 seconds
  streams { good { name = good }, bad { name = bad } }
}`;

interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function run(args: string[]): Proc {
  const child = spawn(process.execPath, [...FURROW, 'collector', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitForPort(p: Proc, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const line of p.stderr().split('\n')) {
      if (!line.startsWith('{')) continue;
      const j = JSON.parse(line) as { msg?: string; port?: number };
      if (j.msg === 'collector listening' && typeof j.port === 'number') return j.port;
    }
    if (p.child.exitCode !== null) throw new Error(`collector exited: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`collector did not start: ${p.stderr()}`);
}

function logLines(p: Proc): Array<Record<string, unknown>> {
  return p.stderr().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('--help and bad command lines', async (t) => {
  const help = spawnSync(process.execPath, [...FURROW, 'collector', '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /furrow collector --config FILE/);
  t.match(help.stdout, /--workers N/);
  const noConfig = spawnSync(process.execPath, [...FURROW, 'collector'], { encoding: 'utf8' });
  t.equal(noConfig.status, 2);
  t.match(noConfig.stderr, /--config FILE is required/);
  const badKey = writeConfig('bad.hocon', 'collector { port = 0, cookie { nmae = x } }');
  const r = spawnSync(process.execPath, [...FURROW, 'collector', '--config', badKey], { encoding: 'utf8' });
  t.equal(r.status, 1);
  t.match(r.stderr, /CONFIG_UNKNOWN_KEY: unknown configuration key collector\.cookie\.nmae/);
  const missing = spawnSync(process.execPath, [...FURROW, 'collector', '--config', join(dir, 'nope.hocon')], { encoding: 'utf8' });
  t.equal(missing.status, 1);
  t.match(missing.stderr, /CONFIG_FILE_UNREADABLE/);
});

t.test('one process: stdout sink, SIGTERM flushes and exits 0', async (t) => {
  const p = run(['--config', writeConfig('one.hocon', STDOUT_CONFIG)]);
  t.teardown(() => p.child.kill('SIGKILL'));
  const port = await waitForPort(p);
  for (let i = 0; i < 10; i++) t.equal((await send(port, 'GET', `/i?n=${i}`)).status, 200);
  t.equal((await send(port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], '{}')).status, 200);
  p.child.kill('SIGTERM');
  t.equal(await p.exited, 0);
  const lines = p.stdout().trim().split('\n');
  t.equal(lines.length, 11);
  t.same(lines.map((l) => decodeCollectorPayload(Buffer.from(l, 'base64')).path).filter((x) => x === '/i').length, 10);
  t.ok(logLines(p).some((l) => l.msg === 'collector stopped'));
});

t.test('--workers 3: every worker serves the one port; SIGTERM stops them all', async (t) => {
  const p = run(['--config', writeConfig('workers.hocon', STDOUT_CONFIG), '--workers', '3']);
  t.teardown(() => p.child.kill('SIGKILL'));
  const port = await waitForPort(p);
  // New connection per request (agent: false): the cluster spreads connections over the workers.
  for (let i = 0; i < 60; i++) t.equal((await send(port, 'GET', `/i?n=${i}`)).status, 200);
  const metrics = (await send(port, 'GET', '/metrics')).body.toString();
  t.match(metrics, /furrow_collector_requests_total\{route="pixel",code="200"\} 60/, 'metrics aggregated over the workers');
  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
  t.equal(code, 0, 'primary exits 0 after every worker stopped');
  const stopped = logLines(p).filter((l) => l.msg === 'collector stopped');
  t.equal(stopped.length, 3, 'three workers stopped');
  t.equal(new Set(stopped.map((l) => l.pid)).size, 3);
  t.ok(stopped.every((l) => (l.served as number) > 0), `each worker served requests: ${stopped.map((l) => l.served).join(', ')}`);
  const lines = p.stdout().trim().split('\n');
  t.equal(lines.length, 60, 'every record printed once, whole lines');
  const qs = new Set(lines.map((l) => decodeCollectorPayload(Buffer.from(l, 'base64')).querystring));
  t.equal(qs.size, 60);
});
