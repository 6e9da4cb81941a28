/**
 * Generators for the hostile-input fuzz test (test/fuzz/hostile-input.test.ts): a seeded PRNG, valid tracker
 * requests, CollectorPayload records and enriched TSV lines, and mutators that break them the ways an attacker
 * (or a broken tracker) would.
 *
 *   seed ──Rng.for(seed, layer, i)──▶ item i of a layer (the same item for the same seed, whatever the count)
 *
 *   requests: GET /i · GET/POST tp2 (payload_data batches, co/cx contexts, ue_pr/ue_px) · /r/tp2 · Iglu webhook
 *             · OPTIONS · unknown routes; then byte flips, truncation, huge fields, deep nesting, wrong types,
 *             bad base64, bad percent-encoding, invalid UTF-8, duplicated params, bad Content-Type /
 *             Content-Encoding / Content-Length, junk headers, odd methods and paths
 *   records:  the same payloads encoded as Thrift (collector field = a per-record tag), content mutations, loader
 *             mutations (schema, nuid, encoding, timestamp), then byte-level mutations of one-event records
 *             (flips, truncation, field types, huge lengths, unknown nested fields, random bytes, gzip framing)
 *   lines:    enriched TSV (test/support/enriched-generator.ts, name_tracker = a per-line tag), then wrong
 *             column counts, bad or deep JSON, CR/LF/TAB/NUL inside fields, invalid numbers, timestamps and
 *             UUIDs, invalid UTF-8, huge fields
 *
 * Every event a generator writes carries an event id from fuzzEid(seed, n) (a valid UUID, unique per n), so the
 * test can find each event in whatever output it became. Mutators never edit the `eid` pair of a querystring in
 * place, so an id that is still present verbatim still names its event.
 */
import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { encodeCollectorPayload, type CollectorPayload, COLLECTOR_PAYLOAD_SCHEMA } from '../../formats/collector-payload.js';
import { ENRICHED_INDEX as F, generateColumns } from './enriched-generator.js';

// ------------------------------------------------------------------------------------------------
// PRNG

/** mulberry32: 32 bits of state, good enough for test data, identical on every platform. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** An independent stream for item `i` of `layer` (1 requests, 2 records, 3 lines). */
  static for(seed: number, layer: number, i: number): Rng {
    let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(layer + 1, 0xc2b2ae35) ^ Math.imul(i + 1, 0x27d4eb2f);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    return new Rng(h ^ (h >>> 16));
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, n);
  }

  uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/** The event id of generated event n: a valid v4-shaped UUID, unique per (seed, n), always 36 characters. */
export function fuzzEid(seed: number, n: number): string {
  return `${(seed >>> 0).toString(16).padStart(8, '0')}-f022-4e1d-8${((n >>> 24) & 0xfff).toString(16).padStart(3, '0')}-${(n & 0xffffff).toString(16).padStart(6, '0')}f022e1`;
}

/** Every generated event id of a run, for searching outputs: `${seed hex}-f022-4e1d-8...f022e1`. */
export function eidPattern(seed: number): RegExp {
  return new RegExp(`${(seed >>> 0).toString(16).padStart(8, '0')}-f022-4e1d-8[0-9a-f]{3}-[0-9a-f]{6}f022e1`, 'g');
}

// ------------------------------------------------------------------------------------------------
// Shared values

export const SCHEMAS = {
  payloadData: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
  contexts: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1',
  unstruct: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
  webPage: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
  linkClick: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
  unknown: 'iglu:com.acme.fuzz/nothing/jsonschema/1-0-0',
} as const;

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
const IGLU = '/com.snowplowanalytics.iglu/v1';

/** '[[[…1…]]]' nested `depth` levels (an array is the cheapest nesting in bytes). */
export function deepArray(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function b64(s: string | Buffer, urlSafe: boolean): string {
  const b = (typeof s === 'string' ? Buffer.from(s, 'utf8') : s).toString('base64');
  return urlSafe ? b.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : b;
}

/** Byte sequences that are not UTF-8: a stray continuation byte, 0xFF, overlong '/', a surrogate, a cut 3-byte sequence. */
export const INVALID_UTF8: readonly Buffer[] = [
  Buffer.from([0x80]), Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0xaf]), Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xe2, 0x82]), Buffer.from([0xf4, 0x90, 0x80, 0x80]),
];

const ODD_STRINGS: readonly string[] = [
  '', ' ', '\u0000', 'a\u0000b', '\t', '\r\n', '\\', '\\N', '\\.', '"', "'", '😀', '\u202egnp.exe', '\ufeff', '\uffff',
  'null', 'NaN', '1e999', '-0', '99999999999999999999', '-1', '0x10', '1,5', ' 12 ', 'true', '[]', '{}', '<script>',
];

// ------------------------------------------------------------------------------------------------
// Tracker events

export type Params = Array<[string, string]>;

const PLATFORMS = ['web', 'mob', 'pc', 'srv', 'app', 'tv', 'cnsl', 'iot'];
const EVENT_KINDS = ['pv', 'pp', 'se', 'ue', 'tr', 'ti', 'pv', 'ue'];

function contextsJson(rng: Rng): string {
  const entities: unknown[] = [{ schema: SCHEMAS.webPage, data: { id: rng.uuid() } }];
  if (rng.chance(0.3)) entities.push({ schema: SCHEMAS.linkClick, data: { targetUrl: `https://example.com/${rng.hex(6)}`, elementId: rng.hex(4) } });
  return JSON.stringify({ schema: SCHEMAS.contexts, data: entities });
}

function unstructJson(rng: Rng): string {
  return JSON.stringify({
    schema: SCHEMAS.unstruct,
    data: { schema: SCHEMAS.linkClick, data: { targetUrl: `https://example.org/${rng.hex(8)}`, elementId: `el-${rng.int(100)}`, elementClasses: ['nav', rng.hex(3)] } },
  });
}

