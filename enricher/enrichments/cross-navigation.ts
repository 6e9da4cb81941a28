/**
 * cross_navigation_config (iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0):
 * the cross_navigation context from the page-URL `_sp` parameter.
 *
 *   _sp = duid . epoch-ms . session_id . b64url(user_id) . b64url(source_id) . source_platform . b64url(reason)
 *   (more than 7 parts → ignored). Context com.snowplowanalytics.snowplow/cross_navigation/1-0-0 when both duid and a
 *   valid timestamp are present; timestamp as ISO-8601 UTC with the fraction's trailing zeros dropped.
 * The atomic refr_domain_userid / refr_dvce_tstamp (and the failure for a malformed timestamp, tagged with this
 * enrichment via EnrichmentPipeline.crossNavigation) are the core's: they are set whether or not this is enabled.
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';

export const CROSS_NAVIGATION_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

function b64(s: string | undefined): string | null {
  if (s === undefined || s === '') return null;
  const v = Buffer.from(s.replace(/[^A-Za-z0-9+/_-]/g, ''), 'base64').toString('utf8');
  return v === '' ? null : v;
}

function part(s: string | undefined): string | null {
  return s === undefined || s === '' ? null : s;
}

/** `2015-03-13T11:19:21.368Z`; `.100` → `.1`; no fraction when 0 (Java ISO_DATE_TIME of a UTC LocalDateTime + Z). */
export function isoMinimal(ms: number): string {
  const iso = new Date(ms).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac === '' ? '' : `.${frac}`}Z`;
}

export function crossNavigationContext(sp: string | null): Record<string, string | null> | null {
  if (sp === null) return null;
  const parts = sp.split('.');
  if (parts.length > 7) return null;
  const duid = part(parts[0]);
  const ts = parts[1];
  if (duid === null || ts === undefined || !/^-?\d{1,18}$/.test(ts)) return null;
  const ms = Number(ts);
  if (!Number.isSafeInteger(ms) || Number.isNaN(new Date(ms).getTime())) return null;
  return {
    domain_user_id: duid,
    timestamp: isoMinimal(ms),
    session_id: part(parts[2]),
    user_id: b64(parts[3]),
    source_id: b64(parts[4]),
    source_platform: part(parts[5]),
    reason: b64(parts[6]),
  };
}

class CrossNavigationEnrichment implements Enrichment {
  readonly identifier = 'cross-navigation';
  constructor(readonly schemaKey: string) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const qs = input.pageQuerystring;
    if (qs === undefined || qs.length === 0) return NO_OUTPUT;
    let sp: string | null = null;
    for (const [k, v] of qs) if (k === '_sp') sp = v;
    const ctx = crossNavigationContext(sp);
    return ctx === null ? NO_OUTPUT : { derivedContexts: [{ schema: CROSS_NAVIGATION_SCHEMA, data: ctx }] };
  }
}

/** `cross_navigation_config` takes no parameters. */
const NO_PARAMETERS = t.object({});

export const crossNavigationFactory: EnrichmentFactory = {
  name: 'cross_navigation_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    readParameters(config, NO_PARAMETERS, { optional: true });
    return new CrossNavigationEnrichment(config.schema);
  },
};
