import t from 'tap';
import { randomBytes } from 'node:crypto';
import { collectorPayloadView } from '../support/thrift-binary.js';
import { encodeCollectorPayload, encodeCollectorPayloadTransient, decodeCollectorPayload, collectorPayloadToJavaString, ThriftDecodeError, COLLECTOR_PAYLOAD_SCHEMA, type CollectorPayload } from '../../formats/collector-payload.js';

const GOLDEN_A = 'CwBkAAAACjE5Mi4wLjIuMTAKAMgAAAGLz+VoAAsA0gAAAAVVVEYtOAsA3AAAABZzc2MtMy40LjAtcHJpbnRpbmdzaW5rCwEsAAAABnVhLzEuMAsBQAAAAAIvaQsBSgAAAAplPXB2JmFpZD1hDwFeCwAAAAIAAAAUSG9zdDogY29sbGVjdG9yLnRlc3QAAAASVXNlci1BZ2VudDogdWEvMS4wCwGaAAAAJDExMTExMTExLTIyMjItNDMzMy04NDQ0LTU1NTU1NTU1NTU1NQt6aQAAAEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA=';
const GOLDEN_B = 'CwBkAAAACzIwMy4wLjExMy43CgDIAAABi8/laHsLANIAAAAFVVRGLTgLANwAAAAVc3NjLTMuNC4wLWtpbmVzaXNzaW5rCwEsAAAACGN1cmwvOC4wCwFAAAAAIy9jb20uc25vd3Bsb3dhbmFseXRpY3Muc25vd3Bsb3cvdHAyCwFKAAAAAAsBVAAAAAJ7fQ8BXgsAAAAGAAAADEhvc3Q6IGMudGVzdAAAABRVc2VyLUFnZW50OiBjdXJsLzguMAAAAAtBY2NlcHQ6ICovKgAAAC1Db250ZW50LVR5cGU6IGFwcGxpY2F0aW9uL2pzb247IGNoYXJzZXQ9VVRGLTgAAAARQ29udGVudC1MZW5ndGg6IDIAAAAfYXBwbGljYXRpb24vanNvbjsgY2hhcnNldD11dGYtOAsBaAAAAB9hcHBsaWNhdGlvbi9qc29uOyBjaGFyc2V0PXV0Zi04CwGaAAAAJDBmNmIzYTRlLTZhM2ItNGY0My05YjVjLTNhMWYxYjJjM2Q0ZQt6aQAAAEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA=';

t.test('golden vector A (GET /i, stdout sink) encodes byte for byte', async (t) => {
  const bytes = encodeCollectorPayload({
    schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '192.0.2.10', timestamp: 1700000000000, encoding: 'UTF-8',
    collector: 'ssc-3.4.0-printingsink', userAgent: 'ua/1.0', path: '/i', querystring: 'e=pv&aid=a',
    headers: ['Host: collector.test', 'User-Agent: ua/1.0'], networkUserId: '11111111-2222-4333-8444-555555555555',
  });
  t.equal(bytes.length, 278);
  t.equal(bytes.toString('base64'), GOLDEN_A);
});

t.test('golden vector B (POST tp2, kinesis sink) round-trips', async (t) => {
  const decoded = decodeCollectorPayload(Buffer.from(GOLDEN_B, 'base64'));
  t.equal(decoded.body, '{}');
  t.equal(decoded.querystring, '');
  t.equal(decoded.timestamp, 1700000000123);
  t.same(decoded.headers?.length, 6);
  t.equal(decoded.hostname, undefined);
  const again = encodeCollectorPayload(decoded);
  t.equal(again.length, 464);
  t.equal(again.toString('base64'), GOLDEN_B);
});

t.test('empty payload is 12 bytes', async (t) => {
  t.equal(encodeCollectorPayload({ timestamp: 0 }).toString('hex'), '0a00c8000000000000000000');
});

/** Wire order the IDL and the Java serializer give: ascending field ids, 31337 (schema) last. */
const WIRE_ORDER = [100, 200, 210, 220, 300, 310, 320, 330, 340, 350, 360, 400, 410, 31337];

