/**
 * Linting an Iglu registry folder (`furrow iglu lint DIR`): every file must sit at `vendor/name/format/M-R-A`, the
 * version must be a SchemaVer, the file must be a JSON object whose `self` matches its path, JSON Schemas must pass
 * the meta-schema and compile, and `$supersededBy` must name a higher version.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { compareSchemaVer, parseSchemaVer } from '../formats/schema-key.js';
import { createSchemaCompiler, SELF_DESC_META_URI, toDataReports } from './validator.js';
import { PATTERN_FORMATS } from './formats.js';

export interface LintProblem {
  /** Path relative to the schemas folder. */
  file: string;
  message: string;
}

export interface LintReport {
  schemasDir: string;
  checked: number;
  problems: LintProblem[];
  /** Worth a look, but the schema works: an unusual `$schema`, formats the validator does not check. */
  warnings: LintProblem[];
}

const SELF_DESC_SCHEMA = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';
/** Formats the Iglu client's validator checks for draft-04 (others pass unchecked). */
const CHECKED_FORMATS = new Set([...Object.keys(PATTERN_FORMATS), 'date', 'date-time', 'uuid', 'email']);

/** `format` values anywhere in a schema (walks every object; formats are strings under a `format` key). */
function formatsIn(v: unknown, out: Set<string>, depth = 0): void {
  if (depth > 64 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) formatsIn(x, out, depth + 1);
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'format' && typeof x === 'string') out.add(x);
    else if (k !== 'self' && k !== 'enum' && k !== 'default') formatsIn(x, out, depth + 1);
  }
}

async function walk(dir: string, out: string[], depth = 0): Promise<void> {
  if (depth > 8) return;
  for (const name of (await readdir(dir)).sort()) {
    if (name.startsWith('.')) continue;
    const p = join(dir, name);
    const s = await stat(p);
    if (s.isDirectory()) await walk(p, out, depth + 1);
    else if (s.isFile()) out.push(p);
  }
}

/** Lints `dir` (a registry root holding `schemas/`, or the schemas folder itself). */
export async function lintRegistry(dir: string): Promise<LintReport> {
  let schemasDir = dir;
  try {
    if ((await stat(join(dir, 'schemas'))).isDirectory()) schemasDir = join(dir, 'schemas');
  } catch {
    /* dir is the schemas folder itself */
  }
  const files: string[] = [];
  await walk(schemasDir, files);
  const compiler = createSchemaCompiler();
  const selfDesc = compiler.ajv.getSchema(SELF_DESC_META_URI + '#')!;
  const problems: LintProblem[] = [];
  const warnings: LintProblem[] = [];
  let checked = 0;
  for (const file of files) {
    const rel = relative(schemasDir, file).split(sep).join('/');
    if (rel === 'SOURCE.json' || rel === 'README.md') continue;
    checked++;
    const add = (message: string): void => void problems.push({ file: rel, message });
    const parts = rel.split('/');
    if (parts.length !== 4) {
      add('not laid out as vendor/name/format/MODEL-REVISION-ADDITION');
      continue;
    }
    const [vendor, name, format, version] = parts as [string, string, string, string];
    const ver = parseSchemaVer(version);
    if (!ver) add(`"${version}" is not a valid SchemaVer (MODEL-REVISION-ADDITION, MODEL ≥ 1, no leading zeros)`);
    let json: unknown;
    try {
      json = JSON.parse(await readFile(file, 'utf8'));
    } catch (e) {
      add(`not valid JSON: ${(e as Error).message}`);
      continue;
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      add('not a JSON object');
      continue;
    }
    const schema = json as Record<string, unknown>;
    const self = schema.self as Record<string, unknown> | undefined;
    if (!self || typeof self !== 'object') {
      add('has no "self" object');
    } else {
      const expected = { vendor, name, format, version };
      for (const k of ['vendor', 'name', 'format', 'version'] as const) {
        if (self[k] !== expected[k]) add(`self.${k} is ${JSON.stringify(self[k])} but the path says ${JSON.stringify(expected[k])}`);
      }
    }
    if ('$supersededBy' in schema) {
      const sup = typeof schema.$supersededBy === 'string' ? parseSchemaVer(schema.$supersededBy) : null;
      if (!sup) add(`$supersededBy ${JSON.stringify(schema.$supersededBy)} is not a SchemaVer`);
      else if (ver && compareSchemaVer(sup, ver) <= 0) add(`$supersededBy ${schema.$supersededBy} is not higher than ${version}`);
    }
    if (format === 'jsonschema') {
      const r = compiler.compile(schema);
      if (!r.ok) for (const i of r.schemaIssues) add(`does not compile: ${i.message}`);
      else if (!selfDesc(schema)) {
        for (const rep of toDataReports(selfDesc.errors, schema, selfDesc.schema)) add(`is not a valid self-describing schema: ${rep.message}`);
      }
      if (schema.$schema !== SELF_DESC_SCHEMA) warnings.push({ file: rel, message: `$schema is ${JSON.stringify(schema.$schema)}, not the Iglu self-describing meta-schema ${SELF_DESC_SCHEMA}` });
      const formats = new Set<string>();
      formatsIn(schema, formats);
      for (const f of formats) if (!CHECKED_FORMATS.has(f)) warnings.push({ file: rel, message: `format "${f}" is not checked by the validator (any string passes)` });
    }
  }
  return { schemasDir, checked, problems, warnings };
}