/** The parameters of one valid tracker event (eid first). */
export function trackerEvent(rng: Rng, eid: string, now: number): Params {
  const kind = rng.pick(EVENT_KINDS);
  const p: Params = [
    ['eid', eid], ['e', kind], ['p', rng.pick(PLATFORMS)], ['tv', rng.pick(['js-3.24.0', 'andr-5.0.0', 'py-1.0.0', 'node-4.8.0'])],
    ['aid', `fuzz-${rng.int(5)}`], ['dtm', String(now - rng.int(5000))], ['stm', String(now)], ['tz', 'Europe/Berlin'],
    ['lang', 'de-DE'], ['res', '1920x1080'], ['vp', '1280x800'], ['duid', rng.uuid()], ['vid', String(1 + rng.int(20))],
    ['sid', rng.uuid()], ['tna', 'sp'], ['url', `https://shop.example.com/p/${rng.int(1000)}?utm_source=fuzz&utm_medium=email`],
  ];
  switch (kind) {
    case 'pv':
      p.push(['page', `Product ${rng.int(1000)} — "quoted"`], ['refr', 'https://find.example.net/search?q=fuzz']);
      break;
    case 'pp':
      p.push(['pp_mix', String(rng.int(100))], ['pp_max', String(rng.int(2000))], ['pp_miy', '0'], ['pp_may', String(rng.int(9000))]);
      break;
    case 'se':
      p.push(['se_ca', 'cat'], ['se_ac', 'act'], ['se_la', `label ${rng.hex(4)}`], ['se_pr', 'prop'], ['se_va', String(rng.int(10000) / 100)]);
      break;
    case 'ue':
      if (rng.chance(0.5)) p.push(['ue_pr', unstructJson(rng)]);
      else p.push(['ue_px', b64(unstructJson(rng), rng.chance(0.7))]);
      break;
    case 'tr':
      p.push(['tr_id', rng.hex(8)], ['tr_af', 'shop'], ['tr_tt', String(rng.int(100000) / 100)], ['tr_tx', '1.50'], ['tr_sh', '4.99'], ['tr_ci', 'Berlin'], ['tr_st', 'BE'], ['tr_co', 'DE'], ['tr_cu', 'EUR']);
      break;
    default:
      p.push(['ti_id', rng.hex(8)], ['ti_sk', `sku-${rng.int(99)}`], ['ti_nm', 'Thing'], ['ti_ca', 'Things'], ['ti_pr', '9.99'], ['ti_qu', String(1 + rng.int(5))], ['ti_cu', 'EUR']);
  }
  if (rng.chance(0.5)) {
    if (rng.chance(0.5)) p.push(['co', contextsJson(rng)]);
    else p.push(['cx', b64(contextsJson(rng), rng.chance(0.7))]);
  }
  return p;
}

// ------------------------------------------------------------------------------------------------
// Requests (what a tracker, a browser or an attacker sends to the collector)

/** A request as the mutators see it; the querystring is a list of raw (already encoded) `k=v` segments. */
export interface RequestDraft {
  kind: 'pixel' | 'tp2-get' | 'tp2-post' | 'redirect' | 'iglu-get' | 'iglu-post' | 'options' | 'unknown';
  method: string;
  path: string;
  /** Encoded segments, joined with '&'; index 0 is the eid pair when the request has one in its querystring. */
  query: string[];
  /** tp2 POST items / Iglu webhook data before they are printed (mutators may change values and types). */
  items: Array<Record<string, unknown>> | null;
  /** The body: built from `items` unless a mutator set raw bytes. */
  body: Buffer | null;
  contentType: string | null;
  contentEncoding: string | null;
  headers: Array<[string, string]>;
  /** Content-Length: 'auto' (the body's), or a wrong number. */
  contentLength: 'auto' | number;
  chunked: boolean;
  /** Event ids the request was built with. */
  eids: string[];
  mutations: string[];
}

