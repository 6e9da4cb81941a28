/**
 * Request-target checks and query-string helpers.
 *
 * Snowplow 3.x (blaze + http4s) answers 400 to a request-target that is not RFC 3986 origin-form
 * (raw space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, non-ASCII, bad `%`). Node's parser is more
 * lenient, so the target is checked here.
 */

/** path chars (pchar + `/`, `%` checked below), then optionally `?` + query chars (pchar + `/ ? [ ]`). */
const ORIGIN_FORM = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?[\]%]*)?$/;
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF') HEX_DIGIT[c.charCodeAt(0)] = 1;

/**
 * Validates an origin-form path + optional query (`/p?q`) starting at `from`. The regular expression
 * measured ~40 % faster than a char-table loop on a typical 700-char tracker URL; the `%XX` check jumps
 * from `%` to `%` (a regex lookahead for a bad escape took 196 ns there, this loop 151 ns).
 */
export function isValidOriginForm(url: string, from: number): boolean {
  const target = from === 0 ? url : url.slice(from);
  if (!ORIGIN_FORM.test(target)) return false;
  for (let i = target.indexOf('%'); i !== -1; i = target.indexOf('%', i + 3)) {
    const a = target.charCodeAt(i + 1);
    const b = target.charCodeAt(i + 2);
    // charCodeAt past the end is NaN: not a hex digit. ORIGIN_FORM let only ASCII through.
    if (HEX_DIGIT[a] !== 1 || HEX_DIGIT[b] !== 1) return false;
  }
  return true;
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
