/**
 * Building blocks shared by the third-party webhook adapters (../shared/spec/enrich.md §3).
 *
 * Every webhook becomes one or more unstructured events:
 *
 *   { tv: <tracker>, e: "ue", p: qs.p ?? <default platform>, ue_pr: <unstruct_event SDJ>,
 *     ...qs ∩ {nuid, aid, cv, eid, ttm, url} }
 */
import type { AdapterFailureMessage, AdapterOutcome, LoadedPayload, RawEvent } from '../adapter.js';

export const UNSTRUCT_EVENT_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0';
export const CONTEXTS_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';

/** Querystring parameters a webhook may pass through to the event. */
const PASSED_THROUGH = new Set(['nuid', 'aid', 'cv', 'eid', 'ttm', 'url']);

export type Params = Map<string, string | null>;
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** Java's map semantics: the last occurrence of a name wins, first position is kept. */
export function toParams(pairs: ReadonlyArray<{ name: string; value: string | null }>): Params {
  const m: Params = new Map();
  for (const p of pairs) m.set(p.name, p.value);
  return m;
}

/** Builds the tracker-protocol parameters of an unstructured event. */
export function unstructParams(tracker: string, platform: string, qs: Params, schema: string, data: Json): Params {
  const out: Params = new Map();
  out.set('tv', tracker);
  out.set('e', 'ue');
  out.set('p', qs.has('p') ? qs.get('p')! : platform);
  out.set('ue_pr', JSON.stringify({ schema: UNSTRUCT_EVENT_SCHEMA, data: { schema, data } }));
  for (const [k, v] of qs) if (PASSED_THROUGH.has(k)) out.set(k, v);
  return out;
}

export function rawEvent(payload: LoadedPayload, parameters: Params): RawEvent {
  return { api: payload.api, parameters, contentType: payload.contentType, source: payload.source, context: payload.context };
}

export function inputData(field: string, value: string | null, expectation: string): AdapterFailureMessage {
  return { field, value, expectation };
}

export function fail(...messages: AdapterFailureMessage[]): AdapterOutcome {
  return { ok: false, messages };
}

/**
 * Collects per-event results: any failure makes the whole payload fail (with every failure message);
 * no events at all is itself a failure.
 */
export function collect(results: ReadonlyArray<RawEvent | AdapterFailureMessage[]>): AdapterOutcome {
  const events: RawEvent[] = [];
  const messages: AdapterFailureMessage[] = [];
  for (const r of results) {
    if (Array.isArray(r)) messages.push(...r);
    else events.push(r);
  }
  if (messages.length > 0) return { ok: false, messages };
  if (events.length === 0) return fail(inputData('', null, 'empty list of events'));
  return { ok: true, events };
}

/** Picks the schema for an event type; `index` is given for multi-event bodies. */
export function lookupSchema(
  eventType: string | null | undefined,
  schemas: Readonly<Record<string, string>>,
  index?: number,
): { schema: string } | { failure: AdapterFailureMessage } {
  const at = index === undefined ? '' : ` at index ${index}`;
  if (eventType === null || eventType === undefined) {
    return { failure: { actual: null, expectedMapping: { ...schemas }, expectation: `cannot determine event type: type parameter not provided${at}` } };
  }
  if (Object.prototype.hasOwnProperty.call(schemas, eventType)) return { schema: schemas[eventType]! };
  const expectation = eventType === '' ? `cannot determine event type: type parameter empty${at}` : `no schema associated with the provided type parameter${at}`;
  return { failure: { actual: eventType, expectedMapping: { ...schemas }, expectation } };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Milliseconds since epoch → `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (what Iglu date-time validation accepts). */
export function isoMillis(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const year = y < 0 ? '-' + pad(-y, 4) : pad(y, 4);
  return `${year}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

const SQL_DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

/** `yyyy-MM-dd HH:mm:ss` (UTC) → ISO; anything else is returned unchanged, as upstream does. */
export function sqlDateTimeToIso(s: string): string {
  const m = SQL_DATETIME.exec(s);
  if (!m) return s;
  const [, y, mo, d, h, mi, se] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  const check = new Date(ms);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return s;
  return isoMillis(ms);
}

export interface FormatOptions {
  bools?: readonly string[];
  ints?: readonly string[];
  dateTimes?: readonly string[];
}

/**
 * Flat parameters → JSON object: empty or missing → null; bool keys `true`/`false` → booleans;
 * int keys → integers when they parse as one; date-time keys `yyyy-MM-dd HH:mm:ss` → ISO; else strings.
 */
export function formatParams(params: Params, opts: FormatOptions = {}): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of params) {
    if (v === null || v === '') out[k] = null;
    else if (opts.bools?.includes(k)) out[k] = v === 'true' ? true : v === 'false' ? false : v;
    else if (opts.ints?.includes(k)) out[k] = toInteger(v);
    else if (opts.dateTimes?.includes(k)) out[k] = sqlDateTimeToIso(v);
    else out[k] = v;
  }
  return out;
}