t.test('agrees with an independent TBinaryProtocol reader (test/support/thrift-binary.ts)', async (t) => {
  const p = { schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '::1', timestamp: 1, encoding: 'UTF-8', collector: 'c', body: 'é ✓ 😀', headers: [], networkUserId: 'x' };
  const view = collectorPayloadView(encodeCollectorPayload(p));
  t.same(view.fields, p);
  t.same(view.order, [100, 200, 210, 220, 340, 350, 410, 31337]);
  // The golden vectors read by the independent reader: every field, in IDL order, with the IDL's types.
  t.same(collectorPayloadView(Buffer.from(GOLDEN_A, 'base64')), {
    order: [100, 200, 210, 220, 300, 320, 330, 350, 410, 31337],
    fields: {
      ipAddress: '192.0.2.10', timestamp: 1700000000000, encoding: 'UTF-8', collector: 'ssc-3.4.0-printingsink', userAgent: 'ua/1.0', path: '/i',
      querystring: 'e=pv&aid=a', headers: ['Host: collector.test', 'User-Agent: ua/1.0'], networkUserId: '11111111-2222-4333-8444-555555555555', schema: COLLECTOR_PAYLOAD_SCHEMA,
    },
  });
  const b = collectorPayloadView(Buffer.from(GOLDEN_B, 'base64'));
  t.same(b.order, [100, 200, 210, 220, 300, 320, 330, 340, 350, 360, 410, 31337]);
  t.match(b.fields, { timestamp: 1700000000123, body: '{}', querystring: '', contentType: 'application/json; charset=utf-8', path: '/com.snowplowanalytics.snowplow/tp2' });
  t.equal((b.fields.headers as string[]).length, 6);
  // The reader is strict: it notices a record the codec got wrong.
  const bytes = encodeCollectorPayload(p);
  t.throws(() => collectorPayloadView(Buffer.from([0x08, 0x00, 0x64, 0, 0, 0, 7, 0x00])), /field 100 \(ipAddress\) has Thrift type 8, the IDL says 11/);
  const wrongId = Buffer.from(bytes);
  wrongId[2] = 0x65; // ipAddress written as field 101
  t.throws(() => collectorPayloadView(wrongId), /field 101 is not in the CollectorPayload IDL/);
  t.throws(() => collectorPayloadView(bytes.subarray(0, bytes.length - 1)), /truncated/);
  t.throws(() => collectorPayloadView(Buffer.concat([bytes, Buffer.from([0])])), /bytes after the struct/);
});

t.test('truncated and hostile records throw ThriftDecodeError, never read past the end', async (t) => {
  const full = Buffer.from(GOLDEN_A, 'base64');
  for (let n = 0; n < full.length; n++) {
    t.throws(() => decodeCollectorPayload(full.subarray(0, n)), ThriftDecodeError, `truncated at ${n}`);
  }
  t.throws(() => decodeCollectorPayload(Buffer.from([0x0b, 0x00, 0x64, 0x7f, 0xff, 0xff, 0xff])), ThriftDecodeError);
  t.throws(() => decodeCollectorPayload(Buffer.from([0x0f, 0x01, 0x5e, 0x0b, 0x7f, 0xff, 0xff, 0xff])), ThriftDecodeError);
  t.throws(() => decodeCollectorPayload(Buffer.from([0x63, 0x00, 0x01])), ThriftDecodeError);
  // Unknown fields are skipped.
  const withUnknown = Buffer.concat([Buffer.from([0x08, 0x00, 0x05, 0, 0, 0, 7]), full]);
  t.equal(decodeCollectorPayload(withUnknown).ipAddress, '192.0.2.10');
});

t.test('Java toString of the payload', async (t) => {
  t.equal(collectorPayloadToJavaString({ timestamp: 0, body: 'sssss' }), 'CollectorPayload(schema:null, ipAddress:null, timestamp:0, encoding:null, collector:null, body:sssss)');
  t.equal(collectorPayloadToJavaString({ timestamp: 5, schema: 's', headers: ['a: 1', 'b: 2'] }), 'CollectorPayload(schema:s, ipAddress:null, timestamp:5, encoding:null, collector:null, headers:[a: 1, b: 2])');
});

const STRINGS = ['', 'a', 'e=pv&aid=a', 'é ✓ 😀', '\u0000\u007f\u0080\u00ff', 'x'.repeat(70_000), '\ud83d'];
const FIELDS: Array<keyof CollectorPayload> = ['schema', 'ipAddress', 'encoding', 'collector', 'userAgent', 'refererUri', 'path', 'querystring', 'body', 'contentType', 'hostname', 'networkUserId'];

function randomPayload(i: number): CollectorPayload {
  const r = randomBytes(FIELDS.length + 2);
  const p: CollectorPayload = { timestamp: [0, 1, 1700000000123, 2 ** 40 + 5, 8_640_000_000_000_000][i % 5]! };
  FIELDS.forEach((f, k) => {
    if (r[k]! % 3 !== 0) (p as unknown as Record<string, string>)[f] = STRINGS[(r[k]! + i) % STRINGS.length]!;
  });
  if (r[FIELDS.length]! % 2 === 0) p.headers = Array.from({ length: r[FIELDS.length + 1]! % 5 }, (_, k) => STRINGS[(k + i) % STRINGS.length]!);
  return p;
}

