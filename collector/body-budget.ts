/**
 * One bound on request-body memory across every open request of a collector process:
 * `collector.furrow.maxBodyBytesInFlight`.
 *
 *   body chunk arrives ──take(len)──▶ held by its request      (refused ⇒ 503 + Retry-After, connection closed)
 *   compressed body complete ──take(decoder window + state)──▶ inflating
 *   inflated chunk ──take(len)──▶ held                        (refused ⇒ 503; past dropPayloadSize ⇒ 413)
 *   request handed to the sinks, failed or gone ──give(all it held)
 *
 * What counts: bytes received and not yet turned into records, inflated bytes, and each decoder's window (a
 * brotli stream may declare up to 16 MiB, which the decoder allocates and fills before its first output: the
 * 200 concurrent 53-byte bombs of issue 15 held 200 such windows at once). So memory for bodies is bounded
 * by this number, whatever the number of requests; the records made from them count against the sinks'
 * maxPendingBytes instead.
 */
export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Reserves `n` bytes; false (nothing reserved) when that would pass the limit. */
  take(n: number): boolean {
    const next = this.used + n;
    if (next > this.limit) return false;
    this.used = next;
    return true;
  }

  give(n: number): void {
    this.used -= n;
  }

  get inUse(): number {
    return this.used;
  }
}
