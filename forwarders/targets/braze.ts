/**
 * Braze /users/track.
 *
 *   POST {base_url}/users/track             (base_url: your instance's REST endpoint, e.g. https://rest.iad-01.braze.com)
 *   Authorization: Bearer <REST API key with users.track>
 *   Content-Type: application/json
 *   { "events": [ { "external_id" | "user_alias" | "braze_id" | "email" | "phone", "app_id"?, "name", "time": ISO-8601, "properties" } ] }
 *   { "purchases": [ { <identity>, "product_id", "currency", "price", "quantity", "time", "properties" } ] }
 *
 * Vendor rules (users/track docs, event and purchase objects): up to 75 events, 75 purchases and 75
 * attributes per request; each object names one user; time is an ISO-8601 string; purchases need product_id,
 * a 3-letter currency, price and quantity (1-100). Success is 201; with some invalid objects the 201 body
 * lists them in `errors` (index into their array): those are dead-lettered and the rest count as accepted.
 * 429 (X-RateLimit-Reset) and 5xx are retried.
 *
 * Default mapping: external_id ← user_id; without one, a user_alias {alias_name: domain_userid (then
 * network_userid), alias_label: "snowplow_domain_userid"} (Braze then only updates existing aliased users);
 * name ← event name; time ← derived_tstamp; properties ← defaultProperties. A Snowplow transaction_item
 * becomes a purchase (product_id ← ti_sku, price ← ti_price, quantity ← ti_quantity, currency ← ti_currency /
 * tr_currency / default_currency). Events and purchases travel in separate requests (batch group).
 */
import type { BrazeTargetConfig } from '../config.js';
import { tstampToIso, type ForwardEvent } from '../forward-event.js';
import { HttpClient, classifyHttp, parseRetryAfter } from '../http-client.js';
import type { ForwardTarget, PreparedItem, SendOutcome } from '../target.js';
import { compileEventNamer, compileFirstOf, defaultProperties, isPlainObject, numberOrNull } from './vendor-common.js';

