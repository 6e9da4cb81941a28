/**
 * The contract between the Iglu resolver and its users (enricher, adapters, loaders, mini).
 * Shapes of ClientError follow Snowplow's Iglu client JSON exactly (../shared/spec/enrich.md §5, §6),
 * because they are copied verbatim into bad rows.
 */

export interface SelfDescribingData {
  schema: string;
  data: unknown;
}

export interface LookupAttempt {
  repository: string;
  errors: Array<{ error: 'NotFound' } | { error: 'RepoFailure'; message: string } | { error: 'ClientFailure'; message: string }>;
  attempts: number;
  lastAttempt: string;
}

export interface DataReport {
  message: string;
  path: string;
  keyword: string;
  targets: string[];
}

export type ClientError =
  | { error: 'ResolutionError'; lookupHistory: LookupAttempt[] }
  | { error: 'ValidationError'; dataReports: DataReport[]; supersededBy?: string }
  | { error: 'ValidationError'; schemaIssues: Array<{ path: string; message: string }> };

export type LookupOutcome =
  | { ok: true; schema: Record<string, unknown>; supersededBy: string | null }
  | { ok: false; error: ClientError };

/** `supersededBy`: the version that the data was validated against instead (`$supersededBy`), else null. */
export type ValidationOutcome = { ok: true; supersededBy: string | null } | { ok: false; error: ClientError };

export interface IgluResolver {
  /** Finds a schema by `iglu:vendor/name/format/M-R-A` URI through the configured registries (cached). */
  lookupSchema(uri: string): Promise<LookupOutcome>;
  /** Validates `data` (a plain JS value) against the schema named by `uri`. */
  validate(uri: string, data: unknown): Promise<ValidationOutcome>;
  /**
   * Hot-path variant: validates synchronously when the schema's compiled validator is already cached
   * and fresh; returns undefined when a (possibly async) lookup is needed, so the caller falls back to validate().
   */
  validateCached(uri: string, data: unknown): ValidationOutcome | undefined;
  /** All versions of vendor/name/jsonschema/MODEL known to the registries, ascending (Iglu "schema lists"). */
  listSchemas(vendor: string, name: string, model: number): Promise<string[]>;
}
