/**
 * Hostile input: malformed URLs, invalid cookies, huge headers, oversized and truncated bodies, invalid
 * compressed bodies. Each gets its documented status, nothing is sunk by mistake and the server survives.
 */
import t, { type Test } from 'tap';
import { connect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { brotliWindowBytes } from '../../collector/inflate-body.js';
import { header, rawRequest, send, sendRaw, startTestCollector, type TestCollector } from './helpers.js';
import { waitFor } from '../support/wait-for.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TP2 = '/com.snowplowanalytics.snowplow/tp2';

let c: TestCollector;
t.before(async () => {
  c = await startTestCollector('collector.networking { maxRequestLineLength = 2048, maxHeadersLength = 4096 }');
});
t.teardown(() => c.close());

async function stillServing(t: Test): Promise<void> {
  const r = await send(c.port, 'GET', '/health');
  t.equal(r.status, 200, 'server still serving');
}

t.test('malformed request targets and request lines', async (t) => {
  const before = (await c.good()).length;
  for (const line of ['GET /com.acme/%FF HTTP/1.1', 'GET /%E0%A4%A/x HTTP/1.1', 'GET /i?% HTTP/1.1', 'GET * HTTP/1.1', 'GET /i?a=%G1 HTTP/1.1', 'GARBAGE', 'GET /i HTTP/9.9']) {
    const raw = await sendRaw(c.port, `${line}\r\nHost: x\r\n\r\n`);
    t.match(raw, /^HTTP\/1\.1 400 /, line);
  }
  const long = await sendRaw(c.port, `GET /i?${'a'.repeat(3000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
  t.match(long, /^HTTP\/1\.1 400 /, 'request line over maxRequestLineLength');
  t.equal((await c.good()).length, before, 'nothing sunk');
  await stillServing(t);
});

t.test('huge headers are 400 with Connection: close', async (t) => {
  const big = await sendRaw(c.port, `GET /i HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(10_000)}\r\n\r\n`);
  t.match(big, /^HTTP\/1\.1 400 /);
  t.match(big, /Connection: close/);
  const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: v`).join('\r\n');
  t.match(await sendRaw(c.port, `GET /i HTTP/1.1\r\nHost: x\r\n${many}\r\n\r\n`), /^HTTP\/1\.1 400 /);
  await stillServing(t);
});

t.test('invalid cookies yield a fresh network user id, never an error', async (t) => {
  for (const cookie of [';;;===;sp', 'sp="unterminated', 'sp=a b c', `sp=${'x'.repeat(3000)}`, 'sp=\u00e9t\u00e9', '=', 'sp=a;sp=b']) {
    const r = await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', cookie]]);
    t.equal(r.status, 200, JSON.stringify(cookie));
    const rec = (await c.good()).at(-1)!;
    if (cookie === 'sp=a;sp=b') t.equal(rec.networkUserId, 'a');
    else if (cookie.startsWith('sp=x')) t.equal(rec.networkUserId, 'x'.repeat(3000));
    else t.match(rec.networkUserId, UUID_RE, JSON.stringify(cookie));
  }
});

t.test('a nuid that cannot go into Set-Cookie is ignored (no header injection)', async (t) => {
  const r = await send(c.port, 'GET', '/i?nuid=a%0D%0ASet-Cookie:%20evil=1');
  t.equal(r.status, 200);
  const sc = r.headers['set-cookie'] as string[];
  t.equal(sc.length, 1);
  t.notMatch(sc[0], /evil/);
  t.match((await c.good()).at(-1)!.networkUserId, UUID_RE);
});

t.test('oversized bodies: 413 from Content-Length or while streaming, nothing sunk', async (t) => {
  const before = (await c.good()).length;
  const declared = await rawRequest(c.port, `POST ${TP2} HTTP/1.0`, [['Host', 'x'], ['Content-Length', '2097153']]);
  t.equal(declared.status, 413);
  t.equal(header(declared, 'Connection'), 'close');
  const streamed = await send(c.port, 'POST', TP2, [['Host', 'x'], ['Transfer-Encoding', 'chunked']], Buffer.alloc(3_000_000, 0x61));
  t.equal(streamed.status, 413);
  t.equal((await c.good()).length, before);
  await stillServing(t);
});

