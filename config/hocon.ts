import { readFileSync } from 'node:fs';
import parser from '@pushcorn/hocon-parser';
import { FurrowError } from '../common/errors.js';

/**
 * Reads a HOCON (or JSON, which is HOCON) file as Snowplow's apps do: `${VAR}` and `${?VAR}` resolve
 * from the environment, includes are relative to the file. Returns a plain object.
 * Strict mode keeps unquoted values as the spec says (no JS-style coercion of `.3`).
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
  // The parser resolves substitutions against process.env; give it exactly the environment we were handed.
  const saved = process.env;
  process.env = env;
  try {
    const out = await parser.parse({ text, strict: true });
    if (out === null || typeof out !== 'object' || Array.isArray(out)) {
      throw new FurrowError('CONFIG_PARSE', `${origin}: top level must be an object`);
    }
    return out as Record<string, unknown>;
  } catch (e) {
    if (e instanceof FurrowError) throw e;
    throw new FurrowError('CONFIG_PARSE', `${origin}: ${(e as Error).message}`, { cause: e });
  } finally {
    process.env = saved;
  }
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
