/** `target { type = amplitude, ... }`: Amplitude HTTP V2 API. Implementation: amplitude.ts. */
import { t } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';
import { targetConfig } from './target-config.js';
import { fieldList, vendorKeys, type VendorCommon } from './vendor-config.js';

export interface AmplitudeTargetConfig extends VendorCommon {
  readonly type: 'amplitude';
  readonly apiKey: Secret;
  readonly userIdFields: readonly string[];
  readonly deviceIdFields: readonly string[];
  readonly minIdLength: number | null;
  readonly includeIp: boolean;
}

const schema = t.object({
  ...vendorKeys('https://api2.amplitude.com'),
  api_key_env: t.envName(),
  user_id_fields: fieldList(['user_id']),
  device_id_fields: fieldList(['domain_userid', 'network_userid']),
  min_id_length: t.optional(t.integer({ minimum: 1, maximum: 255 })),
  include_ip: t.boolean({ default: true }),
});

export const amplitudeConfig = targetConfig({
  schema,
  // HTTP V2: < 2000 events and < 1 MB per request (413 otherwise)
  limits: { maxEvents: 2000, maxBytes: 1024 * 1024 },
  build: (b, cx): AmplitudeTargetConfig => ({
    type: 'amplitude',
    baseUrl: b.base_url,
    eventNames: b.event_names,
    apiKey: cx.secret('api_key_env', b.api_key_env),
    userIdFields: b.user_id_fields,
    deviceIdFields: b.device_id_fields,
    minIdLength: b.min_id_length ?? null,
    includeIp: b.include_ip,
  }),
});
