/**
 * Locating furrow's built-in Iglu registry: the repository's `schemas/` folder (laid out `schemas/vendor/name/...`,
 * so the registry root is the folder that contains it). Found by walking up from this module, which works both from
 * the TypeScript sources and from `dist/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FurrowError } from '../common/errors.js';

/** Name of the built-in registry in lookup histories: the name Snowplow's Iglu client gives its embedded registry. */
export const BUILTIN_REGISTRY_NAME = 'Iglu Client Embedded';
/** File recording where the built-in schemas come from (Iglu Central revision). */
export const BUILTIN_SOURCE_FILE = 'SOURCE.json';

let cached: string | null = null;

/** The folder holding `schemas/` (the built-in registry's root in embedded-registry terms). */
export function builtinRegistryRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'schemas', BUILTIN_SOURCE_FILE))) return (cached = dir);
    const up = resolve(dir, '..');
    if (up === dir) break;
    dir = up;
  }
  throw new FurrowError('IGLU_BUILTIN_REGISTRY_MISSING', `no schemas/${BUILTIN_SOURCE_FILE} found above ${fileURLToPath(import.meta.url)}`);
}
