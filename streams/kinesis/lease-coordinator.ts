/**
 * The lease coordinator: which shards this worker processes. KCL 2.x's worker-side protocol (renewer + taker),
 * so furrow workers on any number of boxes cooperate through one DynamoDB table, and a KCL 2.x worker with the
 * same application name could join them. Steals are graceful hand-offs in KCL 3.x's form (`checkpointOwner`).
 *
 * Life cycle of one lease, seen from one worker:
 *
 *              taker round: unowned or expired            taker round: steal (busiest worker, 1 per round)
 *   (not held) ───────────────────────────────▶ HELD ◀─────────────────────────────── (not held)
 *       ▲          readable at once                │   leaseOwner = me, checkpointOwner = victim: readable once
 *       │                                          │   the victim let go (checkpointOwner removed), or after one
 *       │                                          │   lease duration (then we remove checkpointOwner ourselves)
 *       │                                          │ renewer: leaseCounter+1 every renewInterval
 *       │   renew/checkpoint refused, row names ───┤
 *       │   us as checkpointOwner                  └──▶ DRAINING: no new batch; the batch in flight finishes and
 *       │                                               checkpoints (allowed by checkpointOwner), then we remove
 *       │                                               checkpointOwner: the thief starts from that checkpoint
 *       │   renew/checkpoint refused otherwise ────▶ lost: the reader stops
 *       │   no successful renew for leaseDuration ─▶ lost (DynamoDB unreachable)
 *       └────────── release(): evict ◀──────────── graceful shutdown or SHARD_END (checkpointed first)
 *
 * Expiry is observer-local, as in KCL: each taker scan records, per lease, the local monotonic time its
 * leaseCounter was last seen to change; a lease is expired when that is more than leaseDuration ago. No clocks
 * are compared across machines.
 *
 * No two writers per shard: the holder delivers a batch only while its last successful renewal was *sent* less
 * than (leaseDuration - renewInterval) ago and it is not draining; a thief reads a stolen lease only once the
 * victim let go or one lease duration after the steal landed. The victim's last renewal was sent before the steal
 * landed, so even if it never answers, its window closes at least renewInterval before the thief's first read.
 * (KCL 2.x reads a stolen shard at once and both workers process it until the victim's next renewal.) An expired
 * lease is readable at once: its owner's window closed before the lease could be seen as expired.
 *
 * Taker round (KCL's DynamoDBLeaseTaker): scan; active = leases not at SHARD_END; workers = owners of unexpired
 * active leases + me; target = 1 if workers >= leases else ceil(leases / workers) (capped by maxLeasesForWorker);
 * take up to (target - mine) available leases at random; if none is available, steal from the most loaded worker
 * if it holds >= target: min(needed, its - target) leases, or 1 when that is 0 and needed > 1, at most
 * maxLeasesToStealAtOneTime (1); a lease already being handed off is not stolen again. KCL's "very old lease"
 * priority rule is not implemented (not needed for balance).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../common/logger.js';
import { SHARD_END, type Lease } from './lease.js';
import type { LeaseTable } from './lease-table.js';
import type { LeaseMetrics } from './lease-metrics.js';

export interface LeaseCoordinatorOptions {
  table: LeaseTable;
  workerId: string;
  /** KCL failoverTimeMillis. Default 10 000. */
  leaseDurationMs?: number;
  /** Default leaseDuration/3 - 25 (KCL). */
  renewIntervalMs?: number;
  /** Default leaseDuration/3 - 25 (KCL uses 2 x (leaseDuration + 25), i.e. slower failover; see docs/scale.md). */
  takerIntervalMs?: number;
  /** Default Infinity. */
  maxLeasesForWorker?: number;
  /** Default 1. */
  maxLeasesToStealAtOneTime?: number;
  logger: Logger;
  metrics: LeaseMetrics | null;
  /** Monotonic clock in ms (tests may inject). */
  now?: () => number;
}

/** A lease this worker holds; `token` changes each time the lease is (re)acquired (KCL's concurrency token). */
export interface HeldLease {
  readonly leaseKey: string;
  readonly token: string;
  /** Monotonic time from which the shard may be read (later than now after a steal). */
  readonly readableAt: number;
  /** The lease as last written by this worker. */
  readonly lease: Lease;
}