/** An integer-like string becomes a JSON number (exact when safe); anything else stays a string. */
function toInteger(v: string): Json {
  if (!/^[+-]?\d+$/.test(v)) return v;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/** Drops nuid, aid, cv and p, which are event-level parameters, not event data. */
export function withoutTrackerParams(params: Params): Params {
  const out: Params = new Map(params);
  out.delete('nuid');
  out.delete('aid');
  out.delete('cv');
  out.delete('p');
  return out;
}

/** Epoch seconds (number or numeric string) → ISO string; other values unchanged. */
function secondsToIso(v: Json): Json {
  if (typeof v === 'number' && Number.isInteger(v)) return isoMillis(v * 1000);
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return isoMillis(Number(v) * 1000);
  return v;
}

/**
 * Recursively converts epoch-second timestamps under `tsKeys` to ISO strings and removes the
 * discriminator key (`event` or `type`) where its value equals the event type.
 */
export function cleanupEventValues(json: Json, discriminator: readonly [string, string] | null, tsKeys: readonly string[]): Json {
  if (Array.isArray(json)) return json.map((j) => cleanupEventValues(j, discriminator, tsKeys));
  if (json === null || typeof json !== 'object') return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) {
    if (discriminator && k === discriminator[0] && v === discriminator[1]) continue;
    if (tsKeys.includes(k)) out[k] = secondsToIso(v);
    else if (v !== null && typeof v === 'object') out[k] = cleanupEventValues(v, discriminator, tsKeys);
    else out[k] = v;
  }
  return out;
}

/** snake_case / dash-case → camelCase, first letter lower-cased. */
export function camelCase(key: string): string {
  if (key === '') return key;
  return (key.charAt(0).toLowerCase() + key.slice(1)).replace(/[_-](\w)/g, (_m, c: string) => c.toUpperCase());
}

export function camelize(json: Json): Json {
  if (Array.isArray(json)) return json.map(camelize);
  if (json === null || typeof json !== 'object') return json;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(json)) out[camelCase(k)] = camelize(v);
  return out;
}

/** Default limit on JSON nesting in webhook bodies (Snowplow's maxJsonDepth default). */
export const MAX_JSON_DEPTH = 40;

function depthExceeds(v: unknown, limit: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (limit <= 0) return true;
  const values = Array.isArray(v) ? v : Object.values(v as object);
  for (const x of values) if (depthExceeds(x, limit - 1)) return true;
  return false;
}

/** Parses JSON text; errors are reported as `invalid json: …` like upstream. */
export function parseJson(text: string): { json: Json } | { error: string } {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (e) {
    return { error: `invalid json: ${(e as Error).message}` };
  }
  if (depthExceeds(json, MAX_JSON_DEPTH)) return { error: 'invalid json: maximum allowed JSON depth exceeded' };
  return { json };
}

export function isObject(j: Json | undefined): j is JsonObject {
  return j !== null && j !== undefined && typeof j === 'object' && !Array.isArray(j);
}

