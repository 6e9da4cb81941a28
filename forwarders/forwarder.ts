/**
 * The forwarder: reads enriched events from a Source and hands each to every destination whose filter
 * keeps it. A source batch is acknowledged (batch.commit(), the Kinesis checkpoint) only when every
 * (event, destination) pair it produced was accepted by the destination or written to the dead letter.
 *
 *   source batch ──> for each line: parse (unparseable → dead letter)
 *                      for each destination: filter → build → transform → finalize ──> DestinationQueue.enqueue
 *                                                          (invalid / failed → dead letter)
 *                ──> BatchTicket(pending = pairs enqueued) ── every settle() ──> 0 ⇒ done
 *   done tickets are committed in source order per origin (shard): a commit covers everything before it.
 *   Reading continues while every pausing destination queue has room (bounded memory).
 *
 * Stopping: stop() (SIGTERM) stops taking new batches, drains the queues (deliveries and retries finish),
 * commits, then ends the source. abort() (second signal) stops at once: what is not settled is not committed.
 */
import type { Logger } from '../common/logger.js';
import type { Batch, Source } from '../streams/source.js';
import type { DestinationConfig, ForwardConfig } from './config.js';
import { parseDeadLetterLine, type DeadLetter, type DeadLetterSink } from './dead-letter.js';
import { DestinationQueue, type Settleable } from './destination-queue.js';
import { compileFilter, type EventPredicate } from './filter.js';
import { ForwardEvent } from './forward-event.js';
import type { ForwardTarget, PreparedItem } from './target.js';
import { SKIP, TransformFailure, type Transformer } from './transform.js';

export interface DestinationRuntime {
  readonly cfg: DestinationConfig;
  readonly filter: EventPredicate;
  readonly transform: Transformer | null;
  readonly target: ForwardTarget;
  readonly queue: DestinationQueue;
  /** Events the filter (or a JS transformation returning null) left out. */
  filtered: number;
  /** Events that matched and were handed to the queue or dead-lettered before it. */
  matched: number;
}

export interface ForwardSummary {
  read: number;
  unparseable: number;
  replaySkipped: number;
  committedBatches: number;
  /**
   * Over all destinations: events delivered, dead-lettered (unparseable lines included, counted once) and
   * filtered out. Each (event, destination) pair is in exactly one of them once the input is drained.
   */
  totals: { delivered: number; deadLettered: number; filtered: number };
  destinations: Record<string, { matched: number; filtered: number; delivered: number; deadLettered: number; retries: number; requests: number }>;
}

/** Dead-letter writes of the reader that may be in flight at once (each is one input batch's letters). */
const MAX_LETTER_WRITES = 4;

/** One source batch: settled when all its (event, destination) pairs are. */
class BatchTicket implements Settleable {
  pending = 1; // held by the reader until every pair is enqueued
  done = false;
  constructor(
    readonly batch: Batch,
    private readonly onDone: (t: BatchTicket) => void,
  ) {}
  settle(): void {
    if (--this.pending === 0) {
      this.done = true;
      this.onDone(this);
    }
  }
}

export class Forwarder {
  readonly destinations: DestinationRuntime[];
  read = 0;
  unparseable = 0;
  committedBatches = 0;
  private readonly inOrder = new Map<string, BatchTicket[]>();
  private commitChain: Promise<void> = Promise.resolve();
  private outstanding = 0;
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  private readonly stopped: Promise<void>;
  private resolveStopped!: () => void;
  private readonly hard = new AbortController();
  private fatal: Error | null = null;
  private readonly byName: Map<string, DestinationRuntime>;
  private letterWrites = 0;
  private letterWaiters: Array<() => void> = [];
  /** Replay: records kept unchanged because their destination is not replayed. */
  replaySkipped = 0;
  private readonly replayOnly: ReadonlySet<string> | null;

  constructor(
    cfg: Pick<ForwardConfig, 'destinations'>,
    targets: ReadonlyMap<string, ForwardTarget>,
    private readonly deadLetter: DeadLetterSink,
    private readonly log: Logger,
    /** Replay mode: records are dead-letter lines (`furrow forward replay`); null = forward enriched TSV. */
    private readonly replay: { only: ReadonlySet<string> | null } | null = null,
    /** The destinations' transformations, compiled (build.ts: `compileTransform`), by destination name. */
    transforms: ReadonlyMap<string, Transformer> = new Map(),
  ) {
    this.destinations = cfg.destinations.map((d, i) => {
      const where = `destinations[${i}]`;
      const target = targets.get(d.name)!;
      const transform = transforms.get(d.name) ?? null;
      if ((transform === null) !== (d.transform === null)) throw new Error(`${where}: transformation not compiled`);
      return {
        cfg: d,
        filter: compileFilter(d.filter, where),
        transform,
        target,
        queue: new DestinationQueue(d, target, deadLetter, log.child({ destination: d.name }), this.hard.signal, (e) => this.fail(e)),
        filtered: 0,
        matched: 0,
      };
    });
    this.stopped = new Promise((r) => (this.resolveStopped = r));
    this.byName = new Map(this.destinations.map((d) => [d.cfg.name, d]));
    this.replayOnly = replay?.only ?? null;
  }

