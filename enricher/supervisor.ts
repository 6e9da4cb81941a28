/**
 * `furrow enrich --workers N`: one supervisor process runs N worker processes (the same command without
 * `--workers`). Each worker has its own lease coordinator, so workers on one box cooperate exactly as workers on
 * different boxes do; the supervisor only keeps N of them alive.
 *
 *   start ──▶ spawn N ──▶ running ──worker exits non-zero or by signal──▶ restart after backoff
 *                           │          (1 s, doubling to 30 s; reset once a worker stayed up 30 s)
 *                           ├──worker exits 0 (input ended)──▶ not restarted; all done ──▶ exit 0
 *                           ├──worker exits 2 (usage/config error)──▶ stop all ──▶ exit 2 (restarting cannot help)
 *                           └──SIGTERM/SIGINT──▶ forward SIGTERM, wait (shutdownTimeoutMs, then SIGKILL) ──▶ exit
 *
 * Exit code after a shutdown: 0 when every worker exited 0 (or by the forwarded SIGTERM), else 1.
 */
import { backoffMs } from '../common/timing.js';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';

export interface SupervisorOptions {
  workers: number;
  /** Executable of one worker (e.g. process.execPath). */
  command: string;
  args: readonly string[];
  /** Arguments appended for worker `index` (0-based), e.g. `--worker-index 2`. */
  argsFor?: (index: number) => readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Default 'inherit': workers log to the supervisor's stderr, data on its stdout. */
  stdio?: StdioOptions;
  logger: Logger;
  /** First restart delay. Default 1 000. */
  restartInitialMs?: number;
  /** Default 30 000. */
  restartMaxMs?: number;
  /** A worker up this long resets its backoff. Default 30 000. */
  stableAfterMs?: number;
  /** SIGTERM-to-SIGKILL grace. Default 30 000 (a worker finishes its batch and releases its leases). */
  shutdownTimeoutMs?: number;
  /** Worker exit codes that stop everything instead of restarting. Default [2] (usage/configuration errors). */
  fatalExitCodes?: readonly number[];
  /** Aborting it shuts the workers down (the CLI connects SIGTERM/SIGINT to it). */
  signal: AbortSignal;
  /** Observes worker starts and exits (tests, embedding). */
  onEvent?: (e: WorkerEvent) => void;
}

export interface WorkerEvent {
  type: 'start' | 'exit';
  worker: number;
  pid: number | undefined;
  /** Date.now() when the supervisor spawned the worker or saw it exit. */
  at: number;
  code?: number | null;
  signal?: NodeJS.Signals | null;
}

interface Slot {
  index: number;
  child: ChildProcess | null;
  startedAt: number;
  failures: number;
  restartTimer: NodeJS.Timeout | null;
  finished: boolean;
}

export function superviseWorkers(opts: SupervisorOptions): Promise<number> {
  const { logger: log, signal } = opts;
  if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new FurrowError('CONFIG_INVALID_VALUE', `--workers must be a whole number >= 1 (got ${opts.workers})`);
  const restartInitialMs = opts.restartInitialMs ?? 1_000;
  const restartMaxMs = opts.restartMaxMs ?? 30_000;
  const stableAfterMs = opts.stableAfterMs ?? 30_000;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 30_000;
  const fatal = new Set(opts.fatalExitCodes ?? [2]);

  return new Promise<number>((resolve) => {
    const slots: Slot[] = Array.from({ length: opts.workers }, (_, index) => ({ index, child: null, startedAt: 0, failures: 0, restartTimer: null, finished: false }));
    let stopping = false;
    let exitCode = 0;
    let killTimer: NodeJS.Timeout | null = null;

    const live = () => slots.filter((s) => s.child !== null);
    const settleIfDone = () => {
      if (live().length > 0) return;
      if (!stopping && !slots.every((s) => s.finished)) return;
      if (killTimer) clearTimeout(killTimer);
      signal.removeEventListener('abort', shutdown);
      log.info({ exitCode }, 'all workers stopped');
      resolve(exitCode);
    };

    function start(slot: Slot): void {
      slot.restartTimer = null;
      if (stopping) return;
      const child = spawn(opts.command, [...opts.args, ...(opts.argsFor?.(slot.index) ?? [])], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: opts.stdio ?? 'inherit' });
      slot.child = child;
      slot.startedAt = Date.now();
      log.info({ worker: slot.index, pid: child.pid }, 'worker started');
      opts.onEvent?.({ type: 'start', worker: slot.index, pid: child.pid, at: slot.startedAt });
      child.once('error', (e) => log.error({ err: e, worker: slot.index }, 'worker could not be started'));
      child.once('exit', (code, sig) => {
        slot.child = null;
        const upMs = Date.now() - slot.startedAt;
        opts.onEvent?.({ type: 'exit', worker: slot.index, pid: child.pid, at: Date.now(), code, signal: sig });
        if (stopping) {
          // A fatal code already chosen (e.g. 2) is kept; otherwise an unclean stop makes it 1.
          if (code !== 0 && sig !== 'SIGTERM' && exitCode === 0) exitCode = 1;
          log.info({ worker: slot.index, code, signal: sig }, 'worker stopped');
        } else if (code === 0) {
          slot.finished = true;
          log.info({ worker: slot.index }, 'worker finished');
        } else if (code !== null && fatal.has(code)) {
          const err = new FurrowError('LEASE_SUPERVISOR_WORKER_FAILED', `worker ${slot.index} exited with code ${code}; not restarting`);
          log.error({ worker: slot.index, code, code_name: err.code }, err.message);
          exitCode = code;
          shutdown();
        } else {
          if (upMs >= stableAfterMs) slot.failures = 0;
          const delay = backoffMs(slot.failures, restartInitialMs, restartMaxMs);
          slot.failures++;
          log.warn({ worker: slot.index, code, signal: sig, upMs, restartInMs: delay }, 'worker died; restarting');
          slot.restartTimer = setTimeout(() => start(slot), delay);
        }
        settleIfDone();
      });
    }

    function shutdown(): void {
      if (stopping) return;
      stopping = true;
      for (const s of slots) {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        s.restartTimer = null;
      }
      log.info({ workers: live().length }, 'stopping workers (SIGTERM)');
      for (const s of live()) s.child!.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const s of live()) {
          log.warn({ worker: s.index, pid: s.child!.pid }, `worker did not stop within ${shutdownTimeoutMs} ms; SIGKILL`);
          if (exitCode === 0) exitCode = 1;
          s.child!.kill('SIGKILL');
        }
      }, shutdownTimeoutMs);
      settleIfDone();
    }

    signal.addEventListener('abort', shutdown, { once: true });
    if (signal.aborted) {
      stopping = true;
      settleIfDone();
      return;
    }
    for (const s of slots) start(s);
  });
}

