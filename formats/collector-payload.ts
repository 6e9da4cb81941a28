/**
 * Snowplow's CollectorPayload Thrift record (TBinaryProtocol), encoded and decoded by hand.
 *
 * Layout on the wire (every field optional on read; see ../shared/spec/collector.md §4):
 *
 *   [type:1][id:2 BE] value ...   repeated, ascending id order, schema (31337) last
 *   [0x00]                        STOP
 *
 *   id     type  name            value
 *   100    0x0B  ipAddress       i32 BE length + UTF-8 bytes
 *   200    0x0A  timestamp       i64 BE (ms since epoch)
 *   210    0x0B  encoding        "UTF-8"
 *   220    0x0B  collector       "ssc-<version>-<sink>"
 *   300..330, 340 body, 360, 400, 410: strings
 *   350    0x0F  headers         elemType:1 (0x0B) + count:i32 BE + strings
 *   31337  0x0B  schema          iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0
 *
 * Generic Thrift libraries write fields in declaration order (schema first); Snowplow's Java
 * encoder writes them sorted by id, so every record begins with `0b 00 64` (base64 `CwBk`).
 */

export const COLLECTOR_PAYLOAD_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0';

export interface CollectorPayload {
  schema?: string;
  ipAddress?: string;
  timestamp: number;
  encoding?: string;
  collector?: string;
  userAgent?: string;
  refererUri?: string;
  path?: string;
  querystring?: string;
  body?: string;
  headers?: string[];
  contentType?: string;
  hostname?: string;
  networkUserId?: string;
}

const T_STOP = 0x00;
const T_BOOL = 0x02;
const T_BYTE = 0x03;
const T_DOUBLE = 0x04;
const T_I16 = 0x06;
const T_I32 = 0x08;
const T_I64 = 0x0a;
const T_STRING = 0x0b;
const T_STRUCT = 0x0c;
const T_MAP = 0x0d;
const T_SET = 0x0e;
const T_LIST = 0x0f;

const FIELD_BY_ID: ReadonlyMap<number, keyof CollectorPayload> = new Map<number, keyof CollectorPayload>([
  [100, 'ipAddress'], [200, 'timestamp'], [210, 'encoding'], [220, 'collector'], [300, 'userAgent'],
  [310, 'refererUri'], [320, 'path'], [330, 'querystring'], [340, 'body'], [350, 'headers'],
  [360, 'contentType'], [400, 'hostname'], [410, 'networkUserId'], [31337, 'schema'],
]);

// The encoder writes every field straight into one reused scratch buffer and copies the record out once
// (or not at all: encodeCollectorPayloadTransient hands out the scratch view to a caller that consumes it
// before the next encode). Strings go through Buffer's native per-encoding writer `utf8Write` (on
// Buffer.prototype since Node's first releases; Buffer#write itself dispatches to it): Buffer#write's
// argument juggling was the largest single self-time entry of the collector's hot path in a --cpu-prof
// (14 % of GET /i), more than the UTF-8 encoding itself. Length prefixes are plain byte stores.

/** Records up to this size are built in the shared scratch buffer; larger ones in a buffer of their own. */
const SCRATCH_BYTES = 64 * 1024;
const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);

interface NativeWriters {
  utf8Write(s: string, offset: number, length: number): number;
}
const nativeUtf8: (b: Buffer, s: string, o: number) => number =
  typeof (Buffer.prototype as unknown as Partial<NativeWriters>).utf8Write === 'function'
    ? (b, s, o) => (b as unknown as NativeWriters).utf8Write(s, o, b.length - o)
    : (b, s, o) => b.write(s, o, 'utf8');

/** Strings up to this length are copied by a JS loop while they are ASCII: cheaper than a native call. */
const SHORT = 80;

/**
 * Buffer's native UTF-8 reader, called directly: `toString('utf8', s, e)` adds argument checks and an encoding
 * lookup per call, ~15 strings per payload (~0.3 µs per bench event).
 */
const utf8Slice: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as unknown as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (b, start, end) => (b as unknown as { utf8Slice(s: number, e: number): string }).utf8Slice(start, end)
    : (b, start, end) => b.toString('utf8', start, end);

