/**
 * Where the tests' own fixtures live. Everything `npm test` reads is in the repository: furrow's built-in registry
 * (`schemas/`, derived from Iglu Central, Apache-2.0) and `test/fixtures/` (schemas, enrichment configs and assets
 * written for these tests). Snowplow's conformance vectors and example files stay outside (`../shared`) and are used
 * by `npm run conformance` only (test-conformance/).
 */
import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
/** An Iglu registry root (holds `schemas/`) with the tests' own com.acme schemas. */
export const TEST_REGISTRY = join(FIXTURES, 'iglu');
/** The built-in registry's root (holds `schemas/`): Iglu Central's JSON Schemas as furrow ships them. */
export const BUILTIN_REGISTRY = REPO_ROOT;
/** The built-in registry's schema tree (`<vendor>/<name>/jsonschema/<version>`). */
export const BUILTIN_SCHEMAS = join(REPO_ROOT, 'schemas');
/** Enrichment configs written for the tests from Snowplow's documented keys, one per enrichment. */
export const ENRICHMENT_CONFIGS = join(FIXTURES, 'enrichment-configs');
/** Small enrichment assets written for the tests (IAB lists, ASN list, referer database, ua-parser rules). */
export const ASSETS = join(FIXTURES, 'assets');