interface Held {
  leaseKey: string;
  token: string;
  readableAt: number;
  lease: Lease;
  /** Monotonic time the last *successful* renewal (or the take) was sent. */
  renewSentAt: number;
  chain: Promise<unknown>;
  /** Stolen from us with a hand-off: we may only finish the in-flight batch, checkpoint it and let go. */
  draining: boolean;
  drainingSince: number;
  /** We stole it with a hand-off: readable when the previous owner let go, or at this deadline at the latest. */
  handoffDeadline: number | null;
}

interface Observation {
  counter: number;
  owner: string | null;
  changedAt: number;
}

export type CheckpointOutcome = 'ok' | 'lost' | 'error';

export class LeaseCoordinator {
  readonly workerId: string;
  readonly leaseDurationMs: number;
  readonly renewIntervalMs: number;
  readonly takerIntervalMs: number;
  /** Called when a lease is acquired (after the take landed). */
  onAcquired: (held: HeldLease) => void = () => {};
  /** Called when a held lease is lost (not when released). */
  onLost: (leaseKey: string, token: string) => void = () => {};

  private readonly table: LeaseTable;
  private readonly log: Logger;
  private readonly metrics: LeaseMetrics | null;
  private readonly now: () => number;
  private readonly maxLeasesForWorker: number;
  private readonly maxSteal: number;
  private readonly held = new Map<string, Held>();
  private readonly observed = new Map<string, Observation>();
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private acquiring = true;
  private renewing: Promise<void> = Promise.resolve();
  private taking: Promise<void> = Promise.resolve();

  constructor(opts: LeaseCoordinatorOptions) {
    this.table = opts.table;
    this.workerId = opts.workerId;
    this.leaseDurationMs = opts.leaseDurationMs ?? 10_000;
    this.renewIntervalMs = opts.renewIntervalMs ?? Math.max(1, Math.floor(this.leaseDurationMs / 3) - 25);
    this.takerIntervalMs = opts.takerIntervalMs ?? Math.max(1, Math.floor(this.leaseDurationMs / 3) - 25);
    this.maxLeasesForWorker = opts.maxLeasesForWorker ?? Infinity;
    this.maxSteal = opts.maxLeasesToStealAtOneTime ?? 1;
    this.log = opts.logger;
    this.metrics = opts.metrics;
    this.now = opts.now ?? (() => performance.now());
    if (!(this.renewIntervalMs < this.leaseDurationMs / 2)) {
      throw new RangeError(`renewIntervalMs (${this.renewIntervalMs}) must be under half of leaseDurationMs (${this.leaseDurationMs})`);
    }
  }

  /** Worst-case time from a worker's death to a peer taking its leases (see docs/scale.md). */
  get failoverBoundMs(): number {
    return this.leaseDurationMs + 2 * this.takerIntervalMs;
  }

  /** Runs the first taker round, then renews and takes on timers until stop(). */
  async start(): Promise<void> {
    this.running = true;
    await this.takerRound();
    const loop = (interval: number, round: () => Promise<void>) => {
      const tick = () => {
        if (!this.running) return;
        round().finally(() => {
          if (this.running) this.timers.push(setTimeout(tick, interval).unref());
        });
      };
      this.timers.push(setTimeout(tick, interval).unref());
    };
    loop(this.renewIntervalMs, () => (this.renewing = this.renewRound()));
    loop(this.takerIntervalMs, () => (this.taking = this.takerRound()));
  }