const IDENTITY_KEYS = ['external_id', 'user_alias', 'braze_id', 'email', 'phone'] as const;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}([.:]\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export class BrazeTarget implements ForwardTarget {
  readonly type = 'braze';
  readonly maxEvents = 75;
  readonly maxBytes = 4 * 1024 * 1024;
  private readonly url: URL;
  private readonly auth: string;
  private readonly namer: (ev: ForwardEvent) => string;
  private readonly externalId: (ev: ForwardEvent) => string | null;
  private readonly aliasName: (ev: ForwardEvent) => string | null;

  constructor(
    private readonly cfg: BrazeTargetConfig,
    private readonly http: HttpClient,
  ) {
    this.url = new URL(`${cfg.baseUrl}/users/track`);
    this.auth = `Bearer ${cfg.apiKey.reveal()}`;
    this.namer = compileEventNamer(cfg.eventNames);
    this.externalId = compileFirstOf(cfg.externalIdFields, 'target.external_id_fields');
    this.aliasName = compileFirstOf(cfg.aliasFields, 'target.alias_fields');
  }

  build(ev: ForwardEvent): Record<string, unknown> | string {
    const f = ev.fields;
    const out: Record<string, unknown> = {};
    const ext = this.externalId(ev);
    if (ext !== null) out.external_id = ext;
    else if (this.cfg.aliasLabel !== null) {
      const alias = this.aliasName(ev);
      if (alias === null) return 'no external_id and no alias field set';
      out.user_alias = { alias_name: alias, alias_label: this.cfg.aliasLabel };
    } else return 'no external_id (external_id_fields) and use_alias = false';
    if (this.cfg.appId !== null) out.app_id = this.cfg.appId;
    const ts = f.derived_tstamp ?? f.collector_tstamp;
    if (ts !== null) out.time = tstampToIso(ts);
    if (this.cfg.purchases && f.event === 'transaction_item') {
      out.product_id = f.ti_sku ?? f.ti_name ?? 'unknown';
      out.currency = (f.ti_currency ?? f.tr_currency ?? this.cfg.defaultCurrency).toUpperCase();
      out.price = numberOrNull(f.ti_price) ?? 0;
      out.quantity = numberOrNull(f.ti_quantity) ?? 1;
      const props: Record<string, unknown> = { snowplow_event_id: f.event_id };
      if (f.ti_orderid !== null) props.order_id = f.ti_orderid;
      if (f.ti_name !== null) props.name = f.ti_name;
      if (f.ti_category !== null) props.category = f.ti_category;
      out.properties = props;
      return out;
    }
    out.name = this.namer(ev);
    out.properties = defaultProperties(ev);
    return out;
  }

  finalize(payload: unknown): PreparedItem | string {
    if (!isPlainObject(payload)) return 'Braze object must be an object';
    const ids = IDENTITY_KEYS.filter((k) => payload[k] !== undefined && payload[k] !== null);
    if (ids.length === 0) return 'needs one of external_id, user_alias, braze_id, email, phone';
    if (payload.user_alias !== undefined) {
      const a = payload.user_alias;
      if (!isPlainObject(a) || typeof a.alias_name !== 'string' || typeof a.alias_label !== 'string') return 'user_alias needs alias_name and alias_label strings';
    }
    if (typeof payload.time !== 'string' || !ISO_TIME.test(payload.time)) return 'time must be an ISO-8601 date-time string';
    if (payload.properties !== undefined && !isPlainObject(payload.properties)) return 'properties must be an object';
    let group: string;
    if (payload.product_id !== undefined) {
      if (typeof payload.product_id !== 'string' || payload.product_id === '') return 'purchase product_id must be a non-empty string';
      if (typeof payload.currency !== 'string' || !/^[A-Z]{3}$/.test(payload.currency)) return 'purchase currency must be a 3-letter ISO 4217 code';
      if (typeof payload.price !== 'number' || !Number.isFinite(payload.price)) return 'purchase price must be a number';
      if (!Number.isInteger(payload.quantity) || (payload.quantity as number) < 1 || (payload.quantity as number) > 100) return 'purchase quantity must be an integer from 1 to 100';
      group = 'purchases';
    } else {
      if (typeof payload.name !== 'string' || payload.name === '') return 'event name must be a non-empty string';
      group = 'events';
    }
    const body = JSON.stringify(payload);
    return { body, bytes: Buffer.byteLength(body), group, key: '' };
  }

  async send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome> {
    const section = items[0]!.group;
    let body = `{"${section}":[`;
    for (let i = 0; i < items.length; i++) body += (i === 0 ? '' : ',') + items[i]!.body;
    body += ']}';
    const r = await this.http.request(this.url, 'POST', { 'content-type': 'application/json', authorization: this.auth }, body, timeoutMs);
    const outcome = classifyHttp(r);
    if (!r.ok) return outcome;
    if (outcome.kind === 'retry' && outcome.retryAfterMs === null && r.status === 429) {
      // Braze documents X-RateLimit-Reset (epoch seconds) on 429.
      const reset = Number(r.headers['x-ratelimit-reset']);
      if (Number.isFinite(reset) && reset > 0) return { ...outcome, retryAfterMs: Math.max(0, reset * 1000 - Date.now()) };
      return { ...outcome, retryAfterMs: parseRetryAfter(r.headers['retry-after']) };
    }
    if (outcome.kind !== 'accepted') return outcome;
    let errors: unknown;
    try {
      errors = (JSON.parse(r.body) as { errors?: unknown }).errors;
    } catch {
      return outcome;
    }
    if (!Array.isArray(errors) || errors.length === 0) return outcome;
    const rejected = new Map<number, string>();
    for (const e of errors as Array<{ type?: unknown; input_array?: unknown; index?: unknown }>) {
      if (e.input_array === section && Number.isInteger(e.index) && (e.index as number) >= 0 && (e.index as number) < items.length) {
        rejected.set(e.index as number, String(e.type ?? 'invalid'));
      }
    }
    if (rejected.size === 0) return outcome;
    return { kind: 'partial', status: r.status, body: r.body, rejected, rest: 'accepted' };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
