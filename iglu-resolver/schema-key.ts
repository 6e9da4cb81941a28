/**
 * Iglu schema keys, SchemaVer and criteria (iglu-scala-core semantics, enrich.md §6.5).
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

export interface SchemaKey {
  readonly vendor: string;
  readonly name: string;
  readonly format: string;
  readonly version: SchemaVer;
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
  const version = parseSchemaVer(m[4]!);
  if (!version) return 'INVALID_SCHEMAVER';
  return { vendor: m[1]!, name: m[2]!, format: m[3]!, version };
}

export function isSchemaKey(k: SchemaKey | KeyParseError): k is SchemaKey {
  return typeof k !== 'string';
}

export function schemaKeyToUri(k: SchemaKey): string {
  return `iglu:${k.vendor}/${k.name}/${k.format}/${schemaVerToString(k.version)}`;
}

/** `vendor/name/format/M-R-A`, the registry path below `schemas/`. */
export function schemaKeyToPath(k: SchemaKey): string {
  return `${k.vendor}/${k.name}/${k.format}/${schemaVerToString(k.version)}`;
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
    (c.model === null || c.model === k.version.model) &&
    (c.revision === null || c.revision === k.version.revision) &&
    (c.addition === null || c.addition === k.version.addition)
  );
}
