/**
 * Value converters of the tracker protocol (../shared/spec/enrich.md §1.2, §2.1, §2.3).
 * Each converter renders the value exactly as the enriched TSV column expects it (Java toString
 * semantics) or returns a `ConversionError` carrying the upstream error message, which becomes an
 * `atomic_field_parse_error` report in a schema_violations bad row.
 *
 * They are pure and allocation-light: they run once per parameter on the hot path.
 */

export class ConversionError {
  constructor(readonly message: string) {}
}

// --- strings ---------------------------------------------------------------------------------

// \p{Cntrl} in Java = ASCII controls only: U+0000-U+001F and U+007F.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;
const HAS_TAB_OR_CONTROL = /[\u0000-\u001f\u007f]/;

/** `makeTsvSafe`: tab → 4 spaces, then every control character removed; empty → null. */
export function makeTsvSafe(s: string): string | null {
  if (s.length === 0) return null;
  // Most values have no control characters: one test instead of two replaces (measured ~3x faster).
  if (!HAS_TAB_OR_CONTROL.test(s)) return s;
  const out = s.replaceAll('\t', '    ').replace(CONTROL_CHARS, '');
  return out.length === 0 ? null : out;
}

/** The collector's User-Agent header: remove CR/LF, tab → 4 spaces; other control characters are kept. */
export function cleanHeaderUseragent(s: string | null): string | null {
  if (s === null) return null;
  // Nearly every User-Agent is clean: three indexOf scans instead of a regex replace and a replaceAll.
  if (s.indexOf('\r') === -1 && s.indexOf('\n') === -1 && s.indexOf('\t') === -1) return s;
  return s.replace(CR_LF, '').replaceAll('\t', '    ');
}

// --- event type and platform -----------------------------------------------------------------

const EVENT_CODES: Readonly<Record<string, string>> = Object.freeze({
  se: 'struct', ev: 'struct', ad: 'ad_impression', tr: 'transaction', ti: 'transaction_item',
  pv: 'page_view', pp: 'page_ping', ue: 'unstruct',
});

export function convertEventType(code: string): string | ConversionError {
  const v = Object.hasOwn(EVENT_CODES, code) ? EVENT_CODES[code] : undefined;
  return v ?? new ConversionError('Not a valid event type');
}

const PLATFORMS = new Set(['web', 'iot', 'app', 'mob', 'pc', 'cnsl', 'tv', 'srv', 'headset']);

export function convertPlatform(p: string): string | ConversionError {
  return PLATFORMS.has(p) ? p : new ConversionError('Not a valid platform');
}

// Regex literals in per-event functions are hoisted: each evaluation of a literal allocates a new RegExp object.
const IP_SEPARATOR = /[,|\s]/;
const CR_LF = /[\r\n]/g;

/** `ip` parameter: first token split on comma, pipe or whitespace. */
export function convertIp(ip: string): string | null {
  const m = IP_SEPARATOR.exec(ip);
  const first = m ? ip.slice(0, m.index) : ip;
  return makeTsvSafe(first);
}

// --- numbers ---------------------------------------------------------------------------------

const INT_RE = /^[+-]?\d+$/;

/** Java `Integer.parseInt` (ASCII digits), `"null"` → null. */
export function convertInt(s: string): string | null | ConversionError {
  if (s === 'null') return null;
  if (!INT_RE.test(s)) return new ConversionError('Cannot be converted to java.lang.Integer');
  const n = Number(s);
  if (n > 2147483647 || n < -2147483648) return new ConversionError('Cannot be converted to java.lang.Integer');
  return String(n);
}

/** `(\d+)x(\d+)` → two Int32 strings. */
export function convertDimensions(s: string): [string, string] | ConversionError {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) return new ConversionError('Does not conform to regex (\\d+)x(\\d+)');
  const w = Number(m[1]);
  const h = Number(m[2]);
  if (w > 2147483647 || h > 2147483647) return new ConversionError('Could not be converted to java.lang.Integer s');
  return [String(w), String(h)];
}

