/**
 * The one polling helper of the tests: calls `probe` every `everyMs` until it returns something other than null,
 * undefined or false, which it returns; after `timeoutMs` it throws, naming `what`. The timeout is a bound on a hang, never an assertion:
 * to check that something did NOT happen, wait for a later event that proves it had its chance, then assert.
 */
export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Poll period (default 10 ms). */
  readonly everyMs?: number;
}

type Found<T> = Exclude<T, null | undefined | false>;

export async function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Found<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const everyMs = opts.everyMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined && v !== false) return v as Found<T>;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
