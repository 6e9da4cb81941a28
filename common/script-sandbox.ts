/**
 * A sandbox for operator scripts (the JavaScript enrichment, the forwarder's JS transformation): the script runs in
 * a `node:vm` context inside a separate `node` process, and only strings cross between them.
 *
 *   host (enricher / forwarder)                        script process (script-sandbox-child.ts)
 *   ScriptSandbox.start ── spawn node -e … ──────────▶ flags: permission model (no fs, no child_process),
 *                                                        no code generation from strings, heap cap;
 *                                                        empty environment; oom_score_adj 1000
 *                        ── 'I' init ─────────────────▶ context + script top level + setup (compile once)
 *                        ◀─ 'R' ready | 'E' error ──── (a compile error fails start-up)
 *   run([text…])         ── 'C' texts ────────────────▶ call(text) per text, in order
 *                        ◀─ 'O' text | 'F' reason ──── one frame per text, written as each finishes
 *   time limit: checked every half limit while a message is on; the script process writes each answer as soon as
 *     its text is done, so the host knows which text is running. The limit is the script process's CPU time where
 *     /proc has it (a busy host that leaves the process waiting for a CPU does not use up its time), capped at 3×
 *     in wall-clock time. Over it the process is SIGKILLed, the answers it wrote before are kept, the text it was
 *     on fails ("timed out"), and the rest go to a new process.
 *   memory: V8 heap cap (--max-old-space-size) plus, on Linux, the process's resident memory polled from /proc
 *     while calls are made: over the limit → SIGKILL; a process that dies fails the text it was on ("memory").
 *
 * Frames: [type: 1 byte ASCII][length: u32 LE][body]. 'C' body, UTF-8: "<count>\n<length>,<length>…\n" then the
 * texts back to back (lengths in UTF-16 code units: the texts must be well-formed, as JSON.stringify's output is).
 * The host reads nothing from the script but these bounded strings, so no value of the script runs code in the host
 * and nothing the script does can block, crash or exhaust the host: the worst it can do is fail its own calls.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from './logger.js';
import { sandboxChildMain } from './script-sandbox-child.js';

export interface SandboxLimits {
  /** Time limit of one call (ms): CPU time of the script process on Linux, else wall clock; 3× in wall clock at most. */
  readonly timeoutMs: number;
  /** Memory of the script process (MiB): its V8 heap and, on Linux, its resident set. */
  readonly maxMemoryMb: number;
}

export interface SandboxSpec {
  /** The operator's script. */
  readonly script: string;
  /** Shown in compile errors and stack traces. */
  readonly filename: string;
  /**
   * Trusted code run in the context after the script: its completion value must be a function(text) → string.
   * It should catch the script's errors itself and encode them in its answer; the host parses the answers as
   * untrusted text.
   */
  readonly setup: string;
  /** Time limit of the script's top-level code and of the setup. */
  readonly startTimeoutMs: number;
  readonly limits: SandboxLimits;
  /** Largest answer (UTF-16 code units); a longer one fails its call. */
  readonly maxResultChars: number;
  /** A call that timed out is run once more, alone, in a new process before it fails. A runaway costs two limits. */
  readonly retryTimeout?: boolean;
  readonly logger?: Logger | null;
}

export type SandboxFailure = 'timeout' | 'memory' | 'exit' | 'start' | 'result' | 'closed';
export type CallOutcome = { ok: true; text: string } | { ok: false; reason: SandboxFailure; error: string };

/** The script failed at start-up: a compile error, a throw or timeout in its top level, or a failing setup. */
export class SandboxStartError extends Error {
  constructor(
    readonly stage: 'compile' | 'run' | 'setup' | 'timeout' | 'process',
    message: string,
  ) {
    super(message);
  }
}

