/**
 * Paths into ../shared (beside the project root) for the conformance tap tests. These files are Snowplow's (specs,
 * Iglu Central, example configs, upstream test vectors and assets) and stay outside the repository; only
 * `npm run conformance` reads them.
 */
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const VECTORS = join(SHARED, 'conformance', 'enrich');
export const ASSETS = join(VECTORS, 'assets');
export const SPEC = join(SHARED, 'spec');
export const IGLU_CENTRAL = join(SHARED, 'iglu-central');
export const SNOWPLOW_CONFIGS = join(SHARED, 'enrichment-configs');
export const THRIFT_CP = join(SHARED, 'tools', 'thrift_cp.py');
