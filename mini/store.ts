/**
 * mini's in-memory event store: what the enricher's good and bad streams deliver, kept for the Micro API and UI.
 *
 *   good stream (enriched TSV) --addGood()--> GoodRecord {event, eventType, schema, contexts, rawEvent}
 *   bad stream (bad-row JSON)  --addBad()---> BadRecord  {type, message, errors, collectorPayload, rawEvent}
 *                                                 |
 *                 every add: index by event_id, count schemas and bad-row groups, wake waiters, notify watchers
 *
 * Records are kept in arrival order (the API answers newest first, as Micro does). At most `maxEvents`
 * records are kept; past that the oldest are dropped in chunks of 1 % (and counted in `evicted`), so a long
 * session cannot exhaust memory. Nothing the streams deliver is lost silently: an enriched line that does not parse is kept
 * as a bad record of type `unparseable_enriched_event`.
 *
 * With `persistence` (mini --data, store-journal.ts) every add is also handed to it, in the same synchronous turn
 * (no API answer can show a record it has not been given), and reset() clears it; restore() refills the store
 * from it at start, with each record's original time and raw event.
 */
import { parseEnrichedTsv, type EnrichedEvent } from '../formats/enriched-event.js';
import { parseBadRow, type ParsedBadRow } from './bad-events.js';
import { parseContexts, toLossyJson, toSdkEvent, tsvTimestampToMillis } from './event-json.js';
import type { MicroCollectorPayload, MicroRawEvent } from './raw-events.js';
import type { RawTap } from './raw-tap.js';

export interface GoodRecord {
  readonly valid: true;
  readonly seq: number;
  /** When mini stored it (ms since epoch). */
  readonly receivedAt: number;
  readonly event: EnrichedEvent;
  readonly eventId: string | null;
  readonly eventType: string | null;
  /** `iglu:vendor/name/format/version` of the event (every event type has one), or null. */
  readonly schema: string | null;
  /** Schema URIs of the tracker-sent contexts (not the derived ones), in order. */
  readonly contexts: string[];
  readonly derivedContexts: string[];
  readonly rawEvent: MicroRawEvent | null;
  readonly collectorTstampMs: number;
  lossy: Record<string, unknown> | null;
}

export interface BadRecord {
  readonly valid: false;
  readonly seq: number;
  readonly receivedAt: number;
  readonly bad: ParsedBadRow;
  readonly eventId: string | null;
  readonly collectorPayload: MicroCollectorPayload | null;
  readonly collectorTstampMs: number;
  lossy: Record<string, unknown> | null;
}

export type StoredRecord = GoodRecord | BadRecord;

export interface Summary {
  total: number;
  good: number;
  bad: number;
}

export interface FiltersGood {
  event_type?: string | null;
  schema?: string | null;
  contexts?: string[] | null;
  limit?: number | null;
}

export interface FiltersBad {
  vendor?: string | null;
  version?: string | null;
  limit?: number | null;
}

export interface WaitCondition {
  /** Wait until at least this many events (good + bad) are stored. */
  count?: number;
  good?: number;
  bad?: number;
  /** Wait until every one of these event ids has been stored (good or bad). */
  eventIds?: string[];
}

export interface WaitResult {
  ok: boolean;
  summary: Summary;
  /** Records of the awaited event ids that are present. */
  found: StoredRecord[];
  missing: string[];
}

export interface SchemaUse {
  schema: string;
  event: number;
  context: number;
  derived: number;
  failed: number;
}

export interface BadGroup {
  type: string;
  message: string;
  count: number;
  lastSeen: number;
  /** seq of the newest bad record of the group. */
  latestSeq: number;
}

/** Where stored records also go (mini --data: store-journal.ts). */
export interface StorePersistence {
  /**
   * A record was stored from this stream line (`kind`: which add took it); `rec` holds what the tap gave it;
   * `kept`: how many records the store holds now (older ones were evicted by maxEvents).
   */
  added(kind: 'good' | 'bad', line: string, rec: StoredRecord, kept: number): void;
  /** The store was cleared (/micro/reset). */
  reset(): void;
}