/** The program of the script process: the child main function's source, run as `node -e`. */
const CHILD_PROGRAM = `'use strict';\nvar __name = function (f) { return f; };\n(${sandboxChildMain.toString()})();\n`;
/** Time a new script process may take to start node, before its script's own start limit. */
const BOOT_MS = 30_000;
/** How often the resident memory of a busy script process is read. */
const MEMORY_POLL_MS = 20;
/** Wall-clock cap of one text, as a multiple of its (CPU) time limit. */
const WALL_FACTOR = 3;
/** /proc/<pid>/stat counts CPU time in clock ticks of 10 ms (USER_HZ = 100). */
const CPU_TICK_MS = 10;
/** After a failed restart, calls fail at once for this long instead of starting a process each. */
const RESTART_BACKOFF_MS = 5_000;
/** Bytes of the script process's stderr kept for diagnostics (V8's out-of-memory report). */
const STDERR_TAIL = 8192;
/**
 * The script process is started through `env -i` where there is one: whatever the environment or a spawn hook in
 * this process (APM agents, test runners) would add — NODE_OPTIONS with a --require, LD_PRELOAD — never reaches it.
 * Without /usr/bin/env (distroless images) node is started directly with an empty environment.
 */
const ENV_PROGRAM = existsSync('/usr/bin/env') ? '/usr/bin/env' : null;
/** Node's permission model: `--permission` from Node 23.5/22.13, `--experimental-permission` before. */
const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission')
  ? '--permission'
  : process.allowedNodeEnvironmentFlags.has('--experimental-permission')
    ? '--experimental-permission'
    : null;

type Stop = { reason: SandboxFailure; error: string };

interface Batch {
  expected: number;
  answers: CallOutcome[];
  timer: NodeJS.Timeout;
  /** Answers seen at the last check, and the wall-clock and CPU time (ms; null: unknown) of that check. */
  seen: number;
  wallAt: number;
  cpuAt: number | null;
  done: (stop: Stop | null) => void;
}

/** One script process. */
class ScriptProcess {
  readonly child: ChildProcess;
  private readonly rssPath: string | null;
  private readonly statPath: string | null;
  private stderrTail = '';
  private chunks: Buffer[] = [];
  private have = 0;
  private batch: Batch | null = null;
  private killedFor: Stop | null = null;
  private startWaiter: ((e: SandboxStartError | null) => void) | null = null;
  private need = 5;
  private readonly checkMs: number;
  exited = false;

