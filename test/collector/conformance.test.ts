/**
 * The conformance checks of ../shared/spec/collector.md §12, one sub-test per check (numbers in titles).
 * Setup as §12 says: defaults, a stdout-style sink captured in memory with maxBytes 1 000 000, peer 127.0.0.1.
 */
import t from 'tap';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createCollector } from '../../collector/collector.js';
import { PIXEL } from '../../collector/tracking-handler.js';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { collectorPayloadView } from '../support/thrift-binary.js';
import { Capture, configFrom, header, rawRequest, send, sendRaw, setCookies, startTestCollector, type TestCollector } from './helpers.js';

const SCHEMA = 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const COOKIE_RE = /^sp=([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}); Expires=([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT); Path=\/; SameSite=None; Secure; HttpOnly$/;
const ROBOTS = 'User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /';

/** Runs `fn` against a collector with `extra` HOCON merged over the §12 setup; always closes it. */
async function withCollector(_t: unknown, extra: string, fn: (c: TestCollector) => Promise<void>): Promise<void> {
  const c = await startTestCollector(extra);
  try {
    await fn(c);
  } finally {
    await c.close();
  }
}

t.test('routing and static responses', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());

  t.test('1: GET /health', async (t) => {
    const r = await rawRequest(c.port, 'GET /health HTTP/1.0', [['Host', 'x']]);
    t.equal(r.status, 200);
    t.equal(r.body, 'ok');
    t.equal(header(r, 'Content-Type'), 'text/plain; charset=UTF-8');
  });
  t.test('2: HEAD /health is 404', async (t) => {
    const r = await send(c.port, 'HEAD', '/health');
    t.equal(r.status, 404);
  });
  t.test('3: robots.txt', async (t) => {
    const r = await send(c.port, 'GET', '/robots.txt');
    t.equal(r.status, 200);
    t.equal(r.body.toString(), ROBOTS);
  });
  t.test('5/6: root and crossdomain disabled are 404', async (t) => {
    t.equal((await send(c.port, 'GET', '/')).status, 404);
    t.equal((await send(c.port, 'GET', '/crossdomain.xml')).status, 404);
  });
  t.test('7: unknown routes and methods are 404 Not found with Content-Length 9', async (t) => {
    for (const [m, p] of [['GET', '/a/b/c'], ['POST', '/i'], ['PUT', '/com.snowplowanalytics.snowplow/tp2'], ['DELETE', '/com.acme/v1'], ['GET', '/health/x/y']] as const) {
      const r = await send(c.port, m, p);
      t.equal(r.status, 404, `${m} ${p}`);
      t.equal(r.body.toString(), 'Not found');
      t.equal(r.headers['content-length'], '9');
      t.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
    }
  });
  t.test('8: /r/tp2 with redirects disabled', async (t) => {
    for (const m of ['GET', 'OPTIONS', 'POST']) {
      const r = await send(c.port, m, '/r/tp2?u=https://example.com');
      t.equal(r.status, 404);
      t.equal(r.body.toString(), 'redirects disabled');
      t.equal(r.headers['content-type'], 'text/plain; charset=UTF-8');
    }
  });
  t.test('nothing above was sunk', async (t) => {
    t.same(await c.good(), []);
    t.same(await c.bad(), []);
  });
});

t.test('4: sink-health follows both sinks', async (t) => {
  const good = new Capture();
  const bad = new Capture();
  const config = await configFrom();
  const collector = createCollector(config, { stdout: good, stderr: bad, defaultMetrics: false });
  const { startCollectorServer } = await import('../../collector/server.js');
  const running = await startCollectorServer(collector);
  t.teardown(() => running.shutdown(0));
  let r = await send(running.port, 'GET', '/sink-health');
  t.equal(r.status, 200);
  t.equal(r.body.toString(), 'ok');
  bad.destroy();
  r = await send(running.port, 'GET', '/sink-health');
  t.equal(r.status, 503);
  t.equal(r.body.toString(), 'Service Unavailable');
});

t.test('5/6: root response and crossdomain.xml enabled', async (t) => {
  await withCollector(t, 'collector { rootResponse { enabled = true, statusCode = 302, headers { Location = "https://example.com" }, body = "moved" }, crossDomain { enabled = true } }', async (c) => {
    const r = await send(c.port, 'GET', '/');
    t.equal(r.status, 302);
    t.equal(r.headers.location, 'https://example.com');
    t.equal(r.body.toString(), 'moved');
    const x = await send(c.port, 'GET', '/crossdomain.xml');
    t.equal(x.status, 200);
    t.equal(x.headers['content-type'], 'text/xml');
    t.equal(x.body.toString(), '<?xml version="1.0"?>\n<cross-domain-policy>\n<allow-access-from domain="*" secure="true" />\n</cross-domain-policy>');
  });
});

