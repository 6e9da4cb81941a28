/**
 * Parsing a Snowplow resolver config (`iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x`) once, at
 * start, into a frozen object. The data is checked against the resolver-config schema of the version it declares
 * (from the built-in registry), then for what the schema cannot say (unique names, http(s) URIs).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { FurrowError } from '../common/errors.js';
import { builtinRegistryRoot } from './builtin.js';
import { isSchemaKey, parseSchemaUri, schemaVerToString } from '../formats/schema-key.js';
import { createSchemaCompiler, toDataReports } from './validator.js';

export type RepositoryConnection = { readonly kind: 'embedded'; readonly path: string } | { readonly kind: 'http'; readonly uri: string; readonly apikey: string | null };

export interface RepositoryConfig {
  readonly name: string;
  readonly priority: number;
  readonly vendorPrefixes: readonly string[];
  readonly connection: RepositoryConnection;
}

export interface ResolverConfig {
  /** The resolver-config version the file declared, e.g. `1-0-3`. */
  readonly version: string;
  readonly cacheSize: number;
  /** Seconds; null = entries never expire. */
  readonly cacheTtl: number | null;
  readonly repositories: readonly RepositoryConfig[];
}

function invalid(message: string): never {
  throw new FurrowError('IGLU_RESOLVER_CONFIG_INVALID', message);
}

/**
 * Validates and freezes a resolver config. `baseDir` resolves relative embedded paths (the config file's folder);
 * defaults to the working directory.
 */
export function parseResolverConfig(json: unknown, baseDir: string = process.cwd()): ResolverConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) invalid('the resolver config must be a JSON object {"schema": "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x", "data": {...}}');
  const sdj = json as Record<string, unknown>;
  if (typeof sdj.schema !== 'string') invalid('the resolver config has no "schema" string (expected iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x)');
  if (!('data' in sdj)) invalid('the resolver config has no "data" key');
  const key = parseSchemaUri(sdj.schema);
  if (!isSchemaKey(key) || key.vendor !== 'com.snowplowanalytics.iglu' || key.name !== 'resolver-config' || key.format !== 'jsonschema' || key.model !== 1) {
    invalid(`"schema" is ${JSON.stringify(sdj.schema)}; expected iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-*-*`);
  }
  const version = schemaVerToString(key);
  let schemaText: string;
  try {
    schemaText = readFileSync(join(builtinRegistryRoot(), 'schemas', 'com.snowplowanalytics.iglu', 'resolver-config', 'jsonschema', version), 'utf8');
  } catch {
    return invalid(`resolver-config version ${version} is not known (furrow knows the versions in its built-in registry: 1-0-0 to 1-0-3)`);
  }
  const compiled = createSchemaCompiler().compile(JSON.parse(schemaText));
  if (!compiled.ok) throw new Error(`built-in resolver-config ${version} does not compile`);
  const data = sdj.data;
  if (!compiled.validate(data)) {
    const reports = toDataReports(compiled.validate.errors, data, compiled.validate.schema).map((r) => r.message);
    invalid(`the resolver config does not match resolver-config ${version}: ${reports.join('; ')}`);
  }
  const d = data as { cacheSize: number; cacheTtl?: number | null; repositories: Array<Record<string, unknown>> };
  const names = new Set<string>();
  const repositories = d.repositories.map((r, i): RepositoryConfig => {
    const name = r.name as string;
    if (names.has(name)) invalid(`repositories[${i}].name ${JSON.stringify(name)} is used by two repositories; names must be unique`);
    names.add(name);
    const conn = r.connection as { embedded?: { path: string }; http?: { uri: string; apikey?: string | null } };
    let connection: RepositoryConnection;
    if (conn.embedded) {
      const p = conn.embedded.path;
      connection = Object.freeze({ kind: 'embedded' as const, path: isAbsolute(p) ? p : resolve(baseDir, p) });
    } else {
      const uri = conn.http!.uri;
      let u: URL;
      try {
        u = new URL(uri);
      } catch {
        return invalid(`repositories[${i}].connection.http.uri ${JSON.stringify(uri)} is not a URL`);
      }
      if (u.protocol !== 'http:' && u.protocol !== 'https:') invalid(`repositories[${i}].connection.http.uri ${JSON.stringify(uri)} must be http:// or https://`);
      connection = Object.freeze({ kind: 'http' as const, uri, apikey: conn.http!.apikey ?? null });
    }
    return Object.freeze({ name, priority: r.priority as number, vendorPrefixes: Object.freeze([...(r.vendorPrefixes as string[])]), connection });
  });
  const cacheTtl = d.cacheTtl ?? null;
  return Object.freeze({ version, cacheSize: d.cacheSize, cacheTtl, repositories: Object.freeze(repositories) });
}

/** Reads and parses a resolver config file (JSON, as Snowplow's `resolver.json`). */
export function readResolverConfigFile(path: string): ResolverConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `cannot read resolver config ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FurrowError('CONFIG_PARSE', `resolver config ${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseResolverConfig(json, resolve(path, '..'));
  } catch (e) {
    if (e instanceof FurrowError) throw new FurrowError(e.code, `${path}: ${e.message.replace(/^[A-Z_]+: /, '')}`);
    throw e;
  }
}
