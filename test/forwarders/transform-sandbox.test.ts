/**
 * The forwarder's JS transformation against hostile scripts (issue 15, items 5 and 6): the event and payload it
 * receives lead nowhere in the forwarder's realm, the forwarder never reads a script-produced value outside the
 * time limit, and a script that exhausts its memory dead-letters its event while the rest go on.
 * Hangs and memory exhaustion run in a child process (test/support/js-sandbox-probe.ts) killed at a bound.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import type { TransformConfig } from '../../forwarders/config.js';
import { ForwardEvent } from '../../forwarders/forward-event.js';
import { compileTransform, TransformFailure, SKIP } from '../../forwarders/transform.js';
import { generateLines } from './tsv-generator.js';

interface ProbeLine { i?: number; done?: boolean; result?: unknown }

function probe(p: Record<string, unknown>, boundMs = 60_000): Promise<{ lines: ProbeLine[]; killed: boolean; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--max-old-space-size=256', 'test/support/js-sandbox-probe.ts'],
      { timeout: boundMs, killSignal: 'SIGKILL', env: { ...process.env, FURROW_PROBE: JSON.stringify(p) }, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const e = err as (Error & { killed?: boolean; signal?: string }) | null;
        const lines = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProbeLine);
        resolve({ lines, killed: e?.killed === true, signal: e?.signal ?? null, stderr: stderr.slice(-2000) });
      },
    );
  });
}

const events = generateLines(3).map((l) => ForwardEvent.parse(l) as ForwardEvent);

t.test('payload.constructor, event.constructor and the other routes reach nothing of the forwarder', async (t) => {
  const cfg = {
    type: 'js', origin: 'escape.js', timeoutMs: 2000, script: `
    function tryRoute(name, get, out) {
      try {
        var p = get();
        if (p === undefined || p === null) { out.push(name + ': nothing'); return; }
        var r = name + ': reached ' + typeof p;
        try { r += ' id=' + p.getBuiltinModule('child_process').execSync('id').toString().trim(); } catch (x) {}
        try { r += ' id=' + p.mainModule.require('child_process').execSync('id').toString().trim(); } catch (x) {}
        out.push(r);
      } catch (x) { out.push(name + ': blocked'); }
    }
    var leaked;
    function transform(event, payload) {
      var out = [];
      tryRoute('payload.constructor', function () { return payload.constructor.constructor('return process')(); }, out);
      tryRoute('event.constructor', function () { return event.constructor.constructor('return process')(); }, out);
      tryRoute('nested payload value', function () { for (var k in payload) if (payload[k] && typeof payload[k] === 'object') return payload[k].constructor.constructor('return process')(); }, out);
      tryRoute('nested event value', function () { for (var k in event) if (event[k] && typeof event[k] === 'object') return event[k].constructor.constructor('return process')(); }, out);
      tryRoute('globalThis.constructor', function () { return globalThis.constructor.constructor('return process')(); }, out);
      tryRoute('import() rejection', function () { return leaked && leaked.constructor.constructor('return process')(); }, out);
      try { import('node:fs').then(function () { out.push('import: resolved'); }, function (e) { leaked = e; }); } catch (x) {}
      tryRoute('global process', function () { return typeof require === 'function' ? require('process') : undefined; }, out);
      return { out: out };
    }`,
  } as unknown as TransformConfig;
  const tr = (await compileTransform(cfg, 'd'))!;
  t.teardown(() => (tr as { close?: () => Promise<void> }).close?.());
  const seen: string[] = [];
  for (const ev of events) {
    // The HTTP target's default payload is the event's JSON view; a vendor target's is an object of its own.
    for (const payload of [ev.toJson(), { properties: { nested: { a: 1 } } }]) {
      const [r] = await tr.many([payload], [ev]);
      t.notOk(r instanceof TransformFailure || r === SKIP, 'the probe itself runs');
      seen.push(...(r as { out: string[] }).out);
    }
  }
  t.ok(seen.length >= 6 * 7, `every route was tried (${seen.length})`);
  t.same(seen.filter((s) => !/: (blocked|nothing)$/.test(s)), [], 'no route reached a host object');
  t.notOk(seen.some((s) => s.includes('uid=')), 'id never ran');
});

t.test('a transformation that hangs the forwarder outside its limit (child process)', async (t) => {
  const TIMED_OUT = /^js transformation failed: timed out after 200 ms \(twice\)$/;
  const hangs: Record<string, [string, RegExp | 'ok']> = {
    'thrown message getter': ['function transform(e, p) { throw { get message() { while (true) {} } }; }', TIMED_OUT],
    'thrown message.toString': ['function transform(e, p) { throw { message: { toString: function () { while (true) {} } } }; }', TIMED_OUT],
    'thrown Proxy': ['function transform(e, p) { throw new Proxy({}, { get: function () { while (true) {} }, getPrototypeOf: function () { while (true) {} } }); }', TIMED_OUT],
    'then getter on the result': ['function transform(e, p) { return { get then() { while (true) {} } }; }', TIMED_OUT],
    'getter in the result': ['function transform(e, p) { return { a: 1, get b() { while (true) {} } }; }', TIMED_OUT],
    'getters on the output slots': [`
      ['__furrow_out', '__furrow_outs', '__out'].forEach(function (k) {
        Object.defineProperty(globalThis, k, { get: function () { while (true) {} }, set: function (v) {}, configurable: false });
      });
      function transform(e, p) { return p; }`, 'ok'],
  };
  for (const [name, [script, expected]] of Object.entries(hangs)) {
    const r = await probe({ kind: 'transform', script, events: 2, timeoutMs: 200 }, 30_000);
    t.notOk(r.killed, `${name}: the forwarder did not hang (${r.stderr.slice(-300)})`);
    t.ok(r.lines.at(-1)?.done, `${name}: both events processed`);
    const evs = r.lines.filter((x) => x.i !== undefined);
    t.equal(evs.length, 2, name);
    for (const l of evs) {
      if (expected === 'ok') t.same(l.result, { n: l.i }, `${name}: event ${l.i} transformed`);
      else t.match(l.result, { failure: expected }, `${name}: event ${l.i} dead-lettered`);
    }
  }
});

t.test('a transformation that exhausts memory fails its event; the forwarder survives (child process)', async (t) => {
  const script = `var keep = []; function transform(e, p) { if (p.n === 0) { while (true) keep.push({ a: Math.random(), b: [1, 2, 3] }); } return { n: p.n, kept: keep.length }; }`;
  const r = await probe({ kind: 'transform', script, events: 2, timeoutMs: 20_000, maxMemoryMb: 96 }, 120_000);
  t.notOk(r.killed, 'bounded');
  t.equal(r.signal, null, `the forwarder was not aborted (${r.stderr.slice(-500)})`);
  t.ok(r.lines.at(-1)?.done);
  const evs = r.lines.filter((x) => x.i !== undefined);
  t.match(evs[0]?.result, { failure: /memory limit \(96 MB\)/ });
  t.same(evs[1]?.result, { n: 1, kept: 0 }, 'the next event runs, in a fresh script process');
});
