/**
 * The JavaScript enrichment against hostile scripts (issue 15, items 5 and 6): nothing of the enricher's realm
 * reaches the script, every read of a script-produced value is under the time limit, a script that exhausts its
 * memory fails its event and the enricher carries on, and SIGTERM stops an enricher whose script is stuck.
 *
 * Hangs and memory exhaustion run in a child process (test/support/js-sandbox-probe.ts) killed with SIGKILL at a
 * bound, so a regression shows as a failed test, never as a hung or aborted test runner.
 */
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnrichConfig } from '../../../enricher/config.js';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { makeInput, rawEvent, sdj, testDeps } from '../../support/enrichments-deps.js';
import { qs, record } from '../support.js';

const JS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0';
const js = (source: string) =>
  sdj(JS_SCHEMA, { vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true, parameters: { script: Buffer.from(source).toString('base64') } });

interface ProbeLine { i?: number; done?: boolean; failures?: Array<{ error: string }>; derivedContexts?: Array<{ data: unknown }> }

/** Runs the probe in its own process; resolves with its lines, or with `killed` once `boundMs` passed. */
function probe(p: Record<string, unknown>, boundMs = 60_000): Promise<{ lines: ProbeLine[]; killed: boolean; code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--max-old-space-size=256', 'test/support/js-sandbox-probe.ts'],
      { timeout: boundMs, killSignal: 'SIGKILL', env: { ...process.env, FURROW_PROBE: JSON.stringify(p) }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { killed?: boolean; code?: number; signal?: string }) | null;
        const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProbeLine);
        resolve({ lines, killed: e?.killed === true, code: typeof e?.code === 'number' ? e.code : e === null ? 0 : null, signal: e?.signal ?? null, stderr: stderr.slice(-2000) });
      },
    );
  });
}

/** Every route out of the sandbox we know of, each tried for `id` and for the host's environment. */
const ESCAPES = `
  function tryRoute(name, get, out) {
    try {
      var p = get();
      if (p === undefined || p === null) { out.push(name + ': nothing'); return; }
      var r = name + ': reached ' + typeof p;
      try { r += ' env=' + Object.keys(p.env || {}).length; } catch (x) {}
      try { r += ' id=' + p.getBuiltinModule('child_process').execSync('id').toString().trim(); } catch (x) {}
      try { r += ' id=' + p.mainModule.require('child_process').execSync('id').toString().trim(); } catch (x) {}
      out.push(r);
    } catch (x) { out.push(name + ': blocked'); }
  }
  var out = [];
  function process(event, params, headers) {
    tryRoute('globalThis.constructor', function () { return globalThis.constructor.constructor('return process')(); }, out);
    tryRoute('this.constructor', function () { return this.constructor.constructor('return process')(); }.bind(this), out);
    tryRoute('event.constructor', function () { return event.constructor.constructor('return process')(); }, out);
    tryRoute('getter.constructor', function () { return event.getApp_id.constructor('return process')(); }, out);
    tryRoute('params.constructor', function () { return params.constructor.constructor('return process')(); }, out);
    tryRoute('headers.constructor', function () { return headers.constructor.constructor('return process')(); }, out);
    tryRoute('Object.getPrototypeOf(globalThis)', function () { return Object.getPrototypeOf(globalThis).constructor.constructor('return process')(); }, out);
    tryRoute('import() rejection (from the previous event)', function () { return globalThis.__leaked && globalThis.__leaked.constructor.constructor('return process')(); }, out);
    try { import('node:fs').then(function () { out.push('import: resolved'); }, function (e) { globalThis.__leaked = e; }); } catch (x) { out.push('import: threw'); }
    var frames = [];
    var before = Error.prepareStackTrace;
    Error.prepareStackTrace = function (e, cs) {
      for (var i = 0; i < cs.length; i++) {
        var f = cs[i].getFunction(), th = cs[i].getThis();
        if (f !== undefined && f.constructor !== Function) frames.push('function from another realm at ' + cs[i].getFileName());
        if (th !== undefined && th !== null && typeof th === 'object' && th !== globalThis && th.constructor !== Object) frames.push('this from another realm at ' + cs[i].getFileName());
      }
      return 'x';
    };
    (function deep() { return new Error('probe').stack; })();
    Error.prepareStackTrace = before;
    tryRoute('stack frames', function () { return frames.length === 0 ? undefined : frames.join('; '); }, out);
    tryRoute('global process', function () { return typeof require === 'function' ? require('process') : undefined; }, out);
    return [{ schema: 'iglu:com.acme/probe/jsonschema/1-0-0', data: { out: out.splice(0) } }];
  }
`;