/** A record as persisted: its stream line, when it was stored, and what the tap had for it. */
export interface RestoredRecord {
  kind: 'good' | 'bad';
  line: string;
  receivedAt: number;
  /** The good event's raw event, or the collector payload the tap found for a bad row (null: none). */
  tapped: MicroRawEvent | MicroCollectorPayload | null;
}

export interface StoreOptions {
  maxEvents?: number;
  tap?: RawTap | null;
  now?: () => number;
  persistence?: StorePersistence | null;
}

interface Waiter {
  cond: WaitCondition;
  resolve(r: WaitResult): void;
  timer: NodeJS.Timeout;
}

type SchemaKind = 'event' | 'context' | 'derived' | 'failed';

export class MiniStore {
  readonly maxEvents: number;
  private readonly tap: RawTap | null;
  private readonly now: () => number;
  private persistence: StorePersistence | null;
  /** Set while restore() replays: records then take these instead of the tap's and the clock's. */
  private restoring: RestoredRecord | null = null;
  private good: GoodRecord[] = [];
  private bad: BadRecord[] = [];
  /** event_id → its records in arrival order; `head` skips evicted ones (a repeated eid stays O(1) to evict). */
  private readonly byEventId = new Map<string, { list: StoredRecord[]; head: number }>();
  private readonly schemaUse = new Map<string, SchemaUse>();
  private readonly badGroups = new Map<string, BadGroup>();
  private readonly waiters = new Set<Waiter>();
  private readonly watchers = new Set<(s: Summary) => void>();
  private notifyTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  /** Records dropped because of maxEvents since the last reset. */
  evicted = 0;
  /** Generation, bumped by reset(), so the UI can tell a reset from a quiet period. */
  generation = 0;

  constructor(opts: StoreOptions = {}) {
    this.maxEvents = opts.maxEvents ?? 100_000;
    this.tap = opts.tap ?? null;
    this.now = opts.now ?? Date.now;
    this.persistence = opts.persistence ?? null;
  }

  /** Stores persisted records (oldest first) as they were, without handing them back to the persistence. */
  restore(records: Iterable<RestoredRecord>): void {
    const persistence = this.persistence;
    this.persistence = null;
    try {
      for (const r of records) {
        this.restoring = r;
        if (r.kind === 'good') this.addGood(r.line);
        else this.addBad(r.line);
      }
    } finally {
      this.restoring = null;
      this.persistence = persistence;
    }
  }

  // ---------------------------------------------------------------- writes

  /** Stores one enriched TSV line from the good stream. */
  addGood(line: string): StoredRecord {
    const parsed = parseEnrichedTsv(line.endsWith('\n') ? line.slice(0, -1) : line);
    const rec =
      typeof parsed === 'string'
        ? this.addBadParsed({
            type: 'unparseable_enriched_event', schema: null, message: parsed, messages: [parsed],
            errors: ['Error while validating the event.', line], collectorPayload: null, rawEvent: null, eventId: null, enriched: null, row: line,
          })
        : this.addGoodEvent(parsed);
    this.persistence?.added('good', line, rec, this.good.length + this.bad.length);
    return rec;
  }

  addGoodEvent(ev: EnrichedEvent): GoodRecord {
    const collectorTstampMs = tsvTimestampToMillis(ev.collector_tstamp);
    const restoring = this.restoring;
    const rawEvent = restoring !== null ? (restoring.tapped as MicroRawEvent | null) : (this.tap?.take(ev.event_id, collectorTstampMs)?.raw ?? null);
    const schema =
      ev.event_vendor !== null && ev.event_name !== null && ev.event_format !== null && ev.event_version !== null
        ? `iglu:${ev.event_vendor}/${ev.event_name}/${ev.event_format}/${ev.event_version}`
        : null;
    const rec: GoodRecord = {
      valid: true,
      seq: ++this.seq,
      receivedAt: restoring !== null ? restoring.receivedAt : this.now(),
      event: ev,
      eventId: ev.event_id,
      eventType: ev.event,
      schema,
      contexts: parseContexts(ev.contexts).map((c) => c.schema),
      derivedContexts: parseContexts(ev.derived_contexts).map((c) => c.schema),
      rawEvent,
      collectorTstampMs,
      lossy: null,
    };
    this.good.push(rec);
    this.indexAdd(rec, 1);
    this.afterAdd();
    return rec;
  }

