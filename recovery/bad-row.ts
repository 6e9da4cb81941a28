/**
 * A bad-row line read for recovery: bounded parse, its type, and the document fixes edit.
 *
 *   line ──(≤ maxLineChars, depth ≤ maxDepth, JSON)──▶ {schema, data:{processor, failure, payload}}
 *        ──type──▶ payload document:
 *     adapter_failures, tracker_protocol_violations   CollectorPayload JSON (Snowplow's shape, as in the bad row)
 *     schema_violations, enrichment_failures          {enriched, raw} (PartiallyEnrichedEvent + RawEvent)
 *     collector_payload_format_violation              the Thrift record's fields (payload = base64 record)
 *     size_violation                                  the Thrift fields of each payload of a compressed batch
 *                                                     (payload = base64 of the record), or of a payload whose
 *                                                     output was too big, its tp2 events split by 500; a truncated TSV or
 *                                                     bad row (every other size_violation) cannot be recovered
 *     recovery_error                                  the bad row inside it (a re-run on recovery's own output)
 *
 * Anything else — not JSON, too big, too deep, another schema, a payload of the wrong shape — is an `Unusable`
 * row with the reason: it ends as "still failing", never as an exception.
 */
import { createHash } from 'node:crypto';
import { decodeCollectorPayload, type CollectorPayload } from '../formats/collector-payload.js';
import { parseJsonWithin } from '../common/json-depth.js';
import { unframeRecordSync } from '../formats/record-framing.js';

export const BAD_ROW_VENDOR = 'iglu:com.snowplowanalytics.snowplow.badrows/';

/** Bad-row types recovery can turn back into CollectorPayloads. */
export const RECOVERABLE_TYPES = [
  'adapter_failures',
  'tracker_protocol_violations',
  'schema_violations',
  'enrichment_failures',
  'collector_payload_format_violation',
  'size_violation',
] as const;
export type RecoverableType = (typeof RECOVERABLE_TYPES)[number];

export function isRecoverableType(t: string): t is RecoverableType {
  return (RECOVERABLE_TYPES as readonly string[]).includes(t);
}

export interface BadRowLimits {
  /** Longest line read (characters); longer lines are still failing. */
  readonly maxLineChars: number;
  /** Deepest JSON nesting of a line. */
  readonly maxDepth: number;
  /** Largest decompressed size_violation batch (bytes; zip-bomb guard). */
  readonly maxBatchBytes: number;
}

export const DEFAULT_BAD_ROW_LIMITS: BadRowLimits = Object.freeze({
  maxLineChars: 16 * 1024 * 1024,
  // Snowplow bad rows nest the event's JSON as strings; the row itself is shallow. 200 leaves room for
  // recovery_error wrapping without letting a hostile row cost a deep recursion.
  maxDepth: 200,
  maxBatchBytes: 64 * 1024 * 1024,
});

/** The document of a payload kind, as fixes see it. */
export type PayloadShape = 'collector' | 'enrichment' | 'thrift';

export interface ParsedBadRow {
  readonly usable: true;
  /** sha256 (32 hex chars) of the bad row's JSON (of the row inside a recovery_error): its identity in the ledger. */
  readonly id: string;
  readonly line: string;
  /** The bad row's own schema URI (of the inner row for recovery_error). */
  readonly schema: string;
  readonly type: RecoverableType;
  /** `data` of the bad row: {processor, failure, payload}. */
  readonly data: Record<string, unknown>;
  /** failure.timestamp in ms, null when absent or unreadable. */
  readonly failedAt: number | null;
  /** How many recoveries were already tried (recovery_error.recoveries). */
  readonly recoveries: number;
  readonly shape: PayloadShape;
  /** The payload documents fixes edit (one, or one per payload of a split size_violation). */
  readonly documents: unknown[];
}

export interface Unusable {
  readonly usable: false;
  readonly id: string;
  readonly line: string;
  /** The schema when the row got that far, else null. */
  readonly schema: string | null;
  readonly type: string | null;
  readonly data: Record<string, unknown> | null;
  readonly failedAt: number | null;
  readonly recoveries: number;
  readonly reason: string;
}

export type BadRowRead = ParsedBadRow | Unusable;

export function rowId(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex').slice(0, 32);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `iglu:com.snowplowanalytics.snowplow.badrows/<name>/jsonschema/<v>` → name, else null. */
export function badRowTypeOf(schema: string): string | null {
  if (!schema.startsWith(BAD_ROW_VENDOR)) return null;
  const m = /^([a-z_]+)\/jsonschema\/\d+-\d+-\d+$/.exec(schema.slice(BAD_ROW_VENDOR.length));
  return m === null ? null : m[1]!;
}

/** A Thrift CollectorPayload as a plain JSON document (the fields of formats/collector-payload.ts). */
export function thriftDocument(cp: CollectorPayload): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cp)) if (v !== undefined) out[k] = v;
  return out;
}

