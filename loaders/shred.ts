/**
 * Enriched TSV line → atomic columns + entities (contexts, derived_contexts, unstruct_event), or a
 * loader_parsing_error bad row. Pure; shared by the PostgreSQL and Redshift loaders.
 *
 *   line ──split \t──> 131 columns ──check NOT NULL / uuid / tstamp──> ShreddedEvent
 *                                  └──JSON.parse the 3 SDJ columns───> entities[] (schema key + data)
 *                                     (each first bounded to DOWNSTREAM_MAX_JSON_DEPTH levels: deeper = bad row)
 */
import { DOWNSTREAM_MAX_JSON_DEPTH, exceedsDepth } from '../common/json-depth.js';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import { parsingBadRow, type ParsingFailure } from './bad-rows.js';
import { parseTableKey, type TableKey } from './schema-ddl.js';

export interface Entity {
  readonly key: TableKey;
  readonly data: unknown;
}

export interface ShreddedEvent {
  /** The enriched TSV line (a binary string when `binary`). */
  readonly line: string;
  /** The line holds UTF-8 bytes one per char (read as latin1); see LineSource encoding. */
  readonly binary: boolean;
  /**
   * The 128 atomic.events columns as 4 slices of the line (the runs of columns between the three JSON
   * columns), each TAB-separated ('' = null); joined with TAB they are the atomic TSV. Slices, not a
   * concatenation: a concatenated string would be flattened again by every reader (measured: that
   * flattening was the loader's largest self-time).
   */
  readonly atomicSegments: readonly [string, string, string, string];
  readonly eventId: string;
  readonly collectorTstamp: string;
  readonly entities: Entity[];
}

export type ShredOutcome = { ok: true; event: ShreddedEvent } | { ok: false; badRow: string };

const FIELD_COUNT = ENRICHED_FIELDS.length;
const idx = (name: string): number => (ENRICHED_FIELDS as readonly string[]).indexOf(name);
const I_EVENT_ID = idx('event_id');
const I_COLLECTOR_TSTAMP = idx('collector_tstamp');
const I_V_COLLECTOR = idx('v_collector');
const I_V_ETL = idx('v_etl');
const I_CONTEXTS = idx('contexts');
const I_UNSTRUCT = idx('unstruct_event');
const I_DERIVED = idx('derived_contexts');

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TSTAMP_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?$/;

type Invalid = { type: 'InvalidValue'; key: string; value: string; message: string };

function invalid(key: string, value: string, message: string): Invalid {
  return { type: 'InvalidValue', key, value, message };
}

/**
 * JSON.parse of a JSON column, or the reason it is not loadable. Nesting is bounded before parsing: the rows
 * built from the entities are printed with JSON.stringify, which a value nested a few thousand deep would
 * overflow (a RangeError that used to end the loader on every restart).
 */
function parseColumn(raw: string, field: string): { ok: true; value: unknown } | { ok: false; error: Invalid } {
  if (exceedsDepth(raw, DOWNSTREAM_MAX_JSON_DEPTH)) {
    return { ok: false, error: invalid(field, raw, `JSON nested deeper than ${DOWNSTREAM_MAX_JSON_DEPTH} levels`) };
  }
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (e) {
    return { ok: false, error: invalid(field, raw, `invalid JSON: ${(e as Error).message}`) };
  }
}

