/**
 * cookie_extractor_config (iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0): one
 * org.ietf/http_cookie/1-0-0 {name, value} per configured cookie found in the collector's `Cookie:` headers
 * (RFC 6265 `name=value; name2=value2`, header name case-insensitive), in header order.
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';

export const HTTP_COOKIE_SCHEMA = 'iglu:org.ietf/http_cookie/jsonschema/1-0-0';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
const COOKIE_HEADER = /^cookie\s*:/i;

class CookieExtractorEnrichment implements Enrichment {
  readonly identifier = 'cookie-extractor';
  constructor(
    readonly schemaKey: string,
    private readonly names: ReadonlySet<string>,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    let out: SelfDescribingData[] | null = null;
    for (const h of input.raw.context.headers) {
      if (!COOKIE_HEADER.test(h)) continue;
      for (const pair of h.slice(h.indexOf(':') + 1).split(';')) {
        const eq = pair.indexOf('=');
        const name = (eq < 0 ? pair : pair.slice(0, eq)).trim();
        if (!this.names.has(name)) continue;
        const value = eq < 0 ? null : pair.slice(eq + 1).trim();
        (out ??= []).push({ schema: HTTP_COOKIE_SCHEMA, data: { name, value } });
      }
    }
    return out === null ? NO_OUTPUT : { derivedContexts: out };
  }
}

/** `cookie_extractor_config` `parameters`. */
export const cookieExtractorParameters = t.object({ cookies: t.array(t.string({ minLength: 0 })) });

export const cookieExtractorFactory: EnrichmentFactory = {
  name: 'cookie_extractor_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const p = readParameters(config, cookieExtractorParameters);
    return new CookieExtractorEnrichment(config.schema, new Set(p.cookies));
  },
};
