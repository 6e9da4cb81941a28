/**
 * The client IP of a collector payload (../shared/spec/enrich.md §0 step 2, vectors unit/ip_address_extractor.json):
 * the first `X-Forwarded-For` header wins; else a `Forwarded: for=` header, but only if no non-matching
 * header follows it (upstream quirk kept for parity); else the collector's own `ipAddress`.
 * Quotes, brackets and ports around the address are dropped; junk after it is cut off.
 */

// An IPv4 address, or up to 15 `hex{0,4}:` groups optionally followed by a last group that must end
// the token (so `...:7334abcdefg` keeps `...:` and drops the junk, as upstream does).
const IP = String.raw`"?\[?((?:\d{1,3}\.){3}\d{1,3}|(?:[0-9a-fA-F]{0,4}:){1,15}(?:[0-9a-fA-F]{0,4}(?=$|[\]",;\s]))?)`;
const XFF_RE = new RegExp(`^x-forwarded-for: ${IP}`, 'i');
const FORWARDED_RE = new RegExp(`^forwarded: for=${IP}`, 'i');

export function extractIpAddress(headers: readonly string[], collectorIp: string | null): string | null {
  let forwarded: string | null = null;
  for (const h of headers) {
    const x = XFF_RE.exec(h);
    if (x) return x[1]!;
    const f = FORWARDED_RE.exec(h);
    forwarded = f ? f[1]! : null;
  }
  return forwarded ?? collectorIp;
}
