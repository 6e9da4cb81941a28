/** `target { type = braze, ... }`: Braze /users/track. Implementation: braze.ts. */
import { t } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';
import { targetConfig } from './target-config.js';
import { fieldList, vendorKeys, type VendorCommon } from './vendor-config.js';

export interface BrazeTargetConfig extends VendorCommon {
  readonly type: 'braze';
  readonly apiKey: Secret;
  readonly appId: string | null;
  readonly externalIdFields: readonly string[];
  /** When no external id: send a user_alias {alias_name: <first of alias_fields>, alias_label}. null = require external id. */
  readonly aliasLabel: string | null;
  readonly aliasFields: readonly string[];
  readonly purchases: boolean;
  readonly defaultCurrency: string;
}

const schema = t.object({
  // No default: the REST endpoint of your Braze instance, e.g. https://rest.iad-01.braze.com
  ...vendorKeys(),
  api_key_env: t.envName(),
  app_id: t.optional(t.string()),
  external_id_fields: fieldList(['user_id']),
  use_alias: t.boolean({ default: true }),
  alias_label: t.string({ default: 'snowplow_domain_userid' }),
  alias_fields: fieldList(['domain_userid', 'network_userid']),
  purchases: t.boolean({ default: true }),
  default_currency: t.string({ default: 'USD' }),
});

export const brazeConfig = targetConfig({
  schema,
  // /users/track: 75 events / 75 purchases / 75 attributes per request
  limits: { maxEvents: 75, maxBytes: 4 * 1024 * 1024 },
  build: (b, cx): BrazeTargetConfig => ({
    type: 'braze',
    baseUrl: b.base_url,
    eventNames: b.event_names,
    apiKey: cx.secret('api_key_env', b.api_key_env),
    appId: b.app_id ?? null,
    externalIdFields: b.external_id_fields,
    aliasLabel: b.use_alias ? b.alias_label : null,
    aliasFields: b.alias_fields,
    purchases: b.purchases,
    defaultCurrency: b.default_currency,
  }),
});
