/**
 * furrow mini on the network (issue 15.9), tried as an attacker would against a real mini on 127.0.0.1:
 * - it listens on 127.0.0.1 unless --host opens it (and then the banner says so);
 * - DNS rebinding: a request whose Host is another name cannot read, reset or scrape anything;
 * - another site's page gets no CORS answer from the Micro API (never one with credentials) and cannot reset the
 *   store with an <img> or a link; the tracker routes keep the collector's CORS rules (credentials for `sp`);
 * - /metrics is behind --auth; the UI and the API send nosniff, a CSP and frame-ancestors 'none'.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { startMini, type MiniOptions, type RunningMini } from '../../mini/pipeline.js';

const ROOT = join(import.meta.dirname, '../..');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch may not set Host). */
function send(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: o.host ?? '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { Connection: 'close', ...o.headers }, timeout: 40_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(o.body);
  });
}

const base = (o: Partial<MiniOptions> = {}): MiniOptions => ({
  port: 0, host: '127.0.0.1', igluDirs: [], offline: true, enrichmentsDir: null, postgresUrl: null, forwardConfig: null,
  auth: { basic: null, token: null }, maxEvents: 1000, logger: silentLogger, ...o,
});

/**
 * The addresses the kernel has a listening TCP socket on for `port` (Linux /proc/net/tcp and tcp6). Read
 * rather than tried: tests may not connect to a non-loopback address (test/support/loopback-only.mjs refuses
 * it in-process, which would make a "connection refused" check pass whatever mini binds).
 */
function listeningOn(port: number): string[] | null {
  const out: string[] = [];
  let readable = false;
  for (const [file, v6] of [['/proc/net/tcp', false], ['/proc/net/tcp6', true]] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '0A') continue; // LISTEN
      const [addr, p] = f[1]!.split(':');
      if (parseInt(p!, 16) !== port) continue;
      if (!v6) out.push(Buffer.from(addr!, 'hex').reverse().join('.'));
      else out.push(/^0+$/.test(addr!) ? '::' : addr === '00000000000000000000000001000000' ? '::1' : addr!);
    }
  }
  return readable ? out : null;
}

/** Sends one page view and waits until it is stored. */
async function storeOne(mini: RunningMini): Promise<void> {
  const eid = crypto.randomUUID();
  const r = await send(mini.port, `/i?e=pv&p=web&tv=net-1&eid=${eid}`);
  if (r.status !== 200) throw new Error(`tracker request: ${r.status}`);
  const w = JSON.parse((await send(mini.port, `/micro/wait?event_id=${eid}&timeout=20000`)).body) as { ok: boolean };
  if (!w.ok) throw new Error('event not stored');
}

