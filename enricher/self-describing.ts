/**
 * Self-describing JSON (SDJ) helpers: SDJ parsing and printing (Iglu URIs: formats/schema-key.ts)
 * (../shared/spec/enrich.md §2.4, §6.5). Entities keep their number lexemes via the shadow of json.ts.
 */
import type { ClientError, SelfDescribingData } from '../iglu-resolver/types.js';
import { parseSchemaUriCached, type KeyParseError, type SchemaKey } from '../formats/schema-key.js';
import { stringifyJson } from './json.js';

/** The SDJ entity the enricher carries: schema URI, plain data, and the lexeme shadow of its data. */
export interface Entity extends SelfDescribingData {
  schema: string;
  data: unknown;
}

const SHADOWS = new WeakMap<object, unknown>();

export function makeEntity(schema: string, data: unknown, dataShadow?: unknown): Entity {
  const e: Entity = { schema, data };
  if (dataShadow !== undefined) SHADOWS.set(e, dataShadow);
  return e;
}

export type SdjOutcome = { ok: true; key: SchemaKey; entity: Entity } | { ok: false; error: KeyParseError | 'INVALID_DATA_PAYLOAD' };

/** A JSON value as SDJ: an object with a string `schema` that is an Iglu URI and a `data` key. */
export function toSdj(value: unknown, shadow?: unknown): SdjOutcome {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'INVALID_DATA_PAYLOAD' };
  const o = value as Record<string, unknown>;
  const schema = o['schema'];
  if (typeof schema !== 'string' || !Object.hasOwn(o, 'data')) return { ok: false, error: 'INVALID_DATA_PAYLOAD' };
  const key = parseSchemaUriCached(schema);
  if (typeof key === 'string') return { ok: false, error: key };
  const sh = shadow !== null && typeof shadow === 'object' ? (shadow as Record<string, unknown>)['data'] : undefined;
  return { ok: true, key, entity: makeEntity(schema, o['data'], sh) };
}

/** The data shadow of a child value (array element or object member) of a shadow tree. */
export function childShadow(shadow: unknown, key: string | number): unknown {
  if (shadow === null || typeof shadow !== 'object') return undefined;
  return (shadow as Record<string | number, unknown>)[key];
}

/**
 * Entities an enrichment hands out again and again from its cache (ua_parser's per user agent, ip_lookups' ASN per
 * address): deep-frozen, so whatever is derived from one — its JSON text here, its validation in the core — is
 * computed once and reused for every event that carries it. An enrichment that rewrites derived contexts in place
 * (pii) gets mutable copies from the pipeline (thawEntity).
 */
const IMMUTABLE = new WeakSet<object>();
const PRINTED = new WeakMap<object, string>();

export function immutableEntity(schema: string, data: unknown): SelfDescribingData {
  const e = Object.freeze({ schema, data: deepFreeze(data) });
  IMMUTABLE.add(e);
  return e;
}

export function isImmutableEntity(e: SelfDescribingData): boolean {
  return IMMUTABLE.has(e);
}

/** A mutable deep copy of an immutable entity (others are returned as they are). */
export function thawEntity(e: SelfDescribingData): SelfDescribingData {
  return IMMUTABLE.has(e) ? { schema: e.schema, data: structuredClone(e.data) } : e;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** `{"schema":…,"data":…}` with the data's original number lexemes. */
export function entityToJson(e: SelfDescribingData): string {
  if (IMMUTABLE.has(e)) {
    let text = PRINTED.get(e);
    if (text === undefined) {
      text = `{"schema":${JSON.stringify(e.schema)},"data":${stringifyJson(e.data)}}`;
      PRINTED.set(e, text);
    }
    return text;
  }
  return `{"schema":${JSON.stringify(e.schema)},"data":${stringifyJson(e.data, SHADOWS.get(e))}}`;
}

/**
 * Snowplow 6.5+ `isSystemError`: the resolution failed because a registry failed (RepoFailure/ClientFailure),
 * not because the schema does not exist. The resolver's own "invalid Iglu URI" entry (repository `Iglu Client`)
 * is bad input, not an outage.
 */
export function isIgluSystemError(error: ClientError): boolean {
  if (error.error !== 'ResolutionError') return false;
  return error.lookupHistory.some((h) => h.repository !== 'Iglu Client' && h.errors.some((e) => e.error === 'RepoFailure' || e.error === 'ClientFailure'));
}

export const CONTEXTS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';
export const UNSTRUCT_EVENT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';

/** The `contexts` / `derived_contexts` column: contexts/1-0-1 wrapper; empty list → null. */
export function formatContexts(entities: readonly SelfDescribingData[]): string | null {
  if (entities.length === 0) return null;
  let out = `{"schema":"${CONTEXTS_SCHEMA}","data":[`;
  for (let i = 0; i < entities.length; i++) {
    if (i > 0) out += ',';
    out += entityToJson(entities[i]!);
  }
  return out + ']}';
}

/** The `unstruct_event` column: unstruct_event/1-0-0 wrapper. */
export function formatUnstructEvent(entity: SelfDescribingData | null): string | null {
  if (entity === null) return null;
  return `{"schema":"${UNSTRUCT_EVENT_SCHEMA}","data":${entityToJson(entity)}}`;
}
