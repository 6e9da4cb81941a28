/**
 * Request-target checks and query-string helpers.
 *
 * Snowplow 3.x (blaze + http4s) answers 400 to a request-target that is not RFC 3986 origin-form
 * (raw space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, non-ASCII, bad `%`). Node's parser is more
 * lenient, so the target is checked here against two lookup tables built once.
 */

const PATH_OK = new Uint8Array(128);
const QUERY_OK = new Uint8Array(128);
{
  const unreserved = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  const subDelims = "!$&'()*+,;=";
  for (const ch of unreserved + subDelims + ':@/') {
    PATH_OK[ch.charCodeAt(0)] = 1;
    QUERY_OK[ch.charCodeAt(0)] = 1;
  }
  for (const ch of '?[]') QUERY_OK[ch.charCodeAt(0)] = 1;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** True when `s[from, to)` only has allowed chars (per table) and well-formed %HH escapes. */
function scan(s: string, from: number, to: number, table: Uint8Array): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c === 37) {
      if (i + 2 >= to) return false;
      if (!isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
      continue;
    }
    if (c >= 128 || table[c] === 0) return false;
  }
  return true;
}

/**
 * Validates an origin-form path + optional query (`/p?q`) starting at `from`; `queryStart` is the index
 * of `?` or -1.
 */
export function isValidOriginForm(url: string, from: number, queryStart: number): boolean {
  const pathEnd = queryStart === -1 ? url.length : queryStart;
  if (!scan(url, from, pathEnd, PATH_OK)) return false;
  return queryStart === -1 || scan(url, queryStart + 1, url.length, QUERY_OK);
}

/** Form-style decoding (`+` is a space); null when the escapes are not valid UTF-8. */
export function formDecode(s: string): string | null {
  const t = s.indexOf('+') === -1 ? s : s.replaceAll('+', ' ');
  if (t.indexOf('%') === -1) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return null;
  }
}

/** First value of query parameter `name` (decoded), `''` for `name=` or bare `name`, or null. */
export function queryParam(query: string, name: string): string | null {
  if (query.indexOf(name) === -1) return null;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const k = formDecode(eq === -1 ? pair : pair.slice(0, eq));
    if (k !== name) continue;
    if (eq === -1) return '';
    return formDecode(pair.slice(eq + 1));
  }
  return null;
}

function encodeQueryPart(s: string): string {
  // Keep what RFC 3986 allows in a query value, except the separators & = + #.
  return encodeURIComponent(s).replace(/%(2F|3A|40|21|24|27|28|29|2A|2C|3B|3F)/g, (m) => decodeURIComponent(m));
}

/** Re-renders the query from decoded pairs with `name=value` added or replaced (cookie bounce). */
export function withQueryParam(query: string, name: string, value: string): string {
  const pairs: Array<[string, string | null]> = [];
  let replaced = false;
  if (query !== '') {
    for (const pair of query.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const k = formDecode(eq === -1 ? pair : pair.slice(0, eq)) ?? pair;
      const v = eq === -1 ? null : (formDecode(pair.slice(eq + 1)) ?? pair.slice(eq + 1));
      if (k === name) {
        if (!replaced) pairs.push([k, value]);
        replaced = true;
        continue;
      }
      pairs.push([k, v]);
    }
  }
  if (!replaced) pairs.push([name, value]);
  return pairs.map(([k, v]) => (v === null ? encodeQueryPart(k) : `${encodeQueryPart(k)}=${encodeQueryPart(v)}`)).join('&');
}

const URI_CHARS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * A redirect target (`u`): a strict RFC 3986 URI reference. Returns its host (lower-case, '' when relative)
 * or null when it is not a valid URI.
 */
export function redirectTargetHost(u: string): string | null {
  if (u === '' || !URI_CHARS.test(u)) return null;
  if (!SCHEME.test(u)) return '';
  try {
    return new URL(u).hostname;
  } catch {
    return null;
  }
}
