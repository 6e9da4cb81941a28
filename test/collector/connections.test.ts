/**
 * Connection exhaustion (issue 15, item 7): a client holding every connection slot must not lock others out.
 * With networking.maxConnections = 16 (the guard keeps 1 free, closing 1 more each time it makes room):
 * idle keep-alive connections are closed first, least recently used first; then connections that sent no
 * complete request head, oldest first; a connection whose request is in progress is never closed. Request
 * heads must complete within collector.furrow.headersTimeout (default 10 s).
 *
 * Before the fix: the 17th connection was reset (node's maxConnections) and idle ones were held for the
 * whole idleTimeout (610 s); headers had 30 s (+ a 15 s sweep).
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import type { WriteResult } from '../../streams/sink.js';
import { createCollector } from '../../collector/collector.js';
import { startCollectorServer } from '../../collector/server.js';
import type { CollectorSink } from '../../collector/sinks/sink.js';
import { configFrom, startTestCollector } from './helpers.js';

interface Client {
  socket: Socket;
  closed: boolean;
  /** Everything received so far. */
  received: () => string;
  /** Sends a GET /i on this connection and resolves with the status of its response. */
  get(path?: string): Promise<number>;
  waitClosed(maxMs: number): Promise<boolean>;
}

function client(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    let waiter: (() => void) | null = null;
    const c: Client = {
      socket,
      closed: false,
      received: () => got,
      get(path = '/i?e=pv') {
        const from = got.length;
        socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
        return new Promise<number>((res, rej) => {
          const check = (): void => {
            const part = got.slice(from);
            const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\nContent-Length: (\d+)\r\n[^]*?\r\n\r\n/.exec(part);
            if (m && part.length >= m[0].length + Number(m[2])) {
              waiter = null;
              res(Number(m[1]));
            } else if (c.closed) rej(new Error(`connection closed before a response: ${JSON.stringify(part)}`));
          };
          waiter = check;
          check();
        });
      },
      async waitClosed(maxMs) {
        for (let waited = 0; !c.closed && waited < maxMs; waited += 20) await new Promise((r) => setTimeout(r, 20));
        return c.closed;
      },
    };
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      waiter?.();
    });
    socket.on('close', () => {
      c.closed = true;
      waiter?.();
    });
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve(c));
    socket.once('error', reject);
  });
}

/** A connection that never sends anything. */
const silent = client;

const LIMITS = 'collector.networking.maxConnections = 16';

t.test('idle keep-alive connections are closed first, least recently used first; a new client gets in', async (t) => {
  const c = await startTestCollector(LIMITS);
  const held: Client[] = [];
  t.teardown(async () => {
    for (const h of held) h.socket.destroy();
    await c.close();
  });
  for (let i = 0; i < 8; i++) {
    const h = await client(c.port);
    t.equal(await h.get(), 200);
    held.push(h);
  }
  t.equal(await held[0]!.get(), 200, 'the first connection is used again: now the most recently used');
  for (let i = 8; i < 16; i++) {
    const h = await client(c.port);
    t.equal(await h.get(), 200, `idle connection ${i + 1} served`);
    held.push(h);
  }
  // All 16 slots were taken by idle connections: the 17th client is served anyway.
  const newcomer = await client(c.port);
  t.equal(await newcomer.get(), 200, 'a new client is served');
  held.push(newcomer);
  t.ok(await held[1]!.waitClosed(2000), 'the least recently used idle connection was closed');
  t.ok(await held[2]!.waitClosed(2000), 'and the next one');
  t.equal(held[0]!.closed, false, 'the first connection, used again later, is still open');
  t.equal(await held[0]!.get(), 200, 'and still serves');
  t.equal(held.filter((h) => h.closed).length, 2, 'exactly the two least recently used were closed');
  const m = await c.collector.metrics.registry.metrics();
  t.match(m, /furrow_collector_connections_closed_for_room_total\{reason="idle"\} 2/);
  t.match(m, /furrow_collector_open_connections 15/);
});

