/**
 * Who may use mini's own surfaces (/micro/* and /metrics) over the network. The collector's tracker routes are
 * not behind any of this: trackers send from any page, through any name (an Android emulator reaches the host's
 * loopback as 10.0.2.2), under the collector's own CORS rules.
 *
 *   request ──▶ Host check ──▶ cross-site check ──▶ CORS headers ──▶ auth (auth.ts, when on) ──▶ route
 *               (unless open)   (when auth is off)   (never credentials)
 *
 * Host check (DNS rebinding): a page on evil.example whose name is made to resolve to 127.0.0.1 sends
 * `Host: evil.example:9090`. Only the names this mini answers to pass: localhost (and *.localhost), 127.0.0.1,
 * [::1] and the address it is bound to, each with the port the request came in on (no port = 80), and the
 * `--allow-host` entries: `NAME` with any port (a reverse proxy in front), `NAME:PORT` with that port. Open
 * (bound to a wildcard address, 0.0.0.0 or ::) turns the check off: any name reaches it.
 *
 * Cross-site check (auth off): a browser request made by a page that is not on one of those names is refused,
 * so a web site cannot read the events or reset the store through its visitor's browser: a request whose
 * `Origin` is neither an allowed name nor the request's own origin, or one marked `Sec-Fetch-Site: cross-site`
 * without an Origin (an <img>, a link), except a plain GET navigation to a page that changes nothing. With auth
 * on, auth.ts decides (credentials a browser attaches by itself are refused cross-site there).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { FurrowError } from '../common/errors.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0', '']);

/** `[::1]` → `::1`, lower case, one trailing dot dropped (`localhost.`). */
function normalizeName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  if (n.endsWith('.') && n.length > 1) n = n.slice(0, -1);
  return n;
}

/** True for an address that listens on every interface. */
export function isWildcardHost(host: string): boolean {
  return WILDCARDS.has(normalizeName(host));
}

/** True for an address only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const n = normalizeName(host);
  return n === 'localhost' || n.endsWith('.localhost') || n === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n);
}

/** `name[:port]` of a Host header or an origin's host → its parts; null when it is not a host. */
function splitHost(value: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/@]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return null;
  return { name: normalizeName(m[1]!), port: m[2] === undefined ? null : Number(m[2]) };
}

export class NetworkPolicy {
  /** Bound to a wildcard address: the Host check is off. */
  readonly open: boolean;
  /** Normalized names requests may use with the port they came in on. */
  private readonly names: Set<string>;
  /** `--allow-host NAME`: with any port. */
  private readonly anyPort: Set<string>;
  /** `--allow-host NAME:PORT`: `name:port`. */
  private readonly exact: Set<string>;

  constructor(opts: { host: string; allowHosts?: readonly string[] }) {
    this.open = isWildcardHost(opts.host);
    this.names = new Set(['localhost', '127.0.0.1', '::1']);
    if (!this.open) this.names.add(normalizeName(opts.host));
    this.anyPort = new Set();
    this.exact = new Set();
    for (const h of opts.allowHosts ?? []) {
      const parts = splitHost(h);
      if (parts === null) throw new FurrowError('CONFIG_CLI_USAGE', `--allow-host ${h}: expected a host name or address, optionally with :PORT`);
      if (parts.port === null) this.anyPort.add(parts.name);
      else this.exact.add(`${parts.name}:${parts.port}`);
    }
  }

  /** A page on this name may use the API (any port: pages run on their own dev-server ports). */
  private nameAllowed(name: string): boolean {
    return this.names.has(name) || name.endsWith('.localhost') || this.anyPort.has(name) || [...this.exact].some((e) => e.startsWith(`${name}:`));
  }

  /** The Host check: is `hostHeader` one of our names with the port the request came in on? */
  hostAllowed(hostHeader: string | undefined, localPort: number | undefined): boolean {
    if (this.open) return true;
    // HTTP/1.0 without Host: no browser sends that, so no page can be behind it.
    if (hostHeader === undefined) return true;
    const h = splitHost(hostHeader);
    if (!h) return false;
    const port = h.port ?? 80;
    if (this.anyPort.has(h.name) || this.exact.has(`${h.name}:${port}`)) return true;
    return (this.names.has(h.name) || h.name.endsWith('.localhost')) && port === localPort;
  }

  /** May a page of this origin use the API (CORS without credentials; not refused as cross-site)? */
  originAllowed(origin: string, hostHeader: string | undefined): boolean {
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false; // includes the opaque origin "null" (sandboxed frames, file: pages)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return false;
    if (hostHeader !== undefined && u.host.toLowerCase() === hostHeader.trim().toLowerCase()) return true; // same origin
    return this.nameAllowed(normalizeName(u.hostname));
  }

  /** The cross-site check (used when auth is off): true when a browser request comes from another site's page. */
  crossSite(req: Request, changesState: boolean): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined) return !this.originAllowed(origin, req.headers.host);
    if (req.headers['sec-fetch-site'] !== 'cross-site') return false;
    // A link from another site opening a read-only page: the other site cannot read what it shows.
    return !(req.method === 'GET' && req.headers['sec-fetch-mode'] === 'navigate' && !changesState);
  }
}

/** The routes that change state on GET (Micro's `GET /micro/reset`). */
const STATE_CHANGING_GET = /^\/micro\/reset\/?$/;

/**
 * Middleware for mini's own surfaces: the Host check, then (auth off) the cross-site check. Answers 403 with
 * a one-line reason naming the way out.
 */
export function createNetworkGuard(policy: NetworkPolicy, authOn: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!policy.hostAllowed(req.headers.host, req.socket.localPort)) {
      res
        .status(403)
        .type('text/plain')
        .send(
          `Forbidden: Host "${String(req.headers.host).slice(0, 200)}" is not a name furrow mini answers to ` +
            `(localhost, 127.0.0.1, [::1] or the bound address, with its port); add it with --allow-host NAME[:PORT]\n`,
        );
      return;
    }
    if (!authOn) {
      const path = (req.originalUrl ?? req.url ?? '').split('?')[0]!;
      const changes = (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') || STATE_CHANGING_GET.test(path);
      if (policy.crossSite(req, changes)) {
        res
          .status(403)
          .type('text/plain')
          .send('Forbidden: a page of another site may not use the furrow mini API; call it from a test runner, curl, or a page on localhost\n');
        return;
      }
    }
    next();
  };
}
