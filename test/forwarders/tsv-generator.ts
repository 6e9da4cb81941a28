/**
 * Enriched TSV lines for the forwarder tests and benchmark.
 *
 * generateEvent(i): deterministic, varied events — page views (web_page + com.acme/user contexts, a derived
 * ua_parser_context), structured events, self-describing com.acme/checkout_started events, transaction items
 * and page pings; app_id shop/blog, user_id on even i, geo, and timestamps a few minutes before `now`.
 * (`npm run conformance` adds Snowplow's full-TSV test events: test-conformance/support.ts corpusLines().)
 */
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';

export const IDX = Object.fromEntries(ENRICHED_FIELDS.map((n, i) => [n, i])) as Record<(typeof ENRICHED_FIELDS)[number], number>;

export type EventKind = 'page_view' | 'struct' | 'checkout' | 'transaction_item' | 'page_ping';
export const KINDS: readonly EventKind[] = ['page_view', 'struct', 'checkout', 'transaction_item', 'page_ping'];

export function kindOf(i: number): EventKind {
  return KINDS[i % KINDS.length]!;
}

export function eventId(i: number, seed = 1): string {
  const h = (n: number, w: number) => (n >>> 0).toString(16).padStart(w, '0').slice(-w);
  return `${h(seed, 8)}-${h(i >>> 16, 4)}-4${h(i, 3)}-8${h(i >>> 12, 3)}-${h(i * 2654435761, 8)}${h(i, 4)}`;
}

export function tstamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function sd(schema: string, data: unknown) {
  return { schema, data };
}

export interface GenOptions {
  seed?: number;
  /** Time of the newest event (ms). Default: now. Events are spread over the 10 minutes before. */
  now?: number;
  /** Set a column of every event (after the defaults). */
  override?: Partial<Record<(typeof ENRICHED_FIELDS)[number], string>>;
}

export function generateColumns(i: number, opts: GenOptions = {}): string[] {
  const seed = opts.seed ?? 1;
  const now = opts.now ?? Date.now();
  const c: string[] = new Array(ENRICHED_FIELDS.length).fill('');
  const set = (k: (typeof ENRICHED_FIELDS)[number], v: string | number) => (c[IDX[k]] = String(v));
  const t = now - 600_000 + (i % 600) * 1000;
  const kind = kindOf(i);
  set('app_id', i % 3 === 0 ? 'blog' : 'shop');
  set('platform', 'web');
  set('etl_tstamp', tstamp(t + 500));
  set('collector_tstamp', tstamp(t + 100));
  set('dvce_created_tstamp', tstamp(t));
  set('dvce_sent_tstamp', tstamp(t + 50));
  set('derived_tstamp', tstamp(t + 50));
  set('event_id', eventId(i, seed));
  set('name_tracker', 'sp');
  set('v_tracker', 'js-3.24.0');
  set('v_collector', 'ssc-3.2.0-kinesis');
  set('v_etl', 'furrow-test');
  if (i % 2 === 0) set('user_id', `user-${1000 + (i % 97)}`);
  set('user_ipaddress', `10.0.${i % 250}.${(i * 7) % 250}`);
  set('domain_userid', `duid-${(i % 211).toString(16).padStart(6, '0')}`);
  set('domain_sessionidx', 1 + (i % 9));
  set('domain_sessionid', `5a0c0de0-0000-4000-8000-${(i % 211).toString(16).padStart(12, '0')}`);
  set('network_userid', `nuid-${i % 401}`);
  set('geo_country', ['GB', 'FR', 'US', 'DE'][i % 4]!);
  set('geo_city', ['London', 'Paris', 'Boston', 'Berlin'][i % 4]!);
  set('geo_region_name', ['England', 'Ile-de-France', 'Massachusetts', 'Berlin'][i % 4]!);
  set('geo_latitude', '51.5142');
  set('geo_longitude', '-0.0931');
  set('page_url', `https://shop.example.com/p/${i % 50}?ref=mail`);
  set('page_title', `Product ${i % 50}`);
  set('page_urlscheme', 'https');
  set('page_urlhost', 'shop.example.com');
  set('page_urlport', 443);
  set('page_urlpath', `/p/${i % 50}`);
  set('page_urlquery', 'ref=mail');
  set('useragent', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0');
  set('br_family', 'Firefox');
  set('br_version', '120.0');
  set('br_lang', 'en-GB');
  set('br_cookies', '1');
  set('os_name', 'Linux');
  set('dvce_type', 'Computer');
  set('dvce_ismobile', '0');
  set('dvce_screenwidth', 1920);
  set('dvce_screenheight', 1080);
  set('event_fingerprint', `fp${i}`);
  const contexts = [
    sd('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', { id: eventId(i, seed + 7) }),
    sd('iglu:com.acme/user/jsonschema/1-0-0', { plan: i % 2 === 0 ? 'pro' : 'free', tier: i % 4 }),
  ];
  set('contexts', JSON.stringify(sd('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', contexts)));
  set(
    'derived_contexts',
    JSON.stringify(
      sd('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', [
        sd('iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0', { useragentFamily: 'Firefox', osFamily: 'Linux', deviceFamily: 'Other' }),
      ]),
    ),
  );
  const std = (event: string, vendor: string, name: string, version = '1-0-0') => {
    set('event', event);
    set('event_vendor', vendor);
    set('event_name', name);
    set('event_format', 'jsonschema');
    set('event_version', version);
  };
  switch (kind) {
    case 'page_view':
      std('page_view', 'com.snowplowanalytics.snowplow', 'page_view');
      break;
    case 'page_ping':
      std('page_ping', 'com.snowplowanalytics.snowplow', 'page_ping');
      set('pp_xoffset_min', 0);
      set('pp_xoffset_max', 10);
      set('pp_yoffset_min', 100);
      set('pp_yoffset_max', 400);
      break;
    case 'struct':
      std('struct', 'com.google.analytics', 'event');
      set('se_category', 'shop');
      set('se_action', 'add_to_basket');
      set('se_label', `sku-${i % 50}`);
      set('se_value', '2.5');
      break;
    case 'checkout':
      std('unstruct', 'com.acme', 'checkout_started');
      set(
        'unstruct_event',
        JSON.stringify(
          sd('iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', sd('iglu:com.acme/checkout_started/jsonschema/1-0-0', { total: 10 + (i % 90), currency: 'EUR', items: 1 + (i % 3) })),
        ),
      );
      break;
    case 'transaction_item':
      std('transaction_item', 'com.snowplowanalytics.snowplow', 'transaction_item');
      set('ti_orderid', `order-${i}`);
      set('ti_sku', `sku-${i % 50}`);
      set('ti_name', `Product ${i % 50}`);
      set('ti_category', 'widgets');
      set('ti_price', '19.99');
      set('ti_quantity', 1 + (i % 3));
      set('ti_currency', 'eur');
      break;
  }
  for (const [k, v] of Object.entries(opts.override ?? {})) c[IDX[k as (typeof ENRICHED_FIELDS)[number]]] = v ?? '';
  return c;
}

export function generateEvent(i: number, opts: GenOptions = {}): string {
  return generateColumns(i, opts).join('\t');
}

export function generateLines(n: number, opts: GenOptions = {}): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(generateEvent(i, opts));
  return out;
}

/** Column index of a field (for tests that pull values out of lines). */
export function column(line: string, field: (typeof ENRICHED_FIELDS)[number]): string {
  return line.split('\t')[IDX[field]]!;
}