/** Pushes the entities of a contexts-style SDJ (`data` is an array of SDJs), or returns an error. */
function addContexts(raw: string, field: string, out: Entity[]): Invalid | null {
  const parsed = parseColumn(raw, field);
  if (!parsed.ok) return parsed.error;
  const sdj = parsed.value;
  const data = (sdj as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return invalid(field, raw, 'not a self-describing JSON with an array of contexts');
  for (const item of data) {
    const err = addEntity(item, field, raw, out);
    if (err !== null) return err;
  }
  return null;
}

// Parsed schema keys by URI: a batch names a handful of schemas thousands of times (bounded).
const keyCache = new Map<string, TableKey | null>();

function schemaKeyOf(uri: string): TableKey | null {
  let key = keyCache.get(uri);
  if (key === undefined) {
    if (keyCache.size >= 10_000) keyCache.clear();
    key = parseTableKey(uri);
    keyCache.set(uri, key);
  }
  return key;
}

function addEntity(item: unknown, field: string, raw: string, out: Entity[]): Invalid | null {
  const schema = (item as { schema?: unknown } | null)?.schema;
  if (typeof schema !== 'string') return invalid(field, raw, 'an entity has no schema');
  const key = schemaKeyOf(schema);
  if (key === null) return invalid(field, raw, `invalid Iglu schema URI ${JSON.stringify(schema)}`);
  out.push({ key, data: (item as { data?: unknown }).data ?? null });
  return null;
}

/**
 * shredLine that never throws: an exception (a bug, or a line that defeated a bound) makes this line a
 * loader_parsing_error bad row instead of failing the batch, which would fail again on every restart and hold
 * back every line after it.
 */
export function shredLineSafely(line: string, binary = false): ShredOutcome {
  try {
    return shredLine(line, binary);
  } catch (e) {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    return { ok: false, badRow: parsingBadRow(utf8Of(line, binary), { type: 'RowDecodingError', errors: [invalid('line', '', `the line could not be read: ${message}`)] }) };
  }
}

/** Text of a (possibly binary) string: binary strings hold UTF-8 bytes one per char. */
const NON_ASCII = /[\u0080-\u00ff]/;

export function utf8Of(s: string, binary: boolean): string {
  // ASCII reads the same either way: no copy (the common case for JSON columns).
  return binary && NON_ASCII.test(s) ? Buffer.from(s, 'latin1').toString('utf8') : s;
}

/** The 128 atomic columns as one TSV string (Redshift staging, tests). */
export function atomicTsvOf(ev: ShreddedEvent): string {
  return ev.atomicSegments.join('\t');
}

/** The 131 columns of a line ('' = null); for the bad-row path (the hot path does not split). */
export function columnsOf(ev: Pick<ShreddedEvent, 'line' | 'binary'>): string[] {
  return utf8Of(ev.line, ev.binary).split('\t');
}

// Start offset of every column of the line being shredded (reused: no per-line allocation).
const starts = new Int32Array(FIELD_COUNT + 1);

/**
 * Hot path: finds the 130 TABs with indexOf and slices only the columns it needs, instead of splitting
 * into 131 strings (measured: the split's garbage dominated the loader's CPU profile).
 */
export function shredLine(line: string, binary = false): ShredOutcome {
  let n = 0;
  starts[0] = 0;
  for (let i = line.indexOf('\t'); i !== -1; i = line.indexOf('\t', i + 1)) {
    if (++n >= FIELD_COUNT) break;
    starts[n] = i + 1;
  }
  if (n !== FIELD_COUNT - 1) {
    const count = n >= FIELD_COUNT ? line.split('\t').length : n + 1;
    const failure: ParsingFailure = count === 1 ? { type: 'NotTSV' } : { type: 'FieldNumberMismatch', fieldCount: count };
    return { ok: false, badRow: parsingBadRow(utf8Of(line, binary), failure) };
  }
  starts[FIELD_COUNT] = line.length + 1;
  const col = (i: number): string => line.slice(starts[i]!, starts[i + 1]! - 1);
  const errors: Invalid[] = [];
  const eventId = col(I_EVENT_ID);
  if (!UUID_RE.test(eventId)) errors.push(invalid('event_id', utf8Of(eventId, binary), 'not a UUID'));
  const tstamp = col(I_COLLECTOR_TSTAMP);
  if (!TSTAMP_RE.test(tstamp)) errors.push(invalid('collector_tstamp', utf8Of(tstamp, binary), 'missing or not a timestamp'));
  if (starts[I_V_COLLECTOR + 1]! - starts[I_V_COLLECTOR]! === 1) errors.push(invalid('v_collector', '', 'required field is empty'));
  if (starts[I_V_ETL + 1]! - starts[I_V_ETL]! === 1) errors.push(invalid('v_etl', '', 'required field is empty'));

  const entities: Entity[] = [];
  const ctx = utf8Of(col(I_CONTEXTS), binary);
  if (ctx !== '') {
    const e = addContexts(ctx, 'contexts', entities);
    if (e !== null) errors.push(e);
  }
  const ue = utf8Of(col(I_UNSTRUCT), binary);
  if (ue !== '') {
    const parsed = parseColumn(ue, 'unstruct_event');
    if (!parsed.ok) errors.push(parsed.error);
    else {
      const e = addEntity((parsed.value as { data?: unknown } | null)?.data, 'unstruct_event', ue, entities);
      if (e !== null) errors.push(e);
    }
  }
  const dc = utf8Of(col(I_DERIVED), binary);
  if (dc !== '') {
    const e = addContexts(dc, 'derived_contexts', entities);
    if (e !== null) errors.push(e);
  }
  if (errors.length > 0) return { ok: false, badRow: parsingBadRow(utf8Of(line, binary), { type: 'RowDecodingError', errors }) };
  // atomic columns = the line minus the three JSON columns (contexts < unstruct_event < derived_contexts).
  const atomicSegments: [string, string, string, string] = [
    line.slice(0, starts[I_CONTEXTS]! - 1),
    line.slice(starts[I_CONTEXTS + 1]!, starts[I_UNSTRUCT]! - 1),
    line.slice(starts[I_UNSTRUCT + 1]!, starts[I_DERIVED]! - 1),
    line.slice(starts[I_DERIVED + 1]!),
  ];
  return { ok: true, event: { line, binary, atomicSegments, eventId, collectorTstamp: tstamp, entities } };
}
