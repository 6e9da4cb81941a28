/**
 * What a forwarder target declares about its config, beside its implementation (`<name>.ts` + `<name>-config.ts`):
 * the JSON Schema of its `target { ... }` block (config/schema.ts), its vendor's request limits, and how the
 * validated block becomes the target's typed config (secrets read from the environment here, once).
 * forwarders/config.ts reads the block with config/reader.ts and calls `build`; target-configs.ts lists them.
 */
import type { Schema, Static } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';

export interface TargetConfigContext {
  /** Where the block sits in the file (`destinations[0].target`), for messages. */
  readonly path: string;
  /** The value of the environment variable named by `key` (a `*_env` key of the block), as a Secret. */
  secret(key: string, envName: string): Secret;
}

/** Vendor hard limits (events per request, bytes per request): batch settings are capped to them. */
export interface TargetLimits {
  readonly maxEvents: number;
  readonly maxBytes: number;
}

export interface TargetConfigModule<S extends Schema<unknown>, C extends { readonly type: string }> {
  readonly schema: S;
  readonly limits: TargetLimits;
  build(block: Static<S>, cx: TargetConfigContext): C;
  /** The batch a destination gets when its file says nothing (default: the vendor limits). */
  defaultBatch?(cfg: C): TargetLimits;
}

/** Declares a target's config module (checks the shape, keeps the schema's static type). */
export function targetConfig<S extends Schema<unknown>, C extends { readonly type: string }>(m: TargetConfigModule<S, C>): TargetConfigModule<S, C> {
  return m;
}
