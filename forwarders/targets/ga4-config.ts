/** `target { type = ga4, ... }`: GA4 Measurement Protocol. Implementation: ga4.ts. */
import { t } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';
import { targetConfig } from './target-config.js';
import { fieldList, vendorKeys, type VendorCommon } from './vendor-config.js';

export interface Ga4TargetConfig extends VendorCommon {
  readonly type: 'ga4';
  readonly measurementId: string;
  readonly apiSecret: Secret;
  readonly clientIdFields: readonly string[];
  readonly userIdFields: readonly string[];
  readonly validationEndpoint: boolean;
}

const schema = t.object({
  ...vendorKeys('https://www.google-analytics.com'),
  measurement_id: t.string(),
  api_secret_env: t.envName(),
  client_id_fields: fieldList(['domain_userid', 'network_userid']),
  user_id_fields: fieldList(['user_id']),
  validation_endpoint: t.boolean({ default: false }),
});

export const ga4Config = targetConfig({
  schema,
  // Measurement Protocol: 25 events, post body < 130 kB
  limits: { maxEvents: 25, maxBytes: 130 * 1024 },
  build: (b, cx): Ga4TargetConfig => ({
    type: 'ga4',
    baseUrl: b.base_url,
    eventNames: b.event_names,
    measurementId: b.measurement_id,
    apiSecret: cx.secret('api_secret_env', b.api_secret_env),
    clientIdFields: b.client_id_fields,
    userIdFields: b.user_id_fields,
    validationEndpoint: b.validation_endpoint,
  }),
});
