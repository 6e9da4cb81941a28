/**
 * The enrichments mini runs when no `--enrichments DIR` is given: the ones Snowplow Mini enables by default
 * that need no download (campaign attribution, event fingerprint, ua-parser with the bundled uap-core rules).
 * IP lookups and the referer parser need database files; point `--enrichments` at a folder with their
 * configs (and local `uri`s) to add them.
 */
import type { SelfDescribingData } from '../iglu-resolver/types.js';

export const DEFAULT_ENRICHMENTS: readonly SelfDescribingData[] = Object.freeze([
  {
    schema: 'iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1',
    data: {
      vendor: 'com.snowplowanalytics.snowplow',
      name: 'campaign_attribution',
      enabled: true,
      parameters: {
        mapping: 'static',
        fields: {
          mktMedium: ['utm_medium'],
          mktSource: ['utm_source'],
          mktTerm: ['utm_term'],
          mktContent: ['utm_content'],
          mktCampaign: ['utm_campaign'],
        },
      },
    },
  },
  {
    schema: 'iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1',
    data: {
      vendor: 'com.snowplowanalytics.snowplow',
      name: 'event_fingerprint_config',
      enabled: true,
      parameters: { excludeParameters: ['cv', 'eid', 'nuid', 'stm'], hashAlgorithm: 'MD5' },
    },
  },
  {
    schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0',
    data: { vendor: 'com.snowplowanalytics.snowplow', name: 'ua_parser_config', enabled: true, parameters: {} },
  },
]);