t.test('pixel and POST responses', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());

  t.test('9: GET /i', async (t) => {
    const r = await send(c.port, 'GET', '/i?e=pv');
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'image/gif');
    t.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    t.equal(r.headers['access-control-allow-origin'], '*');
    t.equal(r.headers['access-control-allow-credentials'], 'true');
    t.equal(r.headers['content-length'], '43');
    t.equal(r.headers.p3p, undefined);
    t.equal(r.body.toString('hex'), '47494638396101000100f00000ffffff00000021f90405000000002c00000000010001000002024401003b');
    t.same(r.body, PIXEL);
  });
  t.test('10: GET /ice.png', async (t) => {
    const before = (await c.good()).length;
    const r = await send(c.port, 'GET', '/ice.png');
    t.equal(r.status, 200);
    t.same(r.body, PIXEL);
    const rec = (await c.good())[before]!;
    t.equal(rec.path, '/ice.png');
    t.equal(rec.querystring, '');
  });
  t.test('11: HEAD /i is tracked, no body', async (t) => {
    const before = (await c.good()).length;
    const r = await send(c.port, 'HEAD', '/i');
    t.equal(r.status, 200);
    t.equal(r.headers['content-type'], 'image/gif');
    t.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    t.equal(r.body.length, 0);
    const recs = (await c.good()).slice(before);
    t.equal(recs.length, 1);
    t.equal(recs[0]!.path, '/i');
  });
  t.test('12: GET tp2 is a pixel, no body/contentType', async (t) => {
    const before = (await c.good()).length;
    const r = await send(c.port, 'GET', '/com.snowplowanalytics.snowplow/tp2?e=pv');
    t.same(r.body, PIXEL);
    const rec = (await c.good())[before]!;
    t.equal(rec.path, '/com.snowplowanalytics.snowplow/tp2');
    t.equal(rec.body, undefined);
    t.equal(rec.contentType, undefined);
  });
  t.test('13: POST tp2 JSON', async (t) => {
    const before = (await c.good()).length;
    const body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}';
    const r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'c'], ['Content-Type', 'application/json']], body);
    t.equal(r.status, 200);
    t.equal(r.body.toString(), 'ok');
    t.equal(r.headers['content-type'], 'text/plain');
    t.equal(r.headers['cache-control'], undefined);
    const rec = (await c.good())[before]!;
    t.equal(rec.body, body);
    t.equal(rec.contentType, 'application/json');
    t.equal(rec.headers!.at(-1), 'application/json');
  });
  t.test('14: POST form to an arbitrary vendor', async (t) => {
    const before = (await c.good()).length;
    const r = await send(c.port, 'POST', '/com.acme/v1', [['Host', 'c'], ['Content-Type', 'application/x-www-form-urlencoded']], 'a=b');
    t.equal(r.body.toString(), 'ok');
    const rec = (await c.good())[before]!;
    t.equal(rec.path, '/com.acme/v1');
    t.equal(rec.body, 'a=b');
    t.equal(rec.contentType, 'application/x-www-form-urlencoded');
  });
  t.test('15: Content-Type normalised, raw header kept in place', async (t) => {
    const before = (await c.good()).length;
    await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'c'], ['Content-Type', 'application/json;charset=UTF-8']], '{}');
    const rec = (await c.good())[before]!;
    t.equal(rec.contentType, 'application/json; charset=utf-8');
    t.equal(rec.headers![1], 'Content-Type: application/json;charset=UTF-8');
    t.equal(rec.headers!.at(-1), 'application/json; charset=utf-8');
  });
  t.test('16: empty POST without Content-Type', async (t) => {
    const r = await rawRequest(c.port, 'POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.0', [['Host', 'c'], ['Content-Length', '0']]);
    t.equal(r.status, 200);
    t.equal(r.body, 'ok');
    const recs = await c.good();
    const rec = recs.at(-1)!;
    t.equal(rec.body, '');
    t.equal(rec.contentType, undefined);
    t.same(rec.headers, ['Host: c', 'Content-Length: 0']);
    // The raw bytes hold `0b 01 54 00 00 00 00` (body field, length 0).
    t.ok(Buffer.from(c.goodLines.lines.at(-1)!, 'base64').includes(Buffer.from('0b015400000000', 'hex')));
  });
  t.test('17: BOM dropped, invalid UTF-8 replaced', async (t) => {
    const before = (await c.good()).length;
    await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'c']], Buffer.from('efbbbf7b7d', 'hex'));
    await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'c']], Buffer.from('61ff62', 'hex'));
    const recs = (await c.good()).slice(before);
    t.equal(recs[0]!.body, '{}');
    t.equal(Buffer.from(recs[1]!.body!, 'utf8').toString('hex'), '61efbfbd62');
  });
});

