/**
 * The enrichment registry: config schema name → factory, and the pipeline that runs the enabled enrichments
 * in Snowplow's order (../shared/spec/enrich.md §4.1).
 *
 *   start-up:   enrichments/*.json --loadEnrichmentsDir--> SDJs --buildEnrichments--> EnrichmentPipeline
 *               (each config: Iglu-validated when its schema resolves, `enabled:false` skipped, unknown or
 *                unsupported names stop start-up, factory parses params and opens databases)
 *   per event:  pipeline.run(input) → { derivedContexts (newest first), failures (tagged), piiEvent, drop }
 *
 * The core runs its own phase-2 steps (v_collector check, page/referer URI, derived_tstamp, `_sp` atomic fields,
 * event_vendor/name/format/version) before `run`; no enrichment reads a field those steps write afterwards,
 * nor the other way round, so the result equals Snowplow's interleaving.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FurrowError } from '../../common/errors.js';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type {
  Enrichment,
  EnrichmentDeps,
  EnrichmentFactory,
  EnrichmentInput,
  EnrichmentOutput,
  EnrichmentPipeline,
  EnrichmentPipelineResult,
  TaggedEnrichmentFailure,
} from './enrichment.js';
import { parseSchemaKey } from '../../formats/schema-key.js';
import { isObject } from './enrichment-config.js';
import { thawEntity } from '../self-describing.js';
import { parseQuerystring } from './querystring.js';
import { anonIpFactory } from './anon-ip.js';
import { campaignAttributionFactory } from './campaign-attribution.js';
import { eventFingerprintFactory } from './event-fingerprint.js';
import { ipLookupsFactory } from './ip-lookups.js';
import { uaParserFactory } from './ua-parser.js';
import { userAgentUtilsFactory } from './user-agent-utils.js';
import { refererParserFactory } from './referer-parser.js';
import { iabFactory } from './iab-spiders-and-robots.js';
import { crossNavigationFactory } from './cross-navigation.js';
import { cookieExtractorFactory } from './cookie-extractor.js';
import { httpHeaderExtractorFactory } from './http-header-extractor.js';
import { asnLookupsFactory } from './asn-lookups.js';
import { botDetectionFactory } from './bot-detection.js';
import { piiFactory } from './pii-pseudonymizer.js';
import { javascriptScriptFactory } from './javascript-script.js';
import { apiRequestFactory } from './api-request.js';
import { sqlQueryFactory } from './sql-query.js';
import { currencyConversionFactory } from './currency-conversion.js';
import { weatherFactory } from './weather.js';

/** Execution order (enrich.md §4.1); names are config schema names. */
export const EXECUTION_ORDER: readonly string[] = [
  'iab_spiders_and_robots_enrichment',
  'user_agent_utils_config',
  'ua_parser_config',
  'currency_conversion_config',
  'referer_parser',
  'campaign_attribution',
  'cross_navigation_config',
  'event_fingerprint_config',
  'cookie_extractor_config',
  'http_header_extractor_config',
  'weather_enrichment_config',
  'yauaa_enrichment_config',
  'ip_lookups',
  'asn_lookups',
  'bot_detection_enrichment_config',
  'javascript_script_config',
  'sql_query_enrichment_config',
  'api_request_enrichment_config',
  'anon_ip',
  'pii_enrichment_config',
  'event_spec_enrichment_config',
];

/** Enrichments furrow knows but will not run, with the reason given at start-up. */
export const UNSUPPORTED_ENRICHMENTS: Readonly<Record<string, string>> = {
  yauaa_enrichment_config:
    'YAUAA is a Java library (nl.basjes yauaa) whose rule set furrow cannot reproduce faithfully; ' +
    'disable it or use ua_parser_config (ua_parser_context) instead',
  event_spec_enrichment_config:
    'the event specification enrichment is part of Snowplow’s commercial offering and its behaviour is not published',
};

/** Names that may appear more than once (Snowplow runs every configured script, in config order). */
const REPEATABLE = new Set(['javascript_script_config']);

export const ENRICHMENT_FACTORIES: ReadonlyMap<string, EnrichmentFactory> = new Map(
  [
    anonIpFactory,
    campaignAttributionFactory,
    eventFingerprintFactory,
    ipLookupsFactory,
    uaParserFactory,
    userAgentUtilsFactory,
    refererParserFactory,
    iabFactory,
    crossNavigationFactory,
    cookieExtractorFactory,
    httpHeaderExtractorFactory,
    asnLookupsFactory,
    botDetectionFactory,
    piiFactory,
    javascriptScriptFactory,
    apiRequestFactory,
    sqlQueryFactory,
    currencyConversionFactory,
    weatherFactory,
  ].map((f) => [f.name, f]),
);

const ORDER_INDEX = new Map(EXECUTION_ORDER.map((n, i) => [n, i]));