/** Parses one line; never throws. */
export function readBadRow(line: string, limits: BadRowLimits = DEFAULT_BAD_ROW_LIMITS): BadRowRead {
  const id0 = rowId(line);
  let id = id0;
  const unusable = (reason: string, schema: string | null = null, type: string | null = null, data: Record<string, unknown> | null = null, failedAt: number | null = null, recoveries = 0): Unusable =>
    ({ usable: false, id, line, schema, type, data, failedAt, recoveries, reason });
  if (line.length > limits.maxLineChars) return unusable(`the line is longer than ${limits.maxLineChars} characters`);
  const parsed = parseJsonWithin(line, limits.maxDepth);
  if (!parsed.ok) return unusable(`not a bad row: ${parsed.error}`);
  let row = parsed.value;
  let recoveries = 0;
  for (let unwrap = 0; ; unwrap++) {
    if (!isRecord(row) || typeof row.schema !== 'string' || !isRecord(row.data)) return unusable('not a bad row: expected {"schema": "iglu:…", "data": {…}}');
    // The identity is the row's JSON as re-serialised (not the line's bytes), and that of the row inside a
    // recovery_error: recovering a row from the failed output and from the original input is one recovery.
    id = rowId(JSON.stringify(row));
    const type = badRowTypeOf(row.schema);
    if (type === null) return unusable(`not a Snowplow bad row schema: ${row.schema.slice(0, 200)}`, row.schema.slice(0, 200));
    if (type === 'recovery_error' && unwrap < 8) {
      const r = row.data.recoveries;
      recoveries = typeof r === 'number' && Number.isFinite(r) ? r : recoveries + 1;
      row = row.data.payload;
      continue;
    }
    const data = row.data;
    const failure = data.failure;
    const failedAt = isRecord(failure) && typeof failure.timestamp === 'string' ? parseTime(failure.timestamp) : null;
    if (!isRecoverableType(type)) return unusable(`${type} bad rows carry no payload recovery can send again`, row.schema, type, data, failedAt, recoveries);
    const docs = documentsOf(type, data.payload, limits);
    if (typeof docs === 'string') return unusable(docs, row.schema, type, data, failedAt, recoveries);
    return { usable: true, id, line, schema: row.schema, type, data, failedAt, recoveries, shape: docs.shape, documents: docs.documents };
  }
}

export function parseTime(s: string): number | null {
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : null;
}

function documentsOf(type: RecoverableType, payload: unknown, limits: BadRowLimits): { shape: PayloadShape; documents: unknown[] } | string {
  switch (type) {
    case 'adapter_failures':
    case 'tracker_protocol_violations':
      if (!isRecord(payload) || typeof payload.vendor !== 'string' || typeof payload.version !== 'string') return 'payload is not a CollectorPayload (vendor, version, …)';
      return { shape: 'collector', documents: [payload] };
    case 'schema_violations':
    case 'enrichment_failures':
      if (!isRecord(payload) || !isRecord(payload.raw) || !Array.isArray(payload.raw.parameters)) return 'payload is not {enriched, raw} with raw.parameters';
      return { shape: 'enrichment', documents: [payload] };
    case 'collector_payload_format_violation': {
      const bytes = base64Payload(payload);
      if (bytes === null) return 'payload is not the base64 of a record';
      try {
        return { shape: 'thrift', documents: [thriftDocument(decodeCollectorPayload(bytes))] };
      } catch (e) {
        return `the record does not parse as a Thrift CollectorPayload: ${(e as Error).message}`;
      }
    }
    case 'size_violation': {
      const bytes = base64Payload(payload);
      if (bytes === null) return 'the payload is a truncated event or bad row (only an oversized compressed record can be split and recovered)';
      const items = unframeRecordSync(bytes, { maxBytesSinglePayload: limits.maxBatchBytes, maxBytesInBatch: limits.maxBatchBytes });
      const payloads: Buffer[] = [];
      for (const item of items) {
        if (item.kind === 'size') return `the record cannot be split: ${item.expectation}`;
        if (item.kind === 'format') return `the record cannot be split: ${item.error}`;
        payloads.push(item.bytes);
      }
      if (payloads.length === 1 && payloads[0] === bytes) {
        // One payload whose enriched output was too big (a tp2 batch of very many events): split its events.
        let cp: CollectorPayload;
        try {
          cp = decodeCollectorPayload(bytes);
        } catch (e) {
          return `the payload does not parse as a Thrift CollectorPayload: ${(e as Error).message}`;
        }
        return { shape: 'thrift', documents: splitTp2Batch(thriftDocument(cp), limits.maxDepth) };
      }
      const documents: unknown[] = [];
      for (const p of payloads) {
        try {
          documents.push(thriftDocument(decodeCollectorPayload(p)));
        } catch (e) {
          return `a payload of the batch does not parse as a Thrift CollectorPayload: ${(e as Error).message}`;
        }
      }
      if (documents.length === 0) return 'the compressed batch holds no payload';
      return { shape: 'thrift', documents };
    }
  }
}

/** Events per payload when a tp2 batch is split (bounds each payload's enriched output far below the enricher's). */
export const SPLIT_EVENTS = 500;

/** A POST tp2 payload_data batch of more than SPLIT_EVENTS events → one document per SPLIT_EVENTS; else as it is. */
function splitTp2Batch(doc: Record<string, unknown>, maxDepth: number): Record<string, unknown>[] {
  if (typeof doc.body !== 'string') return [doc];
  const parsed = parseJsonWithin(doc.body, maxDepth);
  if (!parsed.ok || !isRecord(parsed.value) || !Array.isArray(parsed.value.data) || parsed.value.data.length <= SPLIT_EVENTS) return [doc];
  const { schema, data } = parsed.value as { schema: unknown; data: unknown[] };
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < data.length; i += SPLIT_EVENTS) out.push({ ...doc, body: JSON.stringify({ schema, data: data.slice(i, i + SPLIT_EVENTS) }) });
  return out;
}

const BASE64_TEXT = /^[A-Za-z0-9+/]+={0,2}$/;

function base64Payload(payload: unknown): Buffer | null {
  if (typeof payload !== 'string' || payload.length < 4 || payload.length % 4 !== 0 || !BASE64_TEXT.test(payload)) return null;
  return Buffer.from(payload, 'base64');
}
