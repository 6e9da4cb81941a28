/**
 * One interface for every kind of Iglu registry (embedded folder, built-in, HTTP static repo / Iglu Server).
 * A registry answers one lookup with an outcome; it never throws for I/O or bad content.
 */
import type { SchemaKey } from '../../formats/schema-key.js';

/** The per-repository error kinds of Snowplow's Iglu client (RegistryError), as they appear in lookupHistory. */
export type RegistryError =
  | { error: 'NotFound' }
  | { error: 'RepoFailure'; message: string }
  | { error: 'ClientFailure'; message: string };

export type RegistryResult<T> = { ok: true; value: T } | { ok: false; error: RegistryError };

export type RegistryKind = 'embedded' | 'http';

/** Snowplow's class priority: in-memory 1, embedded 2, HTTP 100 (lower is tried first). */
export const CLASS_PRIORITY: Record<RegistryKind, number> = { embedded: 2, http: 100 };

export interface Registry {
  readonly name: string;
  readonly kind: RegistryKind;
  /** Instance priority from the resolver config (lower first). */
  readonly priority: number;
  readonly vendorPrefixes: readonly string[];
  /** True when the registry logs its own outages (once per outage), so the resolver does not log each failure. */
  readonly logsOutages?: boolean;
  /** The schema named by `key`, parsed JSON. */
  lookup(key: SchemaKey): Promise<RegistryResult<unknown>>;
  /** Iglu URIs of vendor/name/jsonschema/MODEL-*-* this registry holds, in the registry's order. */
  list(vendor: string, name: string, model: number): Promise<RegistryResult<string[]>>;
}

/** Path segments that must never reach a file system path or URL (`..` is a valid Iglu vendor per the regex). */
export function isUnsafeSegment(s: string): boolean {
  return s === '' || s === '.' || s === '..' || s.includes('/') || s.includes('\\') || s.includes('\0');
}
