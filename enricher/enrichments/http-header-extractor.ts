/**
 * http_header_extractor_config (iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/
 * 1-0-0): one org.ietf/http_header/1-0-0 {name, value} (both trimmed) per collector header whose name fully matches
 * `headersPattern` (a Java regex; compiled once, anchored at both ends), in header order.
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { FurrowError } from '../../common/errors.js';
import { t } from '../../config/schema.js';

export const HTTP_HEADER_SCHEMA = 'iglu:org.ietf/http_header/jsonschema/1-0-0';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

class HttpHeaderExtractorEnrichment implements Enrichment {
  readonly identifier = 'http-header-extractor';
  constructor(
    readonly schemaKey: string,
    private readonly pattern: RegExp,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    let out: SelfDescribingData[] | null = null;
    for (const h of input.raw.context.headers) {
      const colon = h.indexOf(':');
      if (colon < 0) continue;
      const name = h.slice(0, colon);
      if (!this.pattern.test(name)) continue;
      (out ??= []).push({ schema: HTTP_HEADER_SCHEMA, data: { name: name.trim(), value: h.slice(colon + 1).trim() } });
    }
    return out === null ? NO_OUTPUT : { derivedContexts: out };
  }
}

/** `http_header_extractor_config` `parameters`. */
export const httpHeaderExtractorParameters = t.object({ headersPattern: t.string({ minLength: 0 }) });

export const httpHeaderExtractorFactory: EnrichmentFactory = {
  name: 'http_header_extractor_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const src = readParameters(config, httpHeaderExtractorParameters).headersPattern;
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${src})$`);
    } catch (err) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `http_header_extractor_config: parameters.headersPattern is not a valid regular expression: ${(err as Error).message}`);
    }
    return new HttpHeaderExtractorEnrichment(config.schema, re);
  },
};
