/**
 * Test plumbing for the forwarder tests: a real HTTP server on 127.0.0.1 whose behaviour each test scripts
 * (answer / hang / close the connection), an in-memory Source that records commits, and a config
 * builder that parses through the real config parser.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../../common/logger.js';
import { buildForwarder } from '../../forwarders/build.js';
import type { ForwardSummary, Forwarder } from '../../forwarders/forwarder.js';
import type { TargetDeps } from '../../forwarders/targets/registry.js';
import type { Batch, Source } from '../../streams/source.js';
import { parseForwardConfig, type ForwardConfig } from '../../forwarders/config.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang' | 'destroy';

export interface TestServer {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Requests the server answered with a 2xx (the ones the destination "accepted"). */
  readonly accepted: RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a server; `reply` decides each answer (default 200 `{}`), after the body was read. */
export async function startServer(reply: (req: RecordedRequest, n: number) => Reply | Promise<Reply> = () => ({ status: 200, body: '{}' })): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const accepted: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const hung: ServerResponse[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const rec: RecordedRequest = { method: req.method ?? '', url: new URL(req.url ?? '/', 'http://127.0.0.1'), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(rec);
      const r = await reply(rec, requests.length);
      if (r === 'hang') {
        hung.push(res);
        return;
      }
      if (r === 'destroy') {
        req.socket.destroy();
        return;
      }
      if (r.status >= 200 && r.status < 300) accepted.push(rec);
      res.writeHead(r.status, { 'content-type': 'application/json', ...(r.headers ?? {}) }).end(r.body ?? '{}');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    accepted,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A Source over fixed lines, `batchSize` per batch, recording which batches were committed (in order). */
export class MemorySource implements Source {
  readonly streamId = null;
  readonly committed: number[] = [];
  readonly delivered: number[] = [];
  constructor(
    private readonly lines: readonly string[],
    private readonly batchSize = 100,
    private readonly origin = 'memory',
  ) {}

  async run(onBatch: (b: Batch) => Promise<void>, signal: AbortSignal): Promise<void> {
    for (let i = 0, n = 0; i < this.lines.length && !signal.aborted; i += this.batchSize, n++) {
      const id = n;
      this.delivered.push(id);
      await onBatch({
        records: this.lines.slice(i, i + this.batchSize).map((l) => Buffer.from(l)),
        origin: this.origin,
        position: null,
        commit: async () => {
          this.committed.push(id);
        },
      });
    }
  }

  get batches(): number {
    return Math.ceil(this.lines.length / this.batchSize);
  }
}

/** Parses a config object with the real parser (env supplies secrets). */
export function config(raw: Record<string, unknown>, env: Record<string, string> = {}): Promise<ForwardConfig> {
  return parseForwardConfig(raw, env);
}

/** Fast retry settings for tests (the budget, not the timing, is what tests assert). */
export const FAST_RETRY = { max_attempts: 4, initial_delay: '5 millis', max_delay: '20 millis' };

export function parseJsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}



export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'furrow-fwd-'));
}

export interface RunResult {
  summary: ForwardSummary;
  deadLetters: Array<Record<string, unknown>>;
  source: MemorySource;
  forwarder: Forwarder;
}

/**
 * Runs the real forwarder (config parser, targets, queues, file dead letter) over `lines` to the end.
 * `destinations` are raw config objects; a temp dead-letter file is used unless `dead_letter` is given.
 */
export async function runForward(
  raw: { destinations: unknown[]; retry?: unknown; dead_letter?: unknown },
  lines: readonly string[],
  opts: { env?: Record<string, string>; batchSize?: number; log?: Logger; deps?: TargetDeps; onStart?: (fw: Forwarder) => void } = {},
): Promise<RunResult> {
  const dlqPath = join(tempDir(), 'dlq.jsonl');
  const cfg = await parseForwardConfig({ dead_letter: { type: 'file', path: dlqPath }, ...raw }, opts.env ?? {});
  const built = await buildForwarder(cfg, { log: opts.log ?? silentLogger, ...(opts.deps ?? {}) });
  const source = new MemorySource(lines, opts.batchSize ?? 100);
  opts.onStart?.(built.forwarder);
  try {
    const summary = await built.forwarder.run(source);
    return { summary, deadLetters: readDeadLetters(dlqPath), source, forwarder: built.forwarder };
  } finally {
    await built.close();
  }
}

export function readDeadLetters(path: string): Array<Record<string, unknown>> {
  return existsSync(path) ? parseJsonLines(readFileSync(path, 'utf8')) : [];
}
