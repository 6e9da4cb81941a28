/**
 * Iglu schema keys, SchemaVer and criteria (iglu-scala-core semantics, enrich.md §6.5): the one parser of
 * Iglu URIs, used by the resolver, the enricher, the enrichments' configs, the loaders and furrow mini.
 *
 *   iglu:com.acme/email_sent/jsonschema/1-0-2
 *        vendor   name       format     MODEL-REVISION-ADDITION
 *
 * Criteria use `*` for "any" (`iglu:com.acme/email_sent/jsonschema/1-*-*`).
 */

export interface SchemaVer {
  readonly model: number;
  readonly revision: number;
  readonly addition: number;
}

/** A key is also its own SchemaVer (flat, so the enricher reads `key.model` without an extra object). */
export interface SchemaKey extends SchemaVer {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
}

export interface SchemaCriterion {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly model: number | null;
  readonly revision: number | null;
  readonly addition: number | null;
}

const URI_RE = /^iglu:([a-zA-Z0-9\-_.]+)\/([a-zA-Z0-9\-_]+)\/([a-zA-Z0-9\-_]+)\/([^/]+)$/;
const SCHEMAVER_RE = /^([1-9][0-9]*)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;
const CRITERION_VER_RE = /^([1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)-(0|[1-9][0-9]*|\*)$/;

export type KeyParseError = 'INVALID_IGLUURI' | 'INVALID_SCHEMAVER';

/** Parses `M-R-A`; null when it is not a valid full SchemaVer. */
export function parseSchemaVer(s: string): SchemaVer | null {
  const m = SCHEMAVER_RE.exec(s);
  if (!m) return null;
  const model = Number(m[1]);
  const revision = Number(m[2]);
  const addition = Number(m[3]);
  if (!Number.isSafeInteger(model) || !Number.isSafeInteger(revision) || !Number.isSafeInteger(addition)) return null;
  return { model, revision, addition };
}

export function schemaVerToString(v: SchemaVer): string {
  return `${v.model}-${v.revision}-${v.addition}`;
}

/** Lexicographic order on (model, revision, addition): negative when a < b. */
export function compareSchemaVer(a: SchemaVer, b: SchemaVer): number {
  return a.model - b.model || a.revision - b.revision || a.addition - b.addition;
}

/** Parses an Iglu URI; returns the key or the iglu-core parse error code. */
export function parseSchemaUri(uri: string): SchemaKey | KeyParseError {
  const m = URI_RE.exec(uri);
  if (!m) return 'INVALID_IGLUURI';
  const v = parseSchemaVer(m[4]!);
  if (!v) return 'INVALID_SCHEMAVER';
  return { vendor: m[1]!, name: m[2]!, format: m[3]!, model: v.model, revision: v.revision, addition: v.addition };
}

/**
 * parseSchemaUri by URI text, for the enricher's per-entity path. A pipeline sees a handful of distinct schemas,
 * each on every event: a Map hit instead of two regex matches and an object per entity (bench corpus: ~0.3 µs CPU
 * per event). Keys are frozen (shared). Bounded: short URIs only, and the map starts over when full, so hostile
 * unique URIs cannot grow it.
 */
const KEY_CACHE = new Map<string, SchemaKey | KeyParseError>();
const KEY_CACHE_MAX = 1000;
const KEY_CACHE_MAX_URI = 256;

export function parseSchemaUriCached(uri: string): SchemaKey | KeyParseError {
  const hit = KEY_CACHE.get(uri);
  if (hit !== undefined) return hit;
  const k = parseSchemaUri(uri);
  if (uri.length <= KEY_CACHE_MAX_URI) {
    if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
    KEY_CACHE.set(uri, typeof k === 'string' ? k : Object.freeze(k));
  }
  return k;
}

/** parseSchemaUri for callers that only need "is it a key": null instead of the error code. */
export function parseSchemaKey(uri: string): SchemaKey | null {
  const k = parseSchemaUri(uri);
  return typeof k === 'string' ? null : k;
}

export function isSchemaKey(k: SchemaKey | KeyParseError): k is SchemaKey {
  return typeof k !== 'string';
}

export function schemaKeyToUri(k: SchemaKey): string {
  return `iglu:${k.vendor}/${k.name}/${k.format}/${schemaVerToString(k)}`;
}

/** `vendor/name/format/M-R-A`, the registry path below `schemas/`. */
export function schemaKeyToPath(k: SchemaKey): string {
  return `${k.vendor}/${k.name}/${k.format}/${schemaVerToString(k)}`;
}

/** Parses `iglu:vendor/name/format/1-*-*` (any component may be `*`); null when malformed. */
export function parseCriterion(s: string): SchemaCriterion | null {
  const m = URI_RE.exec(s);
  if (!m) return null;
  const v = CRITERION_VER_RE.exec(m[4]!);
  if (!v) return null;
  const part = (x: string): number | null => (x === '*' ? null : Number(x));
  return { vendor: m[1]!, name: m[2]!, format: m[3]!, model: part(v[1]!), revision: part(v[2]!), addition: part(v[3]!) };
}

export function criterionToString(c: SchemaCriterion): string {
  const p = (x: number | null): string => (x === null ? '*' : String(x));
  return `iglu:${c.vendor}/${c.name}/${c.format}/${p(c.model)}-${p(c.revision)}-${p(c.addition)}`;
}

/** Same vendor/name/format and every specified version component equal. */
export function criterionMatches(c: SchemaCriterion, k: SchemaKey): boolean {
  return (
    c.vendor === k.vendor &&
    c.name === k.name &&
    c.format === k.format &&
    (c.model === null || c.model === k.model) &&
    (c.revision === null || c.revision === k.revision) &&
    (c.addition === null || c.addition === k.addition)
  );
}

/** A criterion parsed once at start-up (a constant of the code): its text and a matcher. Throws when malformed. */
export interface CompiledCriterion {
  readonly text: string;
  matches(key: SchemaKey): boolean;
}

export function compileCriterion(text: string): CompiledCriterion {
  const c = parseCriterion(text);
  if (c === null) throw new Error(`invalid schema criterion ${text}`);
  return Object.freeze({ text, matches: (k: SchemaKey): boolean => criterionMatches(c, k) });
}
