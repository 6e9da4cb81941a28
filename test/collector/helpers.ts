/**
 * Test helpers: a collector on 127.0.0.1:0 with capturing stdout-style sinks, raw HTTP requests.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { decodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import { parseHocon } from '../../config/hocon.js';
import { parseCollectorConfig, type CollectorConfig } from '../../collector/config.js';
import { createCollector, type Collector, type CollectorOptions } from '../../collector/collector.js';
import { startCollectorServer, type RunningCollector } from '../../collector/server.js';

/** §12 setup: defaults, stdout-style sink with maxBytes 1 000 000, peer 127.0.0.1. */
export const BASE_HOCON = `collector {
  interface = "127.0.0.1"
  port = 0
  preTerminationPeriod = 0 seconds
  streams { good { name = good, maxBytes = 1000000 }, bad { name = bad, maxBytes = 1000000 } }
}`;

export async function configFrom(extra = '', base = BASE_HOCON): Promise<CollectorConfig> {
  return parseCollectorConfig(await parseHocon(`${base}\n${extra}`, 'test', {}));
}

export class Capture extends Writable {
  lines: string[] = [];
  private rest = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    const s = this.rest + chunk.toString('utf8');
    const parts = s.split('\n');
    this.rest = parts.pop()!;
    this.lines.push(...parts);
    cb();
  }
}

export interface TestCollector {
  collector: Collector;
  running: RunningCollector;
  port: number;
  goodLines: Capture;
  badLines: Capture;
  /** Decoded good records (after flushing the sinks). */
  good(): Promise<CollectorPayload[]>;
  /** Bad rows as parsed JSON (stdout sink: base64 on stderr). */
  bad(): Promise<Array<Record<string, any>>>;
  close(): Promise<void>;
}

export async function startTestCollector(extraHocon = '', opts: CollectorOptions = {}): Promise<TestCollector> {
  const config = await configFrom(extraHocon);
  const goodLines = new Capture();
  const badLines = new Capture();
  const collector = createCollector(config, { stdout: goodLines, stderr: badLines, defaultMetrics: false, ...opts });
  const running = await startCollectorServer(collector);
  const flush = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    await collector.good.flush();
    await collector.bad.flush();
  };
  return {
    collector, running, port: running.port, goodLines, badLines,
    async good() {
      await flush();
      return goodLines.lines.map((l) => decodeCollectorPayload(Buffer.from(l, 'base64')));
    },
    async bad() {
      await flush();
      return badLines.lines.map((l) => JSON.parse(Buffer.from(l, 'base64').toString('utf8')) as Record<string, any>);
    },
    close: () => running.shutdown(0),
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders: string[];
  body: Buffer;
}

/** One request with headers sent exactly as given (names, case, order). */
export function send(port: number, method: string, path: string, headers: Array<[string, string]> = [], body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: headers.length ? (headers.flat() as unknown as Record<string, string>) : { Host: 'collector.test' }, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** Writes raw bytes on a fresh socket; resolves with everything the server sent before closing (≤ timeout). */
export function sendRaw(port: number, raw: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', (e) => {
      if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') return;
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    sock.write(raw);
  });
}

export function setCookies(r: Reply): string[] {
  const v = r.headers['set-cookie'];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export interface RawReply {
  status: number;
  /** [name, value] in received order. */
  headers: Array<[string, string]>;
  body: string;
}

/** Parses the first response out of raw bytes (Content-Length framed or until close). */
export function parseRawResponse(raw: string): RawReply {
  const end = raw.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`no complete response in ${JSON.stringify(raw.slice(0, 200))}`);
  const lines = raw.slice(0, end).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = lines.slice(1).map((l) => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()] as [string, string];
  });
  const cl = headers.find(([k]) => k.toLowerCase() === 'content-length');
  const rest = raw.slice(end + 4);
  return { status, headers, body: cl ? rest.slice(0, Number(cl[1])) : rest };
}

/** Sends a raw request with `Connection: close` appended last and parses the reply. */
export async function rawRequest(port: number, requestLine: string, headers: Array<[string, string]>, body = ''): Promise<RawReply> {
  const head = [requestLine, ...headers.map(([k, v]) => `${k}: ${v}`)].join('\r\n');
  return parseRawResponse(await sendRaw(port, `${head}\r\n\r\n${body}`));
}

export function header(r: RawReply, name: string): string | undefined {
  return r.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
}