t.test('Thrift payload fields', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());

  t.test('18: GET /i fields in wire order', async (t) => {
    const r = await rawRequest(c.port, 'GET /i?e=pv&aid=a HTTP/1.0', [['Host', 'collector.test'], ['User-Agent', 'ua/1.0']]);
    t.equal(r.status, 200);
    const recs = await c.good();
    const line = c.goodLines.lines.at(-1)!;
    t.ok(line.startsWith('CwBk'), 'record starts with CwBk');
    t.notOk(line.endsWith('='), 'no base64 padding');
    const bytes = Buffer.from(line, 'base64');
    t.equal(bytes.subarray(0, 3).toString('hex'), '0b0064');
    t.equal(bytes.at(-1), 0);
    // Field ids in wire order.
    const ids: number[] = [];
    let o = 0;
    for (;;) {
      const type = bytes[o]!;
      if (type === 0) break;
      const id = bytes.readInt16BE(o + 1);
      ids.push(id);
      o += 3;
      if (type === 0x0a) o += 8;
      else if (type === 0x0b) o += 4 + bytes.readInt32BE(o);
      else if (type === 0x0f) {
        const n = bytes.readInt32BE(o + 1);
        o += 5;
        for (let i = 0; i < n; i++) o += 4 + bytes.readInt32BE(o);
      }
    }
    t.same(ids, [100, 200, 210, 220, 300, 320, 330, 350, 410, 31337]);
    const rec = recs.at(-1)!;
    t.equal(rec.ipAddress, '127.0.0.1');
    t.equal(rec.encoding, 'UTF-8');
    t.equal(rec.collector, 'ssc-3.4.0-printingsink');
    t.equal(rec.userAgent, 'ua/1.0');
    t.equal(rec.path, '/i');
    t.equal(rec.querystring, 'e=pv&aid=a');
    t.same(rec.headers, ['Host: collector.test', 'User-Agent: ua/1.0']);
    t.match(rec.networkUserId, UUID_RE);
    t.equal(rec.schema, SCHEMA);
    t.ok(Math.abs(rec.timestamp - Date.now()) < 10_000);
  });
  t.test('20: querystring is raw', async (t) => {
    await rawRequest(c.port, 'GET /i?url=http%3A%2F%2Fa.b%2F%3Fx%3D1&e=pv HTTP/1.0', [['Host', 'x']]);
    t.equal((await c.good()).at(-1)!.querystring, 'url=http%3A%2F%2Fa.b%2F%3Fx%3D1&e=pv');
  });
  t.test('21: header case and order preserved', async (t) => {
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['host', 'x'], ['X-Custom', '1'], ['user-agent', 'ua']]);
    const rec = (await c.good()).at(-1)!;
    t.same(rec.headers, ['host: x', 'X-Custom: 1', 'user-agent: ua']);
    t.equal(rec.userAgent, 'ua');
  });
  t.test('22: Cookie header sanitised and upper-cased', async (t) => {
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'x'], ['Cookie', 'a=1; sp=abc; bad="q"']]);
    t.same((await c.good()).at(-1)!.headers, ['Host: x', 'Cookie: a=1;sp=abc']);
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'x'], ['cookie', 'x=1']]);
    t.same((await c.good()).at(-1)!.headers, ['Host: x', 'Cookie: x=1']);
  });
  t.test('23: hostname absent for origin-form, present for absolute-form', async (t) => {
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'collector.test']]);
    t.equal((await c.good()).at(-1)!.hostname, undefined);
    await rawRequest(c.port, 'GET http://abs.example:8080/i?e=pv HTTP/1.0', [['Host', 'abs.example']]);
    const rec = (await c.good()).at(-1)!;
    t.equal(rec.hostname, 'abs.example');
    t.equal(rec.path, '/i');
    t.equal(rec.querystring, 'e=pv');
  });
  t.test('24: Referer', async (t) => {
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'x'], ['Referer', 'https://site.example/page']]);
    t.equal((await c.good()).at(-1)!.refererUri, 'https://site.example/page');
  });
});

