import { pino, type Logger } from 'pino';

import { FurrowError } from './errors.js';
export type { Logger };

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

/** Checks a pino level name (flag or config key); a usage error (CONFIG_CLI_USAGE) otherwise. */
export function checkLogLevel(level: string, what = '--log-level'): string {
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new FurrowError('CONFIG_CLI_USAGE', `${what}: unknown level '${level}' (expected ${LOG_LEVELS.join(', ')})`);
  }
  return level;
}

/** Keys pino writes itself on every line; a binding or a logged object never repeats them. */
const RESERVED = ['level', 'time'];

/** What a logger already writes on each line (its base and child bindings; pino's own keys), once per logger. */
const boundCache = new WeakMap<object, ReadonlyMap<string, unknown>>();
function boundOf(logger: Logger): ReadonlyMap<string, unknown> {
  let bound = boundCache.get(logger);
  if (bound === undefined) {
    const chindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym as unknown as symbol] ?? '';
    const m = new Map<string, unknown>(RESERVED.map((k) => [k, undefined]));
    for (const [k, v] of Object.entries(JSON.parse(`{${chindings.slice(1)}}`) as object)) m.set(k, v);
    bound = m;
    boundCache.set(logger, bound);
  }
  return bound;
}

/**
 * A child that binds a key its parent already bound replaces the parent's value (pino would write the key twice,
 * e.g. `"stream":"good","stream":"raw"`). Runs once per child, never per line.
 */
function dedupeChild(child: Logger): void {
  const sym = pino.symbols.chindingsSym as unknown as symbol;
  const holder = child as unknown as Record<symbol, string>;
  const chindings = holder[sym] ?? '';
  if (chindings === '') return;
  const merged = JSON.parse(`{${chindings.slice(1)}}`) as Record<string, unknown>;
  const rebuilt = `,${JSON.stringify(merged).slice(1, -1)}`;
  if (rebuilt.length !== chindings.length) holder[sym] = rebuilt;
}

const UNCHANGED: Record<string, never> = Object.freeze({}) as Record<string, never>;

/**
 * A logged object whose key the line already carries (a binding, or pino's own level/time) keeps its value under
 * `<key>_2` (or is left out when the value is the same), so no JSON line has the same key twice. Runs only for lines that are written; the caller's object is
 * never changed (a copy is logged when a key is renamed).
 */
function renameDuplicateKeys(obj: object, _level: number, logger: Logger): object {
  const keys = boundOf(logger);
  let copy: Record<string, unknown> | null = null;
  for (const k of Object.keys(obj)) {
    if (!keys.has(k)) continue;
    copy ??= { ...(obj as Record<string, unknown>) };
    if (copy[k] === keys.get(k)) {
      delete copy[k]; // the same value is on the line already
      continue;
    }
    let alt = `${k}_2`;
    for (let n = 3; keys.has(alt) || Object.hasOwn(copy, alt); n++) alt = `${k}_${n}`;
    copy[alt] = copy[k];
    delete copy[k];
  }
  return copy ?? UNCHANGED;
}

/**
 * The one way furrow builds a logger: structured JSON lines on stderr (stdout may be a data sink,
 * e.g. the collector's stdout sink or `furrow enrich --output stdout`).
 * Level comes from the CLI (`--log-level`) or defaults to info; tests pass 'silent'.
 * No line carries a key twice (see dedupeChild and renameDuplicateKeys).
 */
export function createLogger(name: string, level: string = 'info', destination: pino.DestinationStream = pino.destination({ fd: 2, sync: false })): Logger {
  return pino(
    {
      name,
      level,
      base: { name, pid: process.pid },
      onChild: dedupeChild,
      mixin: renameDuplicateKeys,
      mixinMergeStrategy: (mergeObject, renamed) => (renamed === UNCHANGED ? mergeObject : renamed),
    },
    destination,
  );
}

/** A logger that drops everything (for tests and library use). */
export const silentLogger: Logger = pino({ level: 'silent' });