  constructor(private readonly spec: SandboxSpec) {
    this.checkMs = Math.max(CPU_TICK_MS, Math.floor(spec.limits.timeoutMs / 2));
    const args = [
      // Workers only for the parent watchdog thread (script-sandbox-child.ts); they share these restrictions.
      ...(PERMISSION_FLAG === null ? [] : [PERMISSION_FLAG, '--allow-worker', '--allow-fs-read=/proc/self/oom_score_adj', '--allow-fs-write=/proc/self/oom_score_adj']),
      '--experimental-vm-modules',
      '--disallow-code-generation-from-strings',
      `--max-old-space-size=${spec.limits.maxMemoryMb}`,
      '--no-warnings',
      '-e',
      CHILD_PROGRAM,
    ];
    // Only the locale and the time zone, which scripts' Date and Intl results depend on; never credentials.
    const env: Record<string, string> = {};
    for (const k of ['TZ', 'LANG', 'LC_ALL']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    this.child = ENV_PROGRAM === null
      ? spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env, windowsHide: true })
      : spawn(ENV_PROGRAM, ['-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env, windowsHide: true });
    this.rssPath = process.platform === 'linux' && this.child.pid !== undefined ? `/proc/${this.child.pid}/status` : null;
    this.statPath = process.platform === 'linux' && this.child.pid !== undefined ? `/proc/${this.child.pid}/stat` : null;
    this.child.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-STDERR_TAIL);
    });
    this.child.stdin!.on('error', () => {}); // EPIPE after the process died: 'close' reports it
    this.child.on('error', (e) => {
      // A process that could not be started: no 'close' may follow.
      this.stderrTail += e.message;
      if (this.child.pid === undefined) this.onClose(null, null);
    });
    this.child.on('close', (code, signal) => this.onClose(code, signal));
    this.unref();
  }

  /** Sends the init frame and waits for ready; rejects with a SandboxStartError. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.kill({ reason: 'start', error: `did not start within ${BOOT_MS + this.spec.startTimeoutMs} ms` }), BOOT_MS + this.spec.startTimeoutMs);
      this.child.ref();
      this.startWaiter = (e) => {
        clearTimeout(timer);
        this.startWaiter = null;
        this.child.unref();
        if (e === null) resolve();
        else reject(e);
      };
      this.write('I', Buffer.from(JSON.stringify({
        script: this.spec.script, filename: this.spec.filename, setup: this.spec.setup,
        startTimeoutMs: this.spec.startTimeoutMs, maxResultChars: this.spec.maxResultChars,
      }), 'utf8'));
    });
  }

  /**
   * Runs texts in order. Resolves with the answers of the texts that finished and, when the process stopped on the
   * next one (time limit, memory, exit), why.
   */
  run(texts: readonly string[]): Promise<{ answers: CallOutcome[]; stop: Stop | null }> {
    return new Promise((resolve) => {
      const answers: CallOutcome[] = [];
      if (this.exited) {
        resolve({ answers, stop: this.killedFor ?? { reason: 'exit', error: 'the script process is not running' } });
        return;
      }
      // One string, one UTF-8 conversion: "<n>\n<length,…>\n<text><text>…" (lengths in UTF-16 code units).
      let lengths = '';
      for (let i = 0; i < texts.length; i++) lengths += (i === 0 ? '' : ',') + texts[i]!.length;
      const body = Buffer.from(`${texts.length}\n${lengths}\n${texts.join('')}`, 'utf8');
      const timer = setInterval(() => this.check(), this.checkMs);
      this.batch = {
        expected: texts.length,
        answers,
        timer,
        seen: 0,
        wallAt: performance.now(),
        cpuAt: this.cpuMs(),
        done: (stop) => {
          clearInterval(timer);
          this.batch = null;
          this.child.unref();
          resolve({ answers, stop });
        },
      };
      this.child.ref();
      this.write('C', body);
    });
  }

  /** Resident memory over the limit → killed (the call in progress fails with "memory"). */
  checkMemory(): void {
    if (this.rssPath === null || this.exited) return;
    let kb: number;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(this.rssPath, 'latin1'));
      if (m === null) return;
      kb = Number(m[1]);
    } catch {
      return;
    }
    if (kb > this.spec.limits.maxMemoryMb * 1024) this.kill(memoryStop(this.spec.limits.maxMemoryMb));
  }

  kill(stop: Stop): void {
    if (this.exited) return;
    this.killedFor ??= stop;
    this.child.kill('SIGKILL');
  }

  private write(type: string, body: Buffer): void {
    const head = Buffer.allocUnsafe(5);
    head[0] = type.charCodeAt(0);
    head.writeUInt32LE(body.length, 1);
    this.child.stdin!.write(head);
    this.child.stdin!.write(body);
  }

  /** The pipes never keep the host's event loop alive; the process does only while a call or the start is on. */
  private unref(): void {
    (this.child.stdout as unknown as { unref?: () => void }).unref?.();
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
    this.child.unref();
  }

  /** Frames in: chunks are kept until a whole frame is there, then joined once. */
  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.have += d.length;
    const maxFrame = this.spec.maxResultChars * 3 + 65_536;
    while (this.have >= this.need) {
      let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.have);
      this.chunks = [buf];
      const len = buf.readUInt32LE(1);
      if (len > maxFrame) {
        this.chunks = [];
        this.have = 0;
        this.kill({ reason: 'result', error: 'the script process sent an oversized answer' });
        return;
      }
      if (this.have < 5 + len) {
        this.need = 5 + len;
        return;
      }
      const type = String.fromCharCode(buf[0]!);
      const text = buf.toString('utf8', 5, 5 + len);
      buf = buf.subarray(5 + len);
      this.chunks = buf.length === 0 ? [] : [buf];
      this.have = buf.length;
      this.need = 5;
      this.onFrame(type, text);
    }
  }

  private onFrame(type: string, text: string): void {
    if (type === 'R' || type === 'E') {
      if (this.startWaiter === null) return;
      if (type === 'R') {
        this.startWaiter(null);
        return;
      }
      let e: { stage?: unknown; message?: unknown } = {};
      try {
        e = JSON.parse(text) as typeof e;
      } catch {
        // a garbled start error: reported as is
      }
      const stage = e.stage === 'compile' || e.stage === 'run' || e.stage === 'setup' || e.stage === 'timeout' ? e.stage : 'process';
      const message = stage === 'timeout' ? `timed out after ${this.spec.startTimeoutMs} ms` : typeof e.message === 'string' ? e.message : text;
      this.kill({ reason: 'start', error: message });
      this.startWaiter(new SandboxStartError(stage, message));
      return;
    }
    const b = this.batch;
    if (b === null || (type !== 'O' && type !== 'F')) return;
    b.answers.push(type === 'O' ? { ok: true, text } : { ok: false, reason: 'result', error: text });
    if (b.answers.length === b.expected) b.done(null);
  }

  /**
   * Every checkMs (half the limit) while a message is in progress. The limit is CPU time where it can be read
   * (Linux): a script process that a busy host left waiting for a CPU has not used its time — restarting it for
   * that would only make a busy host busier. Wall-clock time is capped at WALL_FACTOR × the limit whatever happens.
   * A text counts from the first check that sees it running (it may have started up to checkMs before): it gets
   * between its limit and 1.5× it. Reading /proc once a check, not once an answer, keeps this off the hot path.
   */
  private check(): void {
    const b = this.batch;
    if (b === null || this.exited) return;
    const now = performance.now();
    const cpu = this.cpuMs();
    if (b.answers.length !== b.seen) {
      b.seen = b.answers.length;
      b.wallAt = now;
      b.cpuAt = cpu;
      return;
    }
    const limit = this.spec.limits.timeoutMs;
    const wall = now - b.wallAt;
    const used = cpu === null || b.cpuAt === null ? wall : cpu - b.cpuAt;
    if (used >= limit || wall >= WALL_FACTOR * limit) this.kill({ reason: 'timeout', error: `timed out after ${limit} ms` });
  }

  /** CPU time (user + system, ms) the script process used so far; null where /proc is not there. */
  private cpuMs(): number | null {
    if (this.statPath === null || this.exited) return null;
    try {
      const stat = readFileSync(this.statPath, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 13);
      const ticks = Number(f[11]) + Number(f[12]);
      return Number.isFinite(ticks) ? ticks * CPU_TICK_MS : null;
    } catch {
      return null;
    }
  }

  private onClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    let stop = this.killedFor;
    if (stop === null || (stop.reason === 'timeout' && this.outOfMemory())) {
      stop = this.outOfMemory()
        ? memoryStop(this.spec.limits.maxMemoryMb)
        : { reason: 'exit', error: `the script process exited (${signal ?? `code ${code}`})` };
      this.killedFor = stop;
    }
    this.startWaiter?.(new SandboxStartError('process', `${stop.error}${this.stderrTail.trim() === '' ? '' : `: ${this.stderrTail.trim().split('\n').slice(-3).join(' ')}`}`));
    this.batch?.done(stop);
  }

  private outOfMemory(): boolean {
    return /heap out of memory|Reached heap limit|Allocation failed/.test(this.stderrTail);
  }
}