t.test('19: byte-exact golden vector A', async (t) => {
  const GOLDEN_A = 'CwBkAAAACjE5Mi4wLjIuMTAKAMgAAAGLz+VoAAsA0gAAAAVVVEYtOAsA3AAAABZzc2MtMy40LjAtcHJpbnRpbmdzaW5rCwEsAAAABnVhLzEuMAsBQAAAAAIvaQsBSgAAAAplPXB2JmFpZD1hDwFeCwAAAAIAAAAUSG9zdDogY29sbGVjdG9yLnRlc3QAAAASVXNlci1BZ2VudDogdWEvMS4wCwGaAAAAJDExMTExMTExLTIyMjItNDMzMy04NDQ0LTU1NTU1NTU1NTU1NQt6aQAAAEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA';
  const good = new Capture();
  const config = await configFrom();
  const collector = createCollector(config, { stdout: good, stderr: new Capture(), defaultMetrics: false, clock: () => 1700000000000, uuid: () => '11111111-2222-4333-8444-555555555555' });
  // A request from peer 192.0.2.10 (cannot come over loopback): the listener gets a hand-made request.
  const req = Object.assign(new PassThrough(), {
    url: '/i?e=pv&aid=a', method: 'GET', rawHeaders: ['Host', 'collector.test', 'User-Agent', 'ua/1.0'],
    headers: { host: 'collector.test', 'user-agent': 'ua/1.0' }, socket: { remoteAddress: '192.0.2.10' },
  });
  let status = 0;
  const res = { headersSent: false, destroyed: false, writeHead(s: number) { status = s; this.headersSent = true; }, end() {} };
  collector.listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
  await collector.close();
  t.equal(status, 200);
  t.equal(good.lines.length, 1);
  t.equal(good.lines[0], GOLDEN_A);
  t.equal(Buffer.from(good.lines[0]!, 'base64').length, 278);
});

t.test('IP / X-Forwarded-For', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());
  const ipFor = async (headers: Array<[string, string]>): Promise<string | undefined> => {
    await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'x'], ...headers]);
    return (await c.good()).at(-1)!.ipAddress;
  };
  t.test('25: first entry', async (t) => {
    t.equal(await ipFor([['X-Forwarded-For', '203.0.113.9, 10.0.0.1']]), '203.0.113.9');
    t.same((await c.good()).at(-1)!.headers, ['Host: x', 'X-Forwarded-For: 203.0.113.9, 10.0.0.1']);
  });
  t.test('26: unknown', async (t) => t.equal(await ipFor([['X-Forwarded-For', 'unknown, 203.0.113.9']]), 'unknown'));
  t.test('27: unparsable ⇒ peer', async (t) => t.equal(await ipFor([['X-Forwarded-For', '203.0.113.9:4711']]), '127.0.0.1'));
  t.test('28: IPv6 bracketed and compressed', async (t) => t.equal(await ipFor([['X-Forwarded-For', '2001:DB8:0:0:0:0:0:1']]), '[2001:db8::1]'));
  t.test('29: only the first XFF header counts', async (t) => t.equal(await ipFor([['X-Forwarded-For', 'garbage'], ['X-Forwarded-For', '203.0.113.9']]), '127.0.0.1'));
  t.test('leading zeros are not an IPv4', async (t) => t.equal(await ipFor([['X-Forwarded-For', '01.2.3.4']]), '127.0.0.1'));
});

t.test('network user id and cookies', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());

  t.test('30: new cookie', async (t) => {
    const r = await send(c.port, 'GET', '/i');
    const sc = setCookies(r);
    t.equal(sc.length, 1);
    const m = COOKIE_RE.exec(sc[0]!);
    t.ok(m, sc[0]!);
    const expires = Date.parse(m![2]!);
    t.ok(Math.abs(expires - (Date.now() + 365 * 86_400_000)) < 2000, 'expires in 365 days');
    t.equal((await c.good()).at(-1)!.networkUserId, m![1]);
  });
  t.test('31: cookie value reused', async (t) => {
    const r = await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'sp=abc']]);
    t.match(setCookies(r)[0], /^sp=abc; Expires=/);
    t.equal((await c.good()).at(-1)!.networkUserId, 'abc');
  });
  t.test('32: nuid param wins over cookie', async (t) => {
    const r = await send(c.port, 'GET', '/i?nuid=xyz', [['Host', 'x'], ['Cookie', 'sp=abc']]);
    t.match(setCookies(r)[0], /^sp=xyz; /);
    t.equal((await c.good()).at(-1)!.networkUserId, 'xyz');
  });
  t.test('39: SP-Anonymous with a cookie', async (t) => {
    const r = await rawRequest(c.port, 'GET /i HTTP/1.0', [['Host', 'x'], ['SP-Anonymous', '*'], ['Cookie', 'sp=n1'], ['X-Forwarded-For', '203.0.113.9'], ['X-Real-Ip', '1.2.3.4']]);
    const sc = r.headers.filter(([k]) => k === 'Set-Cookie').map(([, v]) => v);
    t.equal(sc.length, 1);
    const m = /^sp=; Expires=(.+?); Path=\/; SameSite=None; Secure; HttpOnly$/.exec(sc[0]!);
    t.ok(m, sc[0]!);
    t.ok(Math.abs(Date.parse(m![1]!) - (Date.now() - 365 * 86_400_000)) < 2000, 'expired a year ago');
    const rec = (await c.good()).at(-1)!;
    t.equal(rec.networkUserId, '00000000-0000-0000-0000-000000000000');
    t.equal(rec.ipAddress, 'unknown');
    t.same(rec.headers, ['Host: x', 'SP-Anonymous: *']);
  });
  t.test('40: SP-Anonymous without cookie', async (t) => {
    const r = await send(c.port, 'GET', '/i?nuid=abc', [['Host', 'x'], ['SP-Anonymous', '*']]);
    t.same(setCookies(r), []);
    t.equal((await c.good()).at(-1)!.networkUserId, '00000000-0000-0000-0000-000000000000');
  });
  t.test('invalid cookie value gets a fresh nuid', async (t) => {
    await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'sp=a"b\\c']]);
    t.match((await c.good()).at(-1)!.networkUserId, UUID_RE);
  });
});

