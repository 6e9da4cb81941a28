/**
 * The contract between the enricher core and the enrichments (../shared/spec/enrich.md §4).
 *
 *   start-up:  config SDJ --factory.create()--> Enrichment   (parse, compile, open databases once)
 *   per event: Enrichment.enrich(input) --> mutates input.event fields, returns derived contexts / failures
 *
 * The core runs the enrichments through `registry.ts`'s pipeline in Snowplow's fixed order.
 */
import type { EnrichedEvent } from '../../formats/enriched-event.js';
import type { RawEvent } from '../adapters/adapter.js';
import type { IgluResolver, SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Logger } from '../../common/logger.js';

export interface EnrichmentInput {
  /** The event after phase 1 (tracker protocol mapped); enrichments set fields on it. */
  event: EnrichedEvent;
  raw: RawEvent;
  /** Parsed, validated `unstruct_event` inner SDJ (not the unstruct_event wrapper), or null. */
  unstructEvent: SelfDescribingData | null;
  /** Parsed, validated contexts (inner SDJs), in order. */
  contexts: SelfDescribingData[];
  /**
   * Derived contexts produced so far in this run, newest first (the pipeline's accumulator; set by the pipeline).
   * Enrichments that consume earlier outputs read it (bot_detection, asn_lookups, JS `getDerived_contexts`);
   * asn_lookups rewrites the ASN entity in place and the JS `eraseDerived_contexts()` empties it.
   */
  derivedContexts?: SelfDescribingData[];
  /**
   * Page-URL querystring as name/value pairs, URL-decoded with the payload encoding (Apache URLEncodedUtils
   * semantics). Optional: when undefined the pipeline parses `event.page_urlquery` itself before campaign
   * attribution / cross-navigation need it.
   */
  pageQuerystring?: Array<[string, string | null]>;
}

/** Enrichment failure message as in enrichment_failures 2-0-1 (enrich.md §5). */
export type EnrichmentFailureMessage =
  | { error: string }
  | { field: string; value: string | null; expectation: string }
  | { schemaKey: string; error: unknown };

export interface EnrichmentOutput {
  derivedContexts?: SelfDescribingData[];
  failures?: EnrichmentFailureMessage[];
  /** Set by the PII enrichment when `emitEvent` is on: the pii_transformation event's unstruct data. */
  piiEvent?: SelfDescribingData;
  /** Set by the JS enrichment when the script drops the event: no output at all. */
  drop?: boolean;
}

export interface Enrichment {
  /** Schema key of the config, e.g. iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1 */
  readonly schemaKey: string;
  /** Identifier used in bad rows (`enrichment.identifier`), e.g. `ua-parser`. */
  readonly identifier: string;
  enrich(input: EnrichmentInput): EnrichmentOutput | Promise<EnrichmentOutput>;
  /**
   * Events this enrichment can usefully have in flight at once (default 1): its calls made at the same time share
   * one wait (the JavaScript enrichment sends them to its script process in one message). The enricher then
   * processes that many records of a batch concurrently; output order is unchanged.
   */
  readonly concurrentEvents?: number;
  /** Releases timers, database handles, pools. */
  close?(): Promise<void>;
}

export interface EnrichmentDeps {
  resolver: IgluResolver;
  logger: Logger;
  /** Directory where downloaded assets (MaxMind, IAB, referer DBs) are cached. */
  assetsDir: string;
  /** fetch used for assets and external APIs (injected so tests can point at local servers). */
  fetch: typeof fetch;
  /**
   * Local files standing in for configured assets, keyed by the full asset URL (`uri/database`) or by the bare
   * `database` file name (e.g. the conformance runner maps `GeoLite2-City.mmdb` to ../shared/…/assets).
   * Checked before `uri` is used. `file://` URIs and plain local paths work without this.
   */
  localAssets?: Readonly<Record<string, string>>;
  /** How often downloaded (http/https) assets are re-fetched and hot-swapped; default 7 days, 0 = never. */
  assetsUpdatePeriodMs?: number;
  /** Base URL of the Open Exchange Rates API (default https://openexchangerates.org/api). */
  openExchangeRatesBaseUrl?: string;
  /** Base URL for the weather API; overrides `http://{apiHost}` from the weather config when set. */
  openWeatherMapBaseUrl?: string;
  /** Per-event time limit for each javascript_script_config call (default 1000 ms). */
  javascriptTimeoutMs?: number;
  /**
   * `validation.exitOnJsCompileError` (default true): a script that does not compile stops start-up; false = it is
   * logged and every event fails the enrichment ("Error compiling JavaScript function: [...]"), as Snowplow does.
   */
  exitOnJsCompileError?: boolean;
  /** Memory limit of each javascript_script_config's script process, MiB (default 256). */
  javascriptMaxMemoryMb?: number;
  /** Connect / statement timeout of the sql_query enrichment (default 5000 ms). */
  sqlTimeoutMs?: number;
  /** Endpoint for s3:// asset URIs (e.g. a local S3 stand-in); default = AWS. */
  s3Endpoint?: string;
  /** Replaces parts of the sql_query enrichment's `database.postgresql` connection (tests, conformance). */
  postgresOverride?: { host?: string; port?: number; user?: string; password?: string; database?: string };
}

/** A failure with the enrichment it came from, as enrichment_failures 2-0-1 `failure.messages[]` wants it. */
export interface TaggedEnrichmentFailure {
  enrichment: { schemaKey: string; identifier: string } | null;
  message: EnrichmentFailureMessage;
}

export interface EnrichmentPipelineResult {
  /** Newest first, in the order Snowplow would write them into `derived_contexts`. */
  derivedContexts: SelfDescribingData[];
  failures: TaggedEnrichmentFailure[];
  /** The pii_transformation unstruct data when the PII enrichment has `emitEvent` and changed something. */
  piiEvent: SelfDescribingData | null;
  /** A JS enrichment called `event.drop()`: emit nothing for this event. */
  drop: boolean;
  /** A JS enrichment replaced `contexts` / `unstruct_event`: the core re-validates them (phase 3). */
  contextsChanged: boolean;
  unstructEventChanged: boolean;
}

export interface EnrichmentPipeline {
  /** The enabled enrichments, in execution order. */
  readonly enrichments: readonly Enrichment[];
  /**
   * Tag for failures of the always-on `_sp` parsing (core): `{schemaKey, identifier: 'cross-navigation'}` when the
   * cross_navigation enrichment is enabled, else null (enrich.md, vectors/unit/cross_navigation.json).
   */
  readonly crossNavigation: { schemaKey: string; identifier: string } | null;
  run(input: EnrichmentInput): Promise<EnrichmentPipelineResult>;
  close(): Promise<void>;
}

export interface EnrichmentFactory {
  /** Config schema name (`data.name` / schema name), e.g. `ua_parser_config`. */
  readonly name: string;
  /** Accepted config schema versions, e.g. `1-*-*`. */
  readonly criterion: string;
  create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment>;
}
