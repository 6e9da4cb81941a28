/**
 * Derives furrow's built-in Iglu registry (`schemas/`) from Iglu Central (`../shared/iglu-central/schemas`, Apache-2.0).
 *
 *   npx tsx scripts/build-builtin-schemas.ts            regenerate schemas/ (removes files no longer derived)
 *   npx tsx scripts/build-builtin-schemas.ts --check    exit 1 if schemas/ differs from what would be derived
 *
 * What is kept: every JSON Schema (`jsonschema` format) with its facts — `self`, `$schema`, `$supersededBy`, types,
 * properties, required, limits, enums, formats, patterns, combinators, defaults. What is dropped: prose annotations
 * (`description`, `title`, `$comment`, `examples`) wherever they sit in schema position; a property *named*
 * "description" stays. Non-JSON-Schema artefacts (Avro, Thrift, Protobuf) are not copied: the resolver validates
 * JSON only. `schemas/SOURCE.json` records the Iglu Central revision.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IGLU_CENTRAL_DIR = resolve(REPO_ROOT, '..', 'shared', 'iglu-central');
export const BUILTIN_DIR = join(REPO_ROOT, 'schemas');

/** The Iglu Central revision the shared copy was taken from (../shared/iglu-central/SOURCE.txt, enrich.md's table). */
export const IGLU_CENTRAL_REVISION = {
  repository: 'snowplow/iglu-central',
  commit: 'cbac22edd8c67e09413c19e80c3d7354e1f010c8',
  release: 'R183',
  date: '2026-04-23',
};

const ANNOTATIONS = new Set(['description', 'title', '$comment', 'examples']);
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions']);
const SCHEMA_VALUES = new Set(['additionalProperties', 'additionalItems', 'not', 'items']);
const SCHEMA_ARRAYS = new Set(['allOf', 'anyOf', 'oneOf', 'items']);

/** Returns a copy of a (sub)schema without prose annotations, keeping key order. */
export function stripSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (ANNOTATIONS.has(k)) continue;
    if (SCHEMA_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, s]) => [name, stripSchema(s)]));
    } else if (SCHEMA_ARRAYS.has(k) && Array.isArray(v)) {
      out[k] = v.map(stripSchema);
    } else if (SCHEMA_VALUES.has(k)) {
      out[k] = stripSchema(v);
    } else if (k === 'dependencies' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([name, d]) => [name, Array.isArray(d) ? d : stripSchema(d)]));
    } else {
      out[k] = v;
    }
  }
  return out;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/** relative path below schemas/ (posix separators) → file content, for every derived file including SOURCE.json. */
export function deriveBuiltinSchemas(igluCentralDir: string = IGLU_CENTRAL_DIR): Map<string, string> {
  const src = join(igluCentralDir, 'schemas');
  const files = new Map<string, string>();
  for (const file of walk(src)) {
    const rel = relative(src, file).split(sep).join('/');
    const parts = rel.split('/');
    if (parts.length !== 4 || parts[2] !== 'jsonschema') continue;
    const schema = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    files.set(rel, JSON.stringify(stripSchema(schema), null, 2) + '\n');
  }
  const source = {
    igluCentral: IGLU_CENTRAL_REVISION,
    licence: 'Apache-2.0 (Iglu Central); prose annotations removed, facts kept',
    derivedBy: 'scripts/build-builtin-schemas.ts',
    schemas: files.size,
  };
  files.set('SOURCE.json', JSON.stringify(source, null, 2) + '\n');
  return files;
}

/** Differences between `dir` and the derived files: missing, changed and extra paths. */
export function diffBuiltin(derived: Map<string, string>, dir: string = BUILTIN_DIR): { missing: string[]; changed: string[]; extra: string[] } {
  const present = existsSync(dir) ? walk(dir).map((f) => relative(dir, f).split(sep).join('/')) : [];
  const missing: string[] = [];
  const changed: string[] = [];
  for (const [rel, content] of derived) {
    const p = join(dir, rel);
    if (!existsSync(p)) missing.push(rel);
    else if (readFileSync(p, 'utf8') !== content) changed.push(rel);
  }
  const extra = present.filter((rel) => !derived.has(rel));
  return { missing, changed, extra };
}

function main(argv: string[]): number {
  const derived = deriveBuiltinSchemas();
  if (argv.includes('--check')) {
    const d = diffBuiltin(derived);
    const n = d.missing.length + d.changed.length + d.extra.length;
    if (n > 0) {
      process.stderr.write(`schemas/ is out of date: ${d.missing.length} missing, ${d.changed.length} changed, ${d.extra.length} extra (e.g. ${[...d.missing, ...d.changed, ...d.extra].slice(0, 5).join(', ')})\n`);
      return 1;
    }
    process.stdout.write(`schemas/ matches Iglu Central ${IGLU_CENTRAL_REVISION.release} (${derived.size - 1} schemas)\n`);
    return 0;
  }
  const d = diffBuiltin(derived);
  for (const rel of d.extra) rmSync(join(BUILTIN_DIR, rel));
  for (const [rel, content] of derived) {
    const p = join(BUILTIN_DIR, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  process.stdout.write(`wrote ${derived.size - 1} schemas to ${BUILTIN_DIR} (Iglu Central ${IGLU_CENTRAL_REVISION.release} ${IGLU_CENTRAL_REVISION.commit.slice(0, 8)})\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
