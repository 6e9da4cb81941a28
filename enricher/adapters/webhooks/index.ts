/**
 * The third-party webhook adapters, each a module in this folder, keyed by their collector path
 * `/{vendor}/{version}`. `createWebhookAdapters` takes the vendors' event schemas (Snowplow's
 * `adaptersSchemas` config block; defaults in schemas.ts).
 */
import type { Adapter } from '../adapter.js';
import { DEFAULT_ADAPTER_SCHEMAS, type AdapterSchemas } from './schemas.js';
import { callrailAdapter } from './callrail.js';
import { cloudfrontAccessLogAdapter } from './cloudfront-access-log.js';
import { googleAnalyticsAdapter } from './google-analytics.js';
import { hubspotAdapter } from './hubspot.js';
import { mailchimpAdapter } from './mailchimp.js';
import { mailgunAdapter } from './mailgun.js';
import { mandrillAdapter } from './mandrill.js';
import { marketoAdapter } from './marketo.js';
import { olarkAdapter } from './olark.js';
import { pagerdutyAdapter } from './pagerduty.js';
import { pingdomAdapter } from './pingdom.js';
import { sendgridAdapter } from './sendgrid.js';
import { statusGatorAdapter } from './statusgator.js';
import { unbounceAdapter } from './unbounce.js';
import { urbanAirshipAdapter } from './urban-airship.js';
import { veroAdapter } from './vero.js';

export { DEFAULT_ADAPTER_SCHEMAS, type AdapterSchemas };

export function createWebhookAdapters(schemas: AdapterSchemas = DEFAULT_ADAPTER_SCHEMAS): Adapter[] {
  return [
    callrailAdapter(schemas),
    cloudfrontAccessLogAdapter(schemas),
    googleAnalyticsAdapter(schemas),
    hubspotAdapter(schemas),
    mailchimpAdapter(schemas),
    mailgunAdapter(schemas),
    mandrillAdapter(schemas),
    marketoAdapter(schemas),
    olarkAdapter(schemas),
    pagerdutyAdapter(schemas),
    pingdomAdapter(schemas),
    sendgridAdapter(schemas),
    statusGatorAdapter(schemas),
    unbounceAdapter(schemas),
    urbanAirshipAdapter(schemas),
    veroAdapter(schemas),
  ];
}

/** The sixteen adapters with Snowplow's default schemas. */
export const WEBHOOK_ADAPTERS: readonly Adapter[] = createWebhookAdapters();
