/**
 * Every forwarder target's config module, by `target.type`. A new target adds `<name>.ts`, `<name>-config.ts`
 * and one line here and in registry.ts (all in this folder).
 */
import { amplitudeConfig, type AmplitudeTargetConfig } from './amplitude-config.js';
import { brazeConfig, type BrazeTargetConfig } from './braze-config.js';
import { ga4Config, type Ga4TargetConfig } from './ga4-config.js';
import { httpConfig, type HttpTargetConfig } from './http-config.js';
import { kinesisConfig, type KinesisTargetConfig } from './kinesis-config.js';
import { mixpanelConfig, type MixpanelTargetConfig } from './mixpanel-config.js';
import type { TargetConfigModule, TargetLimits } from './target-config.js';
import type { Schema } from '../../config/schema.js';

export type TargetConfig = HttpTargetConfig | Ga4TargetConfig | AmplitudeTargetConfig | MixpanelTargetConfig | BrazeTargetConfig | KinesisTargetConfig;

export const TARGET_CONFIGS = {
  http: httpConfig,
  ga4: ga4Config,
  amplitude: amplitudeConfig,
  mixpanel: mixpanelConfig,
  braze: brazeConfig,
  kinesis: kinesisConfig,
} as const satisfies Record<TargetConfig['type'], TargetConfigModule<Schema<unknown>, TargetConfig>>;

/** Vendor hard limits (events per request, bytes per request) from their public API docs; batch settings are capped to them. */
export const VENDOR_LIMITS: Readonly<Record<TargetConfig['type'], TargetLimits>> = Object.freeze(
  Object.fromEntries(Object.entries(TARGET_CONFIGS).map(([k, m]) => [k, m.limits])) as Record<TargetConfig['type'], TargetLimits>,
);

export type { AmplitudeTargetConfig, BrazeTargetConfig, Ga4TargetConfig, HttpTargetConfig, KinesisTargetConfig, MixpanelTargetConfig };
export type { HttpAuth } from './http-config.js';
export type { VendorCommon } from './vendor-config.js';