t.test('the CLI listens on 127.0.0.1 unless --host opens it, and then warns', async (t) => {
  const start = (...args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'mini', '--port', '0', '--offline', '--log-level', 'info', ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const seen = { out: '', err: '', exit: '' };
    child.once('exit', (code, signal) => (seen.exit = `exited ${code ?? signal}`));
    child.stdout.on('data', (d) => (seen.out += d));
    child.stderr.on('data', (d) => (seen.err += d));
    const ready = (async () => {
      for (let i = 0; i < 3000 && child.exitCode === null && !/Ctrl-C stops it/.test(seen.out); i++) await new Promise((r) => setTimeout(r, 20));
      const m = /collector\s+http:\/\/[^:]+:(\d+)/.exec(seen.out);
      if (!m) throw new Error(`mini did not start: ${seen.err.slice(-500)}`);
      return Number(m[1]);
    })();
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return `already ${seen.exit}`;
      const exit = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
      child.kill('SIGTERM');
      return exit;
    };
    return { seen, ready, stop };
  };
  // One after the other: two cold starts at once on a loaded 2-core machine are slow.
  const closed = start();
  const closedPort = await closed.ready;
  const open = start('--host', '0.0.0.0');
  const openPort = await open.ready;
  // If a mini is not there when asked, say why (its exit, and its log lines about stopping or failing).
  const why = (s: { err: string; exit: string }) => `${s.exit} ${s.err.split('\n').filter((l) => /stopping|failed|furrow mini:|"level":[56]0/.test(l)).join(' ').slice(-2000)}`;
  // Without /proc (not Linux) the banner is the evidence left.
  const closedOn = listeningOn(closedPort);
  if (closedOn === null) t.comment('no /proc/net/tcp here: listening addresses not read');
  else t.same(closedOn, ['127.0.0.1'], `by default the kernel has it listening on 127.0.0.1 only ${why(closed.seen)}`);
  t.match(closed.seen.out, /listening on\s+127\.0\.0\.1\n/, 'the banner says 127.0.0.1');
  t.notMatch(closed.seen.out, /WARNING/);
  const health = await send(closedPort, '/health').then((r) => r.status, (e: Error) => e.message);
  t.equal(health, 200, `reachable on loopback ${why(closed.seen)}`);

  const openOn = listeningOn(openPort);
  if (openOn !== null) t.same(openOn, ['0.0.0.0'], `--host 0.0.0.0: listening on all interfaces ${why(open.seen)}`);
  t.match(open.seen.out, /listening on\s+0\.0\.0\.0 \(all interfaces\)/);
  t.match(open.seen.out, /WARNING: furrow mini is reachable from other machines \(--host 0\.0\.0\.0\)/, 'the banner warns when opened');
  t.match(open.seen.out, /read every stored event, reset the store/);
  t.match(open.seen.out, /Host check is off/);
  const anyName = await send(openPort, '/micro/all', { headers: { Host: `mini.lan.example:${openPort}` } }).then((r) => r.status, (e: Error) => e.message);
  t.equal(anyName, 200, `opened: no Host check ${why(open.seen)}`);

  t.equal(await closed.stop(), 0);
  t.equal(await open.stop(), 0);
});