  /** Graceful stop: no new batches; deliveries in flight finish. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.resolveStopped();
  }

  /** Immediate stop: nothing more is delivered or committed. */
  abort(): void {
    this.stop();
    this.hard.abort();
    for (const d of this.destinations) d.queue.release();
    for (const w of this.idleWaiters.splice(0)) w();
    for (const w of this.letterWaiters.splice(0)) w();
  }

  /** Reads the source to its end (or until stop()), then drains. Throws the dead-letter failure if one happened. */
  async run(source: Source): Promise<ForwardSummary> {
    const sourceStop = new AbortController();
    const stopWatcher = this.stopped.then(async () => {
      // Drain before ending the source: its leases are released only after our commits.
      await this.drainAll();
      sourceStop.abort();
    });
    try {
      await source.run((b) => this.onBatch(b, sourceStop.signal), sourceStop.signal);
    } finally {
      this.stop();
      await stopWatcher;
    }
    if (this.fatal) throw this.fatal;
    return this.summary();
  }

  summary(): ForwardSummary {
    const destinations: ForwardSummary['destinations'] = {};
    const totals = { delivered: 0, deadLettered: this.unparseable, filtered: 0 };
    for (const d of this.destinations) {
      const s = d.queue.stats;
      destinations[d.cfg.name] = { matched: d.matched, filtered: d.filtered, delivered: s.delivered, deadLettered: s.deadLettered, retries: s.retries, requests: s.requests };
      totals.delivered += s.delivered;
      totals.deadLettered += s.deadLettered;
      totals.filtered += d.filtered;
    }
    return { read: this.read, unparseable: this.unparseable, replaySkipped: this.replaySkipped, committedBatches: this.committedBatches, totals, destinations };
  }

  private async drainAll(): Promise<void> {
    await Promise.all(this.destinations.map((d) => d.queue.drain()));
    if (this.outstanding > 0 && !this.hard.signal.aborted && this.fatal === null) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.commitChain;
  }

  private async onBatch(batch: Batch, sourceSignal: AbortSignal): Promise<void> {
    if (this.stopping || this.fatal) {
      // Not processed and not committed: hold the source here until it is ended, so it cannot read (and later
      // commit) anything after this batch.
      await new Promise<void>((r) => (sourceSignal.aborted ? r() : sourceSignal.addEventListener('abort', () => r(), { once: true })));
      return;
    }
    try {
      await this.processBatch(batch);
    } catch (e) {
      // Per-event failures are dead letters (below); what still throws is a bug in the batch path. Stop loudly,
      // acknowledging nothing more: a batch whose ticket never settles would otherwise leave run() waiting on an
      // empty event loop, and the process would end with exit 0, silently.
      this.fail(e instanceof Error ? e : new Error(String(e)), 'internal error while processing an input batch');
    }
  }