t.test('connections without a request head are closed next, oldest first', async (t) => {
  const c = await startTestCollector(LIMITS);
  const held: Client[] = [];
  t.teardown(async () => {
    for (const h of held) h.socket.destroy();
    await c.close();
  });
  for (let i = 0; i < 16; i++) {
    const h = await silent(c.port);
    if (i === 5) h.socket.write('GET /i HTTP/1.1\r\nHo'); // a partial head is no request either
    held.push(h);
    // The server sees connections in order: wait until it has this one.
    if (i < 15) for (let k = 0; k < 100 && (c.collector.metrics.openConnections?.() ?? 0) < i + 1; k++) await new Promise((r) => setTimeout(r, 5));
  }
  const newcomer = await client(c.port);
  t.equal(await newcomer.get(), 200, 'a new client is served');
  held.push(newcomer);
  t.ok(await held[0]!.waitClosed(2000), 'the oldest connection without a request was closed');
  t.ok(await held[1]!.waitClosed(2000), 'and the next oldest');
  t.same(held.slice(2, 16).filter((h) => h.closed).length, 0, 'the younger ones are still open');
});

/** A sink whose acknowledgements the test controls (durable requests stay in progress until ackAll). */
class ManualSink implements CollectorSink {
  readonly collectorName = 'manualsink';
  readonly maxBytes = 1_000_000;
  readonly usesPartitionKey = true;
  waiting: Array<(r: WriteResult) => void> = [];
  isHealthy(): boolean {
    return true;
  }
  pendingBytes(): number {
    return 0;
  }
  write(records: readonly Buffer[]): Promise<WriteResult> {
    return new Promise((resolve) => this.waiting.push(() => resolve({ sent: records.length, failed: [] })));
  }
  enqueue(records: readonly Buffer[], _key: string, onDone: (r: WriteResult) => void): void {
    void this.write(records).then(onDone);
  }
  ackAll(): void {
    for (const w of this.waiting.splice(0)) w({ sent: 1, failed: [] });
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

t.test('a connection whose request is in progress is never closed to make room', async (t) => {
  const good = new ManualSink();
  const config = await configFrom(`${LIMITS}\ncollector.furrow.acknowledge = durable`, 'collector { interface = "127.0.0.1", port = 0, preTerminationPeriod = 0 seconds, streams { good { name = g }, bad { name = b } } }');
  const collector = createCollector(config, { sinks: { good, bad: new ManualSink() }, defaultMetrics: false });
  const running = await startCollectorServer(collector);
  const held: Client[] = [];
  t.teardown(async () => {
    good.ackAll();
    for (const h of held) h.socket.destroy();
    await running.shutdown(0);
  });
  const busy = await client(running.port);
  const answer = busy.get();
  for (let k = 0; k < 100 && good.waiting.length === 0; k++) await new Promise((r) => setTimeout(r, 5));
  t.equal(good.waiting.length, 1, 'the durable request waits on the sink');
  for (let i = 0; i < 15; i++) {
    const h = await client(running.port);
    const p = h.get();
    for (let k = 0; k < 100 && good.waiting.length < 2; k++) await new Promise((r) => setTimeout(r, 5));
    good.waiting.pop()!({ sent: 1, failed: [] });
    t.equal(await p, 200);
    held.push(h);
  }
  const newcomer = await client(running.port);
  const p = newcomer.get();
  for (let k = 0; k < 100 && good.waiting.length < 2; k++) await new Promise((r) => setTimeout(r, 5));
  good.ackAll();
  t.equal(await p, 200, 'a new client is served');
  t.equal(await answer, 200, 'the request in progress was answered on its connection');
  t.equal(busy.closed, false);
  t.equal(held.filter((h) => h.closed).length, 2, 'two idle connections made room instead');
});

t.test('request heads must complete within collector.furrow.headersTimeout', async (t) => {
  const def = await startTestCollector('');
  t.equal(def.running.server.headersTimeout, 10_000, 'default 10 s');
  t.ok(def.running.server.requestTimeout === 30_000, 'whole request: networking.responseHeaderTimeout');
  await def.close();

  const c = await startTestCollector('collector.furrow.headersTimeout = 1 second');
  t.teardown(() => c.close());
  const quiet = await silent(c.port);
  const drip = await client(c.port);
  drip.socket.write('GET /i?e=pv HTTP/1.1\r\nHost: x\r\n');
  const timer = setInterval(() => {
    if (!drip.closed) drip.socket.write('X');
  }, 200);
  t.teardown(() => clearInterval(timer));
  t.ok(await quiet.waitClosed(10_000), 'a connection that sends nothing is closed');
  t.ok(await drip.waitClosed(10_000), 'a connection dripping its headers is closed');
  t.match(drip.received(), /^HTTP\/1\.1 408 /, 'with 408');
  const ok = await client(c.port);
  t.equal(await ok.get(), 200, 'a normal request is served');
  ok.socket.destroy();
});
