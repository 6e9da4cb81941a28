/**
 * HTTP registry: a static Iglu repo (Iglu Central: `{uri}/schemas/v/n/f/M-R-A`) or an Iglu Server (`uri` ending in
 * `/api`, optional `apikey` header). Response classification follows the http4s lookup Enrich uses (enrich.md §6.3):
 *
 *   2xx + JSON        → schema            404      → NotFound (never retried)
 *   2xx + not JSON    → ClientFailure     other 4xx → ClientFailure "Unexpected response code: N"
 *   5xx               → RepoFailure "Unexpected server response: <body>"   (retried)
 *   network / timeout → ClientFailure <message>                            (retried)
 *
 * Retries within one lookup: up to `retries` more attempts, waiting retryBaseMs·2^(n-1) (capped at retryMaxWaitMs).
 *
 * Outage backoff (per registry, across lookups): once a lookup ends in a network error or 5xx, the registry is
 * "down": lookups skip it at once (ClientFailure naming the last error) until its backoff passes (1 s, doubling,
 * at most 60 s), then one lookup probes it with a single attempt. So an unreachable or hanging registry costs one
 * failed lookup, not seconds per event. Logged at warn when it goes down and at each failed probe (spaced by the
 * backoff), at info when it answers again.
 *
 *   up ──network error / 5xx──▶ down(until t+backoff) ──t passed: one probe──▶ ok ⇒ up │ fails ⇒ down(backoff·2)
 */
import { backoffMs, sleep } from '../../common/timing.js';
import { isUnsafeSegment, type Registry, type RegistryError, type RegistryResult } from './registry.js';
import { parseSchemaUri, isSchemaKey, schemaKeyToUri, type SchemaKey } from '../../formats/schema-key.js';
import type { Logger } from '../../common/logger.js';

export interface HttpRegistryOptions {
  name: string;
  priority: number;
  vendorPrefixes: readonly string[];
  uri: string;
  apikey?: string | null;
  fetch?: typeof fetch;
  /** Whole-request timeout (connect + body), ms. */
  timeoutMs?: number;
  /** Extra attempts after a network error or 5xx. */
  retries?: number;
  retryBaseMs?: number;
  retryMaxWaitMs?: number;
  /** Largest response body accepted (default 16 MiB); larger is a RepoFailure, not retried. */
  maxBodyBytes?: number;
  /** Outage and recovery of the registry are logged here. */
  logger?: Logger;
  /** Clock for the outage backoff (tests). Default Date.now. */
  clock?: () => number;
}

/** Time a registry stays skipped after its n-th consecutive failed lookup (ms). */
export function outageBackoffMs(n: number): number {
  return backoffMs(Math.max(0, n - 1), 1000, 60_000);
}