  /** Stores one bad-row JSON line from the bad stream. */
  addBad(line: string): BadRecord {
    const rec = this.addBadParsed(parseBadRow(line.endsWith('\n') ? line.slice(0, -1) : line));
    this.persistence?.added('bad', line, rec, this.good.length + this.bad.length);
    return rec;
  }

  private addBadParsed(bad: ParsedBadRow): BadRecord {
    const restoring = this.restoring;
    const collectorPayload = bad.collectorPayload ?? (restoring !== null ? (restoring.tapped as MicroCollectorPayload | null) : this.tappedPayload(bad));
    const ts = bad.rawEvent?.context.timestamp ?? collectorPayload?.context.timestamp ?? null;
    const rec: BadRecord = {
      valid: false,
      seq: ++this.seq,
      receivedAt: restoring !== null ? restoring.receivedAt : this.now(),
      bad,
      eventId: bad.eventId,
      collectorPayload,
      collectorTstampMs: ts === null ? NaN : Date.parse(ts),
      lossy: null,
    };
    this.bad.push(rec);
    this.indexAdd(rec, 1);
    this.afterAdd();
    return rec;
  }

  /**
   * The collector payload of a bad row that carries only a raw event: by the raw `eid` and timestamp, or, for
   * events without an eid (webhooks: the adapter made them), by collector timestamp and API.
   */
  private tappedPayload(bad: ParsedBadRow): MicroCollectorPayload | null {
    const raw = bad.rawEvent;
    if (this.tap === null || raw === null) return null;
    const eid = raw.parameters.eid;
    const ts = raw.context.timestamp === null ? NaN : Date.parse(raw.context.timestamp);
    return this.tap.payloadFor(typeof eid === 'string' && eid !== '' ? eid : null, ts, raw.api);
  }

  /** Clears everything (Micro's /micro/reset). Waiters keep waiting for events that arrive afterwards. */
  reset(): void {
    this.good = [];
    this.bad = [];
    this.byEventId.clear();
    this.schemaUse.clear();
    this.badGroups.clear();
    this.tap?.clear();
    this.persistence?.reset();
    this.evicted = 0;
    this.generation++;
    this.scheduleNotify();
  }

  private afterAdd(): void {
    if (this.good.length + this.bad.length > this.maxEvents) this.evict();
    if (this.waiters.size > 0) this.checkWaiters();
    this.scheduleNotify();
  }

  /**
   * Drops the oldest records down to maxEvents − slack (1 % of the cap, 1..1000) in one splice per array:
   * evicting one record per add would move the whole array each time (O(n) per event once full).
   */
  private evict(): void {
    const slack = Math.max(1, Math.min(1000, Math.floor(this.maxEvents / 100)));
    let excess = this.good.length + this.bad.length - (this.maxEvents - slack);
    let gi = 0;
    let bi = 0;
    while (excess-- > 0) {
      const g = this.good[gi];
      const b = this.bad[bi];
      const victim = g && (!b || g.seq < b.seq) ? this.good[gi++]! : this.bad[bi++]!;
      this.indexAdd(victim, -1);
      this.evicted++;
    }
    if (gi > 0) this.good.splice(0, gi);
    if (bi > 0) this.bad.splice(0, bi);
  }