/** Booleans are exactly `1` or `0`. */
export function convertBooleanByte(s: string): string | ConversionError {
  if (s === '1' || s === '0') return s;
  return new ConversionError('Cannot be converted to Boolean-like java.lang.Byte');
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * `new java.math.BigDecimal(s).toString()`, with a negative scale rescaled to 0 (`1E+3` → `1000`);
 * `"null"` (any case) → null.
 */
export function convertDecimal(s: string): string | null | ConversionError {
  if (s.length === 4 && s.toLowerCase() === 'null') return null;
  const m = DECIMAL_RE.exec(s);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    return new ConversionError(`Cannot be converted to java.math.BigDecimal. Error : ${bigDecimalErrorMessage(s)}`);
  }
  return formatBigDecimal(m[1] === '-', m[2]! + (m[3] ?? ''), (m[3] ?? '').length - (m[4] === undefined ? 0 : Number(m[4])));
}

function bigDecimalErrorMessage(s: string): string {
  if (s.length === 0) return 'Index 0 out of bounds for length 0';
  for (const ch of s) {
    if (!/[0-9.eE+-]/.test(ch)) return `Character ${ch} is neither a decimal digit number, decimal point, nor "e" notation exponential mark.`;
  }
  return 'No digits found.';
}

/** Renders unscaled digits and a scale as BigDecimal.toString (scale < 0 first rescaled to 0). */
export function formatBigDecimal(negative: boolean, rawDigits: string, scale: number): string {
  let digits = rawDigits.replace(/^0+(?=\d)/, '');
  if (digits === '') digits = '0';
  if (scale < 0) {
    digits = digits === '0' ? '0' : digits + '0'.repeat(-scale);
    scale = 0;
  }
  const sign = negative && /[1-9]/.test(digits) ? '-' : '';
  if (scale === 0) return sign + digits;
  const adjusted = -scale + (digits.length - 1);
  if (adjusted >= -6) {
    if (digits.length > scale) return sign + digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
    return sign + '0.' + '0'.repeat(scale - digits.length) + digits;
  }
  const mantissa = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  return `${sign}${mantissa}E${adjusted}`;
}

/** Java `Float.toString` of a value rounded to 32 bits (geo_latitude/longitude). */
export function javaFloatToString(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  // Shortest decimal that rounds back to the same float32.
  let repr = '';
  for (let p = 1; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) { repr = s; break; }
  }
  const abs = Math.abs(f);
  const n = Number(repr);
  if (abs >= 1e-3 && abs < 1e7) {
    const plain = numberToPlain(n);
    return plain.includes('.') ? plain : plain + '.0';
  }
  const [mant, exp] = n.toExponential().split('e') as [string, string];
  return `${mant.includes('.') ? mant : mant + '.0'}E${Number(exp)}`;
}

function numberToPlain(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}

// --- UUIDs -----------------------------------------------------------------------------------

const UUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Canonical UUID only (must round-trip through java.util.UUID), lower-cased. */
export function convertUuid(s: string): string | ConversionError {
  return UUID_RE.test(s) ? s.toLowerCase() : new ConversionError('Not a valid UUID');
}

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

// --- timestamps ------------------------------------------------------------------------------

const LONG_RE = /^[+-]?\d{1,19}$/;

function pad(n: number, w: number): string {
  const s = String(n);
  return s.length >= w ? s : '0'.repeat(w - s.length) + s;
}

const YEAR_0_MS = new Date('0000-01-01T00:00:00.000Z').getTime();
const YEAR_10000_MS = new Date('+010000-01-01T00:00:00.000Z').getTime();

/** `yyyy-MM-dd HH:mm:ss.SSS` in UTC, any year (callers check the range). */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Direct-mapped cache second → "yyyy-MM-dd HH:mm:ss": event timestamps cluster, so most lookups hit. */
const SECOND_KEYS = new Float64Array(256).fill(NaN);
const SECOND_TEXT: string[] = new Array<string>(256).fill('');

export function formatTimestamp(ms: number): string {
  // Years 0..9999: the native ISO form has the same digits; the per-second prefix is cached (measured: the
  // Date + toISOString pair was the largest cost of the parameter mapping, ~0.5 µs per timestamp).
  if (ms >= YEAR_0_MS && ms < YEAR_10000_MS && Number.isInteger(ms)) {
    const sec = Math.floor(ms / 1000);
    const slot = sec & 255;
    if (SECOND_KEYS[slot] !== sec) {
      const iso = new Date(sec * 1000).toISOString();
      SECOND_KEYS[slot] = sec;
      SECOND_TEXT[slot] = iso.slice(0, 10) + ' ' + iso.slice(11, 19);
    }
    return SECOND_TEXT[slot] + '.' + MILLIS[ms - sec * 1000];
  }
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const year = y < 0 ? '-' + pad(-y, 4) : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
}


