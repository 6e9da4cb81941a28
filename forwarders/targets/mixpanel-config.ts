/** `target { type = mixpanel, ... }`: Mixpanel /import. Implementation: mixpanel.ts. */
import { FurrowError } from '../../common/errors.js';
import { t } from '../../config/schema.js';
import type { Secret } from '../../common/secret.js';
import { targetConfig } from './target-config.js';
import { fieldList, vendorKeys, type VendorCommon } from './vendor-config.js';

export interface MixpanelTargetConfig extends VendorCommon {
  readonly type: 'mixpanel';
  readonly projectToken: Secret | null;
  readonly serviceAccount: { readonly username: string; readonly secret: Secret } | null;
  readonly projectId: string | null;
  readonly distinctIdFields: readonly string[];
  readonly includeIp: boolean;
}

const schema = t.object({
  ...vendorKeys('https://api.mixpanel.com'),
  project_token_env: t.optional(t.envName()),
  service_account: t.optional(t.object({ username: t.string(), secret_env: t.envName() })),
  project_id: t.optional(t.string()),
  distinct_id_fields: fieldList(['user_id', 'domain_userid', 'network_userid']),
  include_ip: t.boolean({ default: true }),
});

export const mixpanelConfig = targetConfig({
  schema,
  // /import: 2000 events; 2 MB uncompressed (older docs; newer say 10 MB)
  limits: { maxEvents: 2000, maxBytes: 2 * 1024 * 1024 },
  build(b, cx): MixpanelTargetConfig {
    if ((b.project_token_env === undefined) === (b.service_account === undefined)) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${cx.path}: give exactly one of project_token_env, service_account`);
    }
    const projectToken = b.project_token_env === undefined ? null : cx.secret('project_token_env', b.project_token_env);
    const sa = b.service_account;
    const serviceAccount = sa === undefined ? null : { username: sa.username, secret: cx.secret('service_account.secret_env', sa.secret_env) };
    const projectId = b.project_id ?? null;
    if (serviceAccount && projectId === null) throw new FurrowError('CONFIG_MISSING_KEY', `${cx.path}.project_id is required with a service account`);
    return {
      type: 'mixpanel',
      baseUrl: b.base_url,
      eventNames: b.event_names,
      projectToken,
      serviceAccount,
      projectId,
      distinctIdFields: b.distinct_id_fields,
      includeIp: b.include_ip,
    };
  },
});
