/**
 * The collector tap: remembers the raw events of every record the collector writes, so the API can show
 * a good event's `rawEvent` and a bad event's `collectorPayload` as Micro does.
 *
 *   collector --Thrift records--> RawTap.recordsWritten() --decode--> by eid: {raw event, payload}
 *                                                         \-------> no eid (webhooks): by collector timestamp
 *   store.addGood(tsv) ---------> RawTap.take(event_id, collector_tstamp) → entry (removed: each raw event is used once)
 *
 * Bounded: at most `capacity` entries; the oldest are forgotten first (their events then show `rawEvent: null`).
 */
import { LRUCache } from 'lru-cache';
import type { CollectorPayload } from '../common/collector-payload.js';
import { collectorPayloadToMicro, decodeRawRecord, rawEventsOfPayload, type MicroCollectorPayload, type MicroRawEvent } from './raw-events.js';

export interface TapEntry {
  raw: MicroRawEvent;
  payload: CollectorPayload;
}

export class RawTap {
  private readonly byEventId: LRUCache<string, TapEntry>;
  private readonly byTimestamp: LRUCache<number, TapEntry[]>;

  constructor(capacity = 100_000) {
    this.byEventId = new LRUCache({ max: capacity });
    this.byTimestamp = new LRUCache({ max: Math.max(1000, Math.floor(capacity / 10)) });
  }

  /** Called with the records the collector hands to its sink (before they are written). */
  recordsWritten(records: readonly Buffer[]): void {
    for (const rec of records) {
      for (const payload of decodeRawRecord(rec)) this.payloadSeen(payload);
    }
  }

  payloadSeen(payload: CollectorPayload): void {
    for (const raw of rawEventsOfPayload(payload)) {
      const eid = raw.parameters.eid;
      const entry = { raw, payload };
      if (typeof eid === 'string' && eid !== '') this.byEventId.set(eid, entry);
      else {
        const list = this.byTimestamp.get(payload.timestamp) ?? [];
        list.push(entry);
        this.byTimestamp.set(payload.timestamp, list);
      }
    }
  }

  /** The raw event an enriched event came from: by `eid`, else (webhooks) by collector timestamp. */
  take(eventId: string | null, collectorTstampMs: number): TapEntry | undefined {
    if (eventId !== null) {
      const e = this.byEventId.get(eventId);
      if (e) {
        this.byEventId.delete(eventId);
        return e;
      }
    }
    if (!Number.isFinite(collectorTstampMs)) return undefined;
    const list = this.byTimestamp.get(collectorTstampMs);
    if (!list || list.length === 0) return undefined;
    const e = list.shift();
    if (list.length === 0) this.byTimestamp.delete(collectorTstampMs);
    return e;
  }

  /** The payload a bad event's raw event came from (looked up by eid, not consumed). */
  payloadOf(eventId: string | null): MicroCollectorPayload | null {
    if (eventId === null) return null;
    const e = this.byEventId.get(eventId);
    if (!e) return null;
    this.byEventId.delete(eventId);
    return collectorPayloadToMicro(e.payload);
  }

  clear(): void {
    this.byEventId.clear();
    this.byTimestamp.clear();
  }
}