/** Writes `s` as UTF-8 at `o` (the caller made room); returns the byte count. */
function writeUtf8(b: Buffer, s: string, o: number): number {
  const n = s.length;
  if (n > SHORT) return nativeUtf8(b, s, o);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return nativeUtf8(b, s, o); // not ASCII: the native encoder redoes the whole string
    b[o + i] = c;
  }
  return n;
}

/** Upper bound of the UTF-8 size of a field: 3 bytes per UTF-16 code unit, plus type, id and length. */
function bound(v: string | undefined): number {
  return v === undefined || v === null ? 0 : 7 + 3 * v.length;
}

function u32(b: Buffer, o: number, n: number): void {
  b[o] = n >>> 24;
  b[o + 1] = (n >>> 16) & 0xff;
  b[o + 2] = (n >>> 8) & 0xff;
  b[o + 3] = n & 0xff;
}

/** Field header (type, id) at `o`; returns the next offset. */
function fieldHeader(b: Buffer, o: number, type: number, id: number): number {
  b[o] = type;
  b[o + 1] = (id >> 8) & 0xff;
  b[o + 2] = id & 0xff;
  return o + 3;
}

/** Field header + i32 length + UTF-8 bytes; nothing when the field is unset. */
function str(b: Buffer, o: number, id: number, v: string | undefined): number {
  if (v === undefined || v === null) return o;
  o = fieldHeader(b, o, T_STRING, id);
  const n = writeUtf8(b, v, o + 4);
  u32(b, o, n);
  return o + 4 + n;
}

/**
 * A field whose value repeats from record to record (encoding, collector, schema): its encoded bytes (type,
 * id, length, UTF-8) are kept and copied while the value stays the same.
 */
class RepeatedField {
  private value: string | undefined = undefined;
  private bytes: Buffer = Buffer.alloc(0);
  constructor(private readonly id: number) {}

  write(b: Buffer, o: number, v: string | undefined): number {
    if (v === undefined || v === null) return o;
    if (v !== this.value) {
      const scratchField = Buffer.allocUnsafe(bound(v));
      this.bytes = scratchField.subarray(0, str(scratchField, 0, this.id, v));
      this.value = v;
    }
    b.set(this.bytes, o);
    return o + this.bytes.length;
  }
}
const ENCODING = new RepeatedField(210);
const COLLECTOR = new RepeatedField(220);
const SCHEMA = new RepeatedField(31337);

/**
 * Headers as the collector has them, without building one string per header: `pairs` is
 * `[name, value, name, value, ...]` (each written as `name: value`), then `lastLine`, if given, as a
 * line of its own (the normalised content type the collector appends for POST).
 */
export interface HeaderPairs {
  pairs: readonly string[];
  lastLine: string | undefined;
}

/**
 * Encodes a payload exactly as Snowplow's collector does (ascending ids, schema last).
 * `bodyUtf8`, when given, is written as field 340 instead of `p.body` (bytes already known to be valid
 * UTF-8, copied once).
 */
export function encodeCollectorPayload(p: CollectorPayload, bodyUtf8?: Buffer): Buffer {
  const view = encodeCollectorPayloadTransient(p, bodyUtf8, undefined);
  // A large record gets its own buffer, sized by the bound: copy it out so the record does not hold the slack.
  if (view.buffer !== scratch.buffer) return Buffer.from(view);
  const out = Buffer.allocUnsafe(view.length);
  view.copy(out, 0, 0, view.length);
  return out;
}

/**
 * Like encodeCollectorPayload, but returns a view of a scratch buffer that the next call overwrites: for a
 * caller that consumes the bytes at once (the stdout sink base64-encodes them on the spot), or copies them.
 * `headers`, when given, replaces `p.headers`.
 */