  /** Adds (delta 1) or removes (delta -1) a record from the event-id index, schema counts and bad groups. */
  private indexAdd(rec: StoredRecord, delta: 1 | -1): void {
    if (rec.eventId !== null) {
      const entry = this.byEventId.get(rec.eventId);
      if (delta === 1) {
        if (entry) entry.list.push(rec);
        else this.byEventId.set(rec.eventId, { list: [rec], head: 0 });
      } else if (entry) {
        // Evictions remove the oldest record first, which heads its list.
        if (entry.list[entry.head] === rec) entry.head++;
        else {
          const i = entry.list.indexOf(rec, entry.head);
          if (i !== -1) entry.list.splice(i, 1);
        }
        if (entry.head >= entry.list.length) this.byEventId.delete(rec.eventId);
        else if (entry.head > 64 && entry.head * 2 > entry.list.length) {
          entry.list = entry.list.slice(entry.head);
          entry.head = 0;
        }
      }
    }
    if (rec.valid) {
      if (rec.schema !== null) this.countSchema(rec.schema, 'event', delta);
      for (const c of rec.contexts) this.countSchema(c, 'context', delta);
      for (const c of rec.derivedContexts) this.countSchema(c, 'derived', delta);
    } else {
      for (const s of failedSchemas(rec.bad.row)) this.countSchema(s, 'failed', delta);
      const key = `${rec.bad.type}\u0000${rec.bad.message}`;
      const g = this.badGroups.get(key);
      if (delta === 1) {
        if (g) {
          g.count++;
          g.lastSeen = rec.receivedAt;
          g.latestSeq = rec.seq;
        } else {
          this.badGroups.set(key, { type: rec.bad.type, message: rec.bad.message, count: 1, lastSeen: rec.receivedAt, latestSeq: rec.seq });
        }
      } else if (g && --g.count === 0) {
        this.badGroups.delete(key);
      }
    }
  }

  private countSchema(schema: string, kind: SchemaKind, delta: 1 | -1): void {
    let u = this.schemaUse.get(schema);
    if (!u) {
      if (delta === -1) return;
      u = { schema, event: 0, context: 0, derived: 0, failed: 0 };
      this.schemaUse.set(schema, u);
    }
    u[kind] += delta;
    if (u.event + u.context + u.derived + u.failed <= 0) this.schemaUse.delete(schema);
  }

  // ---------------------------------------------------------------- reads

  summary(): Summary {
    return { total: this.good.length + this.bad.length, good: this.good.length, bad: this.bad.length };
  }

  /** Good records newest first, filtered as Micro's POST /micro/good does. */
  filterGood(f: FiltersGood = {}): GoodRecord[] {
    const out: GoodRecord[] = [];
    const limit = typeof f.limit === 'number' && f.limit >= 0 ? f.limit : Infinity;
    for (let i = this.good.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.good[i]!;
      if (f.event_type != null && r.eventType !== f.event_type) continue;
      if (f.schema != null && r.schema !== f.schema) continue;
      if (f.contexts != null && !f.contexts.every((c) => r.contexts.includes(c))) continue;
      out.push(r);
    }
    return out;
  }

  /** Bad records newest first, filtered as Micro's POST /micro/bad does (vendor/version of the payload's API). */
  filterBad(f: FiltersBad = {}): BadRecord[] {
    const out: BadRecord[] = [];
    const limit = typeof f.limit === 'number' && f.limit >= 0 ? f.limit : Infinity;
    for (let i = this.bad.length - 1; i >= 0 && out.length < limit; i--) {
      const r = this.bad[i]!;
      const api = r.collectorPayload?.api ?? r.bad.rawEvent?.api ?? null;
      if (f.vendor != null && api !== null && api.vendor !== f.vendor) continue;
      if (f.version != null && api !== null && api.version !== f.version) continue;
      out.push(r);
    }
    return out;
  }

