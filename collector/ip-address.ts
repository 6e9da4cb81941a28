/**
 * The client IP as Snowplow 3.x derives it (spec §3.5): the first element of the first X-Forwarded-For
 * header when that whole header is a list of IPs / `unknown`, else the TCP peer. IPv6 is rendered in
 * brackets, RFC 5952 compressed and lower-case (`[2001:db8::1]`).
 */
import { isIPv6 } from 'node:net';

const DEC_OCTET = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/;

function isStrictIPv4(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) if (!DEC_OCTET.test(p)) return false;
  return true;
}

function renderIPv6(s: string): string | null {
  try {
    return new URL(`http://[${s}]/`).hostname;
  } catch {
    return null;
  }
}

/** Renders one address (v4 as is, v6 bracketed/compressed); null if it is not an IP. */
export function renderIp(s: string): string | null {
  if (isStrictIPv4(s)) return s;
  if (s.indexOf(':') !== -1 && s.indexOf('%') === -1 && isIPv6(s)) return renderIPv6(s);
  return null;
}

/**
 * The address from an X-Forwarded-For value: the rendered first element, `unknown`, or null when the
 * header does not parse (then the peer is used).
 */
export function ipFromForwardedFor(value: string): string | null {
  let first: string | null = null;
  for (const raw of value.split(',')) {
    const el = raw.trim();
    if (el === '') continue;
    let rendered: string | null;
    if (el.toLowerCase() === 'unknown') rendered = 'unknown';
    else rendered = renderIp(el);
    if (rendered === null) return null;
    if (first === null) first = rendered;
  }
  return first;
}

/** The TCP peer rendered like an IP from X-Forwarded-For (IPv4-mapped IPv6 becomes IPv4). */
export function renderPeer(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  if (remoteAddress.startsWith('::ffff:') && isStrictIPv4(remoteAddress.slice(7))) return remoteAddress.slice(7);
  return renderIp(remoteAddress) ?? remoteAddress;
}
