/**
 * Every error code furrow raises, in one place. A code is never reused or renumbered.
 * Prefixes: CONFIG_ (start-up configuration), COLLECTOR_, IGLU_, ENRICH_, LEASE_, LOADER_, FORWARD_, MINI_.
 * The README lists them (docs/errors.md is generated from this table by a test that checks they match).
 *
 * Add a code by adding one line to the right section; keep each section sorted by code.
 */
export const ERROR_CODES = {
  // --- configuration (start-up) ---
  CONFIG_FILE_UNREADABLE: 'a configuration file could not be read',
  CONFIG_PARSE: 'a configuration file is not valid HOCON/JSON',
  CONFIG_UNKNOWN_KEY: 'a configuration key is not known',
  CONFIG_INVALID_VALUE: 'a configuration value has the wrong type or is out of range',
  CONFIG_MISSING_KEY: 'a required configuration key is missing',
  CONFIG_UNSUPPORTED: 'a configured option or plug-in is not supported by furrow',
  CONFIG_CLI_USAGE: 'the command line is invalid',

  // --- collector ---

  // --- iglu resolver ---

  // --- enricher ---

  // --- leases / scale ---

  // --- loaders ---

  // --- forwarders ---

  // --- mini ---
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable code. Thrown at start-up and for bugs; data paths return outcomes instead. */
export class FurrowError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'FurrowError';
    this.code = code;
  }
}