export function encodeCollectorPayloadTransient(p: CollectorPayload, bodyUtf8: Buffer | undefined, headers: HeaderPairs | undefined): Buffer {
  const hs = headers === undefined ? p.headers : undefined;
  let max = 12 + 1 + bound(p.ipAddress) + bound(p.encoding) + bound(p.collector) + bound(p.userAgent) + bound(p.refererUri) +
    bound(p.path) + bound(p.querystring) + (bodyUtf8 !== undefined ? 7 + bodyUtf8.length : bound(p.body)) +
    bound(p.contentType) + bound(p.hostname) + bound(p.networkUserId) + bound(p.schema);
  if (hs !== undefined && hs !== null) {
    max += 8;
    for (let i = 0; i < hs.length; i++) max += 4 + 3 * hs[i]!.length;
  } else if (headers !== undefined) {
    const pairs = headers.pairs;
    max += 8 + (headers.lastLine === undefined ? 0 : 4 + 3 * headers.lastLine.length);
    for (let i = 0; i < pairs.length; i += 2) max += 6 + 3 * (pairs[i]!.length + pairs[i + 1]!.length);
  }
  const b = max <= SCRATCH_BYTES ? scratch : Buffer.allocUnsafe(max);
  let o = str(b, 0, 100, p.ipAddress);
  o = fieldHeader(b, o, T_I64, 200);
  const t = Math.trunc(p.timestamp ?? 0);
  const hi = Math.floor(t / 4294967296);
  u32(b, o, hi | 0);
  u32(b, o + 4, (t - hi * 4294967296) >>> 0);
  o += 8;
  o = ENCODING.write(b, o, p.encoding);
  o = COLLECTOR.write(b, o, p.collector);
  o = str(b, o, 300, p.userAgent);
  o = str(b, o, 310, p.refererUri);
  o = str(b, o, 320, p.path);
  o = str(b, o, 330, p.querystring);
  if (bodyUtf8 !== undefined) {
    o = fieldHeader(b, o, T_STRING, 340);
    u32(b, o, bodyUtf8.length);
    o += 4 + bodyUtf8.copy(b, o + 4);
  } else o = str(b, o, 340, p.body);
  if (hs !== undefined && hs !== null) {
    o = fieldHeader(b, o, T_LIST, 350);
    b[o++] = T_STRING;
    u32(b, o, hs.length);
    o += 4;
    for (let i = 0; i < hs.length; i++) {
      const n = writeUtf8(b, hs[i]!, o + 4);
      u32(b, o, n);
      o += 4 + n;
    }
  } else if (headers !== undefined) {
    const pairs = headers.pairs;
    const last = headers.lastLine;
    o = fieldHeader(b, o, T_LIST, 350);
    b[o++] = T_STRING;
    u32(b, o, pairs.length / 2 + (last === undefined ? 0 : 1));
    o += 4;
    for (let i = 0; i < pairs.length; i += 2) {
      let n = writeUtf8(b, pairs[i]!, o + 4);
      b[o + 4 + n] = 0x3a; // ':'
      b[o + 5 + n] = 0x20;
      n += 2 + writeUtf8(b, pairs[i + 1]!, o + 6 + n);
      u32(b, o, n);
      o += 4 + n;
    }
    if (last !== undefined) {
      const n = writeUtf8(b, last, o + 4);
      u32(b, o, n);
      o += 4 + n;
    }
  }
  o = str(b, o, 360, p.contentType);
  o = str(b, o, 400, p.hostname);
  o = str(b, o, 410, p.networkUserId);
  o = SCHEMA.write(b, o, p.schema);
  b[o++] = T_STOP;
  return b.subarray(0, o);
}

export class ThriftDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThriftDecodeError';
  }
}

/** Maximum nesting of unknown structs/containers we are willing to skip. */
const MAX_SKIP_DEPTH = 32;

/**
 * A cursor over one record. Methods live on the prototype, so decoding allocates one small object per
 * record rather than a closure per helper (the closures were ~20% of enrich time in a profile).
 */
class ThriftReader {
  o = 0;
  constructor(readonly b: Buffer) {}

  need(n: number): void {
    if (n < 0 || this.o + n > this.b.length) throw new ThriftDecodeError(`truncated record: need ${n} bytes at offset ${this.o}, have ${this.b.length - this.o}`);
  }

  byte(): number {
    this.need(1);
    return this.b[this.o++]!;
  }

  i16(): number {
    this.need(2);
    const v = this.b.readInt16BE(this.o);
    this.o += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.b.readInt32BE(this.o);
    this.o += 4;
    return v;
  }

  i64(): number {
    this.need(8);
    // High word × 2^32 is exact and the one addition rounds once, as Number(BigInt) does, without a BigInt.
    const v = this.b.readInt32BE(this.o) * 4294967296 + this.b.readUInt32BE(this.o + 4);
    this.o += 8;
    return v;
  }

