/**
 * The operator script sandbox on its own: start-up errors by stage, answers in order across a timeout in the middle
 * of a message, the retry of a timed-out text, CPU time (not a stopped process's wall time) as the limit with a
 * wall-clock cap, calls after close(), and what the script process may not do.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { ScriptSandbox, SandboxStartError, type SandboxSpec } from '../../common/script-sandbox.js';

/** The script defines f(text); the setup returns "ok:" + f(text), or "err:" + the message of what it threw. */
const SETUP = `'use strict';
(function (g) {
  var f = g.f;
  if (typeof f !== 'function') throw new Error('no f');
  return function (text) { try { return 'ok:' + String(f(text)); } catch (e) { return 'err:' + String(e && e.message); } };
})(globalThis)`;

const spec = (script: string, over: Partial<SandboxSpec> = {}): SandboxSpec => ({
  script, filename: 'test.js', setup: SETUP, startTimeoutMs: 2000, limits: { timeoutMs: 300, maxMemoryMb: 128 }, maxResultChars: 1000, ...over,
});

t.test('start-up errors name their stage', async (t) => {
  await t.rejects(ScriptSandbox.start(spec('function f( {')), { constructor: SandboxStartError, stage: 'compile', message: /Unexpected/ });
  await t.rejects(ScriptSandbox.start(spec('throw new Error("top")')), { stage: 'run', message: 'top' });
  await t.rejects(ScriptSandbox.start(spec('var x = 1;')), { stage: 'setup', message: 'no f' });
  await t.rejects(ScriptSandbox.start(spec('while (true) {}', { startTimeoutMs: 200 })), { stage: 'timeout', message: 'timed out after 200 ms' });
});

t.test('a message of texts: answers in order; a timeout fails its text only and the rest go to a new process', async (t) => {
  const s = await ScriptSandbox.start(spec('var calls = 0; function f(t) { calls++; if (t === "loop") while (true) {} if (t === "throw") throw new Error("boom"); return t + calls; }'));
  t.teardown(() => s.close());
  const first = s.pid;
  const out = await s.run(['a', 'throw', 'b', 'loop', 'c', 'd']);
  t.same(out, [
    { ok: true, text: 'ok:a1' },
    { ok: true, text: 'err:boom' },
    { ok: true, text: 'ok:b3' },
    { ok: false, reason: 'timeout', error: 'timed out after 300 ms' },
    { ok: true, text: 'ok:c1' },
    { ok: true, text: 'ok:d2' },
  ], 'the process after the timeout starts afresh (calls counts from 1 again)');
  t.not(s.pid, first, 'a new script process');
  t.same(await s.run(['e']), [{ ok: true, text: 'ok:e3' }]);
});

t.test('retryTimeout: a timed-out text runs once more alone; a runaway fails "(twice)"', async (t) => {
  const s = await ScriptSandbox.start(spec('var n = 0; function f(t) { n++; if (t === "loop") while (true) {} if (t === "once" && n === 2) while (true) {} return t + n; }', { retryTimeout: true }));
  t.teardown(() => s.close());
  t.same(await s.run(['x', 'once', 'y', 'loop', 'z']), [
    { ok: true, text: 'ok:x1' },
    { ok: true, text: 'ok:once1' }, // timed out in the first process; alone in a new one it passes
    { ok: true, text: 'ok:y2' },
    { ok: false, reason: 'timeout', error: 'timed out after 300 ms (twice)' },
    { ok: true, text: 'ok:z1' },
  ]);
});

t.test('the limit is CPU time: a script process left without a CPU is not killed, up to 3× the limit in wall time', { skip: process.platform !== 'linux' && 'needs /proc' }, async (t) => {
  // f spins for 100 ms of wall-clock time: it uses at most that much CPU, however long it is stopped.
  const s = await ScriptSandbox.start(spec('function f(t) { var t0 = Date.now(); while (Date.now() - t0 < 100) {} return t; }', { limits: { timeoutMs: 400, maxMemoryMb: 128 } }));
  t.teardown(() => s.close());
  const stopFor = async (ms: number) => {
    const pid = s.pid!;
    const call = s.run(['x']);
    process.kill(pid, 'SIGSTOP');
    await new Promise((r) => setTimeout(r, ms));
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already killed at the wall-clock cap
    }
    return call;
  };
  t.same(await stopFor(600), [{ ok: true, text: 'ok:x' }], 'stopped for 1.5× the limit: it had used no CPU, it finishes');
  t.same(await stopFor(2500), [{ ok: false, reason: 'timeout', error: 'timed out after 400 ms' }], 'stopped for over 3× the limit: the wall-clock cap');
  t.same(await s.run(['y']), [{ ok: true, text: 'ok:y' }]);
});

t.test('what the script process may not do, even outside the context', async (t) => {
  // The probe runs in the context, so it can only test what it reaches; the process-wide flags are checked by
  // code generation (blocked for every realm) and by an empty environment seen through the context's Intl/Date.
  const s = await ScriptSandbox.start(spec(`function f(t) {
    var r = [];
    try { Function('return 1')(); r.push('Function: allowed'); } catch (e) { r.push('Function: ' + e.constructor.name); }
    try { eval('1'); r.push('eval: allowed'); } catch (e) { r.push('eval: ' + e.constructor.name); }
    r.push('WebAssembly: ' + typeof WebAssembly, 'SharedArrayBuffer: ' + typeof SharedArrayBuffer, 'Atomics: ' + typeof Atomics);
    r.push('require: ' + typeof require, 'process: ' + typeof process, 'setTimeout: ' + typeof setTimeout, 'fetch: ' + typeof fetch);
    return r.join('; ');
  }`));
  t.teardown(() => s.close());
  t.same(await s.run(['']), [{ ok: true, text: 'ok:Function: EvalError; eval: EvalError; WebAssembly: undefined; SharedArrayBuffer: undefined; Atomics: undefined; require: undefined; process: undefined; setTimeout: undefined; fetch: undefined' }]);
});

t.test('close(): the process ends, later calls fail "closed"', async (t) => {
  const s = await ScriptSandbox.start(spec('function f(t) { return t; }'));
  const pid = s.pid!;
  await s.close();
  t.same(await s.run(['a']), [{ ok: false, reason: 'closed', error: 'the sandbox was closed' }]);
  // The process is gone once its exit has been reaped (bounded wait, not a sleep that checks for nothing).
  let alive = true;
  for (let i = 0; i < 200 && alive; i++) {
    try {
      process.kill(pid, 0);
      await new Promise((r) => setTimeout(r, 25));
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, 'the script process exited');
});

t.test('a script process whose host dies while it loops ends itself (no orphan left spinning)', async (t) => {
  const host = spawn(process.execPath, ['--import', 'tsx', 'test/support/script-sandbox-host.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = await new Promise<number>((resolve, reject) => {
    host.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    host.once('exit', () => reject(new Error('the host exited early')));
  });
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  t.teardown(() => {
    if (alive()) process.kill(pid, 'SIGKILL'); // never leave a spinning process behind, even when this fails
  });
  t.ok(alive(), 'the script process runs');
  host.kill('SIGKILL');
  let gone = false;
  for (let i = 0; i < 200 && !gone; i++) {
    await new Promise((r) => setTimeout(r, 50));
    gone = !alive();
  }
  t.ok(gone, 'the script process ended after its host was killed');
});
