/**
 * Google Analytics 4 Measurement Protocol (web streams).
 *
 *   POST {base_url}/mp/collect?measurement_id=G-XXXX&api_secret=SECRET     (debug: /debug/mp/collect)
 *   Content-Type: application/json
 *   { "client_id": "...", "user_id": "...", "events": [ { "name": "...", "timestamp_micros": 1700000000000000, "params": {...} } ] }
 *
 * Vendor rules enforced here (public MP docs, "limitations"): ≤ 25 events per request, ≤ 25 params per event,
 * ≤ 25 user properties, event and param names ≤ 40 characters (letters, digits, _; start with a letter; no
 * reserved names or google_/ga_/firebase_ prefixes), user property names ≤ 24 and values ≤ 36 characters,
 * param values ≤ 100 characters (page_location 1000, page_referrer 420, page_title 300), body < 130 kB,
 * events backdated at most 72 hours. One request carries one client_id (and user_id), so a batch is grouped by
 * identity. GA4 answers 2xx even to invalid hits, which is why the rules are checked before sending; with
 * `validation_endpoint = true` the debug endpoint's validationMessages turn into dead letters.
 *
 * Default mapping: client_id ← domain_userid (then network_userid); user_id ← user_id; name ← event name
 * (Snowplow page_view is GA4's page_view); params: page_location/page_title/page_referrer, language,
 * session_id ← domain_sessionid, the self-describing event's fields, the structured event's fields.
 */
import type { Ga4TargetConfig } from '../config.js';
import type { ForwardEvent } from '../forward-event.js';
import { HttpClient, classifyHttp } from '../http-client.js';
import type { ForwardTarget, PreparedItem, SendOutcome } from '../target.js';
import { compileEventNamer, compileFirstOf, defaultProperties, isPlainObject } from './vendor-common.js';

const RESERVED_NAMES = new Set([
  'ad_activeview', 'ad_click', 'ad_exposure', 'ad_impression', 'ad_query', 'ad_reward', 'adunit_exposure', 'app_background', 'app_clear_data',
  'app_exception', 'app_remove', 'app_store_refund', 'app_store_subscription_cancel', 'app_store_subscription_convert',
  'app_store_subscription_renew', 'app_update', 'app_upgrade', 'dynamic_link_app_open', 'dynamic_link_app_update', 'dynamic_link_first_open',
  'error', 'first_open', 'first_visit', 'in_app_purchase', 'notification_dismiss', 'notification_foreground', 'notification_open',
  'notification_receive', 'os_update', 'session_start', 'session_start_with_rollout', 'user_engagement',
]);
const RESERVED_PREFIX = /^(google_|ga_|firebase_)/;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,39}$/;
const PARAM_VALUE_LIMITS: Readonly<Record<string, number>> = { page_location: 1000, page_referrer: 420, page_title: 300 };
const MAX_BACKDATE_MS = 72 * 3600 * 1000;

/** Turns any text into a valid GA4 name (for default event names and property keys). */
export function ga4Name(text: string): string {
  let n = text.replace(/[^A-Za-z0-9_]/g, '_');
  if (!/^[A-Za-z]/.test(n)) n = `e_${n}`;
  return n.slice(0, 40);
}

function clip(name: string, v: unknown): unknown {
  if (typeof v === 'string') {
    const max = PARAM_VALUE_LIMITS[name] ?? 100;
    return v.length > max ? v.slice(0, max) : v;
  }
  return v;
}

export class Ga4Target implements ForwardTarget {
  readonly type = 'ga4';
  readonly maxEvents = 25;
  readonly maxBytes = 130 * 1024;
  private readonly url: URL;
  private readonly namer: (ev: ForwardEvent) => string;
  private readonly clientId: (ev: ForwardEvent) => string | null;
  private readonly userId: (ev: ForwardEvent) => string | null;
  private readonly debug: boolean;

  constructor(
    private readonly cfg: Ga4TargetConfig,
    private readonly http: HttpClient,
    private readonly now: () => number = Date.now,
  ) {
    this.debug = cfg.validationEndpoint;
    this.url = new URL(`${cfg.baseUrl}${cfg.validationEndpoint ? '/debug/mp/collect' : '/mp/collect'}`);
    this.url.searchParams.set('measurement_id', cfg.measurementId);
    this.url.searchParams.set('api_secret', cfg.apiSecret.reveal());
    this.namer = compileEventNamer(cfg.eventNames);
    this.clientId = compileFirstOf(cfg.clientIdFields, 'target.client_id_fields');
    this.userId = compileFirstOf(cfg.userIdFields, 'target.user_id_fields');
  }

