/**
 * `--auth` for the Micro API, the UI and /metrics (mini may run on a shared host). The collector's tracker
 * endpoints and /health are never behind it: trackers cannot send credentials. The Host and cross-site checks
 * run before it (network-policy.ts).
 *
 * Accepted credentials, any one of:
 *   Authorization: Basic base64(user:password)      (`--auth user:password`; browsers prompt for it)
 *   Authorization: Bearer <token>                   (`--auth-token <token>`)
 *   ?token=<token> on any /micro URL                (sets an HttpOnly cookie so the UI's own requests and
 *   Cookie: furrow_mini_token=<token>                its EventSource stream carry it afterwards)
 * Comparison is constant-time. CORS preflights (OPTIONS) pass without credentials. Credentials the browser
 * attaches by itself (basic auth, the cookie) are refused on cross-site requests (403), and with auth on the
 * API's CORS answers never allow credentials: another site's page cannot use its visitor's login.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export interface AuthConfig {
  basic: { user: string; password: string } | null;
  token: string | null;
}

export const TOKEN_COOKIE = 'furrow_mini_token';

/** Constant-time equality of two strings (hashing first makes lengths equal). */
function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function cookieValue(req: Request, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** True for a browser request made by a page of another site (Fetch Metadata, else Origin vs Host). */
function crossSite(req: Request): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') return true;
  if (site === 'same-origin' || site === 'same-site' || site === 'none') return false;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** Middleware that lets a request through only with valid credentials; null when auth is off. */
export function createAuthMiddleware(cfg: AuthConfig): RequestHandler | null {
  if (cfg.basic === null && cfg.token === null) return null;
  const { basic, token } = cfg;
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next();
    const authz = req.headers.authorization ?? '';
    // Credentials a browser attaches by itself (cached basic auth, the cookie) must not work for another
    // site's page: that would let any web page read or reset this mini through its user's browser.
    const implicitOk = () => {
      if (crossSite(req)) {
        res.status(403).type('text/plain').send('Forbidden: cross-site request with browser credentials; send an Authorization header\n');
        return;
      }
      next();
    };
    if (basic && authz.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      if (same(decoded, `${basic.user}:${basic.password}`)) return implicitOk();
    }
    if (token) {
      if (authz.startsWith('Bearer ') && same(authz.slice(7).trim(), token)) return next();
      const q = typeof req.query.token === 'string' ? req.query.token : null;
      if (q !== null && same(q, token)) {
        res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/micro' });
        return implicitOk();
      }
      const c = cookieValue(req, TOKEN_COOKIE);
      if (c !== null && same(c, token)) return implicitOk();
    }
    if (basic) res.setHeader('WWW-Authenticate', 'Basic realm="furrow mini", charset="UTF-8"');
    res.status(401).type('text/plain').send('Unauthorized: furrow mini was started with --auth; send credentials\n');
  };
}
