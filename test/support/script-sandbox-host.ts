/**
 * A host process for test/common/script-sandbox.test.ts: starts a sandbox, prints its script process's pid, then
 * runs a call that loops forever (with a long limit) so the test can kill this host while the script is busy.
 */
import { ScriptSandbox } from '../../common/script-sandbox.js';

const s = await ScriptSandbox.start({
  script: 'function f(t) { while (true) {} }',
  filename: 'orphan.js',
  setup: "(function (g) { var f = g.f; return function (t) { return String(f(t)); }; })(globalThis)",
  startTimeoutMs: 2000,
  limits: { timeoutMs: 600_000, maxMemoryMb: 128 },
  maxResultChars: 100,
});
process.stdout.write(`${s.pid}\n`);
await s.run(['x']);
