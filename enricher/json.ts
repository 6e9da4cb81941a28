/**
 * JSON in and out of the enricher, byte-compatible with Snowplow's circe printing
 * (../shared/spec/enrich.md §1.2, §9.5): compact, key order kept, number lexemes kept (`1.0`, `1e3`,
 * big integers), `/` and non-ASCII not escaped.
 *
 *   text --(depth pre-check)--> JSON.parse --> plain value (validated by ajv, seen by enrichments)
 *                                    \--(only if the text holds a number JSON.stringify would respell)
 *                                        lossless-json parse --> "shadow" tree of LosslessNumbers
 *   printing walks the plain value and takes each number's lexeme from the shadow when it still
 *   denotes the same value, so enrichments may mutate the plain value freely.
 *
 * JSON.parse is ~5x faster than a lossless parse, and most tracker payloads have no such numbers,
 * so the shadow is built only when a cheap regex says it is needed.
 */
import { parse as losslessParse, isLosslessNumber } from 'lossless-json';
import { exceedsDepth, JSON_DEPTH_ERROR } from '../common/json-depth.js';

/** The text depth check (common/json-depth.ts), re-exported for the enricher's callers. */
export { exceedsDepth };

export type JsonParseOutcome = { ok: true; value: unknown; shadow: unknown } | { ok: false; error: string };

/**
 * Numbers in value position (after `:`, `,` or `[`) whose JSON.stringify spelling differs from the input
 * (exponent, trailing fractional zero, 16+ digits, negative zero), and integer-like object keys (JS objects
 * reorder those). Anchoring on a whole token (value position … `,` `}` `]`) keeps ISO timestamps inside strings
 * (`…:00.000Z`) off the slow path; a rare false positive only costs a lossless parse.
 */
const LOSSY_RE = /[:,[]\s*(?:-?\d{16,}|-?\d+\.\d*0|-?\d+\.\d{16,}|-?\d+(?:\.\d+)?[eE][+-]?\d+|-0(?:\.0+)?)(?=\s*[,}\]])|"(?:0|[1-9]\d*)"\s*:/;

/**
 * Parses JSON text as circe/jawn would accept it, with Snowplow's `maxJsonDepth` check. `withShadow: false` skips
 * the shadow for callers that never print the value with its lexemes (the tp2 body: its events are strings).
 */
export function parseJson(text: string, maxDepth: number, withShadow = true): JsonParseOutcome {
  if (exceedsDepth(text, maxDepth)) return { ok: false, error: JSON_DEPTH_ERROR };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: `invalid json: ${describeJsonError(text)}` };
  }
  let shadow: unknown;
  // LOSSY_RE scans the whole text (~1 µs per 0.5 KB, 40 % of the JSON.parse it follows); a value without numbers
  // or digit-led keys cannot hold a respelled lexeme, and walking the parsed value is cheaper than the scan.
  if (withShadow && mayRespell(value, WALK_DEPTH) && LOSSY_RE.test(text)) {
    try {
      shadow = losslessParse(text);
    } catch {
      shadow = undefined;
    }
  }
  return { ok: true, value, shadow };
}

/**
 * Whether a parsed value holds a number or a key starting with a digit (the only things LOSSY_RE can find).
 * Past WALK_DEPTH levels it answers true (the regex decides), so the recursion stays shallow whatever maxJsonDepth is.
 */
const WALK_DEPTH = 64;

function mayRespell(v: unknown, depth: number): boolean {
  if (typeof v === 'number') return true;
  if (v === null || typeof v !== 'object') return false;
  if (depth <= 0) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (mayRespell(v[i], depth - 1)) return true;
    return false;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const c = k.charCodeAt(0);
    if ((c >= 48 && c <= 57) || mayRespell(o[k], depth - 1)) return true;
  }
  return false;
}

/** A jawn-like description of the first syntax error (only on the failure path). */
export function describeJsonError(text: string): string {
  let i = 0;
  const n = text.length;
  class Die extends Error {}
  const die = (at: number, expected: string): never => {
    if (at >= n) throw new Die('exhausted input');
    let line = 1;
    let col = 1;
    for (let k = 0; k < at; k++) {
      if (text.charCodeAt(k) === 10) { line++; col = 1; } else col++;
    }
    const got = text.slice(at, at + 20).split(/[\s]/)[0] ?? '';
    throw new Die(`${expected} got '${got}' (line ${line}, column ${col})`);
  };
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const str = (): void => {
    i++;
    for (;;) {
      if (i >= n) throw new Die('exhausted input');
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c === '\\') {
        const e = text[i + 1];
        if (e === undefined) throw new Die('exhausted input');
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) die(i, 'illegal escape sequence');
          i += 6;
        } else if ('"\\/bfnrt'.includes(e)) i += 2;
        else die(i, 'illegal escape sequence');
        continue;
      }
      if (c.charCodeAt(0) < 0x20) die(i, 'control char in string');
      i++;
    }
  };
  const num = (): void => {
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === '' || m[0] === '-') die(i, 'expected digit');
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    if (i >= n) throw new Die('exhausted input');
    const c = text[i]!;
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') die(i, 'expected "');
        str();
        ws();
        if (text[i] !== ':') die(i, 'expected :');
        i++;
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        die(i, 'expected , or }');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        die(i, 'expected , or ]');
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) { i += lit.length; return; }
    }
    die(i, 'expected json value');
  };
  try {
    value();
    ws();
    if (i < n) die(i, 'expected whitespace or eof');
    return 'unexpected input';
  } catch (e) {
    if (e instanceof Die) return e.message;
    return (e as Error).message;
  }
}

/** Compact JSON of `value`, taking number lexemes from `shadow` (see file comment). */
export function stringifyJson(value: unknown, shadow?: unknown): string {
  if (shadow === undefined) return JSON.stringify(value) ?? 'null';
  return printWithShadow(value, shadow);
}

function printWithShadow(value: unknown, shadow: unknown): string {
  if (typeof value === 'number') {
    if (isLosslessNumber(shadow) && Number(shadow.value) === value) return shadow.value;
    return JSON.stringify(value);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    const sh = Array.isArray(shadow) ? shadow : undefined;
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += printWithShadow(value[i], sh?.[i]);
    }
    return out + ']';
  }
  const sh = shadow !== null && typeof shadow === 'object' && !Array.isArray(shadow) ? (shadow as Record<string, unknown>) : undefined;
  let out = '{';
  let first = true;
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += JSON.stringify(k) + ':' + printWithShadow(v, sh?.[k]);
  }
  return out + '}';
}
