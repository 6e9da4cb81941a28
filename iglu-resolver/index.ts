/**
 * Public entry of the Iglu resolver. The Iglu helper implements these factories; the signatures are
 * the contract other parts code against.
 */
import type { IgluResolver } from './types.js';

export type { IgluResolver } from './types.js';

export interface ResolverOptions {
  /** fetch used for HTTP registries (tests inject one pointing at 127.0.0.1). */
  fetch?: typeof fetch;
  /** Extra embedded registry folders searched first (e.g. mini's `--iglu DIR`). */
  extraEmbeddedDirs?: string[];
  /** Leave out the default Iglu Central HTTP registry (offline use). */
  offline?: boolean;
}

/** Builds a resolver from a parsed resolver-config SDJ (iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-x). */
export declare function createResolver(config: unknown, options?: ResolverOptions): Promise<IgluResolver>;
/** Reads and validates a resolver.json file, then createResolver(). */
export declare function createResolverFromFile(path: string, options?: ResolverOptions): Promise<IgluResolver>;
/** A resolver over the built-in registry only (schemas/), plus options.extraEmbeddedDirs. */
export declare function createBuiltinResolver(options?: ResolverOptions): Promise<IgluResolver>;