t.test('33: cookie disabled', async (t) => {
  await withCollector(t, 'collector.cookie.enabled = false', async (c) => {
    const r = await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'sp=kept']]);
    t.same(setCookies(r), []);
    t.equal((await c.good()).at(-1)!.networkUserId, 'kept');
    await send(c.port, 'GET', '/i');
    t.match((await c.good()).at(-1)!.networkUserId, UUID_RE);
  });
});

t.test('34: custom cookie attributes', async (t) => {
  await withCollector(t, 'collector.cookie { name = greatName, expiration = 42 days, secure = true, httpOnly = true, sameSite = Strict }', async (c) => {
    const sc = setCookies(await send(c.port, 'GET', '/i'))[0]!;
    const m = /^greatName=([0-9a-f-]{36}); Expires=(.+?); Path=\/; SameSite=Strict; Secure; HttpOnly$/.exec(sc);
    t.ok(m, sc);
    t.ok(Math.abs(Date.parse(m![2]!) - (Date.now() + 42 * 86_400_000)) < 2000);
  });
});

t.test('35: SameSite=None forces Secure; no SameSite', async (t) => {
  await withCollector(t, 'collector.cookie { secure = false, httpOnly = false, sameSite = None }', async (c) => {
    t.match(setCookies(await send(c.port, 'GET', '/i'))[0]!, /; Path=\/; SameSite=None; Secure$/);
  });
  await withCollector(t, 'collector.cookie { secure = false, httpOnly = false, sameSite = null }', async (c) => {
    t.match(setCookies(await send(c.port, 'GET', '/i'))[0]!, /; Expires=[^;]+; Path=\/$/);
  });
});

