/**
 * Content-Type normalisation as http4s renders it, lower-cased (spec §4.3):
 * `application/json;charset=UTF-8` → `application/json; charset=utf-8`; params keep their order, charset last.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Canonical (JVM) names for charset labels a tracker may send; anything else keeps its label. */
const CHARSET_ALIASES: Readonly<Record<string, string>> = {
  utf8: 'utf-8',
  'utf-8': 'utf-8',
  latin1: 'iso-8859-1',
  'iso-8859-1': 'iso-8859-1',
  'iso8859-1': 'iso-8859-1',
  'us-ascii': 'us-ascii',
  ascii: 'us-ascii',
};

export interface ContentType {
  /** The normalised rendering, e.g. `application/json; charset=utf-8`. */
  readonly rendered: string;
  /** Lower-cased charset label, or null. */
  readonly charset: string | null;
}

export function parseContentType(raw: string): ContentType | null {
  const parts = raw.split(';');
  const media = parts[0]!.trim();
  const slash = media.indexOf('/');
  if (slash <= 0 || !TOKEN.test(media.slice(0, slash)) || !TOKEN.test(media.slice(slash + 1))) return null;
  let rendered = media.toLowerCase();
  let charset: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) return null;
    const k = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (!TOKEN.test(k)) return null;
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    if (k === 'charset') {
      const label = v.toLowerCase();
      charset = CHARSET_ALIASES[label] ?? label;
    } else rendered += `; ${k}=${v.toLowerCase()}`;
  }
  if (charset !== null) rendered += `; charset=${charset}`;
  return { rendered, charset };
}
