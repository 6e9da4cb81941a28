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
import { ConfigReader } from './enrichment-config.js';
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

export const campaignAttributionFactory: EnrichmentFactory = {
  name: 'campaign_attribution',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const r = new ConfigReader(config);
    const p = r.parameters();
    p.onlyKeys(['mapping', 'fields']);
    const mapping = p.optString('mapping');
    if (mapping !== null && mapping !== 'static') {
      throw new FurrowError(
        'ENRICH_ENRICHMENT_UNSUPPORTED',
        `campaign_attribution: parameters.mapping "${mapping}" is not supported (only "static", as in Snowplow)`,
      );
    }
    const f = p.object('fields');
    f.onlyKeys(['mktMedium', 'mktSource', 'mktTerm', 'mktContent', 'mktCampaign', 'mktClickId']);
    const clickIds = new Map<string, string>(DEFAULT_CLICK_IDS);
    const custom = f.optObject('mktClickId');
    if (custom !== null) {
      for (const k of Object.keys(custom.obj)) clickIds.set(k, custom.string(k));
    }
    return new CampaignAttributionEnrichment(config.schema, {
      medium: f.stringArray('mktMedium'),
      source: f.stringArray('mktSource'),
      term: f.stringArray('mktTerm'),
      content: f.stringArray('mktContent'),
      campaign: f.stringArray('mktCampaign'),
      clickIds: [...clickIds],
    });
  },
};