  /** Every record (good and bad), newest first. */
  all(): StoredRecord[] {
    const out: StoredRecord[] = [];
    let gi = this.good.length - 1;
    let bi = this.bad.length - 1;
    while (gi >= 0 || bi >= 0) {
      const g = gi >= 0 ? this.good[gi]! : null;
      const b = bi >= 0 ? this.bad[bi]! : null;
      if (g && (!b || g.seq > b.seq)) {
        out.push(g);
        gi--;
      } else {
        out.push(b!);
        bi--;
      }
    }
    return out;
  }

  /** Records stored after `seq` (oldest first), at most `limit` of the newest ones. */
  since(seq: number, limit: number): StoredRecord[] {
    // Walk both arrays from their ends (newest) back to `seq`: cost is the number of new records, not the store.
    const tail = <T extends StoredRecord>(arr: T[]): T[] => {
      let i = arr.length;
      while (i > 0 && arr[i - 1]!.seq > seq && arr.length - i < limit) i--;
      return arr.slice(i);
    };
    const merged = [...tail(this.good), ...tail(this.bad)].sort((a, b) => a.seq - b.seq);
    return merged.slice(Math.max(0, merged.length - limit));
  }

  /** seq of the newest record (0 when empty). */
  lastSeq(): number {
    const g = this.good[this.good.length - 1]?.seq ?? 0;
    const b = this.bad[this.bad.length - 1]?.seq ?? 0;
    return Math.max(g, b);
  }

  byId(eventId: string): StoredRecord[] {
    const e = this.byEventId.get(eventId);
    return e ? e.list.slice(e.head).reverse() : [];
  }

  bySeq(seq: number): StoredRecord | undefined {
    const find = <T extends StoredRecord>(arr: T[]): T | undefined => {
      let lo = 0;
      let hi = arr.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = arr[mid]!.seq;
        if (s === seq) return arr[mid];
        if (s < seq) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    };
    return find(this.good) ?? find(this.bad);
  }

  schemas(): SchemaUse[] {
    return [...this.schemaUse.values()].sort((a, b) => a.schema.localeCompare(b.schema)).map((u) => ({ ...u }));
  }

  /** The bad-row lines of one group (type + message), oldest first, at most `limit`. */
  badLines(type: string, message: string, limit: number): string[] {
    const out: string[] = [];
    for (const rec of this.bad) {
      if (out.length >= limit) break;
      if (rec.bad.type === type && rec.bad.message === message && typeof rec.bad.errors[1] === 'string') out.push(rec.bad.errors[1]);
    }
    return out;
  }

  groups(): BadGroup[] {
    return [...this.badGroups.values()].sort((a, b) => b.count - a.count || b.lastSeen - a.lastSeen).map((g) => ({ ...g }));
  }

  /** Good/bad counts per bucket of `bucketMs`, by time stored, for the `buckets` buckets ending now. */
  timeline(bucketMs: number, buckets: number): Array<{ start: number; good: number; bad: number }> {
    const end = Math.floor(this.now() / bucketMs) * bucketMs + bucketMs;
    const start = end - bucketMs * buckets;
    const out = Array.from({ length: buckets }, (_, i) => ({ start: start + i * bucketMs, good: 0, bad: 0 }));
    const count = (arr: StoredRecord[], key: 'good' | 'bad') => {
      for (let i = arr.length - 1; i >= 0; i--) {
        const t = arr[i]!.receivedAt;
        if (t < start) break;
        const b = out[Math.floor((t - start) / bucketMs)];
        if (b) b[key]++;
      }
    };
    count(this.good, 'good');
    count(this.bad, 'bad');
    return out;
  }

  // ---------------------------------------------------------------- JSON shapes

  /** Micro's GoodEvent. */
  goodEventJson(r: GoodRecord): Record<string, unknown> {
    return { rawEvent: r.rawEvent, eventType: r.eventType, schema: r.schema, contexts: r.contexts, event: toSdkEvent(r.event), incomplete: false };
  }

  /** Micro's BadEvent. */
  badEventJson(r: BadRecord): Record<string, unknown> {
    return { collectorPayload: r.collectorPayload, rawEvent: r.bad.rawEvent, errors: r.bad.errors };
  }

