/**
 * Cookies, as Snowplow's collector 3.4.0 reads and writes them (spec §3, §4.3).
 *
 *   request  Cookie: a=1; sp=<nuid>        ─findCookie──▶ nuid / do-not-track value
 *            Cookie header in the payload  ─sanitizeCookieHeader (RFC 6265 filter)──▶ "Cookie: a=1;sp=<nuid>"
 *   response Set-Cookie: <name>=<nuid>; Expires=<date>; [Domain=<d>; ]Path=/; [SameSite=<v>; ][Secure; ][HttpOnly]
 */
import type { CookieConfig } from './config.js';

/** cookie-octet of RFC 6265 (printable ASCII minus space, `"`, `,`, `;`, `\`). */
const COOKIE_OCTET = new Uint8Array(128);
for (let c = 0x21; c <= 0x7e; c++) COOKIE_OCTET[c] = 1;
COOKIE_OCTET[0x22] = 0;
COOKIE_OCTET[0x2c] = 0;
COOKIE_OCTET[0x3b] = 0;
COOKIE_OCTET[0x5c] = 0;

/** Only cookie-octets, `;` and spaces: then no part can be dropped. */
const ALL_VALID = /^[\x20\x21\x23-\x2b\x2d-\x3a\x3b\x3c-\x5b\x5d-\x7e]*$/;

/** True when every char is a cookie-octet (so the value can be echoed in Set-Cookie safely). */
export function isCookieValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || COOKIE_OCTET[c] === 0) return false;
  }
  return true;
}

/**
 * Snowplow's Rfc6265Cookie.parse: drop every space, split on `;` (Java String.split: trailing empty parts
 * removed), keep parts made only of cookie-octets or `=`... (`=` is a cookie-octet), join with `;`.
 * Returns null when nothing is left (the header is then dropped from the payload).
 */
export function sanitizeCookieHeader(raw: string): string | null {
  // Fast path (a browser's usual header): every part is valid, so only spaces and trailing `;` go.
  if (ALL_VALID.test(raw)) {
    let out = raw.indexOf(' ') === -1 ? raw : raw.replaceAll(' ', '');
    let end = out.length;
    while (end > 0 && out.charCodeAt(end - 1) === 0x3b) end--;
    if (end !== out.length) out = out.slice(0, end);
    return out === '' ? null : out;
  }
  const noSpace = raw.indexOf(' ') === -1 ? raw : raw.replaceAll(' ', '');
  const parts = noSpace.split(';');
  if (parts.length > 1) while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  let out = '';
  let first = true;
  for (const p of parts) {
    let ok = true;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c >= 128 || COOKIE_OCTET[c] === 0) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    out = first ? p : `${out};${p}`;
    first = false;
  }
  return out === '' ? null : out;
}

/**
 * The value of the first cookie called `name` over all Cookie header values, or null.
 * A value that is not made of cookie-octets (after removing one pair of double quotes) is ignored, as
 * Snowplow's strict RFC 6265 parser ignores it (the request then gets a fresh network user id).
 */
export function findCookie(headerValues: readonly string[], name: string): string | null {
  for (const hv of headerValues) {
    let start = 0;
    while (start <= hv.length) {
      let end = hv.indexOf(';', start);
      if (end === -1) end = hv.length;
      const eq = hv.indexOf('=', start);
      if (eq !== -1 && eq < end && hv.slice(start, eq).trim() === name) {
        let v = hv.slice(eq + 1, end).trim();
        if (v.length >= 2 && v.charCodeAt(0) === 0x22 && v.charCodeAt(v.length - 1) === 0x22) v = v.slice(1, -1);
        if (isCookieValue(v)) return v;
      }
      start = end + 1;
    }
  }
  return null;
}

const ORIGIN_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(\[[0-9a-fA-F:.]+\]|[^\s/:?#[\]@]+)(?::(\d{1,5}))?$/;

export interface OriginHost {
  /** scheme://host[:port] */
  readonly rendered: string;
  readonly host: string;
}

/** Hosts of an Origin header value (space separated, `null` and unparsable tokens ignored). */
export function parseOrigin(value: string): OriginHost[] {
  const out: OriginHost[] = [];
  for (const token of value.split(' ')) {
    if (token === '' || token === 'null') continue;
    const m = ORIGIN_RE.exec(token);
    if (!m) continue;
    out.push({ rendered: token, host: m[2]! });
  }
  return out;
}

/** `h == d || h.endsWith("." + d)` */
export function domainMatches(host: string, domain: string): boolean {
  return host === domain || (host.length > domain.length && host.endsWith(domain) && host.charCodeAt(host.length - domain.length - 1) === 0x2e);
}

/** Renders Set-Cookie values; everything that does not depend on the request is computed once. */
export class CookieRenderer {
  private readonly name: string;
  private readonly clientName: string | null;
  private readonly expirationSec: number;
  private readonly domains: readonly string[];
  private readonly fallbackDomainPart: string;
  /** `; Path=/[; SameSite=x][; Secure]` */
  private readonly tail: string;
  private readonly httpOnlyPart: string;
  private cachedSecond = -1;
  private cachedExpires = '';
  private cachedPastSecond = -1;
  private cachedPast = '';

  constructor(c: CookieConfig) {
    this.name = c.name;
    this.clientName = c.clientCookieName;
    this.expirationSec = Math.floor(c.expirationMs / 1000);
    this.domains = c.domains;
    this.fallbackDomainPart = c.fallbackDomain !== null ? `; Domain=${c.fallbackDomain}` : '';
    let tail = '; Path=/';
    if (c.sameSite !== null) tail += `; SameSite=${c.sameSite}`;
    if (c.secure || c.sameSite === 'None') tail += '; Secure';
    this.tail = tail;
    this.httpOnlyPart = c.httpOnly ? '; HttpOnly' : '';
  }

  get usesOrigin(): boolean {
    return this.domains.length > 0;
  }

  private expires(nowMs: number, sign: 1 | -1): string {
    const sec = Math.floor(nowMs / 1000);
    if (sign === 1) {
      if (sec !== this.cachedSecond) {
        this.cachedSecond = sec;
        this.cachedExpires = new Date((sec + this.expirationSec) * 1000).toUTCString();
      }
      return this.cachedExpires;
    }
    if (sec !== this.cachedPastSecond) {
      this.cachedPastSecond = sec;
      this.cachedPast = new Date((sec - this.expirationSec) * 1000).toUTCString();
    }
    return this.cachedPast;
  }

  private domainPart(originHeader: string | undefined): string {
    if (this.domains.length > 0 && originHeader !== undefined) {
      const hosts = parseOrigin(originHeader);
      for (const d of this.domains) {
        for (const h of hosts) if (domainMatches(h.host, d)) return `; Domain=${d}`;
      }
    }
    return this.fallbackDomainPart;
  }

  /**
   * Pushes `Set-Cookie`, value pairs onto `headers`. `value === null` renders the SP-Anonymous deletion
   * (empty value, expiry in the past).
   */
  push(headers: string[], value: string | null, nowMs: number, originHeader: string | undefined): void {
    const expires = value === null ? this.expires(nowMs, -1) : this.expires(nowMs, 1);
    const rest = `=${value ?? ''}; Expires=${expires}${this.domainPart(originHeader)}${this.tail}`;
    headers.push('Set-Cookie', this.name + rest + this.httpOnlyPart);
    if (this.clientName !== null) headers.push('Set-Cookie', this.clientName + rest);
  }
}