export interface FuzzRequest {
  i: number;
  kind: RequestDraft['kind'];
  /** X-Forwarded-For value naming this request: the record's ipAddress (null when SP-Anonymous hides it). */
  ip: string | null;
  raw: Buffer;
  /** False when the bytes do not hold a whole request (declared Content-Length above the bytes sent). */
  complete: boolean;
  /** Bytes after the request (declared Content-Length below the body): the server reads them as a second request. */
  pipelined: boolean;
  /** Tracking route (a record may be written); false for OPTIONS and unknown routes after mutation. */
  tracking: boolean;
  eids: string[];
  mutations: string[];
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

function seg(k: string, v: string): string {
  return `${enc(k)}=${enc(v)}`;
}

/** The i-th request's IP tag: 10.x.y.z, unique for i < 2^24. */
export function requestIp(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

/** A valid request of a random kind; `nextEid` hands out event numbers. */
function baseRequest(rng: Rng, seed: number, nextEid: () => number, now: number): RequestDraft {
  const d: RequestDraft = {
    kind: 'pixel', method: 'GET', path: '/i', query: [], items: null, body: null, contentType: null, contentEncoding: null,
    headers: [['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36'], ['Referer', 'https://shop.example.com/']],
    contentLength: 'auto', chunked: false, eids: [], mutations: [],
  };
  const r = rng.int(100);
  const oneEvent = (): Params => {
    const eid = fuzzEid(seed, nextEid());
    d.eids.push(eid);
    return trackerEvent(rng, eid, now);
  };
  if (r < 25) {
    d.path = rng.chance(0.8) ? '/i' : '/ice.png';
    d.query = oneEvent().map(([k, v]) => seg(k, v));
  } else if (r < 35) {
    d.kind = 'tp2-get';
    d.path = TP2;
    d.query = oneEvent().map(([k, v]) => seg(k, v));
  } else if (r < 70) {
    d.kind = 'tp2-post';
    d.method = 'POST';
    d.path = TP2;
    const n = rng.chance(0.3) ? 1 : rng.range(2, 12);
    d.items = [];
    for (let k = 0; k < n; k++) d.items.push(Object.fromEntries(oneEvent()));
    d.contentType = rng.pick(['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8']);
  } else if (r < 78) {
    d.kind = 'redirect';
    d.path = '/r/tp2';
    const p = oneEvent();
    if (rng.chance(0.3)) p.splice(1, p.length - 1); // only eid: the redirect itself becomes the event
    p.push(['u', `https://landing.example.com/${rng.hex(6)}?a=1&b=2`]);
    d.query = p.map(([k, v]) => seg(k, v));
  } else if (r < 84) {
    d.kind = 'iglu-get';
    d.path = IGLU;
    const eid = fuzzEid(seed, nextEid());
    d.eids.push(eid);
    // The event id rides in the data (`eid` would be a data field the schema refuses).
    d.query = [seg('elementId', eid), seg('schema', SCHEMAS.linkClick), seg('targetUrl', `https://example.com/${rng.hex(5)}`)];
  } else if (r < 92) {
    d.kind = 'iglu-post';
    d.method = 'POST';
    d.path = IGLU;
    d.query = [seg('schema', SCHEMAS.linkClick)];
    // The event id rides in the data (an Iglu webhook's query parameters are shared by every element).
    const n = rng.chance(0.5) ? 1 : rng.range(2, 5);
    d.items = [];
    for (let k = 0; k < n; k++) {
      const eid = fuzzEid(seed, nextEid());
      d.eids.push(eid);
      d.items.push({ targetUrl: `https://example.com/${rng.hex(5)}`, elementId: eid, elementClasses: ['a'] });
    }
    d.contentType = 'application/json';
  } else if (r < 96) {
    d.kind = 'options';
    d.method = 'OPTIONS';
    d.path = rng.pick([TP2, '/i', IGLU]);
    d.headers.push(['Origin', 'https://shop.example.com'], ['Access-Control-Request-Method', 'POST']);
  } else {
    d.kind = 'unknown';
    d.path = rng.pick(['/', '/favicon.ico', '/a/b/c', '/com.snowplowanalytics.snowplow', '/r', '/health/x']);
  }
  return d;
}

/** A string value `${DEEP_MARK}<depth>` is printed as raw JSON nested that deep (JSON.stringify could not print it). */
const DEEP_MARK = '\u0000deep:';

function bodyOf(d: RequestDraft): Buffer | null {
  if (d.body !== null) return d.body;
  if (d.items === null) return null;
  const text = d.kind === 'iglu-post' ? JSON.stringify(d.items.length === 1 ? d.items[0] : d.items) : JSON.stringify({ schema: SCHEMAS.payloadData, data: d.items });
  return Buffer.from(text.replace(/"\\u0000deep:(\d+)"/g, (_, n: string) => deepArray(Number(n))));
}

const BAD_PCT = ['%', '%z', '%zz', '%e0%80', '%ff', '%c3%28', '%ed%a0%80', '%00', '%0a', '%0d%0a', '%25', '+', '&&', '=', '==', ';', '%u0041'];
const JUNK_CT = [
  'text/plain', 'application/json; charset=utf-16', 'application/json; charset=ISO-8859-1', 'application/x-www-form-urlencoded',
  ';;;=', 'application/json; charset=', 'application/json; charset="utf-8"', 'APPLICATION/JSON', 'application/json;charset=utf-8;x=y',
  'multipart/form-data; boundary=x', `application/json; x=${'y'.repeat(3000)}`, 'application/json; charset=nope-42',
];

/** One query-segment mutation (never the eid pair at index 0). */
function mutateQuery(rng: Rng, d: RequestDraft, seed: number): void {
  const from = d.eids.length > 0 && /^(eid|elementId)=/.test(d.query[0] ?? '') ? 1 : 0;
  const idx = (): number => (d.query.length > from ? rng.range(from, d.query.length - 1) : -1);
  const m = rng.int(10);
  const i = idx();
  switch (m) {
    case 0: { // bad percent-encoding
      if (i < 0) break;
      const s = d.query[i]!;
      const at = rng.int(s.length + 1);
      d.query[i] = s.slice(0, at) + rng.pick(BAD_PCT) + s.slice(at);
      d.mutations.push('query:bad-percent');
      break;
    }
    case 1: { // byte flips (raw bytes on the wire)
      if (i < 0) break;
      const chars = [...d.query[i]!];
      for (let k = rng.range(1, 4); k > 0 && chars.length > 0; k--) {
        const at = rng.int(chars.length);
        chars[at] = String.fromCharCode((chars[at]!.charCodeAt(0) ^ (1 << rng.int(8))) & 0xff);
      }
      d.query[i] = chars.join('');
      d.mutations.push('query:flip');
      break;
    }
    case 2: // duplicated parameter
      if (i < 0) break;
      d.query.splice(rng.int(d.query.length - from + 1) + from, 0, rng.chance(0.5) ? d.query[i]! : `${d.query[i]!.split('=')[0]}=${enc(rng.pick(ODD_STRINGS))}`);
      d.mutations.push('query:duplicate');
      break;
    case 3: { // huge value
      const size = rng.pick([2000, 9000, 19000, 30000]);
      d.query.push(seg(rng.pick(['page', 'url', 'se_la', 'x']), 'A'.repeat(size)));
      d.mutations.push(`query:huge-${size}`);
      break;
    }
    case 4: { // deep nesting in a JSON parameter
      const depth = rng.pick([60, 900, 1500, 4000]);
      const deep = rng.chance(0.5) ? deepArray(depth) : deepObject(Math.min(depth, 1200));
      const json = rng.chance(0.5)
        ? `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"${SCHEMAS.webPage}","data":{"id":${deep}}}]}`
        : `{"schema":"${SCHEMAS.unstruct}","data":{"schema":"${SCHEMAS.linkClick}","data":{"targetUrl":${deep}}}}`;
      const name = json.includes('/contexts/') ? (rng.chance(0.5) ? 'co' : 'cx') : rng.chance(0.5) ? 'ue_pr' : 'ue_px';
      d.query.push(seg(name, name.endsWith('x') ? b64(json, true) : json));
      d.mutations.push(`query:deep-${depth}`);
      break;
    }
    case 5: { // bad base64
      const bad = rng.pick(['!!!!', 'abc', 'a', '====', 'eyJ', b64('not json', true), b64(Buffer.concat([Buffer.from('{"schema":"'), rng.pick(INVALID_UTF8), Buffer.from('"}')]), false), b64(deepArray(3000), true), `${b64(unstructJson(rng), false)}%%`]);
      d.query.push(`${rng.pick(['cx', 'ue_px'])}=${bad}`);
      d.mutations.push('query:bad-base64');
      break;
    }
    case 6: // a required parameter missing
      for (const name of ['e', 'p', 'tv', 'u', 'schema']) {
        const at = d.query.findIndex((s, k) => k >= from && s.startsWith(`${name}=`));
        if (at >= 0 && rng.chance(0.5)) {
          d.query.splice(at, 1);
          d.mutations.push(`query:drop-${name}`);
          break;
        }
      }
      break;
    case 7: // odd values for typed fields
      if (i < 0) break;
      d.query[i] = `${d.query[i]!.split('=')[0]}=${enc(rng.pick(ODD_STRINGS))}`;
      d.mutations.push('query:odd-value');
      break;
    case 8: // wrong or unknown schema
      d.query.push(seg('ue_pr', JSON.stringify({ schema: SCHEMAS.unstruct, data: { schema: rng.pick([SCHEMAS.unknown, SCHEMAS.linkClick, 'iglu:x', 'not a uri']), data: rng.pick([{}, { targetUrl: 5 }, [], null, 'x']) } })));
      d.mutations.push('query:schema');
      break;
    default: // invalid UTF-8 / control bytes raw in the request line
      d.query.push(`x=${rng.pick(INVALID_UTF8).toString('latin1')}${rng.chance(0.3) ? '\u0001' : ''}`);
      d.mutations.push('query:raw-bytes');
  }
  void seed;
}

function mutateItems(rng: Rng, d: RequestDraft): void {
  const items = d.items;
  if (items === null || items.length === 0) return;
  const item = rng.pick(items);
  const keys = Object.keys(item).filter((k) => k !== 'eid' && k !== 'elementId');
  const m = rng.int(6);
  if (m === 0 && keys.length > 0) {
    item[rng.pick(keys)] = rng.pick<unknown>([123, null, true, [], {}, 1.5e300, -0, { a: [1, { b: 2 }] }]);
    d.mutations.push('items:wrong-type');
  } else if (m === 1) {
    // A JSON string holding deep JSON, or deep JSON as the value itself (spliced into the printed body).
    item[rng.pick(['co', 'ue_pr', 'page', 'x_unknown'])] = rng.chance(0.5) ? deepArray(rng.pick([100, 2000, 20000])) : `${DEEP_MARK}${rng.pick([40, 60, 500, 5000])}`;
    d.mutations.push('items:deep');
  } else if (m === 2 && keys.length > 0) {
    delete item[rng.pick(keys)];
    d.mutations.push('items:drop-key');
  } else if (m === 3) {
    items.push(rng.pick<Record<string, unknown>>([{}, { e: 'pv' }, { e: 'pv', p: 'web', tv: 't', extra: 'x' }]));
    d.mutations.push('items:extra-item');
  } else if (m === 4 && keys.length > 0) {
    item[rng.pick(keys)] = 'Z'.repeat(rng.chance(0.15) ? 300_000 : rng.pick([5000, 70_000]));
    d.mutations.push('items:huge-value');
  } else {
    // Many events in one request (the collector may split the batch).
    const n = rng.chance(0.15) ? 1200 : 150;
    const base = JSON.stringify(items[0]!).length;
    for (let k = 0; k < n; k++) items.push({ e: 'pv', p: 'web', tv: 't', page: 'x'.repeat(Math.min(800, base)) });
    d.mutations.push(`items:many-${n}`);
  }
}

function mutateBody(rng: Rng, d: RequestDraft): void {
  const body = bodyOf(d) ?? Buffer.from('');
  const m = rng.int(8);
  if (m === 0) {
    const b = Buffer.from(body);
    for (let k = rng.range(1, 6); k > 0 && b.length > 0; k--) {
      const at = rng.int(b.length);
      b[at] = b[at]! ^ (1 << rng.int(8));
    }
    d.body = b;
    d.mutations.push('body:flip');
  } else if (m === 1) {
    d.body = body.subarray(0, rng.int(body.length + 1));
    d.mutations.push('body:truncate');
  } else if (m === 2) {
    // Invalid UTF-8 inside a JSON string value.
    const s = body.toString('latin1');
    const at = s.indexOf('":"') + 3;
    d.body = at > 2 ? Buffer.concat([body.subarray(0, at), rng.pick(INVALID_UTF8), body.subarray(at)]) : Buffer.concat([body, rng.pick(INVALID_UTF8)]);
    d.mutations.push('body:invalid-utf8');
  } else if (m === 3) {
    d.body = Buffer.from(rng.pick(['null', '[]', '"x"', '1', '{}', `{"schema":5,"data":[]}`, `{"schema":"${SCHEMAS.payloadData}","data":{}}`, `{"schema":"${SCHEMAS.payloadData}","data":[]}`, `{"schema":"${SCHEMAS.payloadData}"}`, `{"schema":"${SCHEMAS.unknown}","data":[{"e":"pv"}]}`, `{"schema":"${SCHEMAS.payloadData}","data":[1,"a",null]}`]));
    d.mutations.push('body:wrong-shape');
  } else if (m === 4) {
    d.body = Buffer.from(`{"schema":"${SCHEMAS.payloadData}","data":[${rng.chance(0.5) ? deepArray(rng.pick([3000, 50000])) : deepObject(rng.pick([3000, 12000]))}]}`);
    d.mutations.push('body:deep');
  } else if (m === 5) {
    d.body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body, Buffer.from(rng.pick(['', ' \n', 'garbage', '\u0000']))]);
    d.mutations.push('body:bom-trailing');
  } else if (m === 6) {
    d.body = rng.bytes(rng.range(0, 3000));
    d.mutations.push('body:random');
  } else {
    d.body = Buffer.concat([body, Buffer.alloc(rng.pick([300_000, 1_100_000, 2_200_000]), 0x20)]);
    d.mutations.push(`body:huge-${d.body.length}`);
  }
}

