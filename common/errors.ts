/**
 * Every error code furrow raises, in one place. A code is never reused or renumbered.
 * Prefixes: CONFIG_ (start-up configuration), COLLECTOR_, IGLU_, ENRICH_, LEASE_, LOADER_, FORWARD_, MINI_, RECOVER_.
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
  COLLECTOR_LISTEN: 'the collector could not listen on its interface/port (in use, not permitted)',

  // --- iglu resolver ---
  IGLU_BUILTIN_REGISTRY_MISSING: "furrow's built-in Iglu registry (schemas/) could not be found next to the code",
  IGLU_RESOLVER_CONFIG_INVALID: 'an Iglu resolver configuration (resolver-config 1-0-x) is not valid',
  IGLU_SCHEMA_NOT_RESOLVED: 'a schema named on the command line could not be resolved by the configured registries',

  // --- enricher ---
  ENRICH_ENRICHMENT_ASSET: 'an enrichment database or file (MaxMind, IAB, referer, regexes) is missing, unreadable or corrupt',
  ENRICH_ENRICHMENT_CONFIG_INVALID: 'an enrichment configuration does not match its schema or has a bad value',
  ENRICH_ENRICHMENT_DUPLICATE: 'the same enrichment is configured twice',
  ENRICH_ENRICHMENT_UNKNOWN: 'an enrichment configuration names an enrichment furrow does not know',
  ENRICH_ENRICHMENT_UNSUPPORTED: 'an enrichment (or one of its options) cannot be run faithfully by furrow',
  ENRICH_IGLU_UNAVAILABLE: 'an Iglu registry failed (not "not found") during validation; the enricher stopped before checkpointing instead of writing bad rows',
  ENRICH_INPUT_UNREADABLE: 'the enricher input file or stdin could not be read',
  ENRICH_SINK_GAVE_UP: 'a good/bad/pii sink gave up on records; the batch was not checkpointed and the enricher stopped',

  // --- leases / scale ---
  LEASE_STREAM_NOT_FOUND: 'the Kinesis stream to read does not exist or is not active',
  LEASE_SUPERVISOR_WORKER_FAILED: 'a supervised worker process exited with a start-up/configuration error, so the supervisor stopped',
  LEASE_TABLE_UNAVAILABLE: 'the DynamoDB lease table could not be created, described or read',

  // --- loaders ---
  LOADER_DATABASE: 'the warehouse rejected a statement that is not a data error (the batch is not acknowledged)',
  LOADER_DATABASE_UNREACHABLE: 'the warehouse stayed unreachable for longer than the retry window',
  LOADER_INPUT: 'the loader input (file, stdin, S3 prefix, stream) could not be read',
  LOADER_STREAM_CONFLICT: 'the stored stream position is not the one the loader expects (two loaders on one stream, or a failed previous batch)',
  LOADER_UPLOAD: 'an upload to S3 failed after retries (nothing was checkpointed)',

  // --- forwarders ---
  FORWARD_DEAD_LETTER_UNWRITABLE: 'the forwarder dead-letter output could not be written (nothing is acknowledged past it)',
  FORWARD_INPUT_UNSUPPORTED: 'the configured forwarder input is not available in this build',
  FORWARD_REPLAY_INPUT: 'a dead-letter file given to `furrow forward replay` cannot be read or replayed',
  FORWARD_TRANSFORM_COMPILE: 'a forwarder JavaScript transformation does not compile or does not define transform()',

  // --- mini ---
  MINI_COMPONENT_MISSING: 'a part of the pipeline furrow mini runs is not available in this build',
  MINI_COMPONENT_FAILED: 'a pipeline component furrow mini runs stopped with an error',
  MINI_EMBEDDED_AWS: 'the embedded Kinesis (kinesalite) or DynamoDB (dynalite) could not start',
  MINI_PORT_IN_USE: 'the port furrow mini should listen on is taken',
  MINI_DATA_DIR: 'the --data directory of furrow mini cannot be created, read or written',
  MINI_DATA_LOCKED: 'another furrow mini is using the --data directory',
  MINI_DATA_CORRUPT: 'the event file in the --data directory is not one furrow mini wrote, or is damaged',

  // --- recovery ---
  RECOVER_INPUT: 'the bad rows to recover (file, folder, S3 prefix, Kinesis stream) could not be read',
  RECOVER_OUTPUT_GAVE_UP: 'the recovered records or still-failing rows could not be written; the run stopped and the ledger was not advanced',
  RECOVER_SCRIPT_COMPILE: 'a recovery Script step does not compile or does not define recover()',
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
