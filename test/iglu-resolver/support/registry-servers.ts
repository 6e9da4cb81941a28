/**
 * Real HTTP Iglu registries on 127.0.0.1 for tests: a static repo over a folder (Iglu Central layout), optionally an
 * Iglu Server lookalike (`/api`, apikey, schema lists), and broken ones (500, hang, invalid JSON). Every server
 * listens on port 0, counts requests per path, and closes all its sockets on close().
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFile, readdir } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';

export interface TestServer {
  url: string;
  /** path → number of requests */
  hits: Map<string, number>;
  total(): number;
  /** headers of the last request */
  lastHeaders: IncomingMessage['headers'] | null;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;

async function start(handler: Handler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const hits = new Map<string, number>();
  const state: TestServer = {
    url: '',
    hits,
    total: () => [...hits.values()].reduce((a, b) => a + b, 0),
    lastHeaders: null,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    state.lastHeaders = req.headers;
    Promise.resolve(handler(req, res, path)).catch(() => {
      res.statusCode = 500;
      res.end('handler failed');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  state.url = `http://127.0.0.1:${addr.port}`;
  return state;
}

export interface StaticRegistryOptions {
  /** Registry root holding `schemas/`. */
  root: string;
  /** Iglu Server mode: everything under `/api`, schema lists by model, apikey required when set. */
  igluServer?: { apikey?: string };
  /** Delay before answering, ms (to make concurrent lookups overlap). */
  delayMs?: number;
  /** While true, every request answers 500 (a registry outage). */
  outage?: { on: boolean };
}

/** A static Iglu repo (or Iglu Server lookalike) over a folder. */
export function startStaticRegistry(o: StaticRegistryOptions): Promise<TestServer> {
  const schemasDir = join(o.root, 'schemas');
  return start(async (req, res, path) => {
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    if (o.outage?.on) {
      res.statusCode = 500;
      res.end('registry is down');
      return;
    }
    let p = path;
    if (o.igluServer) {
      if (!p.startsWith('/api/')) return notFound(res);
      if (o.igluServer.apikey && req.headers.apikey !== o.igluServer.apikey) {
        res.statusCode = 401;
        res.end('{"message":"Not authorized"}');
        return;
      }
      p = p.slice(4);
    }
    if (!p.startsWith('/schemas/')) return notFound(res);
    const rel = decodeURIComponent(p.slice('/schemas/'.length));
    const file = normalize(join(schemasDir, rel));
    if (!file.startsWith(schemasDir + sep)) return notFound(res);
    const parts = rel.split('/');
    if (o.igluServer && parts.length === 4 && parts[2] === 'jsonschema' && /^[0-9]+$/.test(parts[3]!)) {
      // schema list by model, as Iglu Server answers it
      try {
        const versions = (await readdir(join(schemasDir, parts[0]!, parts[1]!, 'jsonschema'))).filter((v) => v.startsWith(`${parts[3]}-`)).sort();
        if (versions.length === 0) return notFound(res);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(versions.map((v) => `iglu:${parts[0]}/${parts[1]}/jsonschema/${v}`)));
      } catch {
        notFound(res);
      }
      return;
    }
    try {
      const body = await readFile(file);
      res.setHeader('content-type', 'application/json');
      res.end(body);
    } catch {
      notFound(res);
    }
  });
}

function notFound(res: ServerResponse): void {
  res.statusCode = 404;
  res.setHeader('content-type', 'application/json');
  res.end('{"message":"The schema is not found"}');
}

/** Answers every request with 500 and a body. */
export function startFailingRegistry(): Promise<TestServer> {
  return start((_req, res) => {
    res.statusCode = 500;
    res.end('internal error');
  });
}

/** Accepts connections and never answers. */
export function startHangingRegistry(): Promise<TestServer> {
  return start(() => {
    /* never respond; close() destroys the socket */
  });
}

/** Answers 200 with a body that is not JSON. */
export function startInvalidJsonRegistry(): Promise<TestServer> {
  return start((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{"this is": not json');
  });
}
