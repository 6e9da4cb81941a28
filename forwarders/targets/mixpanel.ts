/**
 * Mixpanel Import API.
 *
 *   POST {base_url}/import?strict=1[&project_id=ID]       (https://api.mixpanel.com, EU: https://api-eu.mixpanel.com)
 *   Authorization: Basic base64(<project token>:)   or   Basic base64(<service account user>:<secret>) + project_id
 *   Content-Type: application/json
 *   [ { "event": "...", "properties": { "time": <epoch ms>, "distinct_id": "...", "$insert_id": "...", ... } } ]
 *
 * Vendor rules (Import Events docs): up to 2000 events and 2 MB uncompressed per request (newer docs: 10 MB;
 * furrow keeps the lower bound); every event needs time (seconds or ms; not before 1971 nor more than an hour in
 * the future), distinct_id (empty string for no user) and $insert_id (≤ 36 characters, letters, digits, -),
 * which makes retries safe. With strict=1 a 400 is a partial success: failed_records lists the refused events
 * by index; they are dead-lettered and the others count as imported. 429 and 5xx are retried.
 *
 * Default mapping: event ← event name; distinct_id ← user_id, then domain_userid, then network_userid;
 * $insert_id ← event_id; time ← derived_tstamp (ms); $device_id ← domain_userid; $user_id ← user_id;
 * ip, $current_url, $referrer, $os, $browser, $screen_width/height, mp_country_code, $city, $region;
 * the rest from defaultProperties.
 */
import type { MixpanelTargetConfig } from '../config.js';
import type { ForwardEvent } from '../forward-event.js';
import { HttpClient, classifyHttp } from '../http-client.js';
import { basicCredentials } from '../../common/secret.js';
import { jsonItem, type ForwardTarget, type PreparedItem, type SendOutcome } from '../target.js';
import { compileEventNamer, compileFirstOf, defaultProperties, isPlainObject, numberOrNull } from './vendor-common.js';

const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/;
const YEAR_1971_MS = Date.UTC(1971, 0, 1);

export class MixpanelTarget implements ForwardTarget {
  readonly type = 'mixpanel';
  readonly maxEvents = 2000;
  readonly maxBytes = 2 * 1024 * 1024;
  private readonly url: URL;
  private readonly auth: string;
  private readonly namer: (ev: ForwardEvent) => string;
  private readonly distinctId: (ev: ForwardEvent) => string | null;

  constructor(
    private readonly cfg: MixpanelTargetConfig,
    private readonly http: HttpClient,
    private readonly now: () => number = Date.now,
  ) {
    this.url = new URL(`${cfg.baseUrl}/import`);
    this.url.searchParams.set('strict', '1');
    if (cfg.projectId !== null) this.url.searchParams.set('project_id', cfg.projectId);
    const cred = cfg.serviceAccount ? basicCredentials(cfg.serviceAccount.username, cfg.serviceAccount.secret) : basicCredentials(cfg.projectToken!, '');
    this.auth = `Basic ${cred}`;
    this.namer = compileEventNamer(cfg.eventNames);
    this.distinctId = compileFirstOf(cfg.distinctIdFields, 'target.distinct_id_fields');
  }

  build(ev: ForwardEvent): Record<string, unknown> | string {
    const f = ev.fields;
    const p: Record<string, unknown> = {};
    const t = ev.eventTimeMillis();
    if (!Number.isNaN(t)) p.time = t;
    p.distinct_id = this.distinctId(ev) ?? '';
    p.$insert_id = f.event_id;
    if (f.domain_userid !== null) p.$device_id = f.domain_userid;
    if (f.user_id !== null) p.$user_id = f.user_id;
    if (this.cfg.includeIp && f.user_ipaddress !== null) p.ip = f.user_ipaddress;
    if (f.page_url !== null) p.$current_url = f.page_url;
    if (f.page_referrer !== null) p.$referrer = f.page_referrer;
    if (f.os_name !== null) p.$os = f.os_name;
    if (f.br_family !== null) p.$browser = f.br_family;
    if (f.br_version !== null) p.$browser_version = f.br_version;
    const sw = numberOrNull(f.dvce_screenwidth);
    const sh = numberOrNull(f.dvce_screenheight);
    if (sw !== null) p.$screen_width = sw;
    if (sh !== null) p.$screen_height = sh;
    if (f.geo_country !== null) p.mp_country_code = f.geo_country;
    if (f.geo_city !== null) p.$city = f.geo_city;
    if (f.geo_region_name !== null) p.$region = f.geo_region_name;
    p.mp_lib = 'furrow';
    const props = defaultProperties(ev);
    for (const k of Object.keys(props)) if (!(k in p) && k !== 'page_url' && k !== 'page_referrer') p[k] = props[k];
    return { event: this.namer(ev), properties: p };
  }

  finalize(payload: unknown): PreparedItem | string {
    if (!isPlainObject(payload)) return 'Mixpanel event must be an object';
    if (typeof payload.event !== 'string' || payload.event === '') return 'event must be a non-empty string';
    const p = payload.properties;
    if (!isPlainObject(p)) return 'properties must be an object';
    const t = p.time;
    if (typeof t !== 'number' || !Number.isFinite(t)) return 'properties.time is required (seconds or milliseconds since epoch)';
    const ms = t < 1e11 ? t * 1000 : t; // seconds and milliseconds are both accepted
    if (ms < YEAR_1971_MS) return 'properties.time is before 1971';
    if (ms > this.now() + 3600_000) return 'properties.time is more than an hour in the future';
    if (typeof p.distinct_id !== 'string') return 'properties.distinct_id must be a string (empty for no user)';
    if (typeof p.$insert_id !== 'string' || !INSERT_ID.test(p.$insert_id)) return 'properties.$insert_id must be 1-36 letters, digits or -';
    return jsonItem(payload);
  }

  async send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome> {
    let body = '[';
    for (let i = 0; i < items.length; i++) body += (i === 0 ? '' : ',') + items[i]!.body;
    body += ']';
    const r = await this.http.request(this.url, 'POST', { 'content-type': 'application/json', authorization: this.auth, accept: 'application/json' }, body, timeoutMs);
    const outcome = classifyHttp(r);
    if (outcome.kind !== 'rejected' || !r.ok || r.status !== 400) return outcome;
    let failed: unknown;
    try {
      failed = (JSON.parse(r.body) as { failed_records?: unknown }).failed_records;
    } catch {
      return outcome;
    }
    if (!Array.isArray(failed) || failed.length === 0) return outcome;
    const rejected = new Map<number, string>();
    for (const fr of failed as Array<{ index?: unknown; field?: unknown; message?: unknown }>) {
      if (Number.isInteger(fr.index) && (fr.index as number) >= 0 && (fr.index as number) < items.length) {
        rejected.set(fr.index as number, `${String(fr.field ?? '')}: ${String(fr.message ?? 'failed validation')}`);
      }
    }
    if (rejected.size === 0) return outcome;
    return { kind: 'partial', status: r.status, body: r.body, rejected, rest: 'accepted' };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}
