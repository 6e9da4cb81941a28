import { readFileSync } from 'node:fs';
import parser from '@pushcorn/hocon-parser';
import { FurrowError } from '../common/errors.js';

/**
 * Reads a HOCON (or JSON, which is HOCON) file as Snowplow's apps do: `${VAR}` and `${?VAR}` resolve
 * from the environment, includes are relative to the file. Returns a plain object.
 * Strict mode keeps unquoted values as the spec says (no JS-style coercion of `.3`).
 *
 *   text ──scanStructure (stray closers, text after the root, `k += ${?UNSET}`)──▶ parser ──▶ object
 *
 * The parser alone accepts a stray `}` or `]` at the end of a file, or a `,` after the root object's closing brace,
 * and appends an empty list for `k += ${?UNSET}`; Lightbend Config (Snowplow's parser) rejects the first two and
 * adds nothing for the last. The scan before parsing gives both behaviours and a message with a line and column.
 */
export async function readHoconFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseHocon(text, path, env);
}

export async function parseHocon(text: string, origin = '<text>', env: NodeJS.ProcessEnv = process.env): Promise<Record<string, unknown>> {
  const scanned = scanStructure(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, origin, env);
  try {
    // Substitutions that are not keys of the file resolve from `env` only: the parser's context scope is looked up
    // before the environment, and `env: false` keeps it off process.env (no global state, safe across awaits).
    const out = await parser.parse({ text: scanned, strict: true, scope: envScope(env), env: false });
    if (out === null || typeof out !== 'object' || Array.isArray(out)) {
      throw new FurrowError('CONFIG_PARSE', `${origin}: top level must be an object`);
    }
    return out as Record<string, unknown>;
  } catch (e) {
    if (e instanceof FurrowError) throw e;
    throw new FurrowError('CONFIG_PARSE', `${origin}: ${parserMessage((e as Error).message)}`, { cause: e });
  }
}

/** The environment as a plain object of strings (the parser walks it like a config object; unset names stay out). */
function envScope(env: NodeJS.ProcessEnv): Record<string, string> {
  const scope: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) scope[k] = v;
  return scope;
}

/**
 * The parser's messages carry its internals (`(Source: ObjectNode.2@fa7cf, Token: { value: "{", line: 3, col: 5 })`):
 * keep the sentence, turn the rest into `line L, column C` and the offending text.
 */
export function parserMessage(raw: string): string {
  let msg = raw;
  let line: string | undefined;
  let col: string | undefined;
  let near: string | undefined;
  const token = /\s*\(?\s*(?:Source: [^,)]*,\s*)?Token: \{ value: "((?:[^"\\]|\\.)*)", line: (\d+), col: (\d+)[^}]*\}\s*\)?/.exec(msg);
  if (token) {
    near = token[1];
    line = token[2];
    col = token[3];
    msg = msg.slice(0, token.index) + msg.slice(token.index + token[0].length);
  }
  const pos = /\s*\((?:text: '[^']*', )?line: (\d+), col: (\d+)[^)]*\)/.exec(msg);
  if (pos) {
    line ??= pos[1];
    col ??= pos[2];
    msg = msg.slice(0, pos.index) + msg.slice(pos.index + pos[0].length);
  }
  msg = msg.replace(/\s*\(Source: [^)]*\)/g, '').trim().replace(/\.$/, '');
  const unresolved = /^Unable to resolve '([^']+)'$/.exec(msg);
  if (unresolved) msg = `\${${unresolved[1]}} is not set (neither a key of the file nor an environment variable)`;
  const where = line !== undefined ? `line ${line}, column ${col}: ` : '';
  const what = near !== undefined && near !== '' && !unresolved ? ` (at '${near}')` : '';
  return `${where}${msg}${what}`;
}

const IDENT = /[A-Za-z0-9_.-]/;

/** Whether `name` (a substitution's path) looks defined as a key in the text: then the parser resolves it. */
function definesKey(text: string, name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1).replace(/[-]/g, '\\-');
  return new RegExp(`(^|[\\s{,.])"?${last}"?\\s*[:={]`, 'm').test(text);
}

/**
 * One pass over the text that understands just enough HOCON (quoted and triple-quoted strings, comments,
 * substitutions, brackets) to find what the parser lets through. Returns the text to parse: the same text, except
 * that `key += ${?NAME}` whose NAME is neither in the environment nor a key of the file is blanked (HOCON: it adds
 * nothing).
 */
