/**
 * The HTTP client the HTTP-based targets share: node:http(s) with a keep-alive agent per destination
 * (maxSockets = the destination's concurrency), a hard per-request timeout (a hung server is a retryable
 * failure, not a stuck queue), and a capped response body (kept for the dead letter and partial-failure parsing).
 *
 *   request ──> response 2xx ────────────────────────> accepted
 *           ──> 408 / 429 / 5xx (Retry-After honoured) ─> retry
 *           ──> other 4xx ──────────────────────────────> rejected (no retry)
 *           ──> socket error / reset / timeout ─────────> retry (status null)
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { SendOutcome } from './target.js';

/** Bytes of a response body kept (dead letter, logs). */
export const MAX_RESPONSE_BODY = 8 * 1024;

export type HttpResult =
  | { readonly ok: true; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: string }
  | { readonly ok: false; readonly error: string };

export class HttpClient {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  constructor(maxSockets: number) {
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  request(url: URL, method: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<HttpResult> {
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: HttpResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const isHttps = url.protocol === 'https:';
      const req = (isHttps ? httpsRequest : httpRequest)(
        url,
        {
          method,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          res.on('data', (c: Buffer) => {
            if (kept < MAX_RESPONSE_BODY) {
              chunks.push(c);
              kept += c.length;
            }
          });
          res.on('end', () => {
            const text = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BODY).toString('utf8');
            done({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: text });
          });
          res.on('error', (e) => done({ ok: false, error: `response: ${e.message}` }));
          res.on('aborted', () => done({ ok: false, error: 'response aborted' }));
        },
      );
      // One timer for the whole exchange (connect + send + response): setTimeout on the socket only
      // measures idleness, and a server that trickles bytes must not hold a slot for ever.
      const timer = setTimeout(() => {
        req.destroy(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      req.on('error', (e) => done({ ok: false, error: e.message }));
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Retry-After: delay-seconds or an HTTP-date → ms from now (null when absent or unreadable). */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The common classification of an HTTP result (targets with partial-failure bodies refine it). */
export function classifyHttp(r: HttpResult): SendOutcome {
  if (!r.ok) return { kind: 'retry', status: null, body: r.error, retryAfterMs: null };
  if (r.status >= 200 && r.status < 300) return { kind: 'accepted', status: r.status };
  if (isRetryableStatus(r.status)) return { kind: 'retry', status: r.status, body: r.body, retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
  return { kind: 'rejected', status: r.status, body: r.body };
}