t.test('auth off: Host check, cross-site check, CORS without credentials, security headers', async (t) => {
  const malformed = startMini(base({ allowHosts: ['not a host/'] }));
  malformed.then((m) => m.stop(), () => undefined); // should it start after all, do not leave it running
  await t.rejects(malformed, /--allow-host not a host\//, 'a malformed --allow-host stops start-up');
  const mini = await startMini(base({ allowHosts: ['10.0.2.2', 'mini.proxy.example', 'pinned.example:8443'] }));
  t.teardown(() => mini.stop());
  const port = mini.port;
  await storeOne(mini);
  const count = async () => (JSON.parse((await send(port, '/micro/all')).body) as { total: number }).total;

  // ---- DNS rebinding: the attacker's page is same-origin with evil.example, whose name now points here.
  const rebound = { Host: `evil.example:${port}` };
  const read = await send(port, '/micro/good', { headers: rebound });
  t.equal(read.status, 403, 'a rebound name cannot read the events');
  t.match(read.body, /Host "evil\.example:\d+" is not a name furrow mini answers to/);
  t.notMatch(read.body, /page_view|net-1/, 'and gets nothing of them');
  t.equal((await send(port, '/micro/reset', { method: 'POST', headers: rebound })).status, 403, 'nor reset the store');
  t.equal(await count(), 1, 'the store was not reset');
  t.equal((await send(port, '/micro/ui/', { headers: rebound })).status, 403, 'nor load the UI');
  t.equal((await send(port, '/metrics', { headers: rebound })).status, 403, 'nor read /metrics');
  t.equal((await send(port, '/micro/all', { headers: { Host: `127.0.0.1:${port + 1 === 65536 ? 1 : port + 1}` } })).status, 403, 'our name with another port is refused');
  t.equal((await send(port, '/micro/all', { headers: { Host: 'localhost' } })).status, 403, 'no port means 80');
  for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LocalHost:${port}`, `app.localhost:${port}`, `10.0.2.2:${port}`, 'mini.proxy.example', 'pinned.example:8443']) {
    t.equal((await send(port, '/micro/all', { headers: { Host: host } })).status, 200, `Host ${host} is one of ours (or --allow-host)`);
  }
  t.equal((await send(port, '/micro/all', { headers: { Host: 'pinned.example:8444' } })).status, 403, '--allow-host NAME:PORT pins the port');
  t.equal((await send(port, '/metrics', { headers: { Host: `localhost:${port}` } })).status, 200);
  const tracked = await send(port, `/i?e=pv&p=web&tv=net-2&eid=${crypto.randomUUID()}`, { headers: rebound });
  t.equal(tracked.status, 200, 'tracker routes take any Host (an emulator sends 10.0.2.2, a device a LAN name)');

  // ---- another site's page, through the visitor's browser
  const evil = { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors' };
  const corsRead = await send(port, '/micro/good', { headers: evil });
  t.equal(corsRead.status, 403, 'a cross-site fetch is refused');
  t.equal(corsRead.headers['access-control-allow-origin'], undefined, 'no CORS answer for it');
  t.equal(corsRead.headers['access-control-allow-credentials'], undefined, 'never credentials');
  const pre = await send(port, '/micro/reset', { method: 'OPTIONS', headers: { ...evil, 'Access-Control-Request-Method': 'POST' } });
  t.equal(pre.headers['access-control-allow-origin'], undefined, 'no preflight pass for another site');
  t.equal((await send(port, '/micro/reset', { method: 'POST', headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' } })).status, 403, 'no-cors POST (a form or fetch no-cors)');
  t.equal((await send(port, '/micro/reset', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors', 'Sec-Fetch-Dest': 'image' } })).status, 403, '<img src=/micro/reset>');
  t.equal((await send(port, '/micro/reset', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' } })).status, 403, 'a link to /micro/reset');
  t.equal((await send(port, '/micro/reset', { headers: { Origin: 'null' } })).status, 403, 'a sandboxed frame or file: page');
  t.equal(await count(), 1, 'none of them reset the store');
  t.equal((await send(port, '/micro/ui/', { headers: { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'navigate', 'Sec-Fetch-Dest': 'document' } })).status, 200, 'a link from another site still opens the UI');

  const local = await send(port, '/micro/all', { headers: { Origin: 'http://localhost:5173', 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'cors' } });
  t.equal(local.status, 200, 'a dev page on localhost may call the API');
  t.equal(local.headers['access-control-allow-origin'], 'http://localhost:5173');
  t.equal(local.headers['access-control-allow-credentials'], undefined, 'without credentials');
  t.equal((await send(port, '/micro/all', { headers: { Origin: `http://127.0.0.1:${port}`, 'Sec-Fetch-Site': 'same-origin' } })).status, 200, 'the UI itself');

  // The collector's tracker routes keep the collector's CORS: the sp cookie needs credentials.
  const tp2 = await send(port, '/com.snowplowanalytics.snowplow/tp2', {
    method: 'POST', headers: { Origin: 'http://shop.example', 'Content-Type': 'application/json' },
    body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web', tv: 'net-3', eid: crypto.randomUUID() }] }),
  });
  t.equal(tp2.status, 200);
  t.equal(tp2.headers['access-control-allow-origin'], 'http://shop.example', 'tracker route: the origin, as the collector answers');
  t.equal(tp2.headers['access-control-allow-credentials'], 'true', 'tracker route: with credentials, as the collector answers');
  const tpPre = await send(port, '/com.snowplowanalytics.snowplow/tp2', { method: 'OPTIONS', headers: { Origin: 'http://shop.example', 'Access-Control-Request-Method': 'POST' } });
  t.equal(tpPre.headers['access-control-allow-credentials'], 'true');

  // ---- headers
  const ui = await send(port, '/micro/ui/');
  t.equal(ui.status, 200);
  const csp = String(ui.headers['content-security-policy']);
  t.match(csp, /frame-ancestors 'none'/, 'the UI may not be framed');
  t.match(csp, /script-src 'self'/);
  t.notMatch(csp, /unsafe-inline|unsafe-eval/);
  t.equal(ui.headers['x-content-type-options'], 'nosniff');
  t.equal(ui.headers['x-frame-options'], 'DENY');
  const js = await send(port, '/micro/ui/app.js');
  t.equal(js.headers['x-content-type-options'], 'nosniff');
  t.match(String(js.headers['content-security-policy']), /frame-ancestors 'none'/);
  const api = await send(port, '/micro/good');
  t.equal(api.headers['x-content-type-options'], 'nosniff');
  t.match(String(api.headers['content-security-policy']), /default-src 'none'.*frame-ancestors 'none'/);
});

t.test('auth on: /metrics needs the credentials too; a token-holding page may call the API from anywhere', async (t) => {
  const token = 'metrics-token-123';
  const mini = await startMini(base({ auth: { basic: { user: 'ops', password: 's3cret' }, token } }));
  t.teardown(() => mini.stop());
  const port = mini.port;
  const none = await send(port, '/metrics');
  t.equal(none.status, 401, '/metrics without credentials');
  t.notMatch(none.body, /furrow_/, 'and no metric in the answer');
  t.equal((await send(port, '/metrics', { headers: { Authorization: 'Bearer nope-nope-nope' } })).status, 401);
  const bearer = await send(port, '/metrics', { headers: { Authorization: `Bearer ${token}` } });
  t.equal(bearer.status, 200, 'Prometheus with a bearer token');
  t.match(bearer.body, /furrow_collector_requests_total/);
  const basic = await send(port, '/metrics', { headers: { Authorization: 'Basic ' + Buffer.from('ops:s3cret').toString('base64') } });
  t.equal(basic.status, 200, 'Prometheus with basic auth');
  t.equal((await send(port, '/metrics', { headers: { Host: `evil.example:${port}`, Authorization: `Bearer ${token}` } })).status, 403, 'the Host check holds with auth on');
  t.equal((await send(port, '/health')).status, 200, 'health stays open (load balancers)');

  const fromDashboard = await send(port, '/micro/all', { headers: { Origin: 'http://dashboard.example', Authorization: `Bearer ${token}`, 'Sec-Fetch-Site': 'cross-site' } });
  t.equal(fromDashboard.status, 200, 'an explicit token works from any page');
  t.equal(fromDashboard.headers['access-control-allow-origin'], '*');
  t.equal(fromDashboard.headers['access-control-allow-credentials'], undefined);
  const cached = await send(port, '/micro/reset', { headers: { Origin: 'http://evil.example', 'Sec-Fetch-Site': 'cross-site', Authorization: 'Basic ' + Buffer.from('ops:s3cret').toString('base64') } });
  t.equal(cached.status, 403, "the browser's cached login does not work for another site's page");
});

t.test('mini serves on the collector\'s guarded server: idle connections make room, heads must complete in time', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { connect } = await import('node:net');
  const dir = mkdtempSync(join(tmpdir(), 'furrow-mini-conns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'collector.conf');
  writeFileSync(conf, 'collector { networking { maxConnections = 16 }, furrow { headersTimeout = 1 second }, streams { good { name = "x" } } }\n');
  const mini = await startMini(base({ collectorConfigFile: conf }));
  t.teardown(() => mini.stop());
  const open = (): Promise<{ closed: () => boolean; get: () => Promise<string>; destroy: () => void; waitClosed: (ms: number) => Promise<boolean> }> =>
    new Promise((resolve, reject) => {
      const s = connect(mini.port, '127.0.0.1');
      let got = '';
      let closed = false;
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('close', () => (closed = true));
      s.on('error', () => undefined);
      s.once('error', reject);
      s.once('connect', () =>
        resolve({
          closed: () => closed,
          destroy: () => s.destroy(),
          get: async () => {
            const from = got.length;
            s.write('GET /i?e=pv HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
            for (let i = 0; i < 500 && !/\r\n\r\n/.test(got.slice(from)) && !closed; i++) await new Promise((r) => setTimeout(r, 10));
            return got.slice(from, from + 12);
          },
          waitClosed: async (ms: number) => {
            for (let w = 0; !closed && w < ms; w += 20) await new Promise((r) => setTimeout(r, 20));
            return closed;
          },
        }),
      );
    });
  const held: Awaited<ReturnType<typeof open>>[] = [];
  t.teardown(() => held.forEach((h) => h.destroy()));
  for (let i = 0; i < 16; i++) {
    const h = await open();
    t.equal(await h.get(), 'HTTP/1.1 200', `idle keep-alive connection ${i + 1}`);
    held.push(h);
  }
  const newcomer = await open();
  held.push(newcomer);
  t.equal(await newcomer.get(), 'HTTP/1.1 200', 'a 17th client is served (node would reset it at maxConnections)');
  t.ok(await held[0]!.waitClosed(3000), 'the least recently used idle connection was closed to make room');
  const drip = await open();
  held.push(drip);
  t.ok(await drip.waitClosed(5000), 'a connection that never completes its request head is closed after collector.furrow.headersTimeout');
});
