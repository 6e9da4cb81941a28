/**
 * Size limits, splitting and size_violation bad rows (spec §5, Snowplow's SplitBatch).
 *
 *   n = |thrift(payload)|
 *   n <  maxBytes                      ⇒ one good record
 *   n >  maxPayloadSize                ⇒ bad row "Payload exceeds max size of …"
 *   else body absent                   ⇒ bad row "GET requests cannot be split"
 *        body not JSON / not {schema,data} / data not an array / too big without data ⇒ bad row
 *        else events grouped by split() (batches and events come out REVERSED, as upstream does),
 *        one good record per batch, one bad row per event that is too big alone.
 *
 * Events are re-printed compactly with key order and number lexemes preserved (a JSON.parse round trip
 * would turn `1.0` into `1` and reorder integer-like keys), so byte sizes match Snowplow's.
 */
import { collectorPayloadToJavaString, encodeCollectorPayload, type CollectorPayload } from '../formats/collector-payload.js';

export const SIZE_VIOLATION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0';
export const BAD_ROW_ARTIFACT = 'snowplow-stream-collector';

export interface SplitResult {
  good: Buffer[];
  bad: Buffer[];
}

/** Java `Instant.toString()` for a millisecond clock: fraction omitted when zero. */
export function instantString(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

export function sizeViolation(version: string, nowMs: number, max: number, actual: number, expectation: string, payloadText: string): Buffer {
  const json =
    `{"schema":"${SIZE_VIOLATION_SCHEMA}","data":{"processor":{"artifact":"${BAD_ROW_ARTIFACT}","version":${JSON.stringify(version)}},` +
    `"failure":{"timestamp":"${instantString(nowMs)}","maximumAllowedSizeBytes":${max},"actualSizeBytes":${actual},` +
    `"expectation":${JSON.stringify(`oversized collector payload: ${expectation}`)}},"payload":${JSON.stringify(payloadText)}}}`;
  return Buffer.from(json, 'utf8');
}

// ---------------------------------------------------------------------------------------------------
// A small JSON reader that keeps what circe keeps: key order and number lexemes.

type Json =
  | { t: 'obj'; entries: Array<[string, Json]> }
  | { t: 'arr'; items: Json[] }
  | { t: 'str'; v: string }
  | { t: 'lit'; v: string }; // number lexeme, true, false, null

export class JsonSyntaxError extends Error {}

const MAX_DEPTH = 512;

export function parseJsonPreserving(text: string): Json {
  let i = 0;
  const n = text.length;
  const pos = (at: number): string => {
    let line = 1;
    let col = 1;
    for (let k = 0; k < at && k < n; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    return `(line ${line}, column ${col})`;
  };
  const die = (what: string): never => {
    throw new JsonSyntaxError(`${what} got '${text.slice(i, i + 10)}' ${pos(i)}`);
  };
  const ws = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    for (;;) {
      if (i >= n) die('expected closing "');
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) i += 2;
      else if (c < 32) die('control character in string');
      else i++;
    }
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      i = start;
      return die('invalid string escape');
    }
  };
  const value = (depth: number): Json => {
    if (depth > MAX_DEPTH) die('nesting too deep');
    ws();
    if (i >= n) die('expected json value');
    const c = text.charCodeAt(i);
    if (c === 123) {
      i++;
      const entries: Array<[string, Json]> = [];
      ws();
      if (text.charCodeAt(i) === 125) {
        i++;
        return { t: 'obj', entries };
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 34) die('expected " or }');
        const k = str();
        ws();
        if (text.charCodeAt(i) !== 58) die('expected :');
        i++;
        entries.push([k, value(depth + 1)]);
        ws();
        const d = text.charCodeAt(i);
        if (d === 44) {
          i++;
          continue;
        }
        if (d === 125) {
          i++;
          return { t: 'obj', entries };
        }
        die('expected , or }');
      }
    }
    if (c === 91) {
      i++;
      const items: Json[] = [];
      ws();
      if (text.charCodeAt(i) === 93) {
        i++;
        return { t: 'arr', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const d = text.charCodeAt(i);
        if (d === 44) {
          i++;
          continue;
        }
        if (d === 93) {
          i++;
          return { t: 'arr', items };
        }
        die('expected , or ]');
      }
    }
    if (c === 34) return { t: 'str', v: str() };
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) return die('expected json value');
    i += m[0].length;
    return { t: 'lit', v: m[0] };
  };
  const v = value(0);
  ws();
  if (i < n) die('expected whitespace or eof');
  return v;
}

