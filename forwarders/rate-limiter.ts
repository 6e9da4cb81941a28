/**
 * A token bucket per destination (requests/s and events/s). Capacity is one second's worth, so a burst after an
 * idle period is at most one second of traffic. `take` waits (in the destination's own worker, never the
 * reader or other destinations) until the tokens are there. A disabled limit is `null` at construction.
 */
import { sleep } from '../common/timing.js';
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = Math.max(1, perSecond);
    this.last = this.now();
  }

  /** Resolves once `n` tokens are taken (n above the capacity is allowed and simply waits longer). */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const cap = Math.max(1, this.perSecond);
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(cap, this.tokens + ((t - this.last) * this.perSecond) / 1000);
      this.last = t;
      if (this.tokens >= Math.min(n, cap)) {
        this.tokens -= n;
        return;
      }
      const waitMs = Math.ceil(((Math.min(n, cap) - this.tokens) * 1000) / this.perSecond);
      await sleep(Math.max(1, waitMs), signal);
      if (signal?.aborted) return;
    }
  }
}

export class RateLimiter {
  private readonly requests: TokenBucket | null;
  private readonly events: TokenBucket | null;

  constructor(requestsPerSecond: number | null, eventsPerSecond: number | null) {
    this.requests = requestsPerSecond === null ? null : new TokenBucket(requestsPerSecond);
    this.events = eventsPerSecond === null ? null : new TokenBucket(eventsPerSecond);
  }

  get enabled(): boolean {
    return this.requests !== null || this.events !== null;
  }

  async take(events: number, signal?: AbortSignal): Promise<void> {
    if (this.requests !== null) await this.requests.take(1, signal);
    if (this.events !== null) await this.events.take(events, signal);
  }
}

