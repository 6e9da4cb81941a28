/**
 * campaign_attribution (iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-*):
 * mkt_* fields from the page-URL querystring.
 *
 *   for each field: the first configured parameter name (list order) present in the querystring wins;
 *   its decoded value goes through makeTsvSafe (no value / empty → null). Duplicated names: the last one wins.
 *   click ids: gclid→Google, msclkid→Microsoft, dclid→DoubleClick, then the config's mktClickId entries
 *   (overriding a default of the same name); the first present sets mkt_clickid and mkt_network.
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { FurrowError } from '../../common/errors.js';
import { querystringMap } from './querystring.js';
import { makeTsvSafe } from './tsv-safe.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

const DEFAULT_CLICK_IDS: ReadonlyArray<[string, string]> = [
  ['gclid', 'Google'],
  ['msclkid', 'Microsoft'],
  ['dclid', 'DoubleClick'],
];

interface CampaignConfig {
  medium: string[];
  source: string[];
  term: string[];
  content: string[];
  campaign: string[];
  clickIds: Array<[string, string]>;
}

function first(names: string[], qs: Map<string, string | null>): string | null {
  for (const n of names) if (qs.has(n)) return makeTsvSafe(qs.get(n));
  return null;
}

class CampaignAttributionEnrichment implements Enrichment {
  readonly identifier = 'campaign-attribution';
  constructor(
    readonly schemaKey: string,
    private readonly cfg: CampaignConfig,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const pairs = input.pageQuerystring;
    if (pairs === undefined || pairs.length === 0) return NO_OUTPUT;
    const qs = querystringMap(pairs);
    const ev = input.event;
    const c = this.cfg;
    const medium = first(c.medium, qs);
    const source = first(c.source, qs);
    const term = first(c.term, qs);
    const content = first(c.content, qs);
    const campaign = first(c.campaign, qs);
    if (medium !== null) ev.mkt_medium = medium;
    if (source !== null) ev.mkt_source = source;
    if (term !== null) ev.mkt_term = term;
    if (content !== null) ev.mkt_content = content;
    if (campaign !== null) ev.mkt_campaign = campaign;
    for (const [param, network] of c.clickIds) {
      if (qs.has(param)) {
        ev.mkt_clickid = makeTsvSafe(qs.get(param));
        ev.mkt_network = network;
        break;
      }
    }
    return NO_OUTPUT;
  }
}

const names = () => t.array(t.string({ minLength: 0 }));

/** `campaign_attribution` `parameters`: the querystring names of each marketing field; mktClickId: name → network. */
const campaignParameters = t.object({
  mapping: t.optional(t.string({ minLength: 0 })),
  fields: t.object({
    mktMedium: names(),
    mktSource: names(),
    mktTerm: names(),
    mktContent: names(),
    mktCampaign: names(),
    mktClickId: t.optional(t.record(t.string({ minLength: 0 }))),
  }),
});

export const campaignAttributionFactory: EnrichmentFactory = {
  name: 'campaign_attribution',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const p = readParameters(config, campaignParameters);
    const mapping = p.mapping ?? null;
    if (mapping !== null && mapping !== 'static') {
      throw new FurrowError(
        'ENRICH_ENRICHMENT_UNSUPPORTED',
        `campaign_attribution: parameters.mapping "${mapping}" is not supported (only "static", as in Snowplow)`,
      );
    }
    const f = p.fields;
    const clickIds = new Map<string, string>(DEFAULT_CLICK_IDS);
    for (const [k, v] of Object.entries(f.mktClickId ?? {})) clickIds.set(k, v);
    return new CampaignAttributionEnrichment(config.schema, {
      medium: [...f.mktMedium],
      source: [...f.mktSource],
      term: [...f.mktTerm],
      content: [...f.mktContent],
      campaign: [...f.mktCampaign],
      clickIds: [...clickIds],
    });
  },
};