t.test('random payloads round-trip; decoding and re-encoding gives the same bytes', async (t) => {
  for (let i = 0; i < 300; i++) {
    const p = randomPayload(i);
    const bytes = encodeCollectorPayload(p);
    const back = decodeCollectorPayload(bytes);
    t.equal(back.timestamp, p.timestamp);
    t.equal(back.querystring, p.querystring === undefined ? undefined : Buffer.from(p.querystring, 'utf8').toString('utf8'), 'lone surrogates become U+FFFD, as Java writes them');
    t.ok(encodeCollectorPayload(back).equals(bytes), `payload ${i}`);
  }
});

t.test('random payloads read the same in the independent TBinaryProtocol reader, fields in IDL order', async (t) => {
  for (let i = 0; i < 300; i++) {
    const p = randomPayload(i);
    const view = collectorPayloadView(encodeCollectorPayload(p));
    // What the record must hold: every set field, strings as UTF-8 (a lone surrogate becomes U+FFFD, as Java writes it).
    const want: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(p)) want[k] = typeof v === 'string' ? Buffer.from(v, 'utf8').toString('utf8') : Array.isArray(v) ? v.map((h: string) => Buffer.from(h, 'utf8').toString('utf8')) : v;
    t.same(view.fields, want, `payload ${i}`);
    t.same(view.order, WIRE_ORDER.filter((id) => view.order.includes(id)), `payload ${i}: ascending ids, schema last`);
  }
});

t.test('raw UTF-8 body bytes and header pairs give the same record as strings', async (t) => {
  const body = '{"data":[{"e":"pv","tv":"é ✓ 😀"}]}';
  const p: CollectorPayload = { schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '1.2.3.4', timestamp: 5, encoding: 'UTF-8', path: '/x/y', querystring: 'e=pv&url=https%3A%2F%2Fa.b%2F', headers: ['a: b'], networkUserId: 'n' };
  t.ok(encodeCollectorPayload(p, Buffer.from(body, 'utf8')).equals(encodeCollectorPayload({ ...p, body })));
  t.ok(encodeCollectorPayload(p, Buffer.alloc(0)).equals(encodeCollectorPayload({ ...p, body: '' })));
  const pairs = { pairs: ['Host', 'c.test', 'X-Ünïcode', 'é ✓ 😀', 'Cookie', 'a=1;sp=abc'], lastLine: 'application/json; charset=utf-8' };
  const lines = ['Host: c.test', 'X-Ünïcode: é ✓ 😀', 'Cookie: a=1;sp=abc', 'application/json; charset=utf-8'];
  t.same(decodeCollectorPayload(encodeCollectorPayloadTransient(p, undefined, pairs)).headers, lines);
  t.ok(encodeCollectorPayloadTransient(p, undefined, pairs).equals(encodeCollectorPayload({ ...p, headers: lines })));
  t.ok(encodeCollectorPayloadTransient(p, Buffer.from(body), { pairs: [], lastLine: undefined }).equals(encodeCollectorPayload({ ...p, body, headers: [] })));
  // A view of the scratch buffer: the next encode overwrites it; encodeCollectorPayload returns a copy of its own.
  const kept = encodeCollectorPayload(p);
  const view = encodeCollectorPayloadTransient(p, undefined, undefined);
  const copy = Buffer.from(view);
  encodeCollectorPayloadTransient({ ...p, ipAddress: '9.9.9.9' }, undefined, undefined);
  t.notOk(view.equals(copy), 'the transient view was overwritten');
  t.ok(kept.equals(copy));
  // Records beyond the 64 KiB scratch get a buffer of their own, with the same bytes as strings would give.
  const big = 'x'.repeat(70_000);
  const viaPairs = encodeCollectorPayloadTransient(p, undefined, { pairs: ['Big', big], lastLine: undefined });
  t.ok(viaPairs.length > 70_000);
  t.ok(encodeCollectorPayload({ ...p, headers: [`Big: ${big}`] }).equals(viaPairs));
});

t.test('timestamps read as BigInt would read them, past 2^53 and negative too (issue 18: no BigInt per record)', async (t) => {
  const edges = [0n, 1n, -1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 3n, -(2n ** 53n) - 3n, 2n ** 63n - 1n, -(2n ** 63n), 1717243200000n, -1717243200000n];
  for (let i = 0; i < 200; i++) edges.push(BigInt.asIntN(64, BigInt('0x' + randomBytes(8).toString('hex'))));
  let wrong = 0;
  for (const v of edges) {
    // The i64 field's bytes written by hand (the encoder takes a number): T_I64, id 200, value.
    const rec = Buffer.concat([Buffer.from([0x0a, 0x00, 0xc8]), Buffer.alloc(8), Buffer.from([0x00])]);
    rec.writeBigInt64BE(v, 3);
    if (decodeCollectorPayload(rec).timestamp !== Number(v)) wrong++;
  }
  t.equal(wrong, 0, `${edges.length} values`);
});