/** Parses the value of `--workers`: a whole number >= 1, or `auto` (= the number of cores). */
export function parseWorkers(value: string | undefined): number {
  if (value === 'auto') return availableParallelism();
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < 1 || n > 1024) {
    throw new FurrowError('CONFIG_CLI_USAGE', `--workers must be a whole number from 1 to 1024, or auto (got ${String(value)})`);
  }
  return n;
}

/** The worker command line: the same CLI arguments without `--workers N` / `--worker-index N` (either form). */
export function workerArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers' || a === '--worker-index') {
      i++;
      continue;
    }
    if (a.startsWith('--workers=') || a.startsWith('--worker-index=')) continue;
    out.push(a);
  }
  return out;
}

/** Parses the hidden `--worker-index` the supervisor gives each worker (for unique worker ids, metrics ports). */
export function parseWorkerIndex(value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) > 1023) {
    throw new FurrowError('CONFIG_CLI_USAGE', `--worker-index must be a whole number from 0 to 1023 (got ${String(value)})`);
  }
  return Number(value);
}

/**
 * V8 flag the enricher's workers run with: a 32 MiB young-generation semi-space instead of Node's 16 MiB. An
 * enricher allocates ~20 KB per event that dies within the batch; with the default size a batch's live objects
 * outlive two scavenges and are promoted, so the old generation is marked and compacted every ~200 ms
 * (docs/performance.md: GC went from ~11 % to ~5 % of the profile; bench:enrich ~15 % more events/s).
 */
export const ENRICH_YOUNG_GENERATION_FLAG = '--max-semi-space-size=32';

/** Any spelling of the flag that sets the young generation's size. */
const YOUNG_GENERATION_FLAG = /^--max[-_]semi[-_]space[-_]size(=|$)/;

/** True when this process (or NODE_OPTIONS) already sets the young generation's size. */
export function hasYoungGenerationFlag(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): boolean {
  const set = (a: string): boolean => YOUNG_GENERATION_FLAG.test(a);
  return execArgv.some(set) || nodeOptions.split(/\s+/).some(set);
}

/** Node flags of a worker: this process's own, plus the young-generation size unless one is set already. */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env['NODE_OPTIONS'] ?? ''): string[] {
  return hasYoungGenerationFlag(execArgv, nodeOptions) ? [...execArgv] : [ENRICH_YOUNG_GENERATION_FLAG, ...execArgv];
}

/**
 * For a CLI command: re-runs this same `furrow <command>` (same Node flags, e.g. `--import tsx`, plus
 * ENRICH_YOUNG_GENERATION_FLAG) as N workers, each with `--worker-index i`, with SIGTERM/SIGINT forwarded.
 * Resolves to the supervisor's exit code.
 */
export async function superviseCommand(command: string, argv: readonly string[], workers: number, logger: Logger): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  try {
    return await superviseWorkers({
      workers,
      command: process.execPath,
      args: [...workerExecArgv(), process.argv[1]!, command, ...workerArgs(argv)],
      argsFor: (i) => ['--worker-index', String(i)],
      logger,
      signal: ac.signal,
    });
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}
