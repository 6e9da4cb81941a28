/**
 * Amplitude HTTP V2 API.
 *
 *   POST {base_url}/2/httpapi          (https://api2.amplitude.com, EU: https://api.eu.amplitude.com)
 *   Content-Type: application/json
 *   { "api_key": "KEY", "events": [ { "user_id"|"device_id", "event_type", "time": <epoch ms>, "insert_id", ... } ],
 *     "options": { "min_id_length": N } }
 *
 * Vendor rules (HTTP V2 docs): fewer than 2000 events and under 1 MB per request (413 otherwise); every event
 * needs event_type and a user_id or device_id of at least 5 characters (min_id_length changes that); time is
 * epoch milliseconds; insert_id de-duplicates retries for 7 days, so it is the Snowplow event_id. A 400 names
 * the offending events by index (events_with_invalid_fields / events_with_missing_fields / silenced_events):
 * those are dead-lettered and the rest of the batch is sent again. 429 and 5xx are retried.
 *
 * Default mapping: user_id ← user_id; device_id ← domain_userid (then network_userid); event_type ← event
 * name; insert_id ← event_id; time ← derived_tstamp; platform, os_name, device_type, language, ip, country,
 * region, city, location_lat/lng from the enriched fields; event_properties ← defaultProperties.
 */
import type { AmplitudeTargetConfig } from '../config.js';
import type { ForwardEvent } from '../forward-event.js';
import { HttpClient, classifyHttp } from '../http-client.js';
import { jsonItem, type ForwardTarget, type PreparedItem, type SendOutcome } from '../target.js';
import { compileEventNamer, compileFirstOf, defaultProperties, isPlainObject, numberOrNull } from './vendor-common.js';

export class AmplitudeTarget implements ForwardTarget {
  readonly type = 'amplitude';
  readonly maxEvents = 2000;
  readonly maxBytes = 1024 * 1024;
  private readonly url: URL;
  private readonly namer: (ev: ForwardEvent) => string;
  private readonly userId: (ev: ForwardEvent) => string | null;
  private readonly deviceId: (ev: ForwardEvent) => string | null;
  private readonly minIdLength: number;
  private readonly head: string;

  constructor(
    private readonly cfg: AmplitudeTargetConfig,
    private readonly http: HttpClient,
  ) {
    this.url = new URL(`${cfg.baseUrl}/2/httpapi`);
    this.namer = compileEventNamer(cfg.eventNames);
    this.userId = compileFirstOf(cfg.userIdFields, 'target.user_id_fields');
    this.deviceId = compileFirstOf(cfg.deviceIdFields, 'target.device_id_fields');
    this.minIdLength = cfg.minIdLength ?? 5;
    const opts = cfg.minIdLength !== null ? `,"options":{"min_id_length":${cfg.minIdLength}}` : '';
    // Built once: every request starts the same way.
    this.head = `{"api_key":${JSON.stringify(cfg.apiKey.reveal())}${opts},"events":[`;
  }

  build(ev: ForwardEvent): Record<string, unknown> | string {
    const f = ev.fields;
    const out: Record<string, unknown> = {};
    const userId = this.userId(ev);
    const deviceId = this.deviceId(ev);
    if (userId !== null) out.user_id = userId;
    if (deviceId !== null) out.device_id = deviceId;
    out.event_type = this.namer(ev);
    const t = ev.eventTimeMillis();
    if (!Number.isNaN(t)) out.time = t;
    out.insert_id = f.event_id;
    if (f.platform !== null) out.platform = f.platform;
    if (f.os_name !== null) out.os_name = f.os_name;
    if (f.dvce_type !== null) out.device_type = f.dvce_type;
    if (f.br_lang !== null) out.language = f.br_lang;
    if (this.cfg.includeIp && f.user_ipaddress !== null) out.ip = f.user_ipaddress;
    if (f.geo_country !== null) out.country = f.geo_country;
    if (f.geo_region_name !== null) out.region = f.geo_region_name;
    if (f.geo_city !== null) out.city = f.geo_city;
    const lat = numberOrNull(f.geo_latitude);
    const lng = numberOrNull(f.geo_longitude);
    if (lat !== null && lng !== null) {
      out.location_lat = lat;
      out.location_lng = lng;
    }
    out.event_properties = defaultProperties(ev);
    return out;
  }

  finalize(payload: unknown): PreparedItem | string {
    if (!isPlainObject(payload)) return 'Amplitude event must be an object';
    if (typeof payload.event_type !== 'string' || payload.event_type === '') return 'event_type must be a non-empty string';
    const uid = payload.user_id;
    const did = payload.device_id;
    const okId = (v: unknown) => typeof v === 'string' && v.length >= this.minIdLength;
    if (!okId(uid) && !okId(did)) return `needs a user_id or device_id of at least ${this.minIdLength} characters`;
    if (payload.time !== undefined && (typeof payload.time !== 'number' || !Number.isInteger(payload.time) || payload.time < 0)) {
      return 'time must be epoch milliseconds (integer)';
    }
    if (payload.insert_id !== undefined && (typeof payload.insert_id !== 'string' || payload.insert_id === '')) return 'insert_id must be a string';
    for (const k of ['event_properties', 'user_properties'] as const) {
      if (payload[k] !== undefined && !isPlainObject(payload[k])) return `${k} must be an object`;
    }
    return jsonItem(payload);
  }

  async send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome> {
    let body = this.head;
    for (let i = 0; i < items.length; i++) body += (i === 0 ? '' : ',') + items[i]!.body;
    body += ']}';
    const r = await this.http.request(this.url, 'POST', { 'content-type': 'application/json', accept: '*/*' }, body, timeoutMs);
    const outcome = classifyHttp(r);
    if (outcome.kind !== 'rejected' || !r.ok || r.status !== 400) return outcome;
    const rejected = amplitudeRejectedIndexes(r.body, items.length);
    if (rejected === null || rejected.size === 0) return outcome;
    if (rejected.size === items.length) return outcome;
    return { kind: 'partial', status: r.status, body: r.body, rejected, rest: 'resend' };
  }

  async close(): Promise<void> {
    this.http.close();
  }
}

/** Indexes named by a 400 body: { events_with_invalid_fields: {field: [i…]}, events_with_missing_fields: {…}, silenced_events: [i…] }. */
export function amplitudeRejectedIndexes(text: string, n: number): Map<number, string> | null {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const out = new Map<number, string>();
  for (const key of ['events_with_invalid_fields', 'events_with_missing_fields', 'events_with_invalid_id_lengths']) {
    const m = body[key];
    if (!isPlainObject(m)) continue;
    for (const [field, idx] of Object.entries(m)) {
      if (!Array.isArray(idx)) continue;
      for (const i of idx) if (Number.isInteger(i) && i >= 0 && i < n) out.set(i as number, `${key}: ${field}`);
    }
  }
  const silenced = body.silenced_events;
  if (Array.isArray(silenced)) for (const i of silenced) if (Number.isInteger(i) && i >= 0 && i < n) out.set(i as number, 'silenced_events');
  return out;
}
