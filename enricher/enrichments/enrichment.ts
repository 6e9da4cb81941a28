/**
 * The contract between the enricher core and the enrichments (../shared/spec/enrich.md §4).
 *
 *   start-up:  config SDJ --factory.create()--> Enrichment   (parse, compile, open databases once)
 *   per event: Enrichment.enrich(input) --> mutates input.event fields, returns derived contexts / failures
 *
 * The core runs the enrichments through `registry.ts`'s pipeline in Snowplow's fixed order.
 */
import type { EnrichedEvent } from '../event.js';
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
}

export interface EnrichmentFactory {
  /** Config schema name (`data.name` / schema name), e.g. `ua_parser_config`. */
  readonly name: string;
  /** Accepted config schema versions, e.g. `1-*-*`. */
  readonly criterion: string;
  create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment>;
}
