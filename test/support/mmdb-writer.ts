/**
 * A small writer for the MaxMind DB format (public spec: maxmind.github.io/MaxMind-DB), so tests build the
 * GeoIP2-shaped databases they need instead of shipping binaries.
 *
 *   file = search tree | 16 zero bytes | data section | "\xAB\xCD\xEFMaxMind.com" | metadata map
 *   search tree: node_count nodes × 2 records of record_size bits (we write 32-bit records, 8 bytes/node);
 *     record < node_count → next node; = node_count → no data; > node_count → data at (record − node_count − 16)
 *   data: control byte = type (3 bits; 0 = extended, next byte = type − 7) + size (5 bits; 29/30/31 = 1/2/3
 *     more bytes), then the payload. Types: 2 utf8 string, 3 double, 4 bytes, 5 uint16, 6 uint32, 7 map,
 *     8 int32, 9 uint64, 11 array, 14 boolean, 15 float.
 *
 * IPv6 databases (ip_version 6) store IPv4 networks under ::/96, as MaxMind's do. Networks must not overlap.
 */
import { isIPv4 } from 'node:net';

export type MmdbValue = string | number | boolean | MmdbValue[] | { [k: string]: MmdbValue } | { uint64: bigint } | { float: number } | { double: number };

export interface MmdbNetwork {
  /** e.g. `81.2.69.160/27` or `2001:db8::/32` */
  network: string;
  data: Record<string, MmdbValue>;
}

export interface MmdbOptions {
  databaseType: string;
  ipVersion?: 4 | 6;
  languages?: string[];
  description?: Record<string, string>;
}

function control(type: number, size: number): Buffer {
  const head: number[] = [];
  let sizeBits: number;
  const extra: number[] = [];
  if (size < 29) sizeBits = size;
  else if (size < 29 + 256) {
    sizeBits = 29;
    extra.push(size - 29);
  } else if (size < 285 + 65536) {
    sizeBits = 30;
    const v = size - 285;
    extra.push(v >> 8, v & 0xff);
  } else {
    sizeBits = 31;
    const v = size - 65821;
    extra.push((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  }
  if (type <= 7) head.push((type << 5) | sizeBits);
  else head.push(sizeBits, type - 7);
  return Buffer.from([...head, ...extra]);
}

function uintBytes(n: bigint): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0n) {
    out.unshift(Number(v & 0xffn));
    v >>= 8n;
  }
  return Buffer.from(out);
}

export function encodeValue(v: MmdbValue): Buffer {
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(2, b.length), b]);
  }
  if (typeof v === 'boolean') return control(14, v ? 1 : 0);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      const b = uintBytes(BigInt(v));
      return Buffer.concat([control(v <= 0xffff ? 5 : 6, b.length), b]);
    }
    if (Number.isInteger(v) && v < 0 && v >= -0x80000000) {
      const b = Buffer.alloc(4);
      b.writeInt32BE(v);
      return Buffer.concat([control(8, 4), b]);
    }
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return Buffer.concat([control(3, 8), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(11, v.length), ...v.map(encodeValue)]);
  if ('uint64' in v && typeof v.uint64 === 'bigint') {
    const b = uintBytes(v.uint64);
    return Buffer.concat([control(9, b.length), b]);
  }
  if ('float' in v && typeof v.float === 'number' && Object.keys(v).length === 1) {
    const b = Buffer.alloc(4);
    b.writeFloatBE(v.float);
    return Buffer.concat([control(15, 4), b]);
  }
  if ('double' in v && typeof v.double === 'number' && Object.keys(v).length === 1) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.double);
    return Buffer.concat([control(3, 8), b]);
  }
  const entries = Object.entries(v as Record<string, MmdbValue>);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, val]) => [encodeValue(k), encodeValue(val)])]);
}

function ipBits(address: string, ipVersion: 4 | 6): number[] {
  const bytes: number[] = [];
  if (isIPv4(address)) {
    if (ipVersion === 6) bytes.push(...new Array<number>(12).fill(0));
    bytes.push(...address.split('.').map(Number));
  } else {
    if (ipVersion === 4) throw new Error(`IPv6 network ${address} in an IPv4 database`);
    const [l, r] = address.includes('::') ? address.split('::') : [address, null];
    const left = l === '' || l === undefined ? [] : l.split(':');
    const right = r === null || r === '' ? [] : r.split(':');
    const groups = r === null ? left : [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
    for (const g of groups) {
      const n = parseInt(g, 16);
      bytes.push(n >> 8, n & 0xff);
    }
  }
  const bits: number[] = [];
  for (const b of bytes) for (let i = 7; i >= 0; i--) bits.push((b >> i) & 1);
  return bits;
}

type Slot = { node: TreeNode } | { data: number } | null;
interface TreeNode {
  slots: [Slot, Slot];
  id: number;
}

/** Builds an .mmdb file image. */
export function buildMmdb(networks: MmdbNetwork[], opts: MmdbOptions): Buffer {
  const ipVersion = opts.ipVersion ?? 6;
  const root: TreeNode = { slots: [null, null], id: 0 };
  const dataChunks: Buffer[] = [];
  let dataLen = 0;
  for (const n of networks) {
    const [addr, lenText] = n.network.split('/');
    let prefix = Number(lenText);
    if (ipVersion === 6 && isIPv4(addr!)) prefix += 96;
    const bits = ipBits(addr!, ipVersion);
    const encoded = encodeValue(n.data);
    const offset = dataLen;
    dataChunks.push(encoded);
    dataLen += encoded.length;
    let node = root;
    for (let depth = 0; depth < prefix; depth++) {
      const bit = bits[depth] as 0 | 1;
      if (depth === prefix - 1) {
        node.slots[bit] = { data: offset };
        break;
      }
      const s: Slot = node.slots[bit];
      if (s !== null && 'node' in s) node = s.node;
      else {
        if (s !== null) throw new Error(`network ${n.network} overlaps another`);
        const next: TreeNode = { slots: [null, null], id: -1 };
        node.slots[bit] = { node: next };
        node = next;
      }
    }
  }
  // Number nodes breadth-first.
  const order: TreeNode[] = [];
  const queue: TreeNode[] = [root];
  while (queue.length > 0) {
    const n = queue.shift()!;
    n.id = order.length;
    order.push(n);
    for (const s of n.slots) if (s !== null && 'node' in s) queue.push(s.node);
  }
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 8);
  order.forEach((n, i) => {
    n.slots.forEach((s, side) => {
      const value = s === null ? nodeCount : 'node' in s ? s.node.id : nodeCount + 16 + s.data;
      tree.writeUInt32BE(value, i * 8 + side * 4);
    });
  });
  const metadata = encodeValue({
    binary_format_major_version: 2,
    binary_format_minor_version: 0,
    build_epoch: { uint64: BigInt(Math.floor(Date.now() / 1000)) },
    database_type: opts.databaseType,
    description: opts.description ?? { en: `furrow test ${opts.databaseType}` },
    ip_version: ipVersion,
    languages: opts.languages ?? ['en'],
    node_count: nodeCount,
    record_size: 32,
  });
  return Buffer.concat([tree, Buffer.alloc(16), ...dataChunks, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}
