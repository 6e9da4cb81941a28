/**
 * Page and referrer URLs (../shared/spec/enrich.md §2.5): spaces become `%20`; a string java.net.URI
 * accepts is kept as written, anything else is made parseable by percent-encoding the offending
 * characters (the lenient fallback). `explodeUri` gives the raw (still percent-encoded) components.
 *
 *   scheme:[//[userinfo@]host[:port]]path[?query][#fragment]
 */

export interface ExplodedUri {
  /** The URL as it goes into page_url / page_referrer. */
  uri: string;
  scheme: string | null;
  host: string | null;
  /** Explicit port, else 443 for https, else 80 (upstream does this even for `file:`). */
  port: number;
  path: string | null;
  query: string | null;
  fragment: string | null;
}

const ILLEGAL = /[^A-Za-z0-9\-_.!~*'();/?:@&=+$,[\]%#\u00a1-\uffff]|%(?![0-9A-Fa-f]{2})/;
const ILLEGAL_GLOBAL = /[^A-Za-z0-9\-_.!~*'();/?:@&=+$,[\]%#\u00a1-\uffff]|%(?![0-9A-Fa-f]{2})/g;
const RFC3986 = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const HOST_PORT = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/;
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])$/;

/** Makes a URL string parseable the way upstream does; returns it unchanged when it already is. */
export function normalizeUri(raw: string): string {
  let s = raw.includes(' ') ? raw.replaceAll(' ', '%20') : raw;
  const hash = s.indexOf('#');
  const secondHash = hash === -1 ? -1 : s.indexOf('#', hash + 1);
  if (!ILLEGAL.test(s) && secondHash === -1) return s;
  if (secondHash !== -1) s = s.slice(0, hash + 1) + s.slice(hash + 1).replaceAll('#', '%23');
  return s.replace(ILLEGAL_GLOBAL, (c) => (c === '%' ? '%25' : encodeURIComponent(c)));
}

export function explodeUri(raw: string): ExplodedUri {
  const uri = normalizeUri(raw);
  const m = RFC3986.exec(uri)!;
  let scheme = m[1] ?? null;
  let authority = m[2];
  let path: string | null = m[3] ?? '';
  let query = m[4] ?? null;
  const fragment = m[5] ?? null;
  if (scheme !== null && !SCHEME.test(scheme)) {
    // Not a scheme (e.g. "a b:c" after encoding): the whole thing is a relative path.
    scheme = null;
    authority = undefined;
    path = uri.split(/[?#]/)[0] ?? '';
  }
  let host: string | null = null;
  let port = -1;
  if (authority !== undefined) {
    const at = authority.lastIndexOf('@');
    const hostPort = at === -1 ? authority : authority.slice(at + 1);
    const hp = HOST_PORT.exec(hostPort);
    if (hp && HOST.test(hp[1]!)) {
      host = hp[1]!.startsWith('[') ? hp[1]! : hp[1]!;
      if (hp[2] !== undefined && hp[2] !== '') port = Number(hp[2]);
    }
  }
  // An opaque URI (scheme without "//" and a path not starting with "/") has no path or query.
  if (scheme !== null && authority === undefined && !path.startsWith('/')) {
    path = null;
    query = null;
  }
  if (port === -1) port = scheme === 'https' ? 443 : 80;
  return { uri, scheme, host, port, path: path === '' ? null : path, query: query === '' ? null : query, fragment: fragment === '' ? null : fragment };
}
