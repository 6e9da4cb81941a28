/**
 * The waits of furrow: one abortable sleep and one exponential backoff, used by every retry loop
 * (HTTP registries, the lake loader's uploads, PostgreSQL reconnects, GetRecords, the worker supervisor).
 *
 *   backoffMs(attempt = 0, 1, 2, …) = min(maxMs, baseMs · 2^attempt)
 */
import { setTimeout as wait } from 'node:timers/promises';

/** Waits `ms`; an abort ends the wait early. Resolves in both cases (never rejects). */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return wait(ms);
  try {
    await wait(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks its signal
  }
}

/** The wait before retry number `attempt` (0 for the first retry): doubling from baseMs, capped at maxMs. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** attempt);
}