/** circe `noSpaces`: compact, original key order and number lexemes, minimal escaping. */
export function printCompact(j: Json): string {
  switch (j.t) {
    case 'str':
      return JSON.stringify(j.v);
    case 'lit':
      return j.v;
    case 'arr':
      return `[${j.items.map(printCompact).join(',')}]`;
    case 'obj':
      return `{${j.entries.map(([k, v]) => `${JSON.stringify(k)}:${printCompact(v)}`).join(',')}}`;
  }
}

const IGLU_URI = /^iglu:([a-zA-Z0-9-_.]+)\/([a-zA-Z0-9-_]+)\/([a-zA-Z0-9-_]+)\/([1-9][0-9]*|0)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

/** Snowplow's split: both the batches and the events inside each batch come out reversed. */
export function split(events: readonly string[], limit: number, joinSize: number): { good: string[][]; failed: string[] } {
  let acc: string[][] = [];
  let failed: string[] = [];
  let cur: string[] = [];
  let total = 0;
  let idx = 0;
  while (idx < events.length) {
    const h = events[idx]!;
    const s = Buffer.byteLength(h, 'utf8');
    if (s + joinSize > limit) {
      failed = [h, ...failed];
      idx++;
    } else if (s + total + joinSize > limit) {
      acc = [cur, ...acc];
      cur = [];
      total = 0;
    } else {
      cur = [h, ...cur];
      total += s + joinSize;
      idx++;
    }
  }
  if (cur.length > 0) acc = [cur, ...acc];
  return { good: acc, failed };
}

export interface SplitLimits {
  /** The good sink's maxBytes: records must be strictly smaller. */
  maxBytes: number;
  /** networking.maxPayloadSize */
  maxPayloadSize: number;
  version: string;
}

/**
 * Turns one payload (already serialised as `bytes`) into good records and bad rows.
 * Hot path: the first comparison; the rest only runs for payloads of at least `maxBytes`.
 */
export function splitAndSerialize(payload: CollectorPayload, bytes: Buffer, limits: SplitLimits, nowMs: number): SplitResult {
  const n = bytes.length;
  if (n < limits.maxBytes) return { good: [bytes], bad: [] };
  if (n > limits.maxPayloadSize) {
    const text = collectorPayloadToJavaString(payload).slice(0, Math.floor(limits.maxPayloadSize / 10));
    return {
      good: [],
      bad: [sizeViolation(limits.version, nowMs, limits.maxPayloadSize, n, `Payload exceeds max size of ${limits.maxPayloadSize}. Actual length: ${n}`, text)],
    };
  }
  const maxBytes = limits.maxBytes;
  const failWith = (msg: string): SplitResult => ({
    good: [],
    bad: [sizeViolation(limits.version, nowMs, maxBytes, n, msg, collectorPayloadToJavaString(payload).slice(0, Math.floor(maxBytes / 10)))],
  });
  if (payload.body === undefined) return failWith('GET requests cannot be split');
  let json: Json;
  try {
    json = parseJsonPreserving(payload.body);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return failWith(`cannot split POST requests which are not json ${e.message}`);
  }
  if (json.t !== 'obj') return failWith('cannot split POST requests which are not self-describing Data is not self-describing, code: INVALID_DATA_PAYLOAD');
  const schema = json.entries.find(([k]) => k === 'schema')?.[1];
  const data = json.entries.find(([k]) => k === 'data')?.[1];
  if (schema === undefined || data === undefined || schema.t !== 'str') {
    return failWith('cannot split POST requests which are not self-describing Data is not self-describing, code: INVALID_DATA_PAYLOAD');
  }
  if (!IGLU_URI.test(schema.v)) return failWith(`cannot split POST requests which are not self-describing Invalid Iglu URI: ${schema.v}, code: INVALID_IGLUURI`);
  if (data.t !== 'arr') return failWith('cannot split POST requests which do not contain a data array');
  const events = data.items.map(printCompact);
  const dataSize = Buffer.byteLength(`[${events.join(',')}]`, 'utf8');
  if (n - dataSize >= maxBytes) return failWith('cannot split this POST request because event without "data" field is still too big');
  const { good, failed } = split(events, maxBytes - n + dataSize, 1);
  const schemaJson = JSON.stringify(schema.v);
  const out: SplitResult = { good: [], bad: [] };
  for (const batch of good) {
    const copy: CollectorPayload = { ...payload, headers: payload.headers ? [...payload.headers] : undefined, body: `{"schema":${schemaJson},"data":[${batch.join(',')}]}` };
    if (copy.headers === undefined) delete copy.headers;
    out.good.push(encodeCollectorPayload(copy));
  }
  if (failed.length > 0) {
    const text = collectorPayloadToJavaString(payload).slice(0, Math.floor(maxBytes / 10));
    for (const ev of failed) {
      out.bad.push(sizeViolation(limits.version, nowMs, maxBytes, Buffer.byteLength(ev, 'utf8'), 'this POST request split is still too large', text));
    }
  }
  return out;
}
