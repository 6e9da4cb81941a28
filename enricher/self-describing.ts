/**
 * Self-describing JSON (SDJ) helpers: Iglu URIs, criteria, SDJ parsing and printing
 * (../shared/spec/enrich.md §2.4, §6.5). Entities keep their number lexemes via the shadow of json.ts.
 */
import type { ClientError, SelfDescribingData } from '../iglu-resolver/types.js';
import { stringifyJson } from './json.js';

export interface SchemaKey {
  vendor: string;
  name: string;
  format: string;
  model: number;
  revision: number;
  addition: number;
}

const URI_RE = /^iglu:([a-zA-Z0-9\-_.]+)\/([a-zA-Z0-9\-_]+)\/([a-zA-Z0-9\-_]+)\/([^/]+)$/;
const VER_RE = /^([1-9][0-9]*)-(0|[1-9][0-9]*)-(0|[1-9][0-9]*)$/;

export type SchemaKeyError = 'INVALID_IGLUURI' | 'INVALID_SCHEMAVER';

/**
 * Parsed keys by URI text. A pipeline sees a handful of distinct schemas, each on every event: a Map hit instead of
 * two regex matches and an object per entity (bench corpus: ~0.3 µs CPU per event). Keys are frozen (shared).
 * Bounded: short URIs only, and the map starts over when full, so hostile unique URIs cannot grow it.
 */
const KEY_CACHE = new Map<string, Readonly<SchemaKey> | SchemaKeyError>();
const KEY_CACHE_MAX = 1000;
const KEY_CACHE_MAX_URI = 256;

export function parseSchemaKey(uri: string): Readonly<SchemaKey> | SchemaKeyError {
  const hit = KEY_CACHE.get(uri);
  if (hit !== undefined) return hit;
  const k = parseSchemaKeyText(uri);
  if (uri.length <= KEY_CACHE_MAX_URI) {
    if (KEY_CACHE.size >= KEY_CACHE_MAX) KEY_CACHE.clear();
    KEY_CACHE.set(uri, typeof k === 'string' ? k : Object.freeze(k));
  }
  return k;
}

function parseSchemaKeyText(uri: string): SchemaKey | SchemaKeyError {
  const m = URI_RE.exec(uri);
  if (!m) return 'INVALID_IGLUURI';
  const v = VER_RE.exec(m[4]!);
  if (!v) return 'INVALID_SCHEMAVER';
  return { vendor: m[1]!, name: m[2]!, format: m[3]!, model: Number(v[1]), revision: Number(v[2]), addition: Number(v[3]) };
}

/** A criterion like `iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*`. */
export interface SchemaCriterion {
  readonly text: string;
  matches(key: SchemaKey): boolean;
}

export function criterion(text: string): SchemaCriterion {
  const m = /^iglu:([^/]+)\/([^/]+)\/([^/]+)\/(\d+|\*)-(\d+|\*)-(\d+|\*)$/.exec(text);
  if (!m) throw new Error(`invalid schema criterion ${text}`);
  const [, vendor, name, format, mo, re, ad] = m;
  const num = (s: string | undefined): number | null => (s === '*' || s === undefined ? null : Number(s));
  const model = num(mo);
  const revision = num(re);
  const addition = num(ad);
  return Object.freeze({
    text,
    matches: (k: SchemaKey): boolean =>
      k.vendor === vendor && k.name === name && k.format === format &&
      (model === null || k.model === model) && (revision === null || k.revision === revision) && (addition === null || k.addition === addition),
  });
}

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

export type SdjOutcome = { ok: true; key: Readonly<SchemaKey>; entity: Entity } | { ok: false; error: SchemaKeyError | 'INVALID_DATA_PAYLOAD' };

/** A JSON value as SDJ: an object with a string `schema` that is an Iglu URI and a `data` key. */
export function toSdj(value: unknown, shadow?: unknown): SdjOutcome {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'INVALID_DATA_PAYLOAD' };
  const o = value as Record<string, unknown>;
  const schema = o['schema'];
  if (typeof schema !== 'string' || !Object.hasOwn(o, 'data')) return { ok: false, error: 'INVALID_DATA_PAYLOAD' };
  const key = parseSchemaKey(schema);
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

export function schemaKeyToUri(k: SchemaKey): string {
  return `iglu:${k.vendor}/${k.name}/${k.format}/${k.model}-${k.revision}-${k.addition}`;
}