  size(what: string): number {
    const n = this.i32();
    if (n < 0) throw new ThriftDecodeError(`negative ${what} ${n} at offset ${this.o - 4}`);
    return n;
  }

  string(): string {
    const n = this.size('string length');
    this.need(n);
    const s = utf8Slice(this.b, this.o, this.o + n);
    this.o += n;
    return s;
  }

  skip(type: number, depth: number): void {
    if (depth > MAX_SKIP_DEPTH) throw new ThriftDecodeError('nesting too deep');
    switch (type) {
      case T_BOOL: case T_BYTE: this.need(1); this.o += 1; return;
      case T_I16: this.need(2); this.o += 2; return;
      case T_I32: this.need(4); this.o += 4; return;
      case T_I64: case T_DOUBLE: this.need(8); this.o += 8; return;
      case T_STRING: { const n = this.size('length'); this.need(n); this.o += n; return; }
      case T_STRUCT: {
        for (;;) {
          const t = this.byte();
          if (t === T_STOP) return;
          this.i16();
          this.skip(t, depth + 1);
        }
      }
      case T_MAP: {
        const kt = this.byte();
        const vt = this.byte();
        const n = this.size('map size');
        for (let i = 0; i < n; i++) { this.skip(kt, depth + 1); this.skip(vt, depth + 1); }
        return;
      }
      case T_SET: case T_LIST: {
        const et = this.byte();
        const n = this.size('list size');
        for (let i = 0; i < n; i++) this.skip(et, depth + 1);
        return;
      }
      default: throw new ThriftDecodeError(`unknown Thrift type ${type} at offset ${this.o}`);
    }
  }
}

/**
 * Decodes a TBinaryProtocol CollectorPayload. Unknown fields are skipped as Thrift readers do.
 * Throws ThriftDecodeError on truncated or malformed input (never reads past the buffer).
 */
export function decodeCollectorPayload(buf: Uint8Array): CollectorPayload {
  const r = new ThriftReader(Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
  const out: CollectorPayload = { timestamp: 0 };
  const rec = out as unknown as Record<string, unknown>;
  for (;;) {
    const type = r.byte();
    if (type === T_STOP) break;
    const name = FIELD_BY_ID.get(r.i16());
    if (name === undefined) { r.skip(type, 0); continue; }
    if (name === 'timestamp') {
      if (type === T_I64) out.timestamp = r.i64();
      else r.skip(type, 0);
    } else if (name === 'headers') {
      if (type !== T_LIST) { r.skip(type, 0); continue; }
      const et = r.byte();
      const n = r.size('list size');
      if (et !== T_STRING) { for (let i = 0; i < n; i++) r.skip(et, 1); continue; }
      if (n > r.b.length - r.o) throw new ThriftDecodeError(`list size ${n} exceeds remaining bytes`);
      const headers: string[] = new Array(n);
      for (let i = 0; i < n; i++) headers[i] = r.string();
      out.headers = headers;
    } else if (type === T_STRING) {
      rec[name] = r.string();
    } else {
      r.skip(type, 0);
    }
  }
  return out;
}

/**
 * Java `toString()` of the generated Thrift class (IDL declaration order, schema first), which
 * Snowplow puts in size_violation bad rows.
 */
export function collectorPayloadToJavaString(p: CollectorPayload): string {
  const s = (v: string | undefined): string => (v === undefined ? 'null' : v);
  let r = `CollectorPayload(schema:${s(p.schema)}, ipAddress:${s(p.ipAddress)}, timestamp:${p.timestamp ?? 0}, encoding:${s(p.encoding)}, collector:${s(p.collector)}`;
  if (p.userAgent !== undefined) r += `, userAgent:${p.userAgent}`;
  if (p.refererUri !== undefined) r += `, refererUri:${p.refererUri}`;
  if (p.path !== undefined) r += `, path:${p.path}`;
  if (p.querystring !== undefined) r += `, querystring:${p.querystring}`;
  if (p.body !== undefined) r += `, body:${p.body}`;
  if (p.headers !== undefined) r += `, headers:[${p.headers.join(', ')}]`;
  if (p.contentType !== undefined) r += `, contentType:${p.contentType}`;
  if (p.hostname !== undefined) r += `, hostname:${p.hostname}`;
  if (p.networkUserId !== undefined) r += `, networkUserId:${p.networkUserId}`;
  return r + ')';
}