// Characters java.net.URI rejects in a query component (besides controls and non-ASCII spaces).
const ILLEGAL_QUERY_CHAR = /[\s"<>{}|\\^`]/;

/**
 * application/x-www-form-urlencoded → name/value pairs, as Apache's URLEncodedUtils parses a
 * java.net.URI query: illegal characters and malformed escapes are errors; `&` and `;` separate;
 * `+` is a space; a name without `=` has a null value.
 */
export function parseForm(s: string): { pairs: Array<{ name: string; value: string | null }> } | { error: string } {
  const bad = ILLEGAL_QUERY_CHAR.exec(s);
  if (bad) return { error: `Illegal character in query at index ${bad.index + 18}: http://localhost/?${s}` };
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) {
    const i = s.search(/%(?![0-9A-Fa-f]{2})/);
    return { error: `Malformed escape pair at index ${i + 18}: http://localhost/?${s}` };
  }
  const pairs: Array<{ name: string; value: string | null }> = [];
  for (const token of s.split(/[&;]/)) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    const name = decodeFormComponent(eq < 0 ? token : token.slice(0, eq)).trim();
    if (name === '') continue;
    const value = eq < 0 ? null : decodeFormComponent(token.slice(eq + 1));
    pairs.push({ name, value });
  }
  return { pairs };
}

function decodeFormComponent(s: string): string {
  const plus = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    // Invalid UTF-8 sequences decode to U+FFFD, as Java's decoder does.
    return Buffer.from(plus.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
}

/** Body + content type checks shared by most adapters. */
export function requireBody(payload: LoadedPayload, contentType: string | null, opts: { emptyIsMissing?: boolean; contentTypeContains?: boolean; reportContentTypeValue?: boolean } = {}): { body: string } | { outcome: AdapterOutcome } {
  const body = payload.body;
  if (body === null || (opts.emptyIsMissing && body === '')) return { outcome: fail(inputData('body', null, 'empty body: no events to process')) };
  if (contentType !== null) {
    const ct = payload.contentType;
    if (ct === null) return { outcome: fail(inputData('contentType', null, `no content type: expected ${contentType}`)) };
    const ok = opts.contentTypeContains ? ct.includes(contentType) : ct === contentType;
    if (!ok) return { outcome: fail(inputData('contentType', opts.reportContentTypeValue === false ? null : ct, `expected ${contentType}`)) };
  }
  return { body };
}

type RequireBodyOptions = Parameters<typeof requireBody>[2];

/** requireBody + form parsing; `parseFailure` builds the adapter's own message for an unparsable body. */
export function readFormBody(
  payload: LoadedPayload,
  check: RequireBodyOptions,
  parseFailure: (body: string, error: string) => AdapterFailureMessage,
): { body: string; pairs: Array<{ name: string; value: string | null }> } | { outcome: AdapterOutcome } {
  const checked = requireBody(payload, 'application/x-www-form-urlencoded', check);
  if ('outcome' in checked) return checked;
  const form = parseForm(checked.body);
  if ('error' in form) return { outcome: fail(parseFailure(checked.body, form.error)) };
  return { body: checked.body, pairs: form.pairs };
}

/** requireBody + JSON parsing (contentType null: no content-type check); a parse error is NotJson on `body` unless `parseFailure` says otherwise. */
export function readJsonBody(
  payload: LoadedPayload,
  contentType: string | null,
  check: RequireBodyOptions = {},
  parseFailure: (body: string, error: string) => AdapterFailureMessage = (body, error) => ({ field: 'body', value: body, error }),
): { body: string; json: Json } | { outcome: AdapterOutcome } {
  const checked = requireBody(payload, contentType, check);
  if ('outcome' in checked) return checked;
  const parsed = parseJson(checked.body);
  if ('error' in parsed) return { outcome: fail(parseFailure(checked.body, parsed.error)) };
  return { body: checked.body, json: parsed.json };
}