function mutateTransport(rng: Rng, d: RequestDraft): void {
  const m = rng.int(8);
  if (m === 0) {
    d.contentType = rng.chance(0.2) ? null : rng.pick(JUNK_CT);
    d.mutations.push('content-type');
  } else if (m === 1) {
    d.contentEncoding = rng.pick(['gzip', 'deflate', 'br', 'x-gzip', 'zstd', 'compress', 'gzip, gzip', 'identity', ' GZIP ', 'bogus']);
    const body = bodyOf(d) ?? Buffer.from('');
    const kind = rng.int(4);
    // Valid compression, a cut stream, or bytes that are not compressed at all.
    if (kind === 0) d.body = d.contentEncoding.trim().toLowerCase() === 'br' ? brotliCompressSync(body) : d.contentEncoding === 'deflate' ? deflateSync(body) : gzipSync(body);
    else if (kind === 1) {
      const z = gzipSync(body);
      d.body = z.subarray(0, rng.int(z.length));
    } else if (kind === 2) d.body = body;
    else d.body = gzipSync(Buffer.alloc(rng.pick([1_000_000, 3_000_000, 8_000_000]), 0x20)); // a small bomb
    d.mutations.push(`content-encoding:${d.contentEncoding}:${kind}`);
  } else if (m === 2) {
    d.contentLength = (bodyOf(d)?.length ?? 0) + rng.pick([-5, -1, 1, 100]);
    d.mutations.push('content-length');
  } else if (m === 3) {
    d.chunked = true;
    d.mutations.push('chunked');
  } else if (m === 4) {
    const junk: Array<[string, string]> = [
      ['Cookie', `sp=${rng.pick(['x'.repeat(5000), 'a;b', '"', '\u00ff'.repeat(3), '=', ''])}; other=1`],
      ['Origin', rng.pick(['null', 'https://', 'x'.repeat(4000), 'https://evil.example:99999'])],
      ['User-Agent', rng.pick(['', 'x'.repeat(7000), 'curl/8\u0001', 'Mozilla/5.0 \u00e9\u00e8'])],
      ['X-Forwarded-For', rng.pick(['garbage', '999.1.1.1', '::ffff:1.2.3.4', ', , ,', '1.2.3.4, 5.6.7.8'])],
      ['Forwarded', rng.pick(['for=unknown', 'for="[::1]:80"', 'for=;;;'])],
      ['SP-Anonymous', '*'],
      ['Referer', rng.pick(['not a url', `https://r.example/${'r'.repeat(6000)}`, 'javascript:alert(1)'])],
      ['Host', rng.pick(['', 'a'.repeat(300), 'evil.example:1'])],
      ['Content-Type', 'text/plain'],
    ];
    for (let k = rng.range(1, 3); k > 0; k--) d.headers.push(rng.pick(junk));
    if (rng.chance(0.2)) for (let k = 0; k < 120; k++) d.headers.push([`X-Many-${k}`, 'v']);
    d.mutations.push('headers');
  } else if (m === 5) {
    d.method = rng.pick(['PUT', 'DELETE', 'PATCH', 'HEAD', 'TRACE', 'OPTIONS', 'GET', 'POST', 'get']);
    d.mutations.push(`method:${d.method}`);
  } else if (m === 6) {
    d.path = rng.pick(['/i/', '//i', '/ice.png', `${TP2}/`, '/com%2Esnowplowanalytics.snowplow/tp2', '/%zz/tp2', '/com.snowplowanalytics.snowplow/tp3', `/${'p'.repeat(3000)}/v1`, '/r/', '/r/tp2/x', '/com.snowplowanalytics.iglu/v1/', '/com.acme/v1', '/com.mailchimp/v1', '/i?']);
    d.mutations.push(`path:${d.path.slice(0, 40)}`);
  } else {
    // A whole different body kind for the route.
    d.body = Buffer.from(rng.pick(['e=pv&p=web&tv=t', `schema=${SCHEMAS.linkClick}&targetUrl=x`, 'a=%zz', '']));
    d.contentType = rng.pick(['application/x-www-form-urlencoded', 'application/json', null]);
    d.mutations.push('form-body');
  }
}