t.test('36/37: cookie domains by Origin', async (t) => {
  await withCollector(t, 'collector.cookie { domains = ["foo.bar"], fallbackDomain = "fallback.domain" }', async (c) => {
    t.match(setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://sub.foo.bar']]))[0], /; Domain=foo\.bar; Path=\//);
    t.match(setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://other.domain']]))[0], /; Domain=fallback\.domain; Path=\//);
    t.match(setCookies(await send(c.port, 'GET', '/i'))[0], /; Domain=fallback\.domain; Path=\//);
  });
  await withCollector(t, '', async (c) => {
    t.notMatch(setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://sub.foo.bar']]))[0], /Domain=/);
  });
  await withCollector(t, 'collector.cookie { domains = ["domain.com", "otherdomain.com"] }', async (c) => {
    t.match(setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://www.domain2.com http://www.domain.com http://www.otherdomain.com:8080']]))[0], /; Domain=domain\.com; /);
    t.notMatch(setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://notdomain.com']]))[0], /Domain=/);
  });
});

t.test('38: client cookie', async (t) => {
  await withCollector(t, 'collector.cookie.clientCookieName = sp_client', async (c) => {
    const sc = setCookies(await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'sp=n1']]));
    t.equal(sc.length, 2);
    t.match(sc[0], /^sp=n1; .*; HttpOnly$/);
    t.equal(sc[1], sc[0]!.replace(/^sp=/, 'sp_client=').replace(/; HttpOnly$/, ''));
  });
});

t.test('CORS', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());
  t.test('41/42: preflight on any path', async (t) => {
    for (const p of ['/com.snowplowanalytics.snowplow/tp2', '/anything/at/all']) {
      const r = await rawRequest(c.port, `OPTIONS ${p} HTTP/1.0`, [['Host', 'x'], ['Origin', 'https://shop.example']]);
      t.equal(r.status, 200);
      t.equal(r.body, '');
      t.equal(header(r, 'Access-Control-Allow-Origin'), 'https://shop.example');
      t.equal(header(r, 'Access-Control-Allow-Credentials'), 'true');
      t.equal(header(r, 'Access-Control-Allow-Headers'), 'Content-Type, SP-Anonymous');
      t.equal(header(r, 'Access-Control-Max-Age'), '3600');
      t.equal(header(r, 'Set-Cookie'), undefined);
    }
    t.same(await c.good(), []);
  });
  t.test('43: Origin null and with port', async (t) => {
    let r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Origin', 'null']], '{}');
    t.equal(r.headers['access-control-allow-origin'], '*');
    r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Origin', 'http://a.test:8080']], '{}');
    t.equal(r.headers['access-control-allow-origin'], 'http://a.test:8080');
    r = await send(c.port, 'GET', '/i', [['Host', 'x'], ['Origin', 'http://origin.com http://otherorigin.com:8080']]);
    t.equal(r.headers['access-control-allow-origin'], 'http://origin.com');
  });
});

t.test('42: accessControlMaxAge', async (t) => {
  await withCollector(t, 'collector.cors.accessControlMaxAge = 10 minutes', async (c) => {
    t.equal((await send(c.port, 'OPTIONS', '/x/y')).headers['access-control-max-age'], '600');
  });
});

t.test('44: do-not-track cookie', async (t) => {
  await withCollector(t, 'collector.doNotTrackCookie { enabled = true, name = foo, value = bar }', async (c) => {
    let r = await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'foo=bar']]);
    t.equal(r.status, 200);
    t.same(r.body, PIXEL);
    t.same(setCookies(r), []);
    t.equal((await c.good()).length, 0);
    r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Cookie', 'foo=bar']], '{}');
    t.equal(r.body.toString(), 'ok');
    t.equal((await c.good()).length, 0);
    await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'foo=foo']]);
    await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'bar=bar']]);
    t.equal((await c.good()).length, 2);
  });
  await withCollector(t, 'collector.doNotTrackCookie { enabled = true, name = foo, value = "^snowplow-(.*)$" }', async (c) => {
    await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'foo=lorem-1p5uM']]);
    t.equal((await c.good()).length, 1);
    await send(c.port, 'GET', '/i', [['Host', 'x'], ['Cookie', 'foo=snowplow-1p5uM']]);
    t.equal((await c.good()).length, 1);
  });
});

t.test('45-47: cookie bounce', async (t) => {
  await withCollector(t, 'collector.cookieBounce.enabled = true', async (c) => {
    let r = await send(c.port, 'GET', '/i?e=pv');
    t.equal(r.status, 302);
    t.equal(r.headers.location, '/i?e=pv&n3pc=true');
    t.equal(setCookies(r).length, 1);
    t.equal(r.body.length, 0);
    t.equal((await c.good()).length, 0);

    r = await send(c.port, 'GET', '/i?e=pv&n3pc=true');
    t.equal(r.status, 200);
    const rec = (await c.good()).at(-1)!;
    t.equal(rec.networkUserId, '00000000-0000-4000-A000-000000000000');
    t.equal(rec.querystring, 'e=pv&n3pc=true');
    t.match(setCookies(r)[0], /^sp=00000000-0000-4000-A000-000000000000; /);

    t.equal((await send(c.port, 'GET', '/i?e=pv&nuid=x')).status, 200);
    t.equal((await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], '{}')).status, 200);
    t.equal((await c.good()).length, 3);
  });
  await withCollector(t, 'collector.cookieBounce { enabled = true, forwardedProtocolHeader = "X-Forwarded-Proto" }', async (c) => {
    const r = await rawRequest(c.port, 'GET http://c.example/i?e=pv HTTP/1.0', [['Host', 'c.example'], ['X-Forwarded-Proto', 'https']]);
    t.equal(header(r, 'Location'), 'https://c.example/i?e=pv&n3pc=true');
  });
});

t.test('48/49: redirects', async (t) => {
  await withCollector(t, 'collector.enableDefaultRedirect = true', async (c) => {
    let r = await send(c.port, 'GET', '/r/tp2?u=https%3A%2F%2Fexample.com%2Fx');
    t.equal(r.status, 302);
    t.equal(r.headers.location, 'https://example.com/x');
    t.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    t.equal(setCookies(r).length, 1);
    const recs = await c.good();
    t.equal(recs.length, 1);
    t.equal(recs[0]!.path, '/r/tp2');
    r = await send(c.port, 'GET', '/r/tp2');
    t.equal(r.status, 400);
    t.equal(r.body.length, 0);
    t.equal((await c.good()).length, 2);
    r = await send(c.port, 'GET', '/r/tp2?u=https%3A%2F%2Fex%20ample.com');
    t.equal(r.status, 400, 'invalid URI');
  });
  await withCollector(t, 'collector { enableDefaultRedirect = true, redirectDomains = ["example1.com"] }', async (c) => {
    t.equal((await send(c.port, 'GET', '/r/tp2?u=https://example1.com/12')).status, 302);
    t.equal((await send(c.port, 'GET', '/r/tp2?u=https://sub.example1.com/12')).status, 400);
    t.equal((await send(c.port, 'GET', '/r/tp2?u=https://invalidexample1.com/12')).status, 400);
  });
});