  /** Flat row for /micro/events: the Analytics SDK's lossy JSON, or for a failed event what is known plus the failure entity. */
  row(r: StoredRecord): Record<string, unknown> {
    if (r.lossy) return r.lossy;
    if (r.valid) {
      r.lossy = toLossyJson(r.event);
    } else {
      const row: Record<string, unknown> = {};
      const enriched = r.bad.enriched;
      if (enriched) for (const [k, v] of Object.entries(enriched)) if (v !== null && v !== undefined) row[k] = v;
      const params = r.bad.rawEvent?.parameters ?? {};
      if (row.event_id === undefined && r.eventId !== null) row.event_id = r.eventId;
      if (row.app_id === undefined && typeof params.aid === 'string') row.app_id = params.aid;
      if (row.platform === undefined && typeof params.p === 'string') row.platform = params.p;
      if (row.collector_tstamp === undefined && Number.isFinite(r.collectorTstampMs)) row.collector_tstamp = new Date(r.collectorTstampMs).toISOString();
      row.contexts_com_snowplowanalytics_snowplow_failure_1 = [{ failureType: r.bad.type, errors: r.bad.messages, schema: r.bad.schema }];
      r.lossy = row;
    }
    return r.lossy;
  }

  // ---------------------------------------------------------------- waiting and watching

  /** Resolves when the condition holds, or after timeoutMs with ok=false (never rejects). */
  waitFor(cond: WaitCondition, timeoutMs: number): Promise<WaitResult> {
    const now = this.evaluate(cond);
    if (now.ok || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const w: Waiter = {
        cond,
        resolve,
        timer: setTimeout(() => {
          this.waiters.delete(w);
          resolve(this.evaluate(cond));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  /** Resolves every pending waiter now (used at shutdown). */
  releaseWaiters(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(this.evaluate(w.cond));
    }
    this.waiters.clear();
  }

  private evaluate(cond: WaitCondition): WaitResult {
    const summary = this.summary();
    const found: StoredRecord[] = [];
    const missing: string[] = [];
    for (const id of cond.eventIds ?? []) {
      const e = this.byEventId.get(id);
      if (e && e.list.length > e.head) found.push(e.list[e.list.length - 1]!);
      else missing.push(id);
    }
    const ok =
      (cond.count === undefined || summary.total >= cond.count) &&
      (cond.good === undefined || summary.good >= cond.good) &&
      (cond.bad === undefined || summary.bad >= cond.bad) &&
      missing.length === 0;
    return { ok, summary, found, missing };
  }

  private checkWaiters(): void {
    for (const w of this.waiters) {
      const r = this.evaluate(w.cond);
      if (r.ok) {
        clearTimeout(w.timer);
        this.waiters.delete(w);
        w.resolve(r);
      }
    }
  }

  /** Calls `fn` with the summary after changes, at most every 200 ms. Returns an unsubscribe function. */
  watch(fn: (s: Summary) => void): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  private scheduleNotify(): void {
    if (this.notifyTimer !== null || this.watchers.size === 0) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      const s = this.summary();
      for (const fn of this.watchers) fn(s);
    }, 200);
    this.notifyTimer.unref();
  }

  close(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this.releaseWaiters();
    this.watchers.clear();
  }
}

/** Schema keys a bad row reports as failing (its messages' `schemaKey`s, except the atomic pseudo-schema). */
function failedSchemas(row: unknown): string[] {
  const out: string[] = [];
  const msgs = (row as { data?: { failure?: { messages?: unknown } } })?.data?.failure?.messages;
  if (!Array.isArray(msgs)) return out;
  for (const m of msgs as Array<Record<string, unknown>>) {
    const k = m?.schemaKey ?? (m?.message as Record<string, unknown> | undefined)?.schemaKey;
    if (typeof k === 'string' && !k.includes('/atomic/') && !out.includes(k)) out.push(k);
  }
  return out;
}