/** Request i of a run: valid, then up to four mutations (about a fifth stay valid). */
export function fuzzRequest(seed: number, i: number, nextEid: () => number, now: number): FuzzRequest {
  const rng = Rng.for(seed, 1, i);
  const d = baseRequest(rng, seed, nextEid, now);
  const n = rng.chance(0.2) ? 0 : rng.range(1, 4);
  for (let k = 0; k < n; k++) {
    const area = rng.int(10);
    if (area < 4) mutateQuery(rng, d, seed);
    else if (area < 6 && d.items !== null && d.body === null) mutateItems(rng, d);
    else if (area < 8 && d.method === 'POST') mutateBody(rng, d);
    else mutateTransport(rng, d);
  }
  return render(d, i);
}

function render(d: RequestDraft, i: number): FuzzRequest {
  const body = bodyOf(d);
  const target = d.query.length > 0 ? `${d.path}?${d.query.join('&')}` : d.path;
  const anonymous = d.headers.some(([k]) => k === 'SP-Anonymous');
  const ip = requestIp(i);
  const lines = [`${d.method} ${target} HTTP/1.1`, 'Host: collector.test', 'Connection: close', `X-Forwarded-For: ${ip}`];
  for (const [k, v] of d.headers) lines.push(`${k}: ${v}`);
  if (d.contentType !== null) lines.push(`Content-Type: ${d.contentType}`);
  if (d.contentEncoding !== null) lines.push(`Content-Encoding: ${d.contentEncoding}`);
  let payload = body ?? Buffer.alloc(0);
  let complete = true;
  let pipelined = false;
  if (d.chunked) {
    lines.push('Transfer-Encoding: chunked');
    const parts: Buffer[] = [];
    for (let o = 0; o < payload.length; o += 4096) {
      const c = payload.subarray(o, o + 4096);
      parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from('0\r\n\r\n'));
    payload = Buffer.concat(parts);
  } else if (body !== null || d.method === 'POST') {
    const cl = d.contentLength === 'auto' ? payload.length : Math.max(0, d.contentLength);
    if (cl > payload.length) complete = false;
    if (cl < payload.length) pipelined = true;
    lines.push(`Content-Length: ${cl}`);
  }
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const tracking = d.kind !== 'options' && d.kind !== 'unknown';
  return { i, kind: d.kind, ip: anonymous ? null : ip, raw: Buffer.concat([head, payload]), complete, pipelined, tracking, eids: d.eids, mutations: d.mutations };
}

