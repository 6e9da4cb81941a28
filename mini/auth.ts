/**
 * `--auth` for the Micro API and UI (mini may run on a shared host). The collector's tracker endpoints are
 * never behind it: trackers cannot send credentials.
 *
 * Accepted credentials, any one of:
 *   Authorization: Basic base64(user:password)      (`--auth user:password`; browsers prompt for it)
 *   Authorization: Bearer <token>                   (`--auth-token <token>`)
 *   ?token=<token> on any /micro URL                (sets an HttpOnly cookie so the UI's own requests and
 *   Cookie: furrow_mini_token=<token>                its EventSource stream carry it afterwards)
 * Comparison is constant-time. CORS preflights (OPTIONS) pass without credentials.
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

/** Middleware that lets a request through only with valid credentials; null when auth is off. */
export function createAuthMiddleware(cfg: AuthConfig): RequestHandler | null {
  if (cfg.basic === null && cfg.token === null) return null;
  const { basic, token } = cfg;
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'OPTIONS') return next();
    const authz = req.headers.authorization ?? '';
    if (basic && authz.startsWith('Basic ')) {
      const decoded = Buffer.from(authz.slice(6), 'base64').toString('utf8');
      if (same(decoded, `${basic.user}:${basic.password}`)) return next();
    }
    if (token) {
      if (authz.startsWith('Bearer ') && same(authz.slice(7).trim(), token)) return next();
      const q = typeof req.query.token === 'string' ? req.query.token : null;
      if (q !== null && same(q, token)) {
        res.cookie(TOKEN_COOKIE, token, { httpOnly: true, sameSite: 'strict', path: '/micro' });
        return next();
      }
      const c = cookieValue(req, TOKEN_COOKIE);
      if (c !== null && same(c, token)) return next();
    }
    if (basic) res.setHeader('WWW-Authenticate', 'Basic realm="furrow mini", charset="UTF-8"');
    res.status(401).type('text/plain').send('Unauthorized: furrow mini was started with --auth; send credentials\n');
  };
}