  /** Stops taking and renewing (leases held stay held until released or expired). */
  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    await Promise.allSettled([this.renewing, this.taking]);
  }

  /** Stops acquiring new leases (shutdown) while held ones keep being renewed. */
  pauseTaking(): void {
    this.acquiring = false;
  }

  /** True while the lease is held with this token and not being handed off (lost, released, draining: false). */
  holds(leaseKey: string, token: string): boolean {
    const h = this.held.get(leaseKey);
    return h !== undefined && h.token === token && !h.draining;
  }

  /** True while this token may still checkpoint: held, or draining after a hand-off steal. */
  owns(leaseKey: string, token: string): boolean {
    return this.held.get(leaseKey)?.token === token;
  }

  isDraining(leaseKey: string, token: string): boolean {
    const h = this.held.get(leaseKey);
    return h !== undefined && h.token === token && h.draining;
  }

  /** Monotonic time from which the lease may be read (Infinity while a hand-off is pending); NaN if not held. */
  readableAt(leaseKey: string, token: string): number {
    const h = this.held.get(leaseKey);
    return h !== undefined && h.token === token ? h.readableAt : Number.NaN;
  }

  /** The thief's reader polls this while waiting: reads the row and completes the hand-off if the victim let go. */
  async pollHandoff(leaseKey: string, token: string): Promise<void> {
    const h = this.held.get(leaseKey);
    if (h === undefined || h.token !== token || h.handoffDeadline === null) return;
    await this.serialize(h, async () => {
      if (this.held.get(leaseKey) !== h || h.handoffDeadline === null) return;
      try {
        const cur = await this.table.get(leaseKey);
        if (cur === null || cur.leaseOwner !== this.workerId) return; // the renewer will find out
        await this.checkHandoff(h, cur);
      } catch (e) {
        this.log.warn({ err: e, shard: leaseKey }, 'could not read the lease during a hand-off; the renewer will retry');
      }
    });
  }

  /** Leases stolen from us with a hand-off whose reader has not let go yet. */
  drainingLeases(): HeldLease[] {
    const out: HeldLease[] = [];
    for (const h of this.held.values()) if (h.draining) out.push({ leaseKey: h.leaseKey, token: h.token, readableAt: h.readableAt, lease: h.lease });
    return out;
  }

  heldLeases(): HeldLease[] {
    const out: HeldLease[] = [];
    for (const h of this.held.values()) if (!h.draining) out.push({ leaseKey: h.leaseKey, token: h.token, readableAt: h.readableAt, lease: h.lease });
    return out;
  }

  /** True while this worker may deliver records of the lease to the processor (see "No two writers" above). */
  isHeld(leaseKey: string, token: string): boolean {
    const h = this.held.get(leaseKey);
    return h !== undefined && h.token === token && !h.draining && this.now() < h.renewSentAt + this.leaseDurationMs - this.renewIntervalMs;
  }

  /** Writes a checkpoint, conditional on still holding the lease with this token. */
  checkpoint(leaseKey: string, token: string, checkpoint: string, subSequenceNumber = 0, childShardIds?: readonly string[]): Promise<CheckpointOutcome> {
    const h = this.held.get(leaseKey);
    if (h === undefined || h.token !== token) {
      this.metrics?.checkpoints.inc({ app: this.table.name, result: 'lost' });
      return Promise.resolve('lost');
    }
    return this.serialize(h, async (): Promise<CheckpointOutcome> => {
      if (this.held.get(leaseKey) !== h) return 'lost';
      let outcome: CheckpointOutcome;
      try {
        if (!h.draining) {
          const updated = await this.table.checkpoint(h.lease, this.workerId, checkpoint, subSequenceNumber, childShardIds);
          if (updated !== null) h.lease = updated;
          else await this.changedHands(h, 'checkpoint rejected: the lease changed hands');
          if (updated !== null) {
            outcome = 'ok';
            this.metrics?.checkpoints.inc({ app: this.table.name, result: outcome });
            return outcome;
          }
        }
        // Draining (now or just found out): the previous owner's last checkpoint, allowed by checkpointOwner.
        if (h.draining && this.held.get(leaseKey) === h) {
          outcome = (await this.table.handoffCheckpoint(leaseKey, this.workerId, checkpoint, subSequenceNumber, childShardIds)) ? 'ok' : 'lost';
          if (outcome === 'lost') this.drop(h, 'hand-off checkpoint refused: the new owner stopped waiting');
        } else outcome = 'lost';
      } catch (e) {
        this.log.warn({ err: e, shard: leaseKey }, 'checkpoint write failed; the next commit will retry');
        outcome = 'error';
      }
      this.metrics?.checkpoints.inc({ app: this.table.name, result: outcome });
      return outcome;
    });
  }

  /** Gives a held lease back (graceful shutdown, SHARD_END): peers may take it on their next round. */
  async release(leaseKey: string, token: string): Promise<boolean> {
    const h = this.held.get(leaseKey);
    if (h === undefined || h.token !== token) return false;
    return this.serialize(h, async () => {
      if (this.held.get(leaseKey) !== h) return false;
      this.held.delete(leaseKey);
      this.updateHeldGauge();
      try {
        if (h.draining) {
          const ok = await this.table.endHandoff(leaseKey, this.workerId);
          this.log.info({ shard: leaseKey, handedOff: ok }, ok ? 'lease handed off to its new owner' : 'hand-off already given up by the new owner');
          return ok;
        }
        const ok = await this.table.evict(h.lease, this.workerId);
        this.log.info({ shard: leaseKey, released: ok }, ok ? 'lease released' : 'lease release found it already taken');
        return ok;
      } catch (e) {
        this.log.warn({ err: e, shard: leaseKey }, 'lease release failed; it will expire instead');
        return false;
      }
    });
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.held.values()].map((h) => this.release(h.leaseKey, h.token)));
  }

  /** One renewer pass over every held lease. */
  async renewRound(): Promise<void> {
    await Promise.all(
      [...this.held.values()].map((h) =>
        this.serialize(h, async () => {
          if (this.held.get(h.leaseKey) !== h) return;
          if (h.draining) {
            // The reader did not let go within a lease duration: the new owner reads anyway by now.
            if (this.now() - h.drainingSince > this.leaseDurationMs) this.drop(h, 'hand-off not finished within a lease duration');
            return;
          }
          const sentAt = this.now();
          try {
            const renewed = await this.table.renew(h.lease, this.workerId);
            if (renewed !== null) {
              h.lease = renewed;
              h.renewSentAt = sentAt;
              if (h.handoffDeadline !== null) await this.checkHandoff(h, renewed);
            } else {
              await this.changedHands(h, 'renewal rejected: another worker took the lease');
            }
          } catch (e) {
            if (this.now() > h.renewSentAt + this.leaseDurationMs) this.lose(h, 'no successful renewal for a whole lease duration');
            else this.log.warn({ err: e, shard: h.leaseKey }, 'lease renewal failed; retrying');
          }
        }),
      ),
    );
  }

  /** One taker pass: scan, note counter changes, take or steal toward the target. */
  async takerRound(): Promise<void> {
    let leases: Lease[];
    try {
      leases = await this.table.list();
    } catch (e) {
      this.log.warn({ err: e, table: this.table.name }, 'lease table scan failed; retrying next round');
      return;
    }
    const seenAt = this.now();
    const keys = new Set<string>();
    for (const l of leases) {
      keys.add(l.leaseKey);
      const o = this.observed.get(l.leaseKey);
      if (o === undefined) {
        // KCL: an unowned lease was never renewed (available now); an owned one counts as renewed at first sight.
        this.observed.set(l.leaseKey, { counter: l.leaseCounter, owner: l.leaseOwner, changedAt: l.leaseOwner === null ? -Infinity : seenAt });
      } else if (o.counter !== l.leaseCounter || o.owner !== l.leaseOwner) {
        o.counter = l.leaseCounter;
        o.owner = l.leaseOwner;
        o.changedAt = seenAt;
      }
    }
    for (const k of this.observed.keys()) if (!keys.has(k)) this.observed.delete(k);

    const active = leases.filter((l) => l.checkpoint !== SHARD_END);
    const available: Lease[] = [];
    const owned = new Map<string, Lease[]>();
    let mine = 0;
    for (const l of active) {
      const h = this.held.get(l.leaseKey);
      if (h !== undefined && !h.draining) {
        mine++;
        continue;
      }
      const expired = l.leaseOwner === null || seenAt - (this.observed.get(l.leaseKey)?.changedAt ?? seenAt) > this.leaseDurationMs;
      if (expired) {
        available.push(l);
      } else {
        const list = owned.get(l.leaseOwner!) ?? [];
        list.push(l);
        owned.set(l.leaseOwner!, list);
      }
    }
    owned.delete(this.workerId);
    const workers = owned.size + 1;
    const target = Math.min(active.length <= workers ? 1 : Math.ceil(active.length / workers), this.maxLeasesForWorker);
    const needed = target - mine;
    if (needed <= 0 || !this.running || !this.acquiring) return;

    if (available.length > 0) {
      // A take lost to a faster peer moves on to the next available lease.
      let got = 0;
      for (const l of shuffle(available)) {
        if (got >= needed || !this.acquiring) break;
        if (await this.take(l, false)) got++;
      }
      return;
    }
    // The most loaded worker that has a lease not already being handed off.
    let busiest: Lease[] = [];
    for (const list of owned.values()) if (list.length > busiest.length && list.some((l) => l.checkpointOwner === null)) busiest = list;
    if (busiest.length < target) return;
    let n = Math.min(needed, busiest.length - target);
    if (n === 0 && needed > 1) n = 1;
    n = Math.min(n, this.maxSteal);
    const victims = shuffle(busiest.filter((l) => l.checkpointOwner === null)).slice(0, n);
    for (const l of victims) await this.take(l, true);
  }

  private async take(lease: Lease, steal: boolean): Promise<boolean> {
    let taken: Lease | null;
    try {
      // A steal is a hand-off (KCL 3.x style): checkpointOwner = the victim, who finishes its batch and lets go.
      taken = await this.table.take(lease, this.workerId, steal && lease.leaseOwner !== null ? lease.leaseOwner : undefined);
    } catch (e) {
      this.log.warn({ err: e, shard: lease.leaseKey }, 'lease take failed');
      return false;
    }
    if (taken === null) return false; // someone else changed it since our scan: fine
    const at = this.now();
    const h: Held = {
      leaseKey: taken.leaseKey,
      token: randomUUID(),
      lease: taken,
      renewSentAt: at,
      readableAt: steal ? Infinity : at,
      chain: Promise.resolve(),
      draining: false,
      drainingSince: 0,
      handoffDeadline: steal ? at + this.leaseDurationMs : null,
    };
    // A stale handle from a lease lost earlier is replaced: its consumer sees the token change.
    this.held.set(h.leaseKey, h);
    const o = this.observed.get(h.leaseKey);
    if (o !== undefined) Object.assign(o, { counter: taken.leaseCounter, owner: this.workerId, changedAt: at });
    this.updateHeldGauge();
    this.metrics?.leasesAcquired.inc({ app: this.table.name, how: steal ? 'steal' : 'take' });
    this.log.info(
      { shard: h.leaseKey, from: lease.leaseOwner, how: steal ? 'steal' : 'take', checkpoint: taken.checkpoint, held: this.held.size },
      steal ? 'lease stolen (reading after the hand-off)' : 'lease taken',
    );
    this.onAcquired({ leaseKey: h.leaseKey, token: h.token, readableAt: h.readableAt, lease: h.lease });
    return true;
  }

  /** A renewal or checkpoint was refused: re-read to tell a hand-off (drain) from a plain loss. */
  private async changedHands(h: Held, reason: string): Promise<void> {
    let cur: Lease | null = null;
    try {
      cur = await this.table.get(h.leaseKey);
    } catch {
      // unknown: treat as lost
    }
    if (cur !== null && cur.leaseOwner !== this.workerId && cur.checkpointOwner === this.workerId && this.held.get(h.leaseKey) === h) {
      h.draining = true;
      h.drainingSince = this.now();
      this.updateHeldGauge();
      this.metrics?.leasesLost.inc({ app: this.table.name });
      this.log.info({ shard: h.leaseKey, to: cur.leaseOwner }, 'lease stolen with a hand-off: finishing the batch in flight');
      return;
    }
    this.lose(h, reason);
  }

  /** The thief's side of a hand-off: readable once the previous owner let go, or after a lease duration. */
  private async checkHandoff(h: Held, current: Lease): Promise<void> {
    if (current.checkpointOwner === null) {
      h.readableAt = this.now();
      h.handoffDeadline = null;
      this.log.info({ shard: h.leaseKey }, 'hand-off complete');
    } else if (h.handoffDeadline !== null && this.now() >= h.handoffDeadline) {
      const cleared = await this.table.cancelHandoff(h.leaseKey, this.workerId);
      if (cleared === null) return this.lose(h, 'lease changed hands during the hand-off');
      h.lease = cleared;
      h.readableAt = this.now();
      h.handoffDeadline = null;
      this.log.info({ shard: h.leaseKey, from: current.checkpointOwner }, 'hand-off not answered within a lease duration: reading anyway');
    }
  }

  /** Forgets a draining lease without writing (its new owner takes care of the row). */
  private drop(h: Held, reason: string): void {
    if (this.held.get(h.leaseKey) !== h) return;
    this.held.delete(h.leaseKey);
    this.updateHeldGauge();
    this.log.warn({ shard: h.leaseKey, reason }, 'lease dropped');
    this.onLost(h.leaseKey, h.token);
  }

  private lose(h: Held, reason: string): void {
    if (this.held.get(h.leaseKey) !== h) return;
    this.held.delete(h.leaseKey);
    this.updateHeldGauge();
    this.metrics?.leasesLost.inc({ app: this.table.name });
    this.log.warn({ shard: h.leaseKey, reason }, 'lease lost');
    this.onLost(h.leaseKey, h.token);
  }

  private updateHeldGauge(): void {
    let n = 0;
    for (const h of this.held.values()) if (!h.draining) n++;
    this.metrics?.leasesHeld.set({ app: this.table.name, worker: this.workerId }, n);
  }

  /** Renewals, checkpoints and releases of one lease run one at a time (each expects the previous counter). */
  private serialize<T>(h: Held, fn: () => Promise<T>): Promise<T> {
    const run = h.chain.then(fn, fn);
    h.chain = run.catch(() => {});
    return run;
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}
