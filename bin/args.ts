/**
 * The one argv parser of every `furrow` command (node:util parseArgs, strict), so that `--x=y`, `--x y`, `--help`
 * and `--log-level` behave the same everywhere:
 *
 *   argv ──parseArgs(spec + help + log-level)──▶ { values, positionals } ──▶ the command's own checks
 *            └─ unknown option, missing value, bad --log-level ⇒ CONFIG_CLI_USAGE (exit 2) naming the flag + usage
 *
 * A command declares its flags as a table (name → { type, short?, multiple?, default? }); `help` (-h) and
 * `log-level` are added to every table. `furrow` answers `--help` before a command runs (bin/furrow.ts).
 */
import { parseArgs } from 'node:util';
import { FurrowError } from '../common/errors.js';
import { checkLogLevel } from '../common/logger.js';

export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  readonly default?: string | boolean | string[];
}

export type FlagTable = Readonly<Record<string, FlagSpec>>;

export interface ParsedArgs {
  /** Flag values by long name (`log-level` always set: the default is info). */
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  readonly logLevel: string;
}

export interface ParseOptions {
  /** Positional arguments allowed (default none). */
  readonly positionals?: boolean;
  /** Default of --log-level (default info). */
  readonly logLevel?: string;
}

const COMMON: FlagTable = {
  help: { type: 'boolean', short: 'h' },
  'log-level': { type: 'string' },
};

export { checkLogLevel };

/** A usage error: the message, then the command's usage text. */
export function usageError(message: string, usage: string): FurrowError {
  return new FurrowError('CONFIG_CLI_USAGE', `${message}\n\n${usage.trimEnd()}`);
}

/** parseArgs' messages, in furrow's words (`unknown option --x`, `--x needs a value`). */
function explain(e: Error & { code?: string }, argv: readonly string[]): string {
  const m = e.message.split('\n')[0]!;
  const option = /'(-[^' ,<]+)(?:, (--[^' <]+))?/.exec(m);
  const flag = option ? (option[2] ?? option[1]!) : '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument '${/'([^']*)'/.exec(m)?.[1] ?? ''}'`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(m)) return `${flag} takes no value`;
      if (/ambiguous/.test(m)) {
        const at = argv.indexOf(flag);
        return `${flag} needs a value (got the option ${argv[at + 1] ?? ''}; write ${flag}=VALUE for a value starting with '-')`;
      }
      return `${flag} needs a value`;
    default:
      return m;
  }
}

/** Parses `argv` against `table` (+ --help, --log-level); throws CONFIG_CLI_USAGE with `usage` on any problem. */
export function parseCommandArgs(argv: readonly string[], table: FlagTable, usage: string, opts: ParseOptions = {}): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...table, ...COMMON }, strict: true, allowPositionals: opts.positionals ?? false });
  } catch (e) {
    throw usageError(explain(e as Error & { code?: string }, argv), usage);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const logLevel = checkLogLevel(typeof values['log-level'] === 'string' ? values['log-level'] : (opts.logLevel ?? 'info'));
  return { values: { ...values, 'log-level': logLevel }, positionals: parsed.positionals, logLevel };
}

/** A string flag's value (or undefined), typed for the caller. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A repeatable string flag's values. */
export function list(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
