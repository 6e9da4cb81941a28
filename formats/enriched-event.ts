/**
 * The enriched event: Snowplow's 131 atomic fields, in TSV column order (../shared/spec/enriched_fields.json).
 *
 * Every field holds the value exactly as it will be written to the TSV column (already rendered:
 * timestamps as `yyyy-MM-dd HH:mm:ss.SSS`, decimals like Java BigDecimal, floats like Java Float,
 * booleans `1`/`0`, JSON columns as compact JSON text) or null for an empty column.
 * The class declares every field in its constructor so all events share one hidden class (fast property access).
 */

/** The 131 column names in TSV order. */
export const ENRICHED_FIELDS = [
  'app_id', 'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'event',
  'event_id', 'txn_id', 'name_tracker', 'v_tracker', 'v_collector', 'v_etl',
  'user_id', 'user_ipaddress', 'user_fingerprint', 'domain_userid', 'domain_sessionidx', 'network_userid',
  'geo_country', 'geo_region', 'geo_city', 'geo_zipcode', 'geo_latitude', 'geo_longitude',
  'geo_region_name', 'ip_isp', 'ip_organization', 'ip_domain', 'ip_netspeed', 'page_url',
  'page_title', 'page_referrer', 'page_urlscheme', 'page_urlhost', 'page_urlport', 'page_urlpath',
  'page_urlquery', 'page_urlfragment', 'refr_urlscheme', 'refr_urlhost', 'refr_urlport', 'refr_urlpath',
  'refr_urlquery', 'refr_urlfragment', 'refr_medium', 'refr_source', 'refr_term', 'mkt_medium',
  'mkt_source', 'mkt_term', 'mkt_content', 'mkt_campaign', 'contexts', 'se_category',
  'se_action', 'se_label', 'se_property', 'se_value', 'unstruct_event', 'tr_orderid',
  'tr_affiliation', 'tr_total', 'tr_tax', 'tr_shipping', 'tr_city', 'tr_state',
  'tr_country', 'ti_orderid', 'ti_sku', 'ti_name', 'ti_category', 'ti_price',
  'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min', 'pp_yoffset_max', 'useragent',
  'br_name', 'br_family', 'br_version', 'br_type', 'br_renderengine', 'br_lang',
  'br_features_pdf', 'br_features_flash', 'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'br_colordepth', 'br_viewwidth',
  'br_viewheight', 'os_name', 'os_family', 'os_manufacturer', 'os_timezone', 'dvce_type',
  'dvce_ismobile', 'dvce_screenwidth', 'dvce_screenheight', 'doc_charset', 'doc_width', 'doc_height',
  'tr_currency', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base', 'ti_currency', 'ti_price_base',
  'base_currency', 'geo_timezone', 'mkt_clickid', 'mkt_network', 'etl_tags', 'dvce_sent_tstamp',
  'refr_domain_userid', 'refr_dvce_tstamp', 'derived_contexts', 'domain_sessionid', 'derived_tstamp', 'event_vendor',
  'event_name', 'event_format', 'event_version', 'event_fingerprint', 'true_tstamp',
] as const;

export type EnrichedFieldName = (typeof ENRICHED_FIELDS)[number];