t.test('escape attempts reach nothing of the host: no process, no require, no id', async (t) => {
  const p = await buildEnrichments([js(ESCAPES)], testDeps());
  t.teardown(() => p.close());
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await p.run(makeInput({ app_id: 'a' }, rawEvent({}, { headers: ['Host: x'] })));
    t.same(r.failures, [], 'the probe itself runs');
    seen.push(...(r.derivedContexts[0]?.data as { out: string[] }).out);
  }
  t.ok(seen.length >= 27, `every route was tried (${seen.length})`);
  const reached = seen.filter((s) => !/: (blocked|nothing)$/.test(s));
  t.same(reached, [], 'no route reached a host object');
  t.notOk(seen.some((s) => s.includes('uid=')), 'id never ran');
});

t.test('a script that hangs the host outside its limit: thrown getters, toString, output slot (child process)', async (t) => {
  const TIMED_OUT = /^Error during execution of JavaScript function: \[script timed out after 300 ms\]$/;
  const hangs: Record<string, [string, RegExp | 'ok']> = {
    // Nothing reads `code` any more: the thrown object is printed, in the context, like any other.
    'thrown code getter': ['function process(e) { throw { get code() { while (true) {} } }; }', /^Error during execution of JavaScript function: \[\[object Object\]\]$/],
    'thrown message getter': ['function process(e) { throw { get message() { while (true) {} } }; }', TIMED_OUT],
    'thrown message.toString': ['function process(e) { throw { message: { toString: function () { while (true) {} } } }; }', TIMED_OUT],
    'thrown Proxy': ['function process(e) { throw new Proxy({}, { get: function () { while (true) {} }, getPrototypeOf: function () { while (true) {} }, has: function () { while (true) {} } }); }', TIMED_OUT],
    'returned Proxy': ['function process(e) { return new Proxy([], { get: function () { while (true) {} }, getPrototypeOf: function () { while (true) {} } }); }', TIMED_OUT],
    // The host no longer reads anything from the context's globals, so a trap on them changes nothing.
    'getters on the output slots': [`
      ['__out', '__furrow_out', '__furrow_result', '__result', '__output'].forEach(function (k) {
        Object.defineProperty(globalThis, k, { get: function () { while (true) {} }, set: function (v) {}, configurable: false });
      });
      function process(e) { return null; }`, 'ok'],
  };
  for (const [name, [script, expected]] of Object.entries(hangs)) {
    const r = await probe({ kind: 'enrich', script, events: 2, timeoutMs: 300 }, 30_000);
    t.notOk(r.killed, `${name}: the enricher did not hang (${r.stderr.slice(-300)})`);
    t.ok(r.lines.at(-1)?.done, `${name}: both events processed`);
    const events = r.lines.filter((x) => x.i !== undefined);
    t.equal(events.length, 2, name);
    for (const l of events) {
      if (expected === 'ok') t.same(l.failures, [], `${name}: event ${l.i} enriched`);
      else t.match(l.failures, [{ error: expected }], `${name}: event ${l.i} is an enrichment failure`);
    }
  }
});

t.test('a script that exhausts memory fails its event; the enricher survives and the script runs again (child process)', async (t) => {
  // One allocation pattern per event: the JS heap (arrays, Map growth, strings) and memory outside it (typed
  // arrays, Intl objects backed by ICU), then a normal event.
  const script = `
    var keep = [];
    function process(e) {
      var n = parseInt(e.getApp_id().split('-')[1], 10);
      if (n === 0) { while (true) keep.push({ a: Math.random(), b: [1, 2, 3] }); }
      if (n === 1) { var m = new Map(); var i = 0; while (true) m.set(i++, { i: i }); }
      if (n === 2) { while (true) keep.push('x'.repeat(1 << 20) + Math.random()); }
      if (n === 3) { while (true) keep.push(new Uint8Array(1 << 24).fill(7)); }
      if (n === 4) { while (true) keep.push(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'full' })); }
      return [{ schema: 'iglu:com.acme/alive/jsonschema/1-0-0', data: { n: n, kept: keep.length } }];
    }`;
  const r = await probe({ kind: 'enrich', script, events: 6, timeoutMs: 20_000, maxMemoryMb: 96 }, 150_000);
  t.notOk(r.killed, 'bounded');
  t.equal(r.signal, null, `the enricher process was not aborted (${r.stderr.slice(-500)})`);
  t.ok(r.lines.at(-1)?.done, 'every event processed');
  const events = r.lines.filter((l) => l.i !== undefined);
  t.equal(events.length, 6);
  for (const l of events.slice(0, 5)) t.match(l.failures, [{ error: /memory limit \(96 MB\)/ }], `pattern ${l.i} fails its event on the memory limit`);
  t.same(events[5]?.failures, [], 'the next event runs');
  t.same(events[5]?.derivedContexts, [{ schema: 'iglu:com.acme/alive/jsonschema/1-0-0', data: { n: 5, kept: 0 } }], 'in a fresh script process');
});

