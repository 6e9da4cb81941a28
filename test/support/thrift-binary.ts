/**
 * An independent cross-check for the CollectorPayload codec (formats/collector-payload.ts): a generic reader for
 * Thrift's binary protocol (TBinaryProtocol, a struct as TSerializer writes it), written for the tests from the
 * Thrift protocol description, sharing no code with the codec under test.
 *
 *   field    := type:i8 id:i16be value      (a struct ends with type 0 = STOP)
 *   BOOL 2 / BYTE 3: 1 byte · I16 6: 2 bytes · I32 8: 4 bytes · I64 10: 8 bytes · DOUBLE 4: 8 bytes (all big-endian)
 *   STRING 11: i32be length + bytes · STRUCT 12: fields until STOP
 *   MAP 13: key type, value type, i32be count, pairs · SET 14 / LIST 15: element type, i32be count, elements
 *
 * readStruct() returns every field in wire order with its id, type and value (strings as raw bytes), so a test can
 * check the field order, the types and the values the IDL prescribes. collectorPayloadView() applies the
 * CollectorPayload IDL (field ids and types from the collector-payload-1 Thrift definition) to such a struct.
 */

export const TTYPE = { STOP: 0, BOOL: 2, BYTE: 3, DOUBLE: 4, I16: 6, I32: 8, I64: 10, STRING: 11, STRUCT: 12, MAP: 13, SET: 14, LIST: 15 } as const;

export type ThriftValue = boolean | number | bigint | Buffer | ThriftField[] | ThriftValue[] | Array<[ThriftValue, ThriftValue]>;

export interface ThriftField {
  id: number;
  type: number;
  value: ThriftValue;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.buf.length) throw new Error(`truncated at byte ${this.pos}: need ${n} more`);
  }

  i8(): number {
    this.need(1);
    return this.buf.readInt8(this.pos++);
  }

  i16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  i64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  double(): number {
    this.need(8);
    const v = this.buf.readDoubleBE(this.pos);
    this.pos += 8;
    return v;
  }

  bytes(): Buffer {
    const n = this.i32();
    if (n < 0) throw new Error(`negative length ${n} at byte ${this.pos - 4}`);
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  value(type: number, depth: number): ThriftValue {
    if (depth > 64) throw new Error('nesting deeper than 64');
    switch (type) {
      case TTYPE.BOOL:
        return this.i8() !== 0;
      case TTYPE.BYTE:
        return this.i8();
      case TTYPE.I16:
        return this.i16();
      case TTYPE.I32:
        return this.i32();
      case TTYPE.I64:
        return this.i64();
      case TTYPE.DOUBLE:
        return this.double();
      case TTYPE.STRING:
        return this.bytes();
      case TTYPE.STRUCT:
        return this.struct(depth + 1);
      case TTYPE.MAP: {
        const k = this.i8();
        const v = this.i8();
        const n = this.count();
        const out: Array<[ThriftValue, ThriftValue]> = [];
        for (let i = 0; i < n; i++) out.push([this.value(k, depth + 1), this.value(v, depth + 1)]);
        return out;
      }
      case TTYPE.SET:
      case TTYPE.LIST: {
        const e = this.i8();
        const n = this.count();
        const out: ThriftValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(e, depth + 1));
        return out;
      }
      default:
        throw new Error(`unknown Thrift type ${type} at byte ${this.pos}`);
    }
  }

  private count(): number {
    const n = this.i32();
    if (n < 0 || n > this.buf.length - this.pos) throw new Error(`bad element count ${n} at byte ${this.pos - 4}`);
    return n;
  }

  struct(depth: number): ThriftField[] {
    const fields: ThriftField[] = [];
    for (;;) {
      const type = this.i8();
      if (type === TTYPE.STOP) return fields;
      const id = this.i16();
      fields.push({ id, type, value: this.value(type, depth) });
    }
  }
}

/** Reads one top-level struct; throws unless the bytes are exactly one struct. */
export function readStruct(bytes: Buffer): ThriftField[] {
  const r = new Reader(bytes);
  const fields = r.struct(0);
  if (r.pos !== bytes.length) throw new Error(`${bytes.length - r.pos} bytes after the struct`);
  return fields;
}

/** CollectorPayload (collector-payload-1 IDL): field id → [name, Thrift type]. */
export const COLLECTOR_PAYLOAD_IDL: ReadonlyMap<number, readonly [string, number]> = new Map([
  [31337, ['schema', TTYPE.STRING]],
  [100, ['ipAddress', TTYPE.STRING]],
  [200, ['timestamp', TTYPE.I64]],
  [210, ['encoding', TTYPE.STRING]],
  [220, ['collector', TTYPE.STRING]],
  [300, ['userAgent', TTYPE.STRING]],
  [310, ['refererUri', TTYPE.STRING]],
  [320, ['path', TTYPE.STRING]],
  [330, ['querystring', TTYPE.STRING]],
  [340, ['body', TTYPE.STRING]],
  [350, ['headers', TTYPE.LIST]],
  [360, ['contentType', TTYPE.STRING]],
  [400, ['hostname', TTYPE.STRING]],
  [410, ['networkUserId', TTYPE.STRING]],
]);

export interface PayloadView {
  /** Field ids in wire order. */
  order: number[];
  /** Field name → value: strings decoded as UTF-8, timestamp as a number, headers as strings. */
  fields: Record<string, string | number | string[]>;
}

/** Decodes a CollectorPayload record with the generic reader and the IDL; throws on a field of the wrong type. */
export function collectorPayloadView(bytes: Buffer): PayloadView {
  const struct = readStruct(bytes);
  const fields: PayloadView['fields'] = {};
  for (const f of struct) {
    const idl = COLLECTOR_PAYLOAD_IDL.get(f.id);
    if (idl === undefined) throw new Error(`field ${f.id} is not in the CollectorPayload IDL`);
    const [name, type] = idl;
    if (f.type !== type) throw new Error(`field ${f.id} (${name}) has Thrift type ${f.type}, the IDL says ${type}`);
    if (name === 'timestamp') fields[name] = Number(f.value as bigint);
    else if (name === 'headers') {
      const list = f.value as ThriftValue[];
      if (!list.every((b) => Buffer.isBuffer(b))) throw new Error('field 350 (headers) is not a list<string>');
      fields[name] = (list as Buffer[]).map((b) => b.toString('utf8'));
    } else fields[name] = (f.value as Buffer).toString('utf8');
  }
  return { order: struct.map((f) => f.id), fields };
}