t.test('truncated bodies: nothing sunk, nothing crashes', async (t) => {
  const before = (await c.good()).length;
  await new Promise<void>((resolve) => {
    const s = connect(c.port, '127.0.0.1', () => {
      s.write(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"schema":`);
      setTimeout(() => s.destroy(), 50);
    });
    s.on('close', () => resolve());
    s.on('error', () => undefined);
  });
  await new Promise((r) => setTimeout(r, 50));
  t.equal((await c.good()).length, before);
  t.equal(c.collector.tracking.inFlight, 0, 'no request left waiting');
  for (let i = 0; i < 50 && c.collector.bodyBudget.inUse !== 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(c.collector.bodyBudget.inUse, 0, 'the truncated body was given back to the budget');
  await stillServing(t);
});

t.test('compressed bodies: invalid gzip 400, bombs 413, unknown encodings 415', async (t) => {
  const before = (await c.good()).length;
  const bad = await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'gzip']], Buffer.from('this is not gzip'));
  t.equal(bad.status, 400);
  const truncated = gzipSync('{"schema":"x","data":[]}').subarray(0, 15);
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'gzip']], truncated)).status, 400);
  const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
  t.ok(bomb.length < 10_000);
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'gzip']], bomb)).status, 413);
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'zstd']], 'x')).status, 415);
  t.equal((await c.good()).length, before, 'nothing sunk');
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'deflate']], deflateSync('{"a":1}'))).status, 200);
  t.equal((await c.good()).at(-1)!.body, '{"a":1}');
  await stillServing(t);
  t.equal(c.collector.bodyBudget.inUse, 0, 'every byte charged to the body budget was given back');
});

t.test('odd but valid input is tracked', async (t) => {
  const before = (await c.good()).length;
  t.equal((await send(c.port, 'GET', '/i/')).status, 200, '/i/ is /{vendor}/{version} with an empty version');
  t.equal((await c.good()).at(-1)!.path, '/i/');
  t.equal((await send(c.port, 'GET', '/com.acme/v%201')).status, 200);
  t.equal((await c.good()).at(-1)!.path, '/com.acme/v 1', 'segments are decoded');
  t.equal((await send(c.port, 'GET', `/i?${'&'.repeat(1000)}e=pv`)).status, 200);
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Type', 'not a type']], '{}')).status, 200);
  const rec = (await c.good()).at(-1)!;
  t.equal(rec.contentType, undefined, 'unparsable Content-Type: no contentType');
  t.equal((await send(c.port, 'POST', TP2, [['Host', 'x'], ['Content-Type', 'text/plain; charset=iso-8859-1']], Buffer.from([0x63, 0xe9]))).status, 200);
  const latin = (await c.good()).at(-1)!;
  t.equal(latin.body, 'c\u00e9');
  t.equal(latin.contentType, 'text/plain; charset=iso-8859-1');
  t.equal((await c.good()).length, before + 5);
});

t.test('body budget: past collector.furrow.maxBodyBytesInFlight a request gets 503 + Retry-After and the connection closes', async (t) => {
  const b = await startTestCollector('collector { networking { maxPayloadSize = 50000, dropPayloadSize = 60000 }, furrow.maxBodyBytesInFlight = 150000 }');
  t.teardown(() => b.close());
  const budget = b.collector.bodyBudget;
  // Two connections hold 50 000 bytes each of unfinished 60 000-byte bodies.
  const holders = [0, 1].map(() => {
    const s = connect(b.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`POST ${TP2} HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n${'a'.repeat(50_000)}`);
    return s;
  });
  await waitFor('two bodies held in the budget', () => budget.inUse >= 100_000);
  t.equal(budget.inUse, 100_000, 'the received parts of the unfinished bodies are charged');
  const refused = await rawRequest(b.port, `POST ${TP2} HTTP/1.1`, [['Host', 'x'], ['Content-Length', '60000']], 'b'.repeat(60_000));
  t.equal(refused.status, 503);
  t.equal(header(refused, 'Retry-After'), '5');
  t.equal(header(refused, 'Connection'), 'close');
  t.equal(budget.inUse, 100_000, 'the refused request gave back what it had taken');
  for (const s of holders) s.destroy();
  await waitFor('the budget to be free', () => budget.inUse === 0);
  t.equal(budget.inUse, 0, 'the abandoned bodies were given back');
  t.equal((await send(b.port, 'POST', TP2, [['Host', 'x']], 'c'.repeat(60_000))).status, 200, 'a full-size body fits again');
  // gzip: window and decoder state (96 KiB) + 30 000 inflated bytes fit in 150 000.
  const gz = gzipSync('d'.repeat(30_000));
  t.equal((await send(b.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'gzip']], gz)).status, 200, 'inflated within both bounds');
  // A brotli stream declaring a 4 MiB window (node's default lgwin 22) cannot be decoded within 150 000 bytes.
  const br = brotliCompressSync('{"e":"pv"}');
  t.equal(brotliWindowBytes(br), 4 * 1024 * 1024);
  t.equal((await send(b.port, 'POST', TP2, [['Host', 'x'], ['Content-Encoding', 'br']], br)).status, 503, 'the decoder window counts');
  await waitFor('the budget to be free', () => budget.inUse === 0);
  t.equal(budget.inUse, 0, 'nothing left charged');
  const records = await b.good();
  t.same(records.map((r) => r.body?.length), [60_000, 30_000], 'exactly the two accepted bodies were sunk');
});