export class EnrichedEvent {
  app_id: string | null = null;
  platform: string | null = null;
  etl_tstamp: string | null = null;
  collector_tstamp: string | null = null;
  dvce_created_tstamp: string | null = null;
  event: string | null = null;
  event_id: string | null = null;
  txn_id: string | null = null;
  name_tracker: string | null = null;
  v_tracker: string | null = null;
  v_collector: string | null = null;
  v_etl: string | null = null;
  user_id: string | null = null;
  user_ipaddress: string | null = null;
  user_fingerprint: string | null = null;
  domain_userid: string | null = null;
  domain_sessionidx: string | null = null;
  network_userid: string | null = null;
  geo_country: string | null = null;
  geo_region: string | null = null;
  geo_city: string | null = null;
  geo_zipcode: string | null = null;
  geo_latitude: string | null = null;
  geo_longitude: string | null = null;
  geo_region_name: string | null = null;
  ip_isp: string | null = null;
  ip_organization: string | null = null;
  ip_domain: string | null = null;
  ip_netspeed: string | null = null;
  page_url: string | null = null;
  page_title: string | null = null;
  page_referrer: string | null = null;
  page_urlscheme: string | null = null;
  page_urlhost: string | null = null;
  page_urlport: string | null = null;
  page_urlpath: string | null = null;
  page_urlquery: string | null = null;
  page_urlfragment: string | null = null;
  refr_urlscheme: string | null = null;
  refr_urlhost: string | null = null;
  refr_urlport: string | null = null;
  refr_urlpath: string | null = null;
  refr_urlquery: string | null = null;
  refr_urlfragment: string | null = null;
  refr_medium: string | null = null;
  refr_source: string | null = null;
  refr_term: string | null = null;
  mkt_medium: string | null = null;
  mkt_source: string | null = null;
  mkt_term: string | null = null;
  mkt_content: string | null = null;
  mkt_campaign: string | null = null;
  contexts: string | null = null;
  se_category: string | null = null;
  se_action: string | null = null;
  se_label: string | null = null;
  se_property: string | null = null;
  se_value: string | null = null;
  unstruct_event: string | null = null;
  tr_orderid: string | null = null;
  tr_affiliation: string | null = null;
  tr_total: string | null = null;
  tr_tax: string | null = null;
  tr_shipping: string | null = null;
  tr_city: string | null = null;
  tr_state: string | null = null;
  tr_country: string | null = null;
  ti_orderid: string | null = null;
  ti_sku: string | null = null;
  ti_name: string | null = null;
  ti_category: string | null = null;
  ti_price: string | null = null;
  ti_quantity: string | null = null;
  pp_xoffset_min: string | null = null;
  pp_xoffset_max: string | null = null;
  pp_yoffset_min: string | null = null;
  pp_yoffset_max: string | null = null;
  useragent: string | null = null;
  br_name: string | null = null;
  br_family: string | null = null;
  br_version: string | null = null;
  br_type: string | null = null;
  br_renderengine: string | null = null;
  br_lang: string | null = null;
  br_features_pdf: string | null = null;
  br_features_flash: string | null = null;
  br_features_java: string | null = null;
  br_features_director: string | null = null;
  br_features_quicktime: string | null = null;
  br_features_realplayer: string | null = null;
  br_features_windowsmedia: string | null = null;
  br_features_gears: string | null = null;
  br_features_silverlight: string | null = null;
  br_cookies: string | null = null;
  br_colordepth: string | null = null;
  br_viewwidth: string | null = null;
  br_viewheight: string | null = null;
  os_name: string | null = null;
  os_family: string | null = null;
  os_manufacturer: string | null = null;
  os_timezone: string | null = null;
  dvce_type: string | null = null;
  dvce_ismobile: string | null = null;
  dvce_screenwidth: string | null = null;
  dvce_screenheight: string | null = null;
  doc_charset: string | null = null;
  doc_width: string | null = null;
  doc_height: string | null = null;
  tr_currency: string | null = null;
  tr_total_base: string | null = null;
  tr_tax_base: string | null = null;
  tr_shipping_base: string | null = null;
  ti_currency: string | null = null;
  ti_price_base: string | null = null;
  base_currency: string | null = null;
  geo_timezone: string | null = null;
  mkt_clickid: string | null = null;
  mkt_network: string | null = null;
  etl_tags: string | null = null;
  dvce_sent_tstamp: string | null = null;
  refr_domain_userid: string | null = null;
  refr_dvce_tstamp: string | null = null;
  derived_contexts: string | null = null;
  domain_sessionid: string | null = null;
  derived_tstamp: string | null = null;
  event_vendor: string | null = null;
  event_name: string | null = null;
  event_format: string | null = null;
  event_version: string | null = null;
  event_fingerprint: string | null = null;
  true_tstamp: string | null = null;
}

/**
 * Parses one enriched TSV line (131 tab-separated columns, empty = null) as written by the enricher.
 * Returns a string describing the problem for a line that is not an enriched event.
 */
export function parseEnrichedTsv(line: string): EnrichedEvent | string {
  const cols = line.split('\t');
  if (cols.length !== ENRICHED_FIELDS.length) return `expected ${ENRICHED_FIELDS.length} tab-separated columns, got ${cols.length}`;
  const ev = new EnrichedEvent();
  const rec = ev as unknown as Record<string, string | null>;
  for (let i = 0; i < cols.length; i++) {
    const v = cols[i]!;
    rec[ENRICHED_FIELDS[i]!] = v === '' ? null : v;
  }
  return ev;
}