function memoryStop(mb: number): Stop {
  return { reason: 'memory', error: `exceeded its memory limit (${mb} MB)` };
}

interface Job {
  texts: readonly string[];
  resolve: (out: CallOutcome[]) => void;
}

export class ScriptSandbox {
  private proc: ScriptProcess | null;
  private readonly queue: Job[] = [];
  private pumping = false;
  private closed = false;
  private brokenUntil = 0;
  private brokenReason = '';
  private readonly poll: NodeJS.Timeout | null;
  private active = false;
  private restarts = 0;
  private lastRestartLog = 0;

  private constructor(
    private readonly spec: SandboxSpec,
    first: ScriptProcess,
  ) {
    this.proc = first;
    this.poll = process.platform === 'linux' ? setInterval(() => this.checkMemory(), MEMORY_POLL_MS) : null;
    this.poll?.unref();
  }

  /** Starts the script process and runs the script's top level; rejects with SandboxStartError. */
  static async start(spec: SandboxSpec): Promise<ScriptSandbox> {
    const p = new ScriptProcess(spec);
    try {
      await p.start();
    } catch (e) {
      p.kill({ reason: 'closed', error: 'closed' });
      throw e;
    }
    return new ScriptSandbox(spec, p);
  }

  /** Runs the setup's call function on each text, in order; one outcome per text. Calls are queued. */
  run(texts: readonly string[]): Promise<CallOutcome[]> {
    return new Promise((resolve) => {
      this.queue.push({ texts, resolve });
      if (!this.pumping) void this.pump();
    });
  }

  /** The current script process's pid (diagnostics); undefined when none is running. */
  get pid(): number | undefined {
    return this.proc === null || this.proc.exited ? undefined : this.proc.child.pid;
  }

  /** Ends the script process; queued and later calls fail with "closed". */
  async close(): Promise<void> {
    this.closed = true;
    if (this.poll !== null) clearInterval(this.poll);
    this.proc?.kill({ reason: 'closed', error: 'the sandbox was closed' });
    this.proc = null;
  }

