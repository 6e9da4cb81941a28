import { FurrowError } from '../common/errors.js';

/**
 * Checks a PostgreSQL connection URL before anything connects with it: pg reads any other text as a URL relative to
 * `postgres://base`, so a typo such as `--postgres notaurl` surfaced as `getaddrinfo ENOTFOUND base`.
 * Accepted: `postgres://` or `postgresql://` URLs with a host (or `?host=/socket/dir`), and pg's `socket:/dir` form.
 */
export function checkPostgresUrl(url: string, what: string): string {
  const expected = 'expected postgres://USER:PASSWORD@HOST:5432/DATABASE';
  if (/^socket:\/./.test(url)) return url;
  if (!/^postgres(?:ql)?:\/\//i.test(url)) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${what} ${JSON.stringify(url)} is not a PostgreSQL connection URL (${expected})`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${what} ${JSON.stringify(redact(url))} is not a valid URL (${expected})`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${what} ${JSON.stringify(redact(url))} names no host (${expected})`);
  }
  return url;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}
