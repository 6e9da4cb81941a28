/**
 * Keeps room for new clients when connections run out (issue 15, item 7). node:http refuses (resets) every
 * connection past `server.maxConnections`, whoever holds the others: one client with 1,024 idle keep-alive
 * sockets locked everyone else out for the whole idleTimeout (610 s). The guard closes the connections that
 * are doing nothing, before the limit is reached:
 *
 *   connection ──▶ tracked { opened: seq }
 *   request head complete (the wrapped listener) ──▶ lastRequest = seq      (per request: one store)
 *   a new connection makes more than maxConnections − reserve open ──▶ close, until that many are left
 *   (plus a small batch, so the scan does not run for every further connection):
 *       1. idle keep-alive connections (a request served, none in progress), least recently used first
 *       2. then connections that have not completed a request head yet, oldest first
 *   never closed: a connection whose request is being received or answered (durable acknowledgement too)
 *
 * Connections still without a complete request head are also bounded in time by node's headersTimeout
 * (collector.furrow.headersTimeout); requests by requestTimeout (networking.responseHeaderTimeout).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Conn {
  readonly socket: Socket;
  /** Sequence number at connection (the order of connections without a request yet). */
  readonly opened: number;
  /** Sequence number of the last request head (0: none yet); least recently used = smallest. */
  lastRequest: number;
}

/** Where the socket's Conn lives: one property per socket, set at connection (not per request). */
const CONN = Symbol('furrow.connection');
type Tracked = Socket & { [CONN]?: Conn; _httpMessage?: unknown };

export type EvictionReason = 'idle' | 'no_request';

export interface ConnectionGuardOptions {
  maxConnections: number;
  /** Called for every connection closed to make room. */
  onEvict?: (reason: EvictionReason) => void;
}

export class ConnectionGuard {
  /** Open connections above this make the guard close idle ones (maxConnections − reserve). */
  readonly softLimit: number;
  private readonly batch: number;
  private readonly open = new Set<Conn>();
  private seq = 0;
  private readonly onEvict: (reason: EvictionReason) => void;

  constructor(o: ConnectionGuardOptions) {
    // 1/16 of the limit kept free (64 of 1,024): room for the connections that arrive while closed ones are
    // still being torn down, and for node's own count, which drops a little later than ours.
    const reserve = Math.max(1, Math.ceil(o.maxConnections / 16));
    this.softLimit = Math.max(1, o.maxConnections - reserve);
    this.batch = Math.max(1, reserve >> 2);
    this.onEvict = o.onEvict ?? (() => undefined);
  }

  get openConnections(): number {
    return this.open.size;
  }

  /** Tracks the server's connections; `listener` must be wrapped by wrap() to see requests. */
  attach(server: Server): void {
    server.on('connection', (socket: Tracked) => {
      const c: Conn = { socket, opened: ++this.seq, lastRequest: 0 };
      socket[CONN] = c;
      this.open.add(c);
      socket.once('close', () => this.open.delete(c));
      if (this.open.size > this.softLimit) this.makeRoom(c);
    });
  }

  /** The request listener, noting each request head on its connection. */
  wrap(listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
    return (req, res) => {
      const c = (req.socket as Tracked)[CONN];
      if (c !== undefined) c.lastRequest = ++this.seq;
      listener(req, res);
    };
  }

  private makeRoom(newcomer: Conn): void {
    let want = this.open.size - this.softLimit + this.batch;
    const idle: Conn[] = [];
    const noRequest: Conn[] = [];
    for (const c of this.open) {
      if (c === newcomer) continue;
      if (c.lastRequest === 0) noRequest.push(c);
      // No response in progress on it (node sets _httpMessage from the request until its response finished).
      else if ((c.socket as Tracked)._httpMessage == null) idle.push(c);
    }
    idle.sort((a, b) => a.lastRequest - b.lastRequest);
    noRequest.sort((a, b) => a.opened - b.opened);
    for (const [list, reason] of [[idle, 'idle'], [noRequest, 'no_request']] as const) {
      for (let i = 0; i < list.length && want > 0; i++, want--) {
        const c = list[i]!;
        this.open.delete(c);
        c.socket.destroy();
        this.onEvict(reason);
      }
    }
  }
}
