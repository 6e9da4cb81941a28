/**
 * Public entry of the Iglu resolver: factories that build registries from config and wire them into a Resolver.
 *
 *   createResolver(config)       extra embedded dirs → built-in ("Iglu Client Embedded") → the config's repositories
 *   createResolverFromFile(path) the same from a resolver.json file
 *   createBuiltinResolver()      extra embedded dirs → built-in → Iglu Central over HTTP (unless `offline`)
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { IgluResolver } from './types.js';
import type { Registry as PromRegistry } from 'prom-client';
import type { Logger } from '../common/logger.js';
import { BUILTIN_REGISTRY_NAME, builtinRegistryRoot } from './builtin.js';
import { EmbeddedRegistry } from './registries/embedded-registry.js';
import { HttpRegistry } from './registries/http-registry.js';
import type { Registry } from './registries/registry.js';
import { parseResolverConfig, readResolverConfigFile, type ResolverConfig } from './resolver-config.js';
import { Resolver } from './resolver.js';
import { createSchemaCompiler } from './validator.js';

export type { IgluResolver } from './types.js';
export type { ResolverConfig, RepositoryConfig } from './resolver-config.js';
export { parseResolverConfig, readResolverConfigFile } from './resolver-config.js';
export { parseSchemaUri, parseCriterion, criterionMatches, criterionToString, compareSchemaVer, parseSchemaVer, schemaKeyToUri, isSchemaKey } from '../formats/schema-key.js';
export type { SchemaKey, SchemaVer, SchemaCriterion } from '../formats/schema-key.js';

export interface ResolverOptions {
  /** fetch used for HTTP registries (tests inject one pointing at 127.0.0.1). */
  fetch?: typeof fetch;
  /** Extra embedded registry folders searched first (e.g. mini's `--iglu DIR`). A folder may hold `schemas/` or the vendor folders directly. */
  extraEmbeddedDirs?: string[];
  /** Leave out the default Iglu Central HTTP registry (offline use); with a resolver config, drops its iglucentral.com repositories. */
  offline?: boolean;
  /** Clock in ms for cache freshness and lookup history (tests). Default Date.now. */
  clock?: () => number;
  /** HTTP registries: whole-request timeout in ms (default 5000). */
  httpTimeoutMs?: number;
  /** HTTP registries: extra attempts after a network error or 5xx within one lookup (default 2). */
  httpRetries?: number;
  /** HTTP registries: first retry wait in ms, doubled each retry, capped at httpRetryMaxWaitMs (default 100). */
  httpRetryBaseMs?: number;
  /** HTTP registries: longest wait between retries in ms (default 1000; enrich's `iglu.maxWait`). */
  httpRetryMaxWaitMs?: number;
  /** Data nested deeper than this fails validation with keyword `maxJsonDepth` (default: no check). */
  maxJsonDepth?: number;
  /** Logs registry failures and outage fallbacks (warn). Default: silent. */
  logger?: Logger;
  /** Registers `furrow_iglu_registry_requests_total{repository,result}` and `furrow_iglu_lookups_total{result}`. */
  metricsRegistry?: PromRegistry;
}

export const IGLU_CENTRAL_URI = 'http://iglucentral.com';
const IGLU_CENTRAL_HOSTS = new Set(['iglucentral.com', 'mirror01.iglucentral.com']);

/** Resolver cache defaults of Snowplow's stock resolver.json. */
const DEFAULT_CACHE_SIZE = 500;
const DEFAULT_CACHE_TTL = 600;

function leadingRegistries(options: ResolverOptions): Registry[] {
  const out: Registry[] = (options.extraEmbeddedDirs ?? []).map((dir, i) => {
    const abs = resolve(dir);
    const schemasDir = existsSync(join(abs, 'schemas')) ? join(abs, 'schemas') : abs;
    // The empty prefix matches every vendor, so these are searched before any other repository.
    return new EmbeddedRegistry({ name: `Embedded ${abs}`, priority: -1000 + i, vendorPrefixes: [''], path: abs, schemasDir });
  });
  out.push(new EmbeddedRegistry({ name: BUILTIN_REGISTRY_NAME, priority: 0, vendorPrefixes: [], path: builtinRegistryRoot() }));
  return out;
}

function httpRegistry(r: { name: string; priority: number; vendorPrefixes: readonly string[]; uri: string; apikey: string | null }, options: ResolverOptions): HttpRegistry {
  return new HttpRegistry({
    ...r,
    fetch: options.fetch,
    timeoutMs: options.httpTimeoutMs,
    retries: options.httpRetries,
    retryBaseMs: options.httpRetryBaseMs,
    retryMaxWaitMs: options.httpRetryMaxWaitMs,
    logger: options.logger,
    clock: options.clock,
  });
}

function isIgluCentral(uri: string): boolean {
  try {
    return IGLU_CENTRAL_HOSTS.has(new URL(uri).hostname);
  } catch {
    return false;
  }
}

function build(config: ResolverConfig, extra: Registry[], options: ResolverOptions): IgluResolver {
  const registries: Registry[] = [...extra];
  for (const r of config.repositories) {
    if (registries.some((x) => x.name === r.name)) continue; // a config may list "Iglu Client Embedded" itself; ours serves it
    if (r.connection.kind === 'embedded') {
      registries.push(new EmbeddedRegistry({ name: r.name, priority: r.priority, vendorPrefixes: r.vendorPrefixes, path: r.connection.path }));
    } else {
      if (options.offline && isIgluCentral(r.connection.uri)) continue;
      registries.push(httpRegistry({ name: r.name, priority: r.priority, vendorPrefixes: r.vendorPrefixes, uri: r.connection.uri, apikey: r.connection.apikey }, options));
    }
  }
  return new Resolver({
    registries,
    compiler: createSchemaCompiler(),
    cacheSize: config.cacheSize,
    cacheTtl: config.cacheTtl,
    clock: options.clock,
    maxJsonDepth: options.maxJsonDepth ?? null,
    logger: options.logger,
    metricsRegistry: options.metricsRegistry,
  });
}

/** Builds a resolver from a parsed resolver-config SDJ (iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x). */
export async function createResolver(config: unknown, options: ResolverOptions = {}): Promise<IgluResolver> {
  return build(parseResolverConfig(config), leadingRegistries(options), options);
}

/** Reads and validates a resolver.json file, then createResolver(). Relative embedded paths are relative to the file. */
export async function createResolverFromFile(path: string, options: ResolverOptions = {}): Promise<IgluResolver> {
  return build(readResolverConfigFile(path), leadingRegistries(options), options);
}

/**
 * The default resolver: options.extraEmbeddedDirs, then the built-in registry (schemas/), then Iglu Central over HTTP
 * as Snowplow's default resolver config does — left out with `offline: true` (tests, air-gapped runs).
 */
export async function createBuiltinResolver(options: ResolverOptions = {}): Promise<IgluResolver> {
  const repositories = options.offline
    ? []
    : [{ name: 'Iglu Central', priority: 0, vendorPrefixes: [], connection: { kind: 'http' as const, uri: IGLU_CENTRAL_URI, apikey: null } }];
  const config: ResolverConfig = { version: '1-0-3', cacheSize: DEFAULT_CACHE_SIZE, cacheTtl: DEFAULT_CACHE_TTL, repositories };
  return build(config, leadingRegistries(options), options);
}
