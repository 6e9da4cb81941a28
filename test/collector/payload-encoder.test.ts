import t from 'tap';
import { randomBytes } from 'node:crypto';
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayload, type CollectorPayload } from '../../common/collector-payload.js';
import { encodePayloadFast } from '../../collector/payload-encoder.js';

const STRINGS = ['', 'a', 'e=pv&aid=a', 'é ✓ 😀', '\u0000\u007f\u0080\u00ff', 'x'.repeat(70_000), '\ud83d'];
const pick = <T>(xs: readonly T[], i: number): T => xs[i % xs.length]!;

t.test('byte-identical to the shared encoder', async (t) => {
  const fields: Array<keyof CollectorPayload> = ['schema', 'ipAddress', 'encoding', 'collector', 'userAgent', 'refererUri', 'path', 'querystring', 'body', 'contentType', 'hostname', 'networkUserId'];
  let n = 0;
  for (let i = 0; i < 300; i++) {
    const p: CollectorPayload = { timestamp: [0, 1, 1700000000123, 2 ** 40 + 5, 8_640_000_000_000_000][i % 5]! };
    const r = randomBytes(fields.length + 2);
    fields.forEach((f, k) => {
      if (r[k]! % 3 !== 0) (p as unknown as Record<string, string>)[f] = pick(STRINGS, r[k]! + i);
    });
    if (r[fields.length]! % 2 === 0) p.headers = Array.from({ length: r[fields.length + 1]! % 5 }, (_, k) => pick(STRINGS, k + i));
    t.ok(encodePayloadFast(p).equals(encodeCollectorPayload(p)), `payload ${i}`);
    n++;
  }
  t.equal(n, 300);
});

t.test('raw UTF-8 body bytes give the same record as the body text', async (t) => {
  const body = '{"data":[{"e":"pv","tv":"é ✓ 😀"}]}';
  const p: CollectorPayload = { schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '1.2.3.4', timestamp: 5, encoding: 'UTF-8', path: '/x/y', headers: ['a: b'], networkUserId: 'n' };
  t.ok(encodePayloadFast(p, Buffer.from(body, 'utf8')).equals(encodeCollectorPayload({ ...p, body })));
  t.ok(encodePayloadFast(p, Buffer.alloc(0)).equals(encodeCollectorPayload({ ...p, body: '' })));
});

t.test('queryIsAscii gives the same bytes for an ASCII query', async (t) => {
  const p: CollectorPayload = { timestamp: 1, querystring: 'e=pv&url=https%3A%2F%2Fa.b%2F', headers: [] };
  t.ok(encodePayloadFast(p, undefined, true).equals(encodeCollectorPayload(p)));
});