// ------------------------------------------------------------------------------------------------
// Records (what the enricher reads: base64 Thrift CollectorPayload lines)

export interface FuzzRecord {
  i: number;
  /** The input line (base64, or raw text for the line-level mutations). */
  line: string;
  /** The record bytes the enricher decodes from the line (null for lines that are not base64). */
  bytes: Buffer;
  /** The payload's collector field: `ssc-fz-<i>-<i>` (a single mutation cannot turn one tag into another). */
  tag: string;
  /** Payload tags inside a gzip-framed record (one event each). */
  framedTags: string[];
  eids: string[];
  /** Byte-level mutations applied (the record holds one event, so it must give exactly one output). */
  thriftMutated: boolean;
  mutations: string[];
}

export function recordTag(i: number): string {
  return `ssc-fz-${i}-${i}`;
}

/** A CollectorPayload built from a request draft, as the collector would write it. */
function payloadFromDraft(d: RequestDraft, tag: string, ts: number, rng: Rng): CollectorPayload {
  const body = bodyOf(d);
  return {
    schema: COLLECTOR_PAYLOAD_SCHEMA,
    ipAddress: `192.0.2.${rng.int(250)}`,
    timestamp: ts,
    encoding: 'UTF-8',
    collector: tag,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/125.0',
    refererUri: 'https://shop.example.com/',
    path: d.path,
    querystring: d.query.join('&'),
    ...(body !== null ? { body: body.toString('utf8') } : {}),
    headers: ['Host: collector.test', 'Accept-Language: de', ...(d.contentType !== null && body !== null ? [`Content-Type: ${d.contentType}`] : [])],
    ...(d.contentType !== null && body !== null ? { contentType: d.contentType } : {}),
    hostname: 'collector.test',
    networkUserId: rng.uuid(),
  };
}

/** Offsets of every field header (type byte) and string length in a record encodeCollectorPayload wrote. */
function fieldOffsets(b: Buffer): { types: number[]; lengths: number[] } {
  const types: number[] = [];
  const lengths: number[] = [];
  let o = 0;
  while (o < b.length && b[o] !== 0) {
    const t = b[o]!;
    types.push(o);
    o += 3;
    if (t === 0x0b) {
      lengths.push(o);
      o += 4 + b.readInt32BE(o);
    } else if (t === 0x0a) o += 8;
    else if (t === 0x0f) {
      lengths.push(o + 1);
      const n = b.readInt32BE(o + 1);
      o += 5;
      for (let k = 0; k < n; k++) {
        lengths.push(o);
        o += 4 + b.readInt32BE(o);
      }
    } else break;
  }
  return { types, lengths };
}

/** An unknown field nested `depth` structs deep (Thrift readers skip unknown fields, recursively). */
function nestedUnknownField(depth: number): Buffer {
  const open = Buffer.alloc(3 * depth);
  for (let k = 0; k < depth; k++) {
    open[3 * k] = 0x0c;
    open.writeInt16BE(7000 + (k % 100), 3 * k + 1);
  }
  return Buffer.concat([open, Buffer.alloc(depth + 1, 0)]);
}

function mutateThrift(rng: Rng, b: Buffer, tag: string): { bytes: Buffer; what: string } {
  const { types, lengths } = fieldOffsets(b);
  const m = rng.int(8);
  const out = Buffer.from(b);
  switch (m) {
    case 0:
      for (let k = rng.range(1, 8); k > 0 && out.length > 0; k--) {
        const at = rng.int(out.length);
        out[at] = out[at]! ^ (1 << rng.int(8));
      }
      return { bytes: out, what: 'thrift:flip' };
    case 1:
      return { bytes: b.subarray(0, rng.int(b.length)), what: 'thrift:truncate' };
    case 2: {
      const at = rng.pick(types);
      out[at] = rng.pick([0x00, 0x01, 0x02, 0x03, 0x04, 0x06, 0x08, 0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x7f, 0xff]);
      return { bytes: out, what: `thrift:type@${at}=${out[at]}` };
    }
    case 3: {
      const at = rng.pick(lengths);
      out.writeUInt32BE(rng.pick([0x7fffffff, 0xffffffff, 0x80000000, 0x00ffffff, out.readUInt32BE(at) + 1]), at);
      return { bytes: out, what: `thrift:length@${at}` };
    }
    case 4: {
      // An unknown field (deep struct, a huge list of empty structs, a map) before the STOP byte.
      const extra = rng.pick([
        nestedUnknownField(rng.pick([10, 40, 5000])),
        Buffer.concat([Buffer.from([0x0f, 0x1b, 0x58, 0x0c]), Buffer.from([0x7f, 0xff, 0xff, 0xff]), Buffer.alloc(2000, 0)]),
        Buffer.from([0x0d, 0x1b, 0x59, 0x0b, 0x0b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x61, 0x00, 0x00, 0x00, 0x01, 0x62]),
      ]);
      return { bytes: Buffer.concat([b.subarray(0, b.length - 1), extra, Buffer.from([0])]), what: 'thrift:unknown-field' };
    }
    case 5:
      return { bytes: rng.bytes(rng.range(0, 3000)), what: 'thrift:random' };
    case 6:
      // A gzip or zstd magic in front: framing that does not decompress.
      return { bytes: Buffer.concat([rng.pick([Buffer.from([0x1f, 0x8b]), Buffer.from([0x28, 0xb5, 0x2f, 0xfd])]), b]), what: 'thrift:bad-framing' };
    default: {
      // Framed batches with a broken inside: bad version, cut length prefix, negative length, a bomb.
      const inner = rng.pick([
        Buffer.concat([Buffer.from([1, 2]), b]),
        Buffer.concat([Buffer.from([1, 1, 0, 0]), b]),
        Buffer.concat([Buffer.from([1, 1, 0xff, 0xff, 0xff, 0xff]), b]),
        Buffer.concat([Buffer.from([1, 1, 0x7f, 0xff, 0xff, 0xff]), b]),
        Buffer.concat([Buffer.alloc(rng.pick([1000, 20_000_000]), 0), Buffer.from(tag)]),
      ]);
      return { bytes: gzipSync(inner), what: `thrift:framed-bad-${inner.length}` };
    }
  }
}

