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