function scanStructure(text: string, origin: string, env: NodeJS.ProcessEnv): string {
  const stack: { ch: string; line: number; col: number }[] = [];
  let rootBraced: boolean | null = null;
  let rootClosedAt: { line: number; col: number } | null = null;
  let line = 1;
  let lineStart = 0;
  let out: string[] | null = null;
  let copiedTo = 0;
  const fail = (i: number, what: string): never => {
    throw new FurrowError('CONFIG_PARSE', `${origin}: line ${line}, column ${i - lineStart + 1}: ${what}`);
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\ufeff') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && text[i + 1] === '/')) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (rootClosedAt !== null) fail(i, `unexpected '${c}' after the root object closed on line ${rootClosedAt.line} (a stray character at the end of the file?)`);
    if (rootBraced === null) rootBraced = c === '{';
    if (c === '"') {
      if (text.startsWith('"""', i)) {
        let end = text.indexOf('"""', i + 3);
        if (end === -1) return text; // the parser reports the unclosed string
        while (text[end + 3] === '"') end++;
        for (let k = i; k < end; k++) if (text[k] === '\n') { line++; lineStart = k + 1; }
        i = end + 3;
        continue;
      }
      let k = i + 1;
      while (k < text.length && text[k] !== '"' && text[k] !== '\n') k += text[k] === '\\' ? 2 : 1;
      if (text[k] !== '"') return text; // the parser reports the unclosed string
      i = k + 1;
      continue;
    }
    if (c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i);
      if (end === -1) return text;
      i = end + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      stack.push({ ch: c, line, col: i - lineStart + 1 });
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      const open = stack.pop();
      if (open === undefined) fail(i, `unexpected '${c}': there is no open '${c === '}' ? '{' : '['}' to close`);
      if ((open!.ch === '{') !== (c === '}')) fail(i, `'${c}' cannot close the '${open!.ch}' opened on line ${open!.line}, column ${open!.col}`);
      if (stack.length === 0 && rootBraced) rootClosedAt = { line, col: i - lineStart + 1 };
      i++;
      continue;
    }
    if (c === '+' && text[i + 1] === '=') {
      // `key += ${?NAME}` with NAME unset adds nothing (HOCON); the parser would append an empty list.
      const m = /^\+=[ \t]*\$\{\?[ \t]*([A-Za-z0-9_.-]+)[ \t]*\}/.exec(text.slice(i, i + 300));
      if (m && env[m[1]!] === undefined && !definesKey(text, m[1]!)) {
        let k = i;
        while (k > lineStart && (text[k - 1] === ' ' || text[k - 1] === '\t')) k--;
        while (k > lineStart && /[A-Za-z0-9_."-]/.test(text[k - 1]!)) k--;
        out ??= [];
        out.push(text.slice(copiedTo, k), ' '.repeat(i + m[0].length - k));
        copiedTo = i + m[0].length;
        i = copiedTo;
        continue;
      }
    }
    // Unquoted text, `=`, `:`, `,`: nothing to check here.
    i++;
    while (i < text.length && IDENT.test(text[i]!)) i++;
  }
  if (out === null) return text;
  out.push(text.slice(copiedTo));
  return out.join('');
}

const DURATION_UNITS: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ns|nano|nanos|nanosecond|nanoseconds)$/, 1e-6],
  [/^(us|micro|micros|microsecond|microseconds)$/, 1e-3],
  [/^(ms|milli|millis|millisecond|milliseconds)?$/, 1],
  [/^(s|second|seconds)$/, 1000],
  [/^(m|minute|minutes)$/, 60_000],
  [/^(h|hour|hours)$/, 3_600_000],
  [/^(d|day|days)$/, 86_400_000],
];

/** HOCON duration (`365 days`, `10 seconds`, `500 millis`, bare number = ms) → milliseconds. */
export function parseDurationMs(value: unknown, key: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
    if (m) {
      const unit = m[2]!;
      for (const [re, factor] of DURATION_UNITS) if (re.test(unit)) return Number(m[1]) * factor;
    }
  }
  throw new FurrowError('CONFIG_INVALID_VALUE', `${key}: not a duration: ${JSON.stringify(value)}`);
}