/** Loader-level mutations of a decoded payload (fields the Thrift loader checks). */
function mutatePayload(rng: Rng, p: CollectorPayload): string {
  const m = rng.int(8);
  switch (m) {
    case 0: p.schema = rng.pick(['iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-7', 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0', 'not iglu', '']); return 'payload:schema';
    case 1: p.networkUserId = rng.pick(['not-a-uuid', '', 'x'.repeat(5000)]); return 'payload:nuid';
    case 2: p.encoding = rng.pick(['UTF-16', 'ISO-8859-1', 'nope', '']); return 'payload:encoding';
    case 3: p.timestamp = rng.pick([-1, 0, 253402300800000, 8.64e15, -8.64e15]); return 'payload:timestamp';
    case 4: delete p.path; return 'payload:no-path';
    case 5: p.headers = [...(p.headers ?? []), rng.pick(['X-Forwarded-For: garbage, 1.2.3.4', 'Forwarded: for="[2001:db8::1]:80"', 'Cookie: sp=' + 'c'.repeat(9000), ':', 'no colon'])]; return 'payload:headers';
    case 6: p.ipAddress = rng.pick(['', 'unknown', '999.999.1.1', '::ffff:10.0.0.1', 'x'.repeat(3000)]); return 'payload:ip';
    default: p.body = rng.pick(['', '\u0000', 'x'.repeat(100)]); delete p.contentType; return 'payload:body-without-type';
  }
}

/**
 * Record i: a payload of a random request kind (collector field = recordTag(i)), with content and loader
 * mutations, then for one-event records sometimes byte-level mutations; a few lines are mutated as text.
 */
export function fuzzRecord(seed: number, i: number, nextEid: () => number, now: number): FuzzRecord {
  const rng = Rng.for(seed, 2, i);
  const tag = recordTag(i);
  let d = baseRequest(rng, seed, nextEid, now);
  while (d.kind === 'options' || d.kind === 'unknown') d = baseRequest(rng, seed, nextEid, now);
  const mutations: string[] = [];
  const content = rng.chance(0.6);
  if (content) {
    for (let k = rng.range(1, 3); k > 0; k--) {
      const area = rng.int(3);
      if (area === 0) mutateQuery(rng, d, seed);
      else if (area === 1 && d.items !== null && d.body === null) mutateItems(rng, d);
      else if (d.method === 'POST' && d.body === null) mutateBody(rng, d);
    }
    mutations.push(...d.mutations);
  }
  const payload = payloadFromDraft(d, tag, now + i, rng);
  if (rng.chance(0.15)) mutations.push(mutatePayload(rng, payload));
  let bytes = encodeCollectorPayload(payload);
  const framedTags: string[] = [];
  let thriftMutated = false;
  // Byte-level mutations only on one-event records: whatever they break, exactly one output must come out.
  const oneEvent = d.eids.length === 1 && !mutations.some((m) => m.startsWith('items:extra') || m.startsWith('items:many'));
  if (oneEvent && rng.chance(0.5)) {
    const r = mutateThrift(rng, bytes, tag);
    bytes = r.bytes;
    mutations.push(r.what);
    thriftMutated = true;
  } else if (!content && rng.chance(0.1)) {
    // A valid gzip-framed batch of 1-3 one-event payloads, each with its own tag.
    const parts: Buffer[] = [Buffer.from([1, 1])];
    for (let k = 0; k < rng.range(1, 3); k++) {
      const t = `ssc-fzf-${i}x${k}-${i}x${k}`;
      const eid = fuzzEid(seed, nextEid());
      const p = payloadFromDraft({ ...d, kind: 'pixel', method: 'GET', path: '/i', items: null, body: null, contentType: null, query: trackerEvent(rng, eid, now).map(([a, b]) => seg(a, b)) }, t, now + i, rng);
      const enc1 = encodeCollectorPayload(p);
      const len = Buffer.alloc(4);
      len.writeInt32BE(enc1.length);
      parts.push(len, enc1);
      framedTags.push(t);
      d.eids.push(eid);
    }
    bytes = gzipSync(Buffer.concat(parts));
    mutations.push(`framed:${framedTags.length}`);
  }
  let line = bytes.toString('base64');
  if (rng.chance(0.05)) {
    const m = rng.int(4);
    if (m === 0) line = `  ${line}\r`;
    else if (m === 1) line = line.replace(/\+/g, '-').replace(/\//g, '_');
    else if (m === 2) line = `${line}!`;
    else line = line.slice(0, Math.max(1, line.length - 1 - rng.int(3)));
    mutations.push(`line:${m}`);
    const trimmed = line.trim();
    const base64 = (trimmed.length & 3) !== 1 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed);
    bytes = base64 ? Buffer.from(trimmed, 'base64') : Buffer.from(trimmed, 'utf8');
    if (m >= 2) thriftMutated = oneEvent;
  }
  return { i, line, bytes, tag, framedTags, eids: d.eids, thriftMutated, mutations };
}

// ------------------------------------------------------------------------------------------------
// Enriched TSV lines (what the loaders and forwarders read)

export interface FuzzLine {
  i: number;
  /** The bytes written for this item (may hold LF and so several lines, or invalid UTF-8). */
  bytes: Buffer;
  /** name_tracker of the item: `fzl-<i>-<i>`, searched for in every output. */
  tag: string;
  mutations: string[];
}

export function lineTag(i: number): string {
  return `fzl-${i}-${i}`;
}

const TSTAMP_COLUMNS = ['collector_tstamp', 'dvce_created_tstamp', 'etl_tstamp', 'derived_tstamp', 'dvce_sent_tstamp'] as const;
const NUMBER_COLUMNS = ['se_value', 'tr_total', 'geo_latitude', 'br_viewheight', 'dvce_screenwidth', 'txn_id', 'domain_sessionidx', 'page_urlport', 'ti_quantity'] as const;
const JSON_COLUMNS = ['contexts', 'unstruct_event', 'derived_contexts'] as const;
const TEXT_COLUMNS = ['app_id', 'page_title', 'page_url', 'user_id', 'useragent', 'se_label', 'geo_city', 'mkt_campaign'] as const;

export function fuzzLine(seed: number, i: number): FuzzLine {
  const rng = Rng.for(seed, 3, i);
  const tag = lineTag(i);
  const cols = generateColumns(i, { seed: seed & 0x7fffffff, light: rng.chance(0.3) });
  cols[F.name_tracker] = tag;
  const mutations: string[] = [];
  let raw: Buffer | null = null;
  const n = rng.chance(0.25) ? 0 : rng.range(1, 3);
  for (let k = 0; k < n; k++) {
    const m = rng.int(12);
    if (m === 0) {
      const delta = rng.pick([-130, -60, -1, 1, 2, 40]);
      if (delta < 0) cols.splice(rng.range(1, cols.length - 1 + delta), -delta);
      else for (let j = 0; j < delta; j++) cols.push(rng.pick(['', 'x', '{}']));
      mutations.push(`columns:${delta}`);
    } else if (m === 1) {
      const c = rng.pick(JSON_COLUMNS);
      cols[F[c]] = rng.pick([
        '{', '{"schema":', 'null', '[]', '"x"', '{"schema":5,"data":[]}', `{"schema":"${SCHEMAS.contexts}","data":{}}`,
        `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"${SCHEMAS.unknown}","data":{}}]}`,
        `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"not a key","data":1}]}`,
        `{"schema":"${SCHEMAS.unstruct}","data":{"schema":"${SCHEMAS.linkClick}","data":{"targetUrl":7}}}`,
        `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"${SCHEMAS.webPage}","data":{"id":"${'i'.repeat(40)}"}}]}`,
      ]);
      mutations.push(`json:${c}`);
    } else if (m === 2) {
      const c = rng.pick(JSON_COLUMNS);
      const depth = rng.pick([50, 999, 1001, 5000, 30000]);
      const deep = rng.chance(0.5) ? deepArray(depth) : deepObject(Math.min(depth, 8000));
      cols[F[c]] = c === 'unstruct_event'
        ? `{"schema":"${SCHEMAS.unstruct}","data":{"schema":"${SCHEMAS.linkClick}","data":{"targetUrl":"x","elementClasses":${deep}}}}`
        : `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"${SCHEMAS.webPage}","data":{"id":${deep}}}]}`;
      mutations.push(`deep:${c}:${depth}`);
    } else if (m === 3) {
      const c = rng.pick(TEXT_COLUMNS);
      const ch = rng.pick(['\r', '\r\n', '\n', '\t', '\u0000', '\\', '\\N', '\\.', '\u2028', '\ud800']);
      const v = cols[F[c]] ?? '';
      const at = rng.int(v.length + 1);
      cols[F[c]] = v.slice(0, at) + ch + v.slice(at);
      mutations.push(`char:${c}:${JSON.stringify(ch)}`);
    } else if (m === 4) {
      const c = rng.pick(NUMBER_COLUMNS);
      cols[F[c]] = rng.pick(['abc', '1e999', 'NaN', '-', '99999999999999999999', '1.5.5', '0x1f', '-2147483649', '2147483648', '١٢', ' 1', 'Infinity']);
      mutations.push(`number:${c}`);
    } else if (m === 5) {
      const c = rng.pick(TSTAMP_COLUMNS);
      cols[F[c]] = rng.pick(['2024-13-45 99:99:99.000', 'not a date', '99999-01-01 00:00:00', '2024-01-01T00:00:00Z', '2024-02-30 12:00:00', '0000-00-00 00:00:00', '', '2024-01-01 00:00:00.1234567890']);
      mutations.push(`tstamp:${c}`);
    } else if (m === 6) {
      cols[F[rng.pick(['event_id', 'domain_sessionid', 'network_userid'] as const)]] = rng.pick(['not-a-uuid', '', 'x'.repeat(37), '00000000-0000-0000-0000-00000000000g']);
      mutations.push('uuid');
    } else if (m === 7) {
      const c = rng.pick([...TEXT_COLUMNS, 'contexts'] as const);
      cols[F[c]] = c === 'contexts'
        ? `{"schema":"${SCHEMAS.contexts}","data":[{"schema":"${SCHEMAS.webPage}","data":{"id":"${'h'.repeat(rng.chance(0.15) ? 1_500_000 : 100_000)}"}}]}`
        : 'H'.repeat(rng.chance(0.1) ? 1_500_000 : rng.pick([300, 5000, 70_000]));
      mutations.push(`huge:${c}`);
    } else if (m === 8) {
      cols[F[rng.pick(['br_cookies', 'br_features_pdf', 'event', 'platform'] as const)]] = rng.pick(['2', 'yes', '-1', '', 'nope']);
      mutations.push('enum');
    } else if (m === 9) {
      raw = Buffer.from(cols.join('\t'), 'utf8');
      const at = rng.int(raw.length);
      raw = Buffer.concat([raw.subarray(0, at), rng.pick(INVALID_UTF8), raw.subarray(at)]);
      mutations.push('invalid-utf8');
      break;
    } else if (m === 10) {
      raw = Buffer.from(cols.join('\t').slice(0, rng.int(cols.join('\t').length)), 'utf8');
      mutations.push('truncate');
      break;
    } else {
      raw = rng.bytes(rng.range(0, 400));
      mutations.push('random');
      break;
    }
  }
  return { i, bytes: raw ?? Buffer.from(cols.join('\t'), 'utf8'), tag, mutations };
}
