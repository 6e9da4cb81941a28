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

type StringField = Exclude<keyof CollectorPayload, 'timestamp' | 'headers'>;

/** String fields in the order the encoder writes them (ascending id), with their 3-byte headers. */
const STRING_FIELDS_BEFORE_HEADERS: ReadonlyArray<readonly [StringField, number]> = [
  ['ipAddress', 100],
];
const STRING_FIELDS_AFTER_TIMESTAMP: ReadonlyArray<readonly [StringField, number]> = [
  ['encoding', 210],
  ['collector', 220],
  ['userAgent', 300],
  ['refererUri', 310],
  ['path', 320],
  ['querystring', 330],
  ['body', 340],
];
const STRING_FIELDS_AFTER_HEADERS: ReadonlyArray<readonly [StringField, number]> = [
  ['contentType', 360],
  ['hostname', 400],
  ['networkUserId', 410],
  ['schema', 31337],
];

const FIELD_BY_ID: ReadonlyMap<number, keyof CollectorPayload> = new Map<number, keyof CollectorPayload>([
  [100, 'ipAddress'], [200, 'timestamp'], [210, 'encoding'], [220, 'collector'], [300, 'userAgent'],
  [310, 'refererUri'], [320, 'path'], [330, 'querystring'], [340, 'body'], [350, 'headers'],
  [360, 'contentType'], [400, 'hostname'], [410, 'networkUserId'], [31337, 'schema'],
]);

/** Encodes a payload exactly as Snowplow's collector does (ascending ids, schema last). */
export function encodeCollectorPayload(p: CollectorPayload): Buffer {
  let size = 1 + 11; // STOP + timestamp
  const strings: Array<readonly [number, Buffer]> = [];
  const addStrings = (fields: ReadonlyArray<readonly [StringField, number]>): void => {
    for (const [name, id] of fields) {
      const v = p[name];
      if (v === undefined || v === null) continue;
      const b = Buffer.from(v, 'utf8');
      strings.push([id, b]);
      size += 7 + b.length;
    }
  };
  addStrings(STRING_FIELDS_BEFORE_HEADERS);
  const afterTimestampStart = strings.length;
  addStrings(STRING_FIELDS_AFTER_TIMESTAMP);
  const afterHeadersStart = strings.length;
  addStrings(STRING_FIELDS_AFTER_HEADERS);
  let headerBufs: Buffer[] | null = null;
  if (p.headers) {
    headerBufs = p.headers.map((h) => Buffer.from(h, 'utf8'));
    size += 3 + 5;
    for (const h of headerBufs) size += 4 + h.length;
  }

  const out = Buffer.allocUnsafe(size);
  let o = 0;
  const writeString = (id: number, b: Buffer): void => {
    out[o] = T_STRING;
    out.writeInt16BE(id, o + 1);
    out.writeInt32BE(b.length, o + 3);
    b.copy(out, o + 7);
    o += 7 + b.length;
  };
  for (let i = 0; i < afterTimestampStart; i++) writeString(strings[i]![0], strings[i]![1]);
  out[o] = T_I64;
  out.writeInt16BE(200, o + 1);
  out.writeBigInt64BE(BigInt(Math.trunc(p.timestamp ?? 0)), o + 3);
  o += 11;
  for (let i = afterTimestampStart; i < afterHeadersStart; i++) writeString(strings[i]![0], strings[i]![1]);
  if (headerBufs) {
    out[o] = T_LIST;
    out.writeInt16BE(350, o + 1);
    out[o + 3] = T_STRING;
    out.writeInt32BE(headerBufs.length, o + 4);
    o += 8;
    for (const h of headerBufs) {
      out.writeInt32BE(h.length, o);
      h.copy(out, o + 4);
      o += 4 + h.length;
    }
  }
  for (let i = afterHeadersStart; i < strings.length; i++) writeString(strings[i]![0], strings[i]![1]);
  out[o] = T_STOP;
  return out;
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
 * Decodes a TBinaryProtocol CollectorPayload. Unknown fields are skipped as Thrift readers do.
 * Throws ThriftDecodeError on truncated or malformed input (never reads past the buffer).
 */
export function decodeCollectorPayload(buf: Uint8Array): CollectorPayload {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = 0;
  const need = (n: number): void => {
    if (n < 0 || o + n > b.length) throw new ThriftDecodeError(`truncated record: need ${n} bytes at offset ${o}, have ${b.length - o}`);
  };
  const readI32 = (): number => {
    need(4);
    const v = b.readInt32BE(o);
    o += 4;
    return v;
  };
  const readString = (): string => {
    const n = readI32();
    if (n < 0) throw new ThriftDecodeError(`negative string length ${n} at offset ${o - 4}`);
    need(n);
    const s = b.toString('utf8', o, o + n);
    o += n;
    return s;
  };
  const skip = (type: number, depth: number): void => {
    if (depth > MAX_SKIP_DEPTH) throw new ThriftDecodeError('nesting too deep');
    switch (type) {
      case T_BOOL: case T_BYTE: need(1); o += 1; return;
      case T_I16: need(2); o += 2; return;
      case T_I32: need(4); o += 4; return;
      case T_I64: case T_DOUBLE: need(8); o += 8; return;
      case T_STRING: { const n = readI32(); if (n < 0) throw new ThriftDecodeError('negative length'); need(n); o += n; return; }
      case T_STRUCT: {
        for (;;) {
          need(1);
          const t = b[o++]!;
          if (t === T_STOP) return;
          need(2); o += 2;
          skip(t, depth + 1);
        }
      }
      case T_MAP: {
        need(2); const kt = b[o]!; const vt = b[o + 1]!; o += 2;
        const n = readI32();
        if (n < 0) throw new ThriftDecodeError('negative map size');
        for (let i = 0; i < n; i++) { skip(kt, depth + 1); skip(vt, depth + 1); }
        return;
      }
      case T_SET: case T_LIST: {
        need(1); const et = b[o++]!;
        const n = readI32();
        if (n < 0) throw new ThriftDecodeError('negative list size');
        for (let i = 0; i < n; i++) skip(et, depth + 1);
        return;
      }
      default: throw new ThriftDecodeError(`unknown Thrift type ${type} at offset ${o}`);
    }
  };

  const out: CollectorPayload = { timestamp: 0 };
  const rec = out as unknown as Record<string, unknown>;
  for (;;) {
    need(1);
    const type = b[o++]!;
    if (type === T_STOP) break;
    need(2);
    const id = b.readInt16BE(o);
    o += 2;
    const name = FIELD_BY_ID.get(id);
    if (name === undefined) { skip(type, 0); continue; }
    if (name === 'timestamp') {
      if (type !== T_I64) { skip(type, 0); continue; }
      need(8);
      out.timestamp = Number(b.readBigInt64BE(o));
      o += 8;
    } else if (name === 'headers') {
      if (type !== T_LIST) { skip(type, 0); continue; }
      need(1);
      const et = b[o++]!;
      const n = readI32();
      if (n < 0) throw new ThriftDecodeError('negative list size');
      if (et !== T_STRING) { for (let i = 0; i < n; i++) skip(et, 1); continue; }
      if (n > b.length - o) throw new ThriftDecodeError(`list size ${n} exceeds remaining bytes`);
      const headers: string[] = new Array(n);
      for (let i = 0; i < n; i++) headers[i] = readString();
      out.headers = headers;
    } else {
      if (type !== T_STRING) { skip(type, 0); continue; }
      rec[name] = readString();
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