t.test('50: custom paths', async (t) => {
  await withCollector(t, 'collector.paths { "/com.acme/track" = "/com.snowplowanalytics.snowplow/tp2", "/com.acme/redirect" = "/r/tp2", "/com.acme/iglu" = "/com.snowplowanalytics.iglu/v1" }', async (c) => {
    t.equal((await send(c.port, 'POST', '/com.acme/track', [['Host', 'x']], '{}')).status, 200);
    const r = await send(c.port, 'POST', '/com.acme/redirect?u=https://example.com/', [['Host', 'x']], '{}');
    t.equal(r.status, 302);
    t.equal((await send(c.port, 'POST', '/com.acme/redirect', [['Host', 'x']], '{}')).status, 400);
    t.equal((await send(c.port, 'POST', '/com.acme/iglu', [['Host', 'x']], '{}')).status, 200);
    t.same((await c.good()).map((p) => p.path), ['/com.snowplowanalytics.snowplow/tp2', '/r/tp2', '/r/tp2', '/com.snowplowanalytics.iglu/v1']);
  });
});

t.test('limits, splitting, bad rows', async (t) => {
  t.test('51: dropPayloadSize', async (t) => {
    await withCollector(t, 'collector.streams.good.maxBytes = 1000000000', async (c) => {
      const r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], Buffer.alloc(2_097_153, 0x61));
      t.equal(r.status, 413);
      t.equal(r.body.length, 0);
      t.equal((await c.good()).length, 0);
      const ok = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x']], Buffer.alloc(2_097_152, 0x61));
      t.equal(ok.status, 200);
      const recs = await c.good();
      t.equal(recs.length, 1);
      t.equal(recs[0]!.body!.length, 2_097_152);
    });
  });
  t.test('52: non-JSON POST between maxBytes and maxPayloadSize', async (t) => {
    await withCollector(t, '', async (c) => {
      // Work out the header overhead with a small body first, then size the body to land at 1 000 500 bytes.
      const headers: Array<[string, string]> = [['Host', 'x']];
      await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', headers, 's');
      const small = Buffer.from(c.goodLines.lines.at(-1)!, 'base64').length;
      // send() uses chunked encoding, so the headers do not change with the body length.
      const r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', headers, 's'.repeat(1_000_500 - small + 1));
      t.equal(r.status, 200);
      t.equal(r.body.toString(), 'ok');
      t.equal((await c.good()).length, 1, 'no new good record');
      const bad = await c.bad();
      t.equal(bad.length, 1);
      const b = bad[0]!;
      t.equal(b.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0');
      t.equal(b.data.failure.maximumAllowedSizeBytes, 1000000);
      t.equal(b.data.failure.actualSizeBytes, 1000500);
      t.match(b.data.failure.expectation, /^oversized collector payload: cannot split POST requests which are not json /);
      t.equal(b.data.payload.length, 100000);
      t.match(b.data.payload, /^CollectorPayload\(schema:iglu:com\.snowplowanalytics\.snowplow\/CollectorPayload\/thrift\/1-0-0, ipAddress:/);
      t.same(Object.keys(b), ['schema', 'data']);
      t.same(Object.keys(b.data), ['processor', 'failure', 'payload']);
      t.same(b.data.processor, { artifact: 'snowplow-stream-collector', version: '3.4.0' });
      t.same(Object.keys(b.data.failure), ['timestamp', 'maximumAllowedSizeBytes', 'actualSizeBytes', 'expectation']);
      // 57: base64 without padding on the bad stream.
      t.notOk(c.badLines.lines[0]!.endsWith('='));
    });
  });
  t.test('53: above maxPayloadSize', async (t) => {
    await withCollector(t, '', async (c) => {
      const headers: Array<[string, string]> = [['Host', 'x']];
      await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', headers, 's');
      const small = Buffer.from(c.goodLines.lines.at(-1)!, 'base64').length;
      await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', headers, 's'.repeat(1_500_000 - small + 1));
      const b = (await c.bad())[0]!;
      t.equal(b.data.failure.maximumAllowedSizeBytes, 1048576);
      t.equal(b.data.failure.actualSizeBytes, 1500000);
      t.equal(b.data.failure.expectation, 'oversized collector payload: Payload exceeds max size of 1048576. Actual length: 1500000');
      t.equal(b.data.payload.length, 104857);
    });
  });
  t.test('54: huge GET cannot be split', async (t) => {
    await withCollector(t, 'collector.networking.maxRequestLineLength = 1100000', async (c) => {
      const q = `e=pv&x=${'a'.repeat(1_000_100)}`;
      const r = await rawRequest(c.port, `GET /i?${q} HTTP/1.0`, [['Host', 'x']]);
      t.equal(r.status, 200);
      t.equal((await c.good()).length, 0);
      const b = (await c.bad())[0]!;
      t.equal(b.data.failure.maximumAllowedSizeBytes, 1000000);
      t.equal(b.data.failure.expectation, 'oversized collector payload: GET requests cannot be split');
    });
  });
  t.test('splitting through HTTP: a big tp2 batch becomes several records, nothing lost', async (t) => {
    await withCollector(t, '', async (c) => {
      const events = Array.from({ length: 40 }, (_, i) => `{"e":"pv","eid":"${i}","x":${1.0},"tv":"${'y'.repeat(26_000)}"}`);
      const body = `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[${events.join(',')}]}`;
      const r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Content-Type', 'application/json']], body);
      t.equal(r.status, 200);
      const recs = await c.good();
      t.ok(recs.length >= 2, `${recs.length} records`);
      const seen: string[] = [];
      for (const [i, line] of c.goodLines.lines.entries()) {
        t.ok(Buffer.from(line, 'base64').length < 1_000_000, `record ${i} under maxBytes`);
        const b = JSON.parse(recs[i]!.body!) as { schema: string; data: Array<{ eid: string }> };
        t.equal(b.schema, 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4');
        seen.push(...b.data.map((e) => e.eid));
      }
      t.same(seen.sort(), events.map((_, i) => String(i)).sort(), 'every event exactly once');
      t.equal((await c.bad()).length, 0);
    });
  });
});

t.test('58: request-target outside RFC 3986 is 400, nothing sunk', async (t) => {
  await withCollector(t, '', async (c) => {
    for (const target of ['/i?a=b|c', '/i?a=%zz', '/i?a="x"', '/i?a=<b>', '/i?a={}', '/i?x=é', '/i?a=b^c', '/i%']) {
      const raw = await sendRaw(c.port, Buffer.concat([Buffer.from(`GET `), Buffer.from(target, 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
      t.match(raw, /^HTTP\/1\.1 400 /, target);
      t.match(raw, /Connection: close/i);
      t.match(raw, /Content-Length: 0/i);
    }
    t.equal((await c.good()).length, 0);
  });
});

t.test('59: HSTS on every response', async (t) => {
  await withCollector(t, 'collector.hsts { enable = true, maxAge = 180 days }', async (c) => {
    for (const p of ['/i', '/health', '/nope', '/a/b/c']) {
      t.equal((await send(c.port, 'GET', p)).headers['strict-transport-security'], 'max-age=15552000; includeSubDomains', p);
    }
    t.equal((await send(c.port, 'OPTIONS', '/x')).headers['strict-transport-security'], 'max-age=15552000; includeSubDomains');
  });
});

t.test('gzip request bodies (furrow addition)', async (t) => {
  await withCollector(t, '', async (c) => {
    const body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}';
    const r = await send(c.port, 'POST', '/com.snowplowanalytics.snowplow/tp2', [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Encoding', 'gzip']], gzipSync(body));
    t.equal(r.status, 200);
    t.equal((await c.good()).at(-1)!.body, body);
  });
});

t.test('records read the same in an independent TBinaryProtocol reader (§12.18 layout)', async (t) => {
  await withCollector(t, '', async (c) => {
    await rawRequest(c.port, 'GET /i?e=pv HTTP/1.0', [['Host', 'x'], ['User-Agent', 'ua']]);
    await c.good();
    const line = c.goodLines.lines[0]!;
    const view = collectorPayloadView(Buffer.from(line, 'base64'));
    t.same(view.order, [100, 200, 210, 220, 300, 320, 330, 350, 410, 31337], 'wire order: ascending ids, schema last');
    t.match(view.fields, { path: '/i', querystring: 'e=pv', userAgent: 'ua', encoding: 'UTF-8', schema: SCHEMA, headers: ['Host: x', 'User-Agent: ua'] });
    t.match(view.fields.networkUserId, UUID_RE);
    t.equal(decodeCollectorPayload(Buffer.from(line, 'base64')).userAgent, 'ua');
  });
});
