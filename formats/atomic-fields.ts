/**
 * Atomic field facts the core needs (../shared/spec/enriched_fields.json, ../shared/spec/enrich.md §1.5):
 * default length limits (Snowplow 6.10 reference.conf) and the JSON types of the partially enriched event.
 */

/** `validation.atomicFieldsLimits` defaults: String.length (UTF-16 units) per field. */
export const DEFAULT_ATOMIC_FIELD_LIMITS: Readonly<Record<string, number>> = Object.freeze({
  app_id: 255, platform: 255, event: 128, event_id: 36, name_tracker: 128, v_tracker: 100, v_collector: 100,
  v_etl: 100, user_id: 255, user_ipaddress: 128, user_fingerprint: 128, domain_userid: 128, network_userid: 128,
  geo_country: 2, geo_region: 3, geo_city: 75, geo_zipcode: 15, geo_region_name: 100, ip_isp: 100,
  ip_organization: 128, ip_domain: 128, ip_netspeed: 100, page_url: 10000, page_title: 2000, page_referrer: 10000,
  page_urlscheme: 16, page_urlhost: 255, page_urlpath: 3000, page_urlquery: 6000, page_urlfragment: 3000,
  refr_urlscheme: 16, refr_urlhost: 255, refr_urlpath: 6000, refr_urlquery: 6000, refr_urlfragment: 3000,
  refr_medium: 25, refr_source: 50, refr_term: 255, mkt_medium: 255, mkt_source: 255, mkt_term: 255,
  mkt_content: 500, mkt_campaign: 255, se_category: 1000, se_action: 1000, se_label: 4096, se_property: 1000,
  tr_orderid: 255, tr_affiliation: 255, tr_city: 255, tr_state: 255, tr_country: 255, ti_orderid: 255, ti_sku: 255,
  ti_name: 255, ti_category: 255, useragent: 1000, br_name: 50, br_family: 50, br_version: 50, br_type: 50,
  br_renderengine: 50, br_lang: 255, br_colordepth: 12, os_name: 50, os_family: 50, os_manufacturer: 50,
  os_timezone: 255, dvce_type: 50, doc_charset: 128, tr_currency: 3, ti_currency: 3, base_currency: 3,
  geo_timezone: 64, mkt_clickid: 1000, mkt_network: 64, etl_tags: 500, refr_domain_userid: 128,
  domain_sessionid: 128, event_vendor: 1000, event_name: 1000, event_format: 128, event_version: 128,
  event_fingerprint: 128,
});

/** Fields the partially enriched event of a bad row carries as JSON numbers. */
export const NUMERIC_FIELDS: ReadonlySet<string> = new Set([
  'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max',
  'pp_yoffset_min', 'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight',
  'doc_width', 'doc_height', 'geo_latitude', 'geo_longitude', 'br_features_pdf', 'br_features_flash',
  'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'dvce_ismobile',
]);
