/**
 * The script process of an operator script sandbox (see script-sandbox.ts for the host side and the protocol).
 *
 * `sandboxChildMain` is not called in the host: its source text (`Function.prototype.toString`) is the `-e`
 * program of the child `node`, so it must be self-contained (no imports, no outer names; `require` is the child's
 * CommonJS one) and must not use syntax a transpiler rewrites with helpers (classes, decorators). Everything
 * here is strict code, so a stack-trace callback in the script sees no function or `this` of these frames.
 *
 *   stdin  'I' init {script, filename, setup, startTimeoutMs, maxResultChars}
 *            → context: null-prototype global, no code generation from strings, no WebAssembly, own microtasks
 *            → script top level (vm timeout startTimeoutMs) → setup (trusted, returns the call function)
 *          ← 'R' ready | 'E' {stage, message}
 *   stdin  'C' "n\nlen,…\ntexts"  → for each text: call(text) in the context, then its microtasks
 *          ← 'O' text (the call function's string) | 'F' reason, one frame per text, in order, each written
 *            as soon as its text is done
 *   EOF on stdin → exit; parent gone (checked by a watchdog thread every 500 ms) → exit, even while a script loops.
 *   No time limit in here: the host kills this process when a call overruns.
 */
export function sandboxChildMain(): void {
  'use strict';
  const fs = require('node:fs') as typeof import('node:fs');
  const vm = require('node:vm') as typeof import('node:vm');

  // A promise rejected in the context that nobody handles must not end this process (the default is to throw).
  process.on('unhandledRejection', () => {});
  // If the host dies while a script loops, nothing would read this process's stdin again or kill it: a thread of
  // its own ends it once its parent is gone (the main thread may be busy for good).
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  new Worker(
    "'use strict'; const parent = require('node:worker_threads').workerData; setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, 'SIGKILL'); }, 500);",
    { eval: true, workerData: process.ppid, resourceLimits: { maxOldGenerationSizeMb: 8 } },
  ).unref();
  // Under memory pressure the kernel should pick this process, never the enricher or the forwarder.
  try {
    fs.writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {
    // not Linux, or not allowed: the memory limit still applies
  }

  const writeAll = (buf: Buffer): void => {
    let off = 0;
    while (off < buf.length) {
      try {
        off += fs.writeSync(1, buf, off, buf.length - off);
      } catch (e) {
        if ((e as { code?: string }).code !== 'EAGAIN') throw e;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
      }
    }
  };
  const send = (type: string, text: string): void => {
    const len = Buffer.byteLength(text, 'utf8');
    const buf = Buffer.allocUnsafe(5 + len);
    buf[0] = type.charCodeAt(0);
    buf.writeUInt32LE(len, 1);
    buf.write(text, 5, 'utf8');
    writeAll(buf);
  };
  /** Message of a start-up error. Reading a script's thrown value can run its getters: the host's bound covers that. */
  const describe = (e: unknown): string => {
    try {
      if (e !== null && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
      return String(e);
    } catch {
      return 'an error that cannot be printed';
    }
  };

  let ctx: import('node:vm').Context | null = null;
  let call: ((text: string) => unknown) | null = null;
  let drain: import('node:vm').Script | null = null;
  let maxResultChars = 0;

  const init = (text: string): void => {
    const o = JSON.parse(text) as { script: string; filename: string; setup: string; startTimeoutMs: number; maxResultChars: number };
    maxResultChars = o.maxResultChars;
    // A null-prototype object as the global's backing store: nothing of this process's realm is on the script's
    // prototype chains (with a plain `{}`, `globalThis.constructor` would be this realm's Object).
    const context = vm.createContext(Object.create(null) as object, {
      name: o.filename,
      codeGeneration: { strings: false, wasm: false },
      microtaskMode: 'afterEvaluate',
    });
    // import() would otherwise reject with an error of this realm: reject it with an error of the context.
    const importError = vm.runInContext('(function (E) { return function () { return new E("import() is not available to scripts"); }; })(Error)', context) as () => unknown;
    const importModuleDynamically = (): never => {
      throw importError();
    };
    vm.runInContext('delete globalThis.WebAssembly; delete globalThis.SharedArrayBuffer; delete globalThis.Atomics;', context);
    let stage = 'compile';
    try {
      const script = new vm.Script(o.script, { filename: o.filename, importModuleDynamically: importModuleDynamically as never });
      stage = 'run';
      script.runInContext(context, { timeout: o.startTimeoutMs });
      stage = 'setup';
      const fn = new vm.Script(o.setup, { filename: 'furrow-sandbox-setup', importModuleDynamically: importModuleDynamically as never }).runInContext(context, { timeout: o.startTimeoutMs }) as unknown;
      if (typeof fn !== 'function') throw new Error('the setup did not return a function');
      call = fn as (text: string) => unknown;
      drain = new vm.Script('undefined', { filename: 'furrow-sandbox-microtasks' });
      drain.runInContext(context);
      ctx = context;
    } catch (e) {
      const timedOut = (e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
      send('E', JSON.stringify({ stage: timedOut ? 'timeout' : stage, message: describe(e) }));
      return;
    }
    send('R', '');
  };

  /**
   * Each answer is written as soon as it is known: when the host stops this process in the middle of a message, the
   * answers it has are exactly those of the texts that finished.
   */
  const runCalls = (body: Buffer): void => {
    const all = body.toString('utf8');
    const nl1 = all.indexOf('\n');
    const nl2 = all.indexOf('\n', nl1 + 1);
    const n = Number(all.slice(0, nl1));
    const lengths = n === 0 ? [] : all.slice(nl1 + 1, nl2).split(',').map(Number);
    let total = 0;
    for (const l of lengths) total += l;
    if (lengths.length !== n || nl2 + 1 + total !== all.length) {
      // Not well-formed text (a lone surrogate does not survive UTF-8): fail every text rather than misplace one.
      for (let i = 0; i < n; i++) send('F', 'the call could not be read');
      return;
    }
    let off = nl2 + 1;
    for (let i = 0; i < n; i++) {
      const text = all.slice(off, off + lengths[i]!);
      off += lengths[i]!;
      let r: unknown;
      try {
        r = call!(text);
      } catch {
        // The call function catches the script's errors itself; a throw out of it means the script broke it
        // (for example by exhausting the stack). Its value is not read.
        r = undefined;
      }
      try {
        drain!.runInContext(ctx!);
      } catch {
        // a microtask that throws: the script's own business
      }
      if (typeof r !== 'string') send('F', 'the script returned no result');
      else if (r.length > maxResultChars) send('F', `the result is larger than ${maxResultChars} characters`);
      else send('O', r);
    }
  };

  // Frames in: chunks are kept until a whole frame is there, then joined once (no copy per chunk).
  let chunks: Buffer[] = [];
  let have = 0;
  let need = 5;
  process.stdin.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    while (have >= need) {
      let buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
      chunks = [buf];
      const len = buf.readUInt32LE(1);
      if (have < 5 + len) {
        need = 5 + len;
        return;
      }
      const type = String.fromCharCode(buf[0]!);
      const body = buf.subarray(5, 5 + len);
      buf = buf.subarray(5 + len);
      chunks = buf.length === 0 ? [] : [buf];
      have = buf.length;
      need = 5;
      if (type === 'I') init(body.toString('utf8'));
      else if (type === 'C' && ctx !== null) runCalls(body);
    }
  });
  process.stdin.on('end', () => process.exit(0));
}
