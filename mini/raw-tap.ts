/**
 * The collector tap: remembers the raw events of every record the collector writes, so the API can show
 * a good event's `rawEvent` and a bad event's `collectorPayload` as Micro does.
 *
 *   collector --Thrift records--> RawTap.recordsWritten() --decode--> by eid: [entry, entry…] in write order
 *                                                         \-------> no eid (webhooks): by collector timestamp
 *   store.addGood(event) -------> RawTap.take(event_id, collector_tstamp)
 *   store.addBad(bad row) ------> RawTap.payloadFor(eid | null, timestamp, api)
 *
 * One entry per raw event the collector received, never overwritten: a tracker retry (the same `eid` in two
 * requests) gives two entries, and each copy the enricher emits takes its own — the one with its collector
 * timestamp (the enriched event's collector_tstamp, the bad row's raw timestamp), else the oldest. An entry
 * with an `eid` is used once. Entries without one (webhooks: the adapter makes the events) are found by
 * collector timestamp (and the API vendor/version when the bad row names it); one payload may yield several
 * events, so such an entry is marked used rather than removed: unused ones are preferred, then the last used.
 *
 * Bounded: at most `capacity` entries by eid (at most 64 per eid) and capacity / 10 timestamps; the least
 * recently used are forgotten first (their events then show `rawEvent: null`).
 */
import { LRUCache } from 'lru-cache';
import type { CollectorPayload } from '../formats/collector-payload.js';
import {
  collectorPayloadToMicro, decodeRawRecord, rawEventsOfPayload, type MicroApi, type MicroCollectorPayload, type MicroRawEvent,
} from './raw-events.js';

export interface TapEntry {
  raw: MicroRawEvent;
  payload: CollectorPayload;
  /** The payload's collector timestamp (ms). */
  timestamp: number;
  /** Entries without eid: taken at least once. */
  used: boolean;
}

/** A tracker re-sending one event more often than this is not a retry; its oldest copies are forgotten. */
const MAX_PER_EVENT_ID = 64;

export class RawTap {
  private readonly byEventId: LRUCache<string, readonly TapEntry[]>;
  private readonly byTimestamp: LRUCache<number, TapEntry[]>;

  constructor(capacity = 100_000) {
    this.byEventId = new LRUCache({ maxSize: capacity, sizeCalculation: (list) => Math.max(1, list.length) });
    this.byTimestamp = new LRUCache({ max: Math.max(1000, Math.floor(capacity / 10)) });
  }

  /** Called with the records the collector hands to its sink (before they are written). */
  recordsWritten(records: readonly Buffer[]): void {
    for (const rec of records) {
      for (const payload of decodeRawRecord(rec)) this.payloadSeen(payload);
    }
  }

  payloadSeen(payload: CollectorPayload): void {
    const timestamp = payload.timestamp;
    for (const raw of rawEventsOfPayload(payload)) {
      const eid = raw.parameters.eid;
      const entry: TapEntry = { raw, payload, timestamp, used: false };
      if (typeof eid === 'string' && eid !== '') {
        const list = this.byEventId.get(eid) ?? [];
        // A new array each time: the cache sizes an entry when it is set.
        this.byEventId.set(eid, list.length < MAX_PER_EVENT_ID ? [...list, entry] : [...list.slice(1), entry]);
      } else {
        const list = this.byTimestamp.get(timestamp) ?? [];
        list.push(entry);
        this.byTimestamp.set(timestamp, list);
      }
    }
  }

  /** Removes and returns the entry of `eid` collected at `timestampMs`, else its oldest. */
  private takeById(eid: string, timestampMs: number): TapEntry | undefined {
    const list = this.byEventId.get(eid);
    if (!list || list.length === 0) return undefined;
    let i = list.findIndex((e) => e.timestamp === timestampMs);
    if (i === -1) i = 0;
    const e = list[i]!;
    if (list.length === 1) this.byEventId.delete(eid);
    else this.byEventId.set(eid, [...list.slice(0, i), ...list.slice(i + 1)]);
    return e;
  }

  /** An entry without eid collected at `timestampMs` (of `api` when known): the first unused, else the last used. */
  private findByTimestamp(timestampMs: number, api: MicroApi | null): TapEntry | undefined {
    if (!Number.isFinite(timestampMs)) return undefined;
    const all = this.byTimestamp.get(timestampMs);
    if (!all || all.length === 0) return undefined;
    const list = api === null ? all : all.filter((e) => e.raw.api.vendor === api.vendor && e.raw.api.version === api.version);
    const unused = list.find((e) => !e.used);
    if (unused) {
      unused.used = true;
      return unused;
    }
    return list[list.length - 1];
  }

  /** The raw event an enriched event came from: its eid's entry, else (webhooks) by collector timestamp. */
  take(eventId: string | null, collectorTstampMs: number): TapEntry | undefined {
    if (eventId !== null) {
      const e = this.takeById(eventId, collectorTstampMs);
      if (e) return e;
    }
    return this.findByTimestamp(collectorTstampMs, null);
  }

  /**
   * The collector payload a bad row's raw event came from. `rawEventId` is the raw `eid` parameter (null when the
   * raw event has none, as for webhooks: then by timestamp and API); `timestampMs` the raw event's timestamp.
   */
  payloadFor(rawEventId: string | null, timestampMs: number, api: MicroApi | null): MicroCollectorPayload | null {
    const e = rawEventId !== null ? this.takeById(rawEventId, timestampMs) : this.findByTimestamp(timestampMs, api);
    return e ? collectorPayloadToMicro(e.payload) : null;
  }

  clear(): void {
    this.byEventId.clear();
    this.byTimestamp.clear();
  }
}