function criterionAccepts(criterion: string, schema: string): boolean {
  const key = parseSchemaKey(schema);
  if (key === null) return false;
  const [m, r, a] = criterion.split('-');
  return (m === '*' || Number(m) === key.model) && (r === '*' || Number(r) === key.revision) && (a === '*' || Number(a) === key.addition);
}

function withPath(path: string | null | undefined, message: string): string {
  if (!path || message.startsWith(path)) return message;
  return `${path}: ${message}`;
}

async function validateWithResolver(config: SelfDescribingData, name: string, deps: EnrichmentDeps): Promise<void> {
  let outcome;
  try {
    outcome = await deps.resolver.validate(config.schema, config.data);
  } catch (err) {
    deps.logger.warn({ enrichment: name, schema: config.schema, err: String(err) }, 'enrichment config not validated: resolver failed; using furrow’s own checks');
    return;
  }
  if (outcome.ok) return;
  const e = outcome.error;
  if (e.error === 'ResolutionError') {
    deps.logger.warn({ enrichment: name, schema: config.schema }, 'enrichment config schema not found by the resolver; using furrow’s own checks');
    return;
  }
  const problems =
    // Messages usually start with their path already ("$.parameters.x: string found…"): name the path once.
    'dataReports' in e ? e.dataReports.map((r) => withPath(r.path, r.message)) : e.schemaIssues.map((i) => withPath(i.path, i.message));
  throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name} (${config.schema}) does not match its schema: ${problems.join('; ')}`);
}

interface Planned {
  name: string;
  order: number;
  seq: number;
  config: SelfDescribingData;
  factory: EnrichmentFactory;
}

/**
 * Validates the configs, builds every enabled enrichment and returns the pipeline.
 * Throws FurrowError (and closes whatever it opened) on any config it cannot run faithfully.
 */
export async function buildEnrichments(configs: SelfDescribingData[], deps: EnrichmentDeps): Promise<EnrichmentPipeline> {
  const planned: Planned[] = [];
  const seen = new Set<string>();
  configs.forEach((config, seq) => {
    if (!isObject(config) || typeof config.schema !== 'string' || !isObject(config.data)) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `enrichment config #${seq + 1} is not a self-describing JSON {schema, data:{...}}`);
    }
    const key = parseSchemaKey(config.schema);
    if (key === null) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `enrichment config #${seq + 1}: schema "${config.schema}" is not an Iglu URI`);
    }
    const data = config.data as Record<string, unknown>;
    const enabled = data['enabled'];
    if (enabled === false) return;
    const name = key.name;
    if (enabled !== true) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name}: data.enabled must be true or false`);
    }
    const unsupported = UNSUPPORTED_ENRICHMENTS[name];
    if (unsupported !== undefined) {
      throw new FurrowError('ENRICH_ENRICHMENT_UNSUPPORTED', `${name} is enabled but not supported: ${unsupported}`);
    }
    const factory = ENRICHMENT_FACTORIES.get(name);
    const order = ORDER_INDEX.get(name);
    if (factory === undefined || order === undefined) {
      const known = [...ENRICHMENT_FACTORIES.keys()].sort().join(', ');
      throw new FurrowError(
        order === undefined ? 'ENRICH_ENRICHMENT_UNKNOWN' : 'ENRICH_ENRICHMENT_UNSUPPORTED',
        `enrichment "${name}" (${config.schema}) is not ${order === undefined ? 'known' : 'available'} to furrow; supported: ${known}`,
      );
    }
    if (!criterionAccepts(factory.criterion, config.schema)) {
      throw new FurrowError(
        'ENRICH_ENRICHMENT_UNSUPPORTED',
        `${name}: config schema ${config.schema} is not accepted (furrow accepts ${key.vendor}/${name}/jsonschema/${factory.criterion})`,
      );
    }
    if (seen.has(name) && !REPEATABLE.has(name)) {
      throw new FurrowError('ENRICH_ENRICHMENT_DUPLICATE', `${name} is configured more than once`);
    }
    seen.add(name);
    planned.push({ name, order, seq, config, factory });
  });
  planned.sort((a, b) => a.order - b.order || a.seq - b.seq);

  const built: Enrichment[] = [];
  try {
    for (const p of planned) {
      await validateWithResolver(p.config, p.name, deps);
      built.push(await p.factory.create(p.config, deps));
      deps.logger.info({ enrichment: p.name, schema: p.config.schema }, 'enrichment ready');
    }
  } catch (err) {
    await Promise.allSettled(built.map((e) => e.close?.()));
    throw err;
  }
  return createPipeline(built);
}

/** A pipeline over already-built enrichments, run in the given order (buildEnrichments sorts them first). */
export function createPipeline(enrichments: readonly Enrichment[]): EnrichmentPipeline {
  const crossNav = enrichments.find((e) => e.identifier === 'cross-navigation');
  return new Pipeline(enrichments, crossNav === undefined ? null : { schemaKey: crossNav.schemaKey, identifier: crossNav.identifier });
}

const NEEDS_QUERYSTRING = new Set(['campaign-attribution', 'cross-navigation']);

class Pipeline implements EnrichmentPipeline {
  private readonly tags: Array<{ schemaKey: string; identifier: string }>;
  private readonly needsQs: boolean[];
  private readonly changesInputs: boolean[];
  /** Enrichments that rewrite derived contexts in place (pii): they get mutable copies of immutable entities. */
  private readonly rewritesDerived: boolean[];

  constructor(
    readonly enrichments: readonly Enrichment[],
    readonly crossNavigation: { schemaKey: string; identifier: string } | null,
  ) {
    this.tags = enrichments.map((e) => Object.freeze({ schemaKey: e.schemaKey, identifier: e.identifier }));
    this.needsQs = enrichments.map((e) => NEEDS_QUERYSTRING.has(e.identifier));
    this.changesInputs = enrichments.map((e) => e.identifier === 'Javascript enrichment');
    this.rewritesDerived = enrichments.map((e) => e.identifier === 'pii');
  }

  async run(input: EnrichmentInput): Promise<EnrichmentPipelineResult> {
    const acc: SelfDescribingData[] = [];
    input.derivedContexts = acc;
    let failures: TaggedEnrichmentFailure[] | null = null;
    let piiEvent: SelfDescribingData | null = null;
    let drop = false;
    let contextsChanged = false;
    let unstructEventChanged = false;
    const list = this.enrichments;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      if (this.needsQs[i] === true && input.pageQuerystring === undefined) {
        input.pageQuerystring = parseQuerystring(input.event.page_urlquery, input.raw.source.encoding);
      }
      if (this.rewritesDerived[i] === true) {
        const dcs = input.derivedContexts ?? acc;
        for (let k = 0; k < dcs.length; k++) dcs[k] = thawEntity(dcs[k]!);
      }
      const watch = this.changesInputs[i] === true;
      const ctxBefore = watch ? input.event.contexts : null;
      const ueBefore = watch ? input.event.unstruct_event : null;
      let out: EnrichmentOutput;
      try {
        const r = e.enrich(input);
        out = r instanceof Promise ? await r : r;
      } catch (err) {
        // An enrichment must return failures, not throw; a throw is a bug, but the event still becomes a bad row.
        out = { failures: [{ error: `unexpected error in ${e.identifier}: ${err instanceof Error ? err.message : String(err)}` }] };
      }
      if (watch) {
        if (input.event.contexts !== ctxBefore) contextsChanged = true;
        if (input.event.unstruct_event !== ueBefore) unstructEventChanged = true;
      }
      const dc = out.derivedContexts;
      // Newest first: each step's contexts go in front of everything produced before (Snowplow `contexts2 ::: contexts`).
      const cur = input.derivedContexts ?? acc;
      if (dc !== undefined && dc.length > 0) cur.unshift(...dc);
      const f = out.failures;
      if (f !== undefined && f.length > 0) {
        failures ??= [];
        const tag = this.tags[i]!;
        for (const message of f) failures.push({ enrichment: tag, message });
      }
      if (out.piiEvent !== undefined) piiEvent = out.piiEvent;
      if (out.drop === true) {
        drop = true;
        break;
      }
    }
    return {
      derivedContexts: input.derivedContexts ?? acc,
      failures: failures ?? [],
      piiEvent,
      drop,
      contextsChanged,
      unstructEventChanged,
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.enrichments.map((e) => e.close?.()));
  }
}

const ENRICHMENTS_WRAPPER = /^iglu:com\.snowplowanalytics\.snowplow\/enrichments\/jsonschema\/1-\d+-\d+$/;

/**
 * Reads a Snowplow `enrichments/` folder: every `*.json` file (sorted by name) holds one enrichment config SDJ,
 * or the `enrichments/jsonschema/1-0-0` wrapper with an array of them.
 */
export async function loadEnrichmentsDir(dir: string): Promise<SelfDescribingData[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `enrichments directory ${dir} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  const out: SelfDescribingData[] = [];
  for (const n of names) {
    const path = join(dir, n);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new FurrowError('CONFIG_FILE_UNREADABLE', `${path} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    } catch (err) {
      throw new FurrowError('CONFIG_PARSE', `${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (!isObject(json) || typeof json['schema'] !== 'string' || json['data'] === undefined) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${path} is not a self-describing JSON {"schema": "iglu:...", "data": ...}`);
    }
    if (ENRICHMENTS_WRAPPER.test(json['schema'])) {
      const items = json['data'];
      if (!Array.isArray(items)) {
        throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${path}: data of ${json['schema']} must be an array of enrichment configs`);
      }
      for (const item of items) {
        if (!isObject(item) || typeof item['schema'] !== 'string') {
          throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${path}: every item of data must be a self-describing JSON`);
        }
        out.push({ schema: item['schema'], data: item['data'] });
      }
    } else {
      out.push({ schema: json['schema'], data: json['data'] });
    }
  }
  return out;
}
