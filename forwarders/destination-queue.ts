/**
 * One destination's delivery: its own bounded queue, batcher, workers (concurrency), rate limit, retries and
 * dead-lettering. Destinations share nothing but the reader, so a slow or failing one only holds its own
 * workers; the reader pauses only when this queue is full (when_full = pause) — or never, with
 * when_full = dead_letter, which sends what does not fit straight to the dead letter.
 *
 *   enqueue ──> groups (Map: batch group → FIFO) ──takeBatch──> worker (≤ concurrency at once)
 *                                                                │ rate limit, send
 *                ┌──────────── accepted ──────────────────────────┤
 *                │   retry (network, timeout, 408, 429, 5xx): backoff·jitter / Retry-After, until max_attempts
 *                │   rejected / partial refusals / retries used up ──> dead letter (awaited)
 *                └──> entry.ticket.settle()   (the reader acknowledges a source batch when all its tickets settled)
 *
 * A batch leaves the queue when a group has max_events (or max_bytes) waiting, when its oldest entry has waited
 * flush_interval, or when the input has ended (drain). Memory bound: max_events entries waiting or in flight,
 * plus at most one input batch of overshoot.
 */
import type { DestinationConfig } from './config.js';
import type { Logger } from '../common/logger.js';
import type { DeadLetter, DeadLetterReason, DeadLetterSink } from './dead-letter.js';
import { RateLimiter } from './rate-limiter.js';
import { sleep } from '../common/timing.js';
import type { ForwardTarget, PreparedItem, SendOutcome } from './target.js';

/** What a queue entry reports back to: the source batch it came from. */
export interface Settleable {
  settle(): void;
}

interface Entry {
  readonly item: PreparedItem;
  readonly line: string;
  readonly ticket: Settleable;
  readonly seq: number;
}

interface Group {
  entries: Entry[];
  head: number;
  bytes: number;
}

export interface DestinationStats {
  delivered: number;
  deadLettered: number;
  retries: number;
  requests: number;
  /** Entries waiting or in flight. */
  size: number;
}

const MAX_RETRY_AFTER_MS = 3600_000;

export class DestinationQueue {
  readonly name: string;
  readonly stats: DestinationStats = { delivered: 0, deadLettered: 0, retries: 0, requests: 0, size: 0 };
  private readonly groups = new Map<string, Group>();
  private readonly limiter: RateLimiter;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private seq = 0;
  private flushBoundary = -1;
  private inFlight = 0;
  private draining = false;
  private timer: NodeJS.Timeout | null = null;
  private roomWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  /** Set when the dead letter failed: the forwarder stops and acknowledges nothing more. */
  fatal: Error | null = null;

  constructor(
    private readonly cfg: DestinationConfig,
    readonly target: ForwardTarget,
    private readonly deadLetter: DeadLetterSink,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
    /** Called once if the dead letter fails (the forwarder then stops everything). */
    private readonly onFatal: (e: Error) => void = () => {},
    private readonly random: () => number = Math.random,
  ) {
    this.name = cfg.name;
    this.limiter = new RateLimiter(cfg.rateLimit.requestsPerSecond, cfg.rateLimit.eventsPerSecond);
    this.maxEvents = Math.min(cfg.batch.maxEvents, target.maxEvents);
    this.maxBytes = Math.min(cfg.batch.maxBytes, target.maxBytes);
  }

  /** Per-item byte limit: an item larger than a whole batch can never be sent. */
  get maxItemBytes(): number {
    return this.maxBytes;
  }

  get full(): boolean {
    return this.stats.size >= this.cfg.queue.maxEvents;
  }

  get shedsWhenFull(): boolean {
    return this.cfg.queue.whenFull === 'dead_letter';
  }

  /** Adds one prepared item. The caller checks `full` first (pause or shed). */
  enqueue(item: PreparedItem, line: string, ticket: Settleable): void {
    let g = this.groups.get(item.group);
    if (g === undefined) {
      g = { entries: [], head: 0, bytes: 0 };
      this.groups.set(item.group, g);
    }
    g.entries.push({ item, line, ticket, seq: this.seq++ });
    g.bytes += item.bytes;
    this.stats.size++;
    if (g.entries.length - g.head >= this.maxEvents || g.bytes >= this.maxBytes) this.pump();
    else this.armTimer();
  }