  build(ev: ForwardEvent): Record<string, unknown> | string {
    const clientId = this.clientId(ev);
    if (clientId === null) return 'no client_id (none of client_id_fields is set)';
    const f = ev.fields;
    const params: Record<string, unknown> = {};
    let n = 0;
    const put = (k: string, v: unknown) => {
      if (v === null || v === undefined || n >= 25) return;
      const key = ga4Name(k);
      if (!(key in params)) n++;
      params[key] = clip(key, v);
    };
    put('page_location', f.page_url);
    put('page_title', f.page_title);
    put('page_referrer', f.page_referrer);
    put('language', f.br_lang);
    put('session_id', f.domain_sessionid);
    const props = defaultProperties(ev);
    for (const k of Object.keys(props)) {
      if (k === 'page_url' || k === 'page_title' || k === 'page_referrer') continue;
      const v = props[k];
      // GA4 params are scalars (items[] aside); nested objects are sent as JSON text.
      put(k, v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
    }
    const t = ev.eventTimeMillis();
    const out: Record<string, unknown> = { client_id: clientId, name: ga4Name(this.namer(ev)), params };
    const userId = this.userId(ev);
    if (userId !== null) out.user_id = userId;
    if (!Number.isNaN(t)) out.timestamp_micros = t * 1000;
    return out;
  }

  finalize(payload: unknown): PreparedItem | string {
    if (!isPlainObject(payload)) return 'GA4 payload must be an object';
    const { client_id: clientId, user_id: userId, name, params, timestamp_micros: ts, user_properties: up } = payload;
    if (typeof clientId !== 'string' || clientId === '') return 'client_id must be a non-empty string';
    if (userId !== undefined && (typeof userId !== 'string' || userId === '')) return 'user_id must be a non-empty string when given';
    if (typeof name !== 'string' || !NAME_RE.test(name)) return `event name ${JSON.stringify(name)} is not a GA4 name (letters, digits, _; ≤ 40; starts with a letter)`;
    if (RESERVED_NAMES.has(name) || RESERVED_PREFIX.test(name)) return `event name ${name} is reserved by GA4`;
    const event: Record<string, unknown> = { name };
    if (ts !== undefined) {
      if (typeof ts !== 'number' || !Number.isInteger(ts)) return 'timestamp_micros must be an integer';
      if (this.now() * 1000 - ts > MAX_BACKDATE_MS * 1000) return 'event is older than the 72 hours GA4 accepts (timestamp_micros)';
      event.timestamp_micros = ts;
    }
    if (params !== undefined) {
      if (!isPlainObject(params)) return 'params must be an object';
      const keys = Object.keys(params);
      if (keys.length > 25) return `${keys.length} params (GA4 allows 25 per event)`;
      for (const k of keys) {
        if (!NAME_RE.test(k) || RESERVED_PREFIX.test(k)) return `param name ${JSON.stringify(k)} is not a GA4 name`;
        const v = params[k];
        if (typeof v === 'string' && v.length > (PARAM_VALUE_LIMITS[k] ?? 100)) return `param ${k} is longer than GA4 allows`;
      }
      event.params = params;
    }
    let userProps: Record<string, unknown> | undefined;
    if (up !== undefined) {
      if (!isPlainObject(up)) return 'user_properties must be an object';
      const keys = Object.keys(up);
      if (keys.length > 25) return `${keys.length} user_properties (GA4 allows 25)`;
      for (const k of keys) {
        if (k.length > 24 || !NAME_RE.test(k)) return `user property name ${JSON.stringify(k)} is not a GA4 name (≤ 24)`;
        const v = isPlainObject(up[k]) ? (up[k] as Record<string, unknown>).value : up[k];
        if (typeof v === 'string' && v.length > 36) return `user property ${k} is longer than 36 characters`;
      }
      userProps = up;
    }
    const body = JSON.stringify(event);
    // The request-level fields ride in the group key: one request per identity.
    const group = JSON.stringify([clientId, userId ?? null, userProps ?? null]);
    return { body, bytes: Buffer.byteLength(body), group, key: '' };
  }

  async send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome> {
    const [clientId, userId, userProps] = JSON.parse(items[0]!.group) as [string, string | null, Record<string, unknown> | null];
    const wrap: Record<string, unknown> = { client_id: clientId };
    if (userId !== null) wrap.user_id = userId;
    if (userProps !== null) {
      const up: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(userProps)) up[k] = isPlainObject(v) ? v : { value: v };
      wrap.user_properties = up;
    }
    const head = JSON.stringify(wrap);
    const body = `${head.slice(0, -1)},"events":[${items.map((i) => i.body).join(',')}]}`;
    const r = await this.http.request(this.url, 'POST', { 'content-type': 'application/json' }, body, timeoutMs);
    const outcome = classifyHttp(r);
    if (this.debug && outcome.kind === 'accepted' && r.ok) {
      try {
        const msgs = (JSON.parse(r.body) as { validationMessages?: unknown[] }).validationMessages;
        if (Array.isArray(msgs) && msgs.length > 0) return { kind: 'rejected', status: r.status, body: r.body };
      } catch {
        // a debug answer that is not JSON is not a validation failure
      }
    }
    return outcome;
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
