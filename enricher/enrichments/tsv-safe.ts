/**
 * Small value helpers shared by enrichments, matching Snowplow's rendering of atomic strings.
 */

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** Snowplow `makeTsvSafe`: `\t` → 4 spaces, then every control character removed; an empty result is null. */
export function makeTsvSafe(s: string | null | undefined): string | null {
  if (s === null || s === undefined) return null;
  let out = s;
  if (out.includes('\t')) out = out.replaceAll('\t', '    ');
  CONTROL.lastIndex = 0;
  if (CONTROL.test(out)) {
    CONTROL.lastIndex = 0;
    out = out.replace(CONTROL, '');
  }
  return out === '' ? null : out;
}

/** Timestamp column rendering `yyyy-MM-dd HH:mm:ss.SSS` (UTC). */
export function formatTstamp(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-01-01T01:02:03.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Parses the timestamp column form back to epoch ms (null when absent or malformed). */
export function parseTstamp(s: string | null): number | null {
  if (s === null) return null;
  const ms = Date.parse(`${s.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? null : ms;
}

/**
 * Java `Float.toString` of a value narrowed to a 32-bit float: the shortest decimal that reads back as the same
 * float; plain notation with at least one fractional digit for 1e-3 <= |x| < 1e7, else `d.dddE±n`.
 */
export function javaFloatString(x: number): string {
  const f = Math.fround(x);
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return 'Infinity';
  if (f === -Infinity) return '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0.0' : '0.0';
  let digits = '';
  let exp = 0;
  for (let p = 1; p <= 9; p++) {
    const s = f.toExponential(p - 1); // d.ddde±n
    if (Math.fround(Number(s)) === f) {
      const [mant, e] = s.split('e');
      digits = mant!.replace('-', '').replace('.', '');
      exp = Number(e);
      break;
    }
  }
  digits = digits.replace(/0+$/, '') || '0';
  const sign = f < 0 ? '-' : '';
  const abs = Math.abs(f);
  if (abs >= 1e-3 && abs < 1e7) {
    if (exp >= 0) {
      const intPart = digits.length > exp + 1 ? digits.slice(0, exp + 1) : digits.padEnd(exp + 1, '0');
      const frac = digits.length > exp + 1 ? digits.slice(exp + 1) : '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}E${exp}`;
}