t.test('SIGTERM stops an enricher whose script is stuck, within the time limits of the stuck events (child process)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-js-sigterm-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const enrichments = join(dir, 'enrichments');
  mkdirSync(enrichments);
  // Events with app_id "stuck" hang the old host forever (a getter on the thrown value); the rest pass.
  writeFileSync(join(enrichments, 'js.json'), JSON.stringify(js(`function process(e) {
    if (e.getApp_id() === 'stuck') throw { get message() { while (true) {} } };
    return null;
  }`)));
  const lines: string[] = [];
  for (let i = 0; i < 256; i++) lines.push(record({ querystring: qs({ e: 'pv', p: 'web', tv: 'js-3', aid: i < 4 ? 'stuck' : `ok-${i}` }) }).toString('base64'));
  const out = join(dir, 'out');
  // furrow's javascript.timeout in the enrich config reaches the enrichment.
  writeFileSync(join(dir, 'enrich.hocon'), 'javascript { timeout = "1500 millis" }\n');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', '--offline', '--config', join(dir, 'enrich.hocon'), '--enrichments', enrichments, '--input', 'stdin', '--output', out], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  let ready: () => void = () => {};
  const isReady = new Promise<void>((r) => (ready = r));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.includes('enrichment ready')) ready();
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  // One full batch (256 records) on stdin, which stays open: only the signal can end the run.
  child.stdin.write(`${lines.join('\n')}\n`);
  const hardKill = setTimeout(() => child.kill('SIGKILL'), 90_000);
  await Promise.race([isReady, exited]);
  // Let it get into the stuck events (four of them, 1.5 s limit each) before the signal.
  await new Promise((r) => setTimeout(r, 1500));
  const sentAt = Date.now();
  child.kill('SIGTERM');
  // The bound: each stuck event ends at its limit — CPU time, capped at 3× in wall-clock time on a busy host — plus
  // a new script process after each; the other 252 events take well under a second.
  const bound = setTimeout(() => child.kill('SIGKILL'), 4 * 3 * 1500 + 20_000);
  const end = await exited;
  clearTimeout(bound);
  clearTimeout(hardKill);
  child.stdin.destroy();
  t.equal(end.signal, null, `exited by itself after SIGTERM (after ${Date.now() - sentAt} ms), not killed at the bound`);
  t.equal(end.code, 0, stderr.slice(-1000));
  const good = existsSync(join(out, 'good.tsv')) ? readFileSync(join(out, 'good.tsv'), 'utf8').split('\n').filter(Boolean) : [];
  const bad = existsSync(join(out, 'bad.jsonl')) ? readFileSync(join(out, 'bad.jsonl'), 'utf8').split('\n').filter(Boolean) : [];
  t.equal(good.length, 252, 'the batch in progress was finished: the events after the stuck ones are enriched');
  t.equal(bad.length, 4, 'each stuck event is a bad row');
  for (const b of bad) t.match(b, /timed out after 1500 ms/);
});

t.test('config: javascript.timeout, javascript.maxMemoryMb and validation.exitOnJsCompileError', async (t) => {
  t.same(parseEnrichConfig({}).javascript, { timeoutMs: 1000, maxMemoryMb: 256 }, 'defaults');
  t.equal(parseEnrichConfig({ validation: { exitOnJsCompileError: false } }).validation.exitOnJsCompileError, false);
  t.same(parseEnrichConfig({ javascript: { timeout: '250 millis', maxMemoryMb: 512 } }).javascript, { timeoutMs: 250, maxMemoryMb: 512 });
  t.throws(() => parseEnrichConfig({ javascript: { maxMemoryMb: 16 } }), /CONFIG_INVALID_VALUE: javascript.maxMemoryMb/);
  t.throws(() => parseEnrichConfig({ javascript: { timeout: '0 millis' } }), /CONFIG_INVALID_VALUE: javascript.timeout/);
  t.throws(() => parseEnrichConfig({ javascript: { memory: 1 } }), /CONFIG_UNKNOWN_KEY: unknown configuration key javascript.memory/);
});

t.test('a script that does not start: start-up fails, or with exitOnJsCompileError false every event fails', async (t) => {
  await t.rejects(buildEnrichments([js('function process( {')], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /does not run/ });
  const p = await buildEnrichments([js('function process( {')], testDeps({ exitOnJsCompileError: false }));
  t.teardown(() => p.close());
  for (let i = 0; i < 2; i++) {
    const r = await p.run(makeInput({ app_id: 'a' }));
    t.match(r.failures, [{ enrichment: { identifier: 'Javascript enrichment' }, message: { error: /^Error compiling JavaScript function: \[does not run: / } }]);
  }
});