/** Largest response body accepted (an Iglu schema is a few KB; Iglu Central's largest is ~60 KB). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export type HttpRegistryResult<T> = RegistryResult<T> & { attempts: number };

export class HttpRegistry implements Registry {
  readonly kind = 'http' as const;
  readonly name: string;
  readonly priority: number;
  readonly vendorPrefixes: readonly string[];
  readonly baseUri: string;
  private readonly apikey: string | null;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxWaitMs: number;
  private readonly maxBodyBytes: number;
  private readonly logger: Logger | null;
  private readonly clock: () => number;
  /** Consecutive lookups that ended in a network error or 5xx (0 = up). */
  private failures = 0;
  private downUntil = 0;
  private probing = false;
  private lastError: RegistryError | null = null;

  constructor(o: HttpRegistryOptions) {
    this.name = o.name;
    this.priority = o.priority;
    this.vendorPrefixes = Object.freeze([...o.vendorPrefixes]);
    this.baseUri = o.uri.replace(/\/+$/, '');
    this.apikey = o.apikey ?? null;
    this.fetchFn = o.fetch ?? globalThis.fetch;
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.retries = o.retries ?? 2;
    this.retryBaseMs = o.retryBaseMs ?? 100;
    this.retryMaxWaitMs = o.retryMaxWaitMs ?? 1000;
    this.maxBodyBytes = o.maxBodyBytes ?? MAX_BODY_BYTES;
    this.logger = o.logger ?? null;
    this.clock = o.clock ?? Date.now;
  }

  /** Whether lookups skip this registry now (it failed and its backoff has not passed, or a probe is running). */
  get logsOutages(): boolean {
    return this.logger !== null;
  }

  get unavailable(): boolean {
    return this.failures > 0 && (this.probing || this.clock() < this.downUntil);
  }

  lookup(key: SchemaKey): Promise<HttpRegistryResult<unknown>> {
    const segs = [key.vendor, key.name, key.format, `${key.model}-${key.revision}-${key.addition}`];
    if (segs.some(isUnsafeSegment)) return Promise.resolve({ ok: false, error: { error: 'NotFound' }, attempts: 0 });
    return this.getJson(`${this.baseUri}/schemas/${segs.join('/')}`);
  }

  async list(vendor: string, name: string, model: number): Promise<HttpRegistryResult<string[]>> {
    if (isUnsafeSegment(vendor) || isUnsafeSegment(name)) return { ok: false, error: { error: 'NotFound' }, attempts: 0 };
    const r = await this.getJson(`${this.baseUri}/schemas/${vendor}/${name}/jsonschema/${model}`);
    if (!r.ok) return r;
    const checked = checkSchemaList(r.value, vendor, name, model);
    if (typeof checked === 'string') return { ok: false, error: { error: 'ClientFailure', message: checked }, attempts: r.attempts };
    return { ok: true, value: checked, attempts: r.attempts };
  }

  private async getJson(url: string): Promise<HttpRegistryResult<unknown>> {
    if (this.failures > 0) {
      if (this.unavailable) {
        const last = this.lastError as Exclude<RegistryError, { error: 'NotFound' }>;
        const until = new Date(this.downUntil).toISOString();
        return { ok: false, error: { error: last.error, message: `not asked: ${this.name} is unavailable until ${until} (last error: ${last.message})` }, attempts: 0 };
      }
      this.probing = true;
    }
    const probe = this.probing;
    let attempts = 0;
    let last: RegistryError = { error: 'NotFound' };
    let retriable = false;
    try {
      for (;;) {
        attempts++;
        const r = await this.once(url);
        if (r.ok) return { ...r, attempts };
        last = r.error;
        retriable = r.retriable === true;
        // A probe of a registry that is down gets one attempt: it must not cost seconds again.
        if (!retriable || probe || attempts > this.retries) return { ok: false, error: last, attempts };
        await sleep(backoffMs(attempts - 1, this.retryBaseMs, this.retryMaxWaitMs));
      }
    } finally {
      this.probing = false;
      this.afterLookup(retriable ? last : null, url);
    }
  }

  /** Outage bookkeeping after a lookup: `failed` is its network / 5xx error, or null when the registry answered. */
  private afterLookup(failed: RegistryError | null, url: string): void {
    if (failed === null) {
      if (this.failures > 0) this.logger?.info({ repository: this.name, uri: this.baseUri, failedLookups: this.failures }, 'Iglu registry answers again');
      this.failures = 0;
      this.lastError = null;
      return;
    }
    this.failures++;
    this.lastError = failed;
    const backoffMs = outageBackoffMs(this.failures);
    this.downUntil = this.clock() + backoffMs;
    this.logger?.warn(
      { repository: this.name, uri: this.baseUri, url, error: failed, failedLookups: this.failures, retryInMs: backoffMs },
      this.failures === 1 ? 'Iglu registry unavailable; lookups skip it until it answers again' : 'Iglu registry still unavailable',
    );
  }

  private async once(url: string): Promise<({ ok: true; value: unknown } | { ok: false; error: RegistryError }) & { retriable?: boolean }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.apikey) headers.apikey = this.apikey;
    let res: Response;
    let body: string;
    try {
      res = await this.fetchFn(url, { headers, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'follow' });
      const declared = Number(res.headers.get('content-length') ?? '0');
      if (declared > this.maxBodyBytes) {
        await res.body?.cancel();
        return { ok: false, error: { error: 'RepoFailure', message: `Response of ${declared} bytes is larger than ${this.maxBodyBytes}` } };
      }
      body = await readCapped(res, this.maxBodyBytes);
    } catch (e) {
      if (e instanceof TooLarge) return { ok: false, error: { error: 'RepoFailure', message: e.message } };
      return { ok: false, error: { error: 'ClientFailure', message: errorMessage(e) }, retriable: true };
    }
    if (res.status === 404) return { ok: false, error: { error: 'NotFound' } };
    if (res.status >= 500) return { ok: false, error: { error: 'RepoFailure', message: `Unexpected server response: ${body}` }, retriable: true };
    if (res.status < 200 || res.status >= 300) return { ok: false, error: { error: 'ClientFailure', message: `Unexpected response code: ${res.status}` } };
    try {
      return { ok: true, value: JSON.parse(body) as unknown };
    } catch (e) {
      return { ok: false, error: { error: 'ClientFailure', message: `Could not decode server response. ${(e as Error).message}` } };
    }
  }
}

class TooLarge extends Error {}

async function readCapped(res: Response, max: number): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw new TooLarge(`Response is larger than ${max} bytes`); // leaving the loop cancels the body
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function errorMessage(e: unknown): string {
  const err = e as Error & { cause?: { message?: string; code?: string } };
  if (err.name === 'TimeoutError') return `Request timed out: ${err.message}`;
  const cause = err.cause?.message ?? err.cause?.code;
  return cause ? `${err.message}: ${cause}` : String(err.message ?? e);
}

/**
 * Iglu schema list rules (SchemaList.parseStrings): non-empty array of URIs of the same vendor/name/model,
 * the first one M-0-0, no duplicates. Returns the URIs or a message.
 */
export function checkSchemaList(value: unknown, vendor: string, name: string, model: number): string[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'Schema list is not a non-empty JSON array';
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of value) {
    if (typeof item !== 'string') return 'Schema list contains a value that is not a string';
    const k = parseSchemaUri(item);
    if (!isSchemaKey(k)) return `Schema list contains an invalid Iglu URI: ${item}`;
    if (k.vendor !== vendor || k.name !== name || k.model !== model) return `Schema list contains a schema of another vendor, name or model: ${item}`;
    const uri = schemaKeyToUri(k);
    if (seen.has(uri)) return `Schema list contains ${item} twice`;
    seen.add(uri);
    out.push(uri);
  }
  const first = parseSchemaUri(out[0]!);
  if (isSchemaKey(first) && (first.revision !== 0 || first.addition !== 0)) return `Schema list must start with ${model}-0-0`;
  return out;
}
