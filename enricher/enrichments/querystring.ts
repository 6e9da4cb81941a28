/**
 * Page-URL querystring parsing with Apache `URLEncodedUtils.parse(uri, charset)` semantics, which Snowplow uses
 * for campaign attribution and cross-navigation:
 *
 *   raw query --split on '&' and ';'--> tokens --first '='--> name / value (no '=' → null value)
 *   names and values form-decoded: '+' → space, %XX bytes decoded with the payload charset,
 *   a malformed escape is kept literally; tokens with an empty name are skipped.
 */

const PCT = /%[0-9a-fA-F]{2}/;

function formDecode(s: string, encoding: BufferEncoding): string {
  const plus = s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!plus.includes('%')) return plus;
  if (!PCT.test(plus)) return plus;
  // Decode runs of %XX as bytes in the payload charset; everything else stays as written.
  let out = '';
  let i = 0;
  const n = plus.length;
  while (i < n) {
    const c = plus.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < n && isHex(plus.charCodeAt(i + 1)) && isHex(plus.charCodeAt(i + 2))) {
      const bytes: number[] = [];
      while (i + 2 < n && plus.charCodeAt(i) === 37 && isHex(plus.charCodeAt(i + 1)) && isHex(plus.charCodeAt(i + 2))) {
        bytes.push(parseInt(plus.slice(i + 1, i + 3), 16));
        i += 3;
      }
      out += Buffer.from(bytes).toString(encoding);
    } else {
      out += plus[i];
      i++;
    }
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Maps a Java charset name to a Node encoding (UTF-8 when unknown). */
export function nodeEncoding(charset: string | null | undefined): BufferEncoding {
  const c = (charset ?? 'UTF-8').toLowerCase().replace(/[^a-z0-9]/g, '');
  if (c === 'iso88591' || c === 'latin1' || c === 'usascii' || c === 'ascii') return 'latin1';
  if (c === 'utf16le') return 'utf16le';
  return 'utf8';
}

export function parseQuerystring(rawQuery: string | null, charset: string | null | undefined): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  if (rawQuery === null || rawQuery === '') return out;
  const enc = nodeEncoding(charset);
  for (const token of rawQuery.split(/[&;]/)) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    const name = formDecode((eq < 0 ? token : token.slice(0, eq)).trim(), enc);
    if (name === '') continue;
    const value = eq < 0 ? null : formDecode(token.slice(eq + 1).trim(), enc);
    out.push([name, value]);
  }
  return out;
}

/** Name → value with later duplicates winning (Scala `toMap`). */
export function querystringMap(pairs: Array<[string, string | null]>): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const [k, v] of pairs) m.set(k, v);
  return m;
}
