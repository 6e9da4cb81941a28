/**
 * Adapters turn one collector payload into raw events (tracker-protocol parameters).
 * One file per adapter; `registry.ts` maps `vendor/version` paths to them.
 *
 *   CollectorPayload (Thrift) --loader--> LoadedPayload --adapter--> RawEvent[] | failure messages
 */
import type { IgluResolver } from '../../iglu-resolver/types.js';

/** A collector payload after the Thrift loader's checks (../shared/spec/enrich.md §0 step 2). */
export interface LoadedPayload {
  api: { vendor: string; version: string };
  /** Querystring name/value pairs in order; a name without `=` has value null. */
  querystring: Array<{ name: string; value: string | null }>;
  contentType: string | null;
  body: string | null;
  source: { name: string; encoding: string; hostname: string | null };
  context: {
    /** collector timestamp, ms since epoch */
    timestamp: number | null;
    ipAddress: string | null;
    useragent: string | null;
    refererUri: string | null;
    headers: string[];
    /** network user id (UUID) */
    userId: string | null;
  };
}

/** Tracker-protocol parameters for one event plus where it came from (bad-row `RawEvent` payload). */
export interface RawEvent {
  api: { vendor: string; version: string };
  /** Insertion-ordered; null = parameter present without a value. */
  parameters: Map<string, string | null>;
  contentType: string | null;
  source: LoadedPayload['source'];
  context: LoadedPayload['context'];
}

/** Failure messages as Snowplow's bad rows encode them (shape identifies the variant). */
export type AdapterFailureMessage =
  | { field: string; value: string | null; error: string } // NotJson
  | { json: unknown; error: string } // NotIglu (json: the parsed JSON value, as in the bad row)
  | { field: string; value: string | null; expectation: string } // InputData
  | { actual: string | null; expectedMapping: Record<string, string>; expectation: string } // SchemaMapping
  | { schemaKey: string; error: unknown } // IgluError (tp2 payload_data validation)
  | { schemaKey: string; schemaCriterion: string }; // CriterionMismatch

export type AdapterOutcome = { ok: true; events: RawEvent[] } | { ok: false; messages: AdapterFailureMessage[] };

export interface AdapterDeps {
  resolver: IgluResolver;
  /**
   * Nesting limit for the JSON bodies the Snowplow adapters parse (the enricher's `validation.maxJsonDepth`);
   * default ADAPTER_MAX_JSON_DEPTH. Deeper bodies become tracker_protocol_violations / adapter_failures.
   */
  maxJsonDepth?: number;
}

export interface Adapter {
  /** e.g. `com.mailchimp` / `v1` — matched against the collector path `/{vendor}/{version}`. */
  readonly vendor: string;
  readonly version: string;
  /** tp2 and redirect failures are `tracker_protocol_violations`; every other adapter's are `adapter_failures`. */
  readonly failureKind: 'adapter_failures' | 'tracker_protocol_violations';
  toRawEvents(payload: LoadedPayload, deps: AdapterDeps): AdapterOutcome | Promise<AdapterOutcome>;
}
