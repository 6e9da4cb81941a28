/**
 * The CollectorPayload codec and the collector's records against ../shared/tools/thrift_cp.py, the reference decoder
 * kept beside the project (`npm test` cross-checks the codec with test/support/thrift-binary.ts instead).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayload, type CollectorPayload } from '../formats/collector-payload.js';
import { rawRequest, startTestCollector } from '../test/collector/helpers.js';
import { THRIFT_CP } from './support.js';

function reference(b64: string): Record<string, unknown> {
  const out = execFileSync('python3', [THRIFT_CP, b64], { encoding: 'utf8' });
  return JSON.parse(out.slice(out.indexOf('\n') + 1)) as Record<string, unknown>;
}

t.test('non-ASCII body and empty headers decode the same in the reference codec', async (t) => {
  const p = { schema: COLLECTOR_PAYLOAD_SCHEMA, ipAddress: '::1', timestamp: 1, encoding: 'UTF-8', collector: 'c', body: 'é ✓ 😀', headers: [], networkUserId: 'x' };
  t.same(reference(encodeCollectorPayload(p).toString('base64')), p);
});

const STRINGS = ['', 'a', 'e=pv&aid=a', 'é ✓ 😀', '\u0000\u007f\u0080\u00ff', 'x'.repeat(5_000)];
const FIELDS: Array<keyof CollectorPayload> = ['ipAddress', 'encoding', 'collector', 'userAgent', 'refererUri', 'path', 'querystring', 'contentType', 'hostname', 'networkUserId'];

t.test('random payloads decode the same in the reference codec', async (t) => {
  for (let i = 0; i < 12; i++) {
    const r = randomBytes(FIELDS.length);
    const p: CollectorPayload = { schema: COLLECTOR_PAYLOAD_SCHEMA, timestamp: [0, 1, 1700000000123, 2 ** 40 + 5][i % 4]!, body: 'b' + i, headers: ['h: ' + i, STRINGS[i % STRINGS.length]!] };
    FIELDS.forEach((f, k) => {
      if (r[k]! % 3 !== 0) (p as unknown as Record<string, string>)[f] = STRINGS[(r[k]! + i) % STRINGS.length]!;
    });
    t.same(reference(encodeCollectorPayload(p).toString('base64')), p, `payload ${i}`);
  }
});

t.test('a collector record decodes in the reference codec', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());
  await rawRequest(c.port, 'GET /i?e=pv HTTP/1.0', [['Host', 'x'], ['User-Agent', 'ua']]);
  await c.good();
  const line = c.goodLines.lines[0]!;
  const json = reference(line + '=='.slice(0, (4 - (line.length % 4)) % 4));
  t.match(json, { path: '/i', querystring: 'e=pv', userAgent: 'ua', headers: ['Host: x', 'User-Agent: ua'], schema: COLLECTOR_PAYLOAD_SCHEMA });
});
