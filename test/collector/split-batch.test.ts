import t from 'tap';
import { decodeCollectorPayload, encodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import { instantString, parseJsonPreserving, printCompact, split, splitAndSerialize } from '../../collector/split-batch.js';

t.test('56: split() reverses batches and events', async (t) => {
  t.same(split(['"a"', '"b"', '"c"'], 9, 1), { good: [['"c"'], ['"b"', '"a"']], failed: [] });
  t.same(split(['"1234567"', '"1"', '"123"'], 8, 0), { good: [['"123"', '"1"']], failed: ['"1234567"'] });
  t.same(split([], 10, 1), { good: [], failed: [] });
});

t.test('55: a body-only payload splits into 2 good records and 4 bad rows', async (t) => {
  const x600 = 'x'.repeat(600);
  const y1000 = 'y'.repeat(1000);
  const events = [`{"e":"se","tv":"${x600}"}`, '{"e":"se","tv":"xxxxx"}', `{"e":"se","tv":"${x600}"}`, ...Array(4).fill(`{"e":"se","tv":"${y1000}"}`)];
  const body = `{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0","data":[${events.join(',')}]}`;
  const payload: CollectorPayload = { timestamp: 0, body };
  const bytes = encodeCollectorPayload(payload);
  const out = splitAndSerialize(payload, bytes, { maxBytes: 1000, maxPayloadSize: 10000, version: '3.4.0' }, 1700000000000);
  t.equal(out.good.length, 2);
  t.equal(out.bad.length, 4);
  for (const g of out.good) t.ok(g.length < 1000, `good record ${g.length} < 1000`);
  const lengths = out.good.map((g) => (JSON.parse(decodeCollectorPayload(g).body!) as { data: Array<{ tv: string }> }).data.map((e) => e.tv.length));
  // Input order: x600 (A), xxxxx (B), x600 (C). Upstream yields [[C], [B, A]]: batches and events reversed.
  t.same(lengths, [[600], [5, 600]]);
  const bodies = out.good.map((g) => decodeCollectorPayload(g).body!);
  t.ok(bodies[0]!.startsWith('{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0","data":['));
  for (const b of out.bad) {
    const row = JSON.parse(b.toString('utf8'));
    t.equal(row.data.failure.expectation, 'oversized collector payload: this POST request split is still too large');
    t.equal(row.data.failure.maximumAllowedSizeBytes, 1000);
    t.equal(row.data.failure.actualSizeBytes, Buffer.byteLength(`{"e":"se","tv":"${y1000}"}`));
    t.equal(row.data.payload.length, 100);
    t.match(row.data.payload, /^CollectorPayload\(schema:null, ipAddress:null, timestamp:0, encoding:null, collector:null, body:/);
    t.equal(row.data.failure.timestamp, '2023-11-14T22:13:20Z');
  }
});

t.test('split events keep key order and number lexemes', async (t) => {
  const j = parseJsonPreserving('{ "b" : 1.0, "2": [1e5, -0.50, true, null], "a":"é\\u0041\\/" }');
  t.equal(printCompact(j), '{"b":1.0,"2":[1e5,-0.50,true,null],"a":"éA/"}');
  t.throws(() => parseJsonPreserving('{"a":}'));
  t.throws(() => parseJsonPreserving('[1,]'));
  t.throws(() => parseJsonPreserving('{"a":1} x'));
  t.throws(() => parseJsonPreserving('['.repeat(10_000)), /nesting too deep/);
});

t.test('split failure messages', async (t) => {
  const limits = { maxBytes: 200, maxPayloadSize: 100000, version: '3.4.0' };
  const run = (body: string | undefined): string => {
    const p: CollectorPayload = { timestamp: 0, ...(body !== undefined ? { body } : {}), querystring: 'q'.repeat(body === undefined ? 300 : 0) };
    const r = splitAndSerialize(p, encodeCollectorPayload(p), limits, 0);
    t.equal(r.good.length, 0);
    t.equal(r.bad.length, 1);
    return JSON.parse(r.bad[0]!.toString()).data.failure.expectation as string;
  };
  t.equal(run(undefined), 'oversized collector payload: GET requests cannot be split');
  t.match(run('s'.repeat(300)), /^oversized collector payload: cannot split POST requests which are not json expected json value got 'ssssssssss' \(line 1, column 1\)$/);
  t.match(run(`{"a":"${'s'.repeat(300)}"}`), /not self-describing/);
  t.equal(run(`{"schema":"s","data":["${'s'.repeat(300)}"]}`), 'oversized collector payload: cannot split POST requests which are not self-describing Invalid Iglu URI: s, code: INVALID_IGLUURI');
  t.equal(run(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"x":"${'s'.repeat(300)}"}}`), 'oversized collector payload: cannot split POST requests which do not contain a data array');
  t.equal(run(`{"schema":"iglu:a/b/jsonschema/1-0-0","data":[],"pad":"${'s'.repeat(300)}"}`), 'oversized collector payload: cannot split this POST request because event without "data" field is still too big');
});

t.test('Instant.toString format', async (t) => {
  t.equal(instantString(1700000000000), '2023-11-14T22:13:20Z');
  t.equal(instantString(1700000000123), '2023-11-14T22:13:20.123Z');
});

t.test('Cookie header sanitising: fast path agrees with the general rule', async (t) => {
  const { sanitizeCookieHeader } = await import('../../collector/cookies.js');
  const cases: Array<[string, string | null]> = [
    ['a=1; sp=abc; bad="q"', 'a=1;sp=abc'],
    ['a=1; sp=abc', 'a=1;sp=abc'],
    ['a=1;;b=2', 'a=1;;b=2'],
    [';a=1', ';a=1'],
    ['a=1; ; ;', 'a=1'],
    ['   ', null],
    [';;;', null],
    ['x=\\y; z=1', 'z=1'],
    ['x=é; z=1', 'z=1'],
    ['n=a,b', null],
  ];
  for (const [raw, want] of cases) t.equal(sanitizeCookieHeader(raw), want, JSON.stringify(raw));
});