  /** Resolves when the queue has room again (immediately if it has). */
  waitForRoom(): Promise<void> {
    if (!this.full || this.fatal !== null || this.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** Input ended: send everything now and resolve when the queue is empty (or the forwarder is aborted). */
  drain(): Promise<void> {
    this.draining = true;
    this.pump();
    if (this.stats.size === 0 || this.signal.aborted || this.fatal !== null) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Wakes everything waiting (abort / fatal). */
  release(): void {
    for (const w of this.roomWaiters.splice(0)) w();
    for (const w of this.idleWaiters.splice(0)) w();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private armTimer(): void {
    if (this.timer !== null || this.stats.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushBoundary = this.seq - 1;
      this.pump();
      this.armTimer();
    }, this.cfg.batch.flushIntervalMs);
    this.timer.unref?.();
  }

  private takeBatch(): Entry[] | null {
    let scanned = 0;
    for (const [key, g] of this.groups) {
      const waiting = g.entries.length - g.head;
      if (waiting >= this.maxEvents || g.bytes >= this.maxBytes || this.draining || g.entries[g.head]!.seq <= this.flushBoundary) {
        const batch: Entry[] = [];
        let bytes = 0;
        while (g.head < g.entries.length && batch.length < this.maxEvents) {
          const e = g.entries[g.head]!;
          // +1 per item: the separator (comma or newline) the body adds between items.
          if (batch.length > 0 && bytes + e.item.bytes + 1 > this.maxBytes) break;
          batch.push(e);
          bytes += e.item.bytes + 1;
          g.head++;
        }
        g.bytes -= bytes - batch.length;
        if (g.head === g.entries.length) this.groups.delete(key);
        else if (g.head > 1024 && g.head * 2 > g.entries.length) {
          g.entries = g.entries.slice(g.head);
          g.head = 0;
        }
        return batch;
      }
      if (++scanned >= 256) break; // bound the scan; the flush timer gets the rest
    }
    return null;
  }

  private pump(): void {
    if (this.fatal !== null || this.signal.aborted) return;
    while (this.inFlight < this.cfg.concurrency) {
      const batch = this.takeBatch();
      if (batch === null) break;
      this.inFlight++;
      this.deliver(batch).then(
        () => this.afterBatch(),
        (e: unknown) => {
          const first = this.fatal === null;
          this.fatal = e as Error;
          this.log.error({ err: (e as Error).message }, 'dead letter failed; stopping');
          this.afterBatch();
          if (first) this.onFatal(e as Error);
        },
      );
    }
  }

  private afterBatch(): void {
    this.inFlight--;
    if (!this.full) for (const w of this.roomWaiters.splice(0)) w();
    if (this.stats.size === 0) for (const w of this.idleWaiters.splice(0)) w();
    if (this.fatal !== null) {
      this.release();
      return;
    }
    this.pump();
    this.armTimer();
  }

  private settle(entries: readonly Entry[], delivered: boolean): void {
    for (let i = 0; i < entries.length; i++) entries[i]!.ticket.settle();
    this.stats.size -= entries.length;
    if (delivered) this.stats.delivered += entries.length;
  }

  /** Dead-letters entries (awaiting the write) and settles them. */
  async deadLetterEntries(entries: readonly Entry[], reason: DeadLetterReason, status: number | null, body: string | null, attempts: number, error: string | null): Promise<void> {
    if (entries.length === 0) return;
    const letters: DeadLetter[] = entries.map((e) => ({
      destination: this.name,
      target: this.target.type,
      reason,
      status,
      responseBody: body,
      error,
      attempts,
      event: e.line,
    }));
    await this.deadLetter.write(letters);
    this.stats.deadLettered += entries.length;
    this.settle(entries, false);
  }

  private backoffMs(attempt: number, retryAfterMs: number | null): number {
    const r = this.cfg.retry;
    const base = Math.min(r.maxDelayMs, r.initialDelayMs * Math.pow(r.multiplier, attempt - 1));
    // "Equal jitter": half fixed, half random, so retries of many workers spread out but never collapse to 0.
    const jittered = base / 2 + (this.random() * base) / 2;
    if (retryAfterMs === null) return jittered;
    return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  }

  private async deliver(initial: Entry[]): Promise<void> {
    let entries = initial;
    let attempt = 0;
    let last: SendOutcome | null = null;
    while (entries.length > 0) {
      if (this.signal.aborted) return; // not settled: not acknowledged, read again after restart
      if (attempt >= this.cfg.retry.maxAttempts) {
        const l = last as Extract<SendOutcome, { kind: 'retry' }>;
        this.log.warn({ events: entries.length, status: l.status, attempts: attempt }, 'retries used up; dead-lettering');
        await this.deadLetterEntries(entries, 'retries_exhausted', l.status, l.status === null ? null : l.body, attempt, l.status === null ? l.body : null);
        return;
      }
      if (this.limiter.enabled) await this.limiter.take(entries.length, this.signal);
      attempt++;
      this.stats.requests++;
      const items = entries.map((e) => e.item);
      const outcome = await this.target.send(items, this.cfg.requestTimeoutMs);
      last = outcome;
      switch (outcome.kind) {
        case 'accepted':
          this.settle(entries, true);
          return;
        case 'rejected':
          this.log.warn({ events: entries.length, status: outcome.status }, 'destination refused a batch; dead-lettering');
          await this.deadLetterEntries(entries, 'rejected', outcome.status, outcome.body, attempt, null);
          return;
        case 'partial': {
          const refused: Entry[] = [];
          const rest: Entry[] = [];
          const done: Entry[] = [];
          const only = outcome.rest === 'retry' ? outcome.retryOnly : undefined;
          for (let i = 0; i < entries.length; i++) {
            if (outcome.rejected.has(i)) refused.push(entries[i]!);
            else if (only !== undefined && !only.has(i)) done.push(entries[i]!);
            else rest.push(entries[i]!);
          }
          this.settle(done, true);
          const reasons = [...new Set(outcome.rejected.values())].join('; ');
          await this.deadLetterEntries(refused, 'rejected', outcome.status, outcome.body, attempt, reasons);
          if (outcome.rest === 'accepted') {
            this.settle(rest, true);
            return;
          }
          entries = rest;
          if (outcome.rest === 'resend') {
            attempt--; // a resend without the refused events is not a failed attempt: each round removes at least one
            continue;
          }
          this.stats.retries++;
          await sleep(this.backoffMs(attempt, null), this.signal);
          continue;
        }
        case 'retry': {
          if (attempt >= this.cfg.retry.maxAttempts) continue;
          this.stats.retries++;
          const wait = this.backoffMs(attempt, outcome.retryAfterMs);
          this.log.debug({ status: outcome.status, attempt, waitMs: Math.round(wait) }, 'retrying batch');
          await sleep(wait, this.signal);
          continue;
        }
      }
    }
  }
}