  private async processBatch(batch: Batch): Promise<void> {
    const ticket = new BatchTicket(batch, (t) => this.onTicketDone(t));
    let list = this.inOrder.get(batch.origin);
    if (list === undefined) this.inOrder.set(batch.origin, (list = []));
    list.push(ticket);
    this.outstanding++;
    const letters: DeadLetter[] = [];
    const records = batch.records;
    const dests = this.destinations;
    const events: ForwardEvent[] = [];
    for (let r = 0; r < records.length; r++) {
      let line = records[r]!.toString('utf8');
      if (line.endsWith('\n')) line = line.slice(0, -1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.read++;
      if (this.replay) {
        const routed = this.replayLine(line, ticket, letters);
        if (routed !== undefined) await routed;
        continue;
      }
      let ev: ForwardEvent | string;
      try {
        ev = ForwardEvent.parse(line);
      } catch (e) {
        ev = `the line could not be read: ${errorText(e)}`;
      }
      if (typeof ev === 'string') {
        this.unparseable++;
        letters.push({ destination: null, target: null, reason: 'unparseable', status: null, responseBody: null, error: ev, attempts: 0, event: line });
        continue;
      }
      events.push(ev);
    }
    // Destination by destination (each keeps the input order): a JS transformation then runs once per batch.
    for (let i = 0; i < dests.length && events.length > 0; i++) {
      const d = dests[i]!;
      const kept: ForwardEvent[] = [];
      for (let e = 0; e < events.length; e++) {
        let keep: boolean;
        try {
          keep = d.filter(events[e]!);
        } catch (err) {
          d.matched++;
          letters.push(this.letter(d, 'invalid', `the filter could not read the event: ${errorText(err)}`, events[e]!.line));
          continue;
        }
        if (keep) kept.push(events[e]!);
        else d.filtered++;
      }
      if (kept.length > 0) {
        const routed = this.route(d, kept, ticket, letters);
        if (routed !== undefined) await routed; // a JS transformation answers asynchronously
      }
    }
    if (letters.length > 0) {
      // The batch's own dead letters are one more thing its acknowledgement waits for; the reader does not wait
      // for the disk (group commit merges concurrent writes), but at most MAX_LETTER_WRITES batches' worth may be
      // on their way at once.
      ticket.pending++;
      this.letterWrites++;
      this.deadLetter.write(letters).then(
        () => {
          for (const l of letters) {
            const d = l.destination === null ? undefined : this.byName.get(l.destination);
            if (d) d.queue.stats.deadLettered++;
          }
          this.letterWriteDone();
          ticket.settle();
        },
        (e: unknown) => {
          this.letterWriteDone();
          this.fail(e instanceof Error ? e : new Error(String(e)));
        },
      );
      if (this.letterWrites >= MAX_LETTER_WRITES) await new Promise<void>((r) => this.letterWaiters.push(r));
      if (this.fatal) return;
    }
    ticket.settle(); // the reader's hold
    // Back-pressure: wait until every pausing destination has room (a destination that sheds never blocks).
    for (const d of dests) if (!d.queue.shedsWhenFull) await d.queue.waitForRoom();
    for (const d of dests) if (d.queue.fatal) return this.fail(d.queue.fatal);
  }

  /** Events to one destination: build → transform → finalize → enqueue (or a dead letter), in order. */
  private route(d: DestinationRuntime, evs: readonly ForwardEvent[], ticket: BatchTicket, letters: DeadLetter[]): void | Promise<void> {
    if (d.transform === null && d.target.direct !== undefined) {
      for (let i = 0; i < evs.length; i++) {
        d.matched++;
        let item: PreparedItem | string;
        try {
          item = d.target.direct(evs[i]!);
        } catch (e) {
          item = `the event could not be prepared for this target: ${errorText(e)}`;
        }
        if (typeof item === 'string') letters.push(this.letter(d, 'invalid', item, evs[i]!.line));
        else this.enqueue(d, item, evs[i]!.line, ticket, letters);
      }
      return;
    }
    const built: Array<Record<string, unknown> | string> = new Array(evs.length);
    for (let i = 0; i < evs.length; i++) {
      try {
        built[i] = d.target.build(evs[i]!);
      } catch (e) {
        built[i] = `the event could not be prepared for this target: ${errorText(e)}`;
      }
    }
    if (d.transform === null) return this.deliver(d, evs, built, built, ticket, letters);
    const ok: Array<Record<string, unknown>> = [];
    const okEvs: ForwardEvent[] = [];
    for (let i = 0; i < evs.length; i++) {
      const b = built[i]!;
      if (typeof b !== 'string') {
        ok.push(b);
        okEvs.push(evs[i]!);
      }
    }
    const merge = (transformed: readonly unknown[]): void => {
      const merged: unknown[] = new Array(evs.length);
      for (let i = 0, k = 0; i < evs.length; i++) merged[i] = typeof built[i] === 'string' ? built[i] : transformed[k++];
      this.deliver(d, evs, built, merged, ticket, letters);
    };
    // The runner reports a script's own errors as TransformFailure; a throw out of it fails the whole call.
    const failAll = (e: unknown): void => {
      const failure = new TransformFailure(`the transformation failed: ${errorText(e)}`);
      merge(ok.map(() => failure));
    };
    let transformed: readonly unknown[] | Promise<readonly unknown[]>;
    try {
      transformed = ok.length === 0 ? [] : d.transform.many(ok, okEvs);
    } catch (e) {
      return failAll(e);
    }
    return transformed instanceof Promise ? transformed.then(merge, failAll) : merge(transformed);
  }

  /** The built (and transformed) events of route(), finalized and enqueued or dead-lettered, in order. */
  private deliver(d: DestinationRuntime, evs: readonly ForwardEvent[], built: ReadonlyArray<Record<string, unknown> | string>, results: readonly unknown[], ticket: BatchTicket, letters: DeadLetter[]): void {
    for (let i = 0; i < evs.length; i++) {
      const ev = evs[i]!;
      const line = ev.line;
      const r = results[i];
      if (typeof built[i] === 'string') {
        d.matched++;
        letters.push(this.letter(d, 'invalid', built[i] as string, line));
        continue;
      }
      if (r === SKIP) {
        d.filtered++;
        continue;
      }
      d.matched++;
      if (r instanceof TransformFailure) {
        letters.push(this.letter(d, 'transform_failed', r.reason, line));
        continue;
      }
      let item: PreparedItem | string;
      try {
        item = d.target.finalize(r, ev);
      } catch (e) {
        // e.g. a payload nested too deep to serialize (RangeError from JSON.stringify)
        item = `the payload could not be serialized for this target: ${errorText(e)}`;
      }
      if (typeof item === 'string') {
        letters.push(this.letter(d, 'invalid', item, line));
        continue;
      }
      this.enqueue(d, item, line, ticket, letters);
    }
  }

  private enqueue(d: DestinationRuntime, item: PreparedItem, line: string, ticket: BatchTicket, letters: DeadLetter[]): void {
    if (item.bytes > d.queue.maxItemBytes) {
      letters.push(this.letter(d, 'invalid', `event is ${item.bytes} bytes for this target, over its ${d.queue.maxItemBytes}-byte request limit`, line));
      return;
    }
    if (d.queue.full && d.queue.shedsWhenFull) {
      letters.push(this.letter(d, 'queue_full', `queue full (${d.cfg.queue.maxEvents} events)`, line));
      return;
    }
    ticket.pending++;
    d.queue.enqueue(item, line, ticket);
  }

  /**
   * Replay: a dead-letter line goes back to the destination it names, without its filter (it matched once).
   * What cannot be replayed (unparseable input, a destination not in this config or not selected) is written to
   * the dead letter again unchanged, so a replay never loses a record.
   */
  private replayLine(line: string, ticket: BatchTicket, letters: DeadLetter[]): void | Promise<void> {
    const rec = parseDeadLetterLine(line);
    if (typeof rec === 'string') {
      this.unparseable++;
      letters.push({ destination: null, target: null, reason: 'unparseable', status: null, responseBody: null, error: `not a dead-letter record: ${rec}`, attempts: 0, event: line });
      return;
    }
    const keep = (): void => {
      this.replaySkipped++;
      letters.push({ destination: rec.destination, target: rec.target, reason: rec.reason, status: rec.status, responseBody: rec.response_body, error: rec.error, attempts: rec.attempts, event: rec.event });
    };
    const d = rec.destination === null ? undefined : this.byName.get(rec.destination);
    if (d === undefined || (this.replayOnly !== null && !this.replayOnly.has(d.cfg.name))) return keep();
    const ev = ForwardEvent.parse(rec.event);
    if (typeof ev === 'string') return keep();
    return this.route(d, [ev], ticket, letters);
  }

  private letterWriteDone(): void {
    this.letterWrites--;
    for (const w of this.letterWaiters.splice(0)) w();
  }

  private letter(d: DestinationRuntime, reason: DeadLetter['reason'], error: string, line: string): DeadLetter {
    return { destination: d.cfg.name, target: d.target.type, reason, status: null, responseBody: null, error, attempts: 0, event: line };
  }

  private fail(e: Error, what = 'dead letter unwritable'): void {
    if (this.fatal) return;
    this.fatal = e;
    this.log.error({ err: e.message }, `forwarder stopping: ${what}; nothing more is acknowledged`);
    this.abort();
  }

  private onTicketDone(t: BatchTicket): void {
    const list = this.inOrder.get(t.batch.origin)!;
    // Commit every done ticket at the front, in order (a commit covers all earlier records of the origin).
    const ready: BatchTicket[] = [];
    while (list.length > 0 && list[0]!.done) ready.push(list.shift()!);
    if (ready.length === 0) return;
    const last = ready[ready.length - 1]!;
    this.commitChain = this.commitChain.then(async () => {
      if (this.hard.signal.aborted) return;
      try {
        // Kinesis: checkpointing the last batch covers the earlier ones of the shard; commit each anyway,
        // cheap for file sources and correct for any source that tracks batches individually.
        for (const b of ready) if (b !== last) await b.batch.commit();
        await last.batch.commit();
        this.committedBatches += ready.length;
      } catch (e) {
        this.log.warn({ origin: t.batch.origin, err: (e as Error).message }, 'commit failed; the batch will be read again');
      }
      this.outstanding -= ready.length;
      if (this.outstanding === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