  private checkMemory(): void {
    if (!this.active) return;
    this.active = this.pumping;
    this.proc?.checkMemory();
  }

  /**
   * Runs the queued calls. Calls that queued up while one was in progress go to the script process together, in
   * one message (concurrent callers — the events of a batch — cost one round trip, not one each).
   */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.queue.length);
        if (jobs.length === 1) {
          jobs[0]!.resolve(await this.runJob(jobs[0]!.texts));
          continue;
        }
        const texts: string[] = [];
        for (const j of jobs) for (const t of j.texts) texts.push(t);
        const out = await this.runJob(texts);
        let k = 0;
        for (const j of jobs) {
          j.resolve(out.slice(k, k + j.texts.length));
          k += j.texts.length;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async runJob(texts: readonly string[]): Promise<CallOutcome[]> {
    const out: CallOutcome[] = [];
    let retried = -1;
    while (out.length < texts.length) {
      const p = await this.live();
      if (typeof p === 'string') {
        while (out.length < texts.length) out.push({ ok: false, reason: this.closed ? 'closed' : 'start', error: p });
        break;
      }
      this.active = true;
      const rest = out.length === 0 ? texts : texts.slice(out.length);
      // A text that timed out once is run alone, so its second chance does not depend on the texts after it.
      const r = await p.run(retried === out.length ? rest.slice(0, 1) : rest);
      for (const a of r.answers) out.push(a);
      if (r.stop === null) continue;
      this.proc = null;
      this.noteRestart(r.stop);
      if (out.length === texts.length) break; // the process died between calls (memory poll): nothing failed
      if (r.stop.reason === 'timeout' && this.spec.retryTimeout === true && retried !== out.length) {
        retried = out.length;
        continue;
      }
      out.push({ ok: false, reason: r.stop.reason, error: retried === out.length && r.stop.reason === 'timeout' ? `${r.stop.error} (twice)` : r.stop.error });
    }
    return out;
  }

  /** The running process, a new one when the last one died, or why there is none. */
  private async live(): Promise<ScriptProcess | string> {
    if (this.closed) return 'the sandbox was closed';
    if (this.proc !== null && !this.proc.exited) return this.proc;
    if (Date.now() < this.brokenUntil) return this.brokenReason;
    const p = new ScriptProcess(this.spec);
    try {
      await p.start();
    } catch (e) {
      this.brokenUntil = Date.now() + RESTART_BACKOFF_MS;
      this.brokenReason = `the script could not be restarted: ${(e as Error).message}`;
      this.spec.logger?.error({ script: this.spec.filename, err: (e as Error).message }, 'operator script could not be restarted');
      return this.brokenReason;
    }
    if (this.closed) {
      p.kill({ reason: 'closed', error: 'closed' });
      return 'the sandbox was closed';
    }
    this.proc = p;
    return p;
  }

  private noteRestart(stop: Stop): void {
    this.restarts++;
    const now = Date.now();
    if (now - this.lastRestartLog < 10_000) return;
    this.lastRestartLog = now;
    this.spec.logger?.warn({ script: this.spec.filename, reason: stop.reason, error: stop.error, restarts: this.restarts }, 'operator script process stopped; a new one takes the next calls');
  }
}

/**
 * Helpers for a call function's setup source (the text runs inside the script's context, so it is source, not
 * code of this realm): `parse`, `stringify`, `deepFreeze(value)` (iterative, so a deep value cannot overflow the
 * stack) and `message(thrown)`, which reads a thrown value's message and never throws itself.
 */
export const SCRIPT_HELPERS = `  var parse = JSON.parse, stringify = JSON.stringify, freeze = Object.freeze, values = Object.values;
  function deepFreeze(root) {
    var stack = [root];
    while (stack.length > 0) {
      var o = stack.pop();
      freeze(o);
      var vs = values(o);
      for (var i = 0; i < vs.length; i++) if (vs[i] !== null && typeof vs[i] === 'object') stack.push(vs[i]);
    }
    return root;
  }
  function message(e) {
    try {
      var m = e !== null && e !== undefined ? e.message : undefined;
      return String(m !== null && m !== undefined ? m : e);
    } catch (x) { return 'the thrown value cannot be printed'; }
  }`;
