/**
 * bot_detection_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/bot_detection_enrichment_config/
 * jsonschema/1-0-*): one verdict from the signals earlier steps produced.
 *
 *   (indicators listed in the schema's order: yauaa, iab, asnLookups, clientSideDetection)
 *   yauaa                a yauaa_context with deviceClass Robot/Robot Mobile/Robot Imitator or agentClass Robot/Robot Mobile
 *                        (furrow cannot run YAUAA, so this signal only fires for such a context supplied otherwise)
 *   iab                  the IAB spiders_and_robots context with spiderOrRobot=true
 *   asnLookups           the asn/1-0-1 context with likelyBot=true
 *   clientSideDetection  a tracker context com.snowplowanalytics.snowplow/client_side_bot_detection/1-0-0 with bot=true
 *   → derived context com.snowplowanalytics.snowplow/bot_detection/1-0-1 {bot, indicators} (always emitted)
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { IAB_SCHEMA } from './iab-spiders-and-robots.js';
import { ASN_SCHEMA } from './ip-lookups.js';

export const BOT_DETECTION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/bot_detection/jsonschema/1-0-1';
const CLIENT_SIDE = /^iglu:com\.snowplowanalytics\.snowplow\/client_side_bot_detection\/jsonschema\/1-\d+-\d+$/;
const YAUAA = /^iglu:nl\.basjes\/yauaa_context\/jsonschema\/1-\d+-\d+$/;
const YAUAA_DEVICE = new Set(['Robot', 'Robot Mobile', 'Robot Imitator']);
const YAUAA_AGENT = new Set(['Robot', 'Robot Mobile']);

const field = (d: unknown, k: string): unknown => (typeof d === 'object' && d !== null ? (d as Record<string, unknown>)[k] : undefined);

class BotDetectionEnrichment implements Enrichment {
  readonly identifier = 'bot-detection';
  constructor(
    readonly schemaKey: string,
    private readonly use: { yauaa: boolean; iab: boolean; asn: boolean; client: boolean },
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const indicators: string[] = [];
    const dc = input.derivedContexts ?? [];
    if (this.use.yauaa && dc.some((c) => YAUAA.test(c.schema) && (YAUAA_DEVICE.has(field(c.data, 'deviceClass') as string) || YAUAA_AGENT.has(field(c.data, 'agentClass') as string)))) {
      indicators.push('yauaa');
    }
    if (this.use.iab && dc.some((c) => c.schema === IAB_SCHEMA && field(c.data, 'spiderOrRobot') === true)) indicators.push('iab');
    if (this.use.asn && dc.some((c) => c.schema === ASN_SCHEMA && field(c.data, 'likelyBot') === true)) indicators.push('asnLookups');
    if (this.use.client && input.contexts.some((c) => CLIENT_SIDE.test(c.schema) && field(c.data, 'bot') === true)) indicators.push('clientSideDetection');
    return { derivedContexts: [{ schema: BOT_DETECTION_SCHEMA, data: { bot: indicators.length > 0, indicators } }] };
  }
}

/** `bot_detection_enrichment_config` `parameters`: which signals count. */
const botDetectionParameters = t.object({
  useYauaa: t.boolean({ default: false }),
  useIab: t.boolean({ default: false }),
  useAsnLookups: t.boolean({ default: false }),
  useClientSideDetection: t.boolean({ default: false }),
});

export const botDetectionFactory: EnrichmentFactory = {
  name: 'bot_detection_enrichment_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const p = readParameters(config, botDetectionParameters);
    return new BotDetectionEnrichment(config.schema, { yauaa: p.useYauaa, iab: p.useIab, asn: p.useAsnLookups, client: p.useClientSideDetection });
  },
};