export function isRedshiftCompatible(ms: number): boolean {
  return ms >= YEAR_0_MS && ms < YEAR_10000_MS;
}

/** Tracker timestamps (`dtm`, `stm`, `ttm`, `_sp`): epoch milliseconds. */
export function convertTrackerTimestamp(s: string): string | ConversionError {
  if (!LONG_RE.test(s)) return new ConversionError('Not in the expected format: ms since epoch');
  const ms = Number(s);
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) return new ConversionError('Not in the expected format: ms since epoch');
  const formatted = formatTimestamp(ms);
  if (!isRedshiftCompatible(ms)) return new ConversionError(`Formatting as ${formatted} is not Redshift-compatible`);
  return formatted;
}

/** Parses a `yyyy-MM-dd HH:mm:ss.SSS` column back to epoch ms (null when absent or malformed). */
export function parseTimestamp(s: string | null): number | null {
  if (s === null) return null;
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{3})$/.exec(s);
  if (!m) return null;
  const d = new Date(0);
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), Number(m[7]));
  return d.getTime();
}

/** Java Instant.toString (bad-row failure timestamps): millis omitted when zero. */
export function instantToString(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? iso.slice(0, -5) + 'Z' : iso;
}

/** Joda DateTime.toString in UTC (bad-row payload timestamps): always with millis. */
export function jodaToString(ms: number): string {
  return new Date(ms).toISOString();
}

// --- base64 ----------------------------------------------------------------------------------

const B64_VALUES = (() => {
  const t = new Int8Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < 62; i++) t[alphabet.charCodeAt(i)] = i;
  t['+'.charCodeAt(0)] = 62;
  t['-'.charCodeAt(0)] = 62;
  t['/'.charCodeAt(0)] = 63;
  t['_'.charCodeAt(0)] = 63;
  return t;
})();

/**
 * Apache commons-codec `Base64(urlSafe=true).decode` semantics: both alphabets, padding optional,
 * every non-alphabet byte skipped, decoding stops at the first `=`; the result is read as UTF-8.
 */
const CLEAN_BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const B64_SCRATCH = Buffer.allocUnsafe(48 * 1024);
/** Base64 text up to this length decodes into B64_SCRATCH (4 characters → at most 3 bytes). */
const B64_SCRATCH_CHARS = (B64_SCRATCH.length / 3) * 4;

export function decodeBase64Lenient(s: string): string {
  // Fast path: a clean string (either alphabet, trailing padding only) decodes the same with Node's decoder.
  if (CLEAN_BASE64.test(s)) {
    // Decoded into a reused scratch buffer and read out as a string: Buffer.from cut Node's 8 KiB pool every
    // few `cx` values (createPool 1.7 % of the enrich profile).
    if (s.length <= B64_SCRATCH_CHARS) return B64_SCRATCH.toString('utf8', 0, B64_SCRATCH.write(s, 'base64'));
    return Buffer.from(s, 'base64').toString('utf8');
  }
  const input = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(Math.ceil((input.length * 3) / 4) + 3);
  let o = 0;
  let acc = 0;
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === 0x3d) break; // '=' ends the data
    const v = B64_VALUES[c]!;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    n++;
    if (n === 4) {
      out[o++] = (acc >> 16) & 0xff;
      out[o++] = (acc >> 8) & 0xff;
      out[o++] = acc & 0xff;
      acc = 0;
      n = 0;
    }
  }
  if (n === 2) out[o++] = (acc >> 4) & 0xff;
  else if (n === 3) {
    out[o++] = (acc >> 10) & 0xff;
    out[o++] = (acc >> 2) & 0xff;
  }
  return out.toString('utf8', 0, o);
}

/** commons-codec `Base64(urlSafe=true).encode` + trim: URL-safe, no padding, CRLF every 76 chars. */
export function encodeBase64UrlChunked(s: string): string {
  const b64 = Buffer.from(s, 'utf8').toString('base64url');
  if (b64.length <= 76) return b64;
  const parts: string[] = [];
  for (let i = 0; i < b64.length; i += 76) parts.push(b64.slice(i, i + 76));
  return parts.join('\r\n');
}
