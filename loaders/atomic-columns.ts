/**
 * The 128 columns of atomic.events, in table order, with their PostgreSQL and Redshift definitions.
 * Facts from ../shared/spec/atomic-events-postgres.sql (snowplow-postgres-loader 0.3.3) and
 * ../shared/spec/atomic-events-redshift.sql (RDB Loader 6.x); test/loaders/atomic-ddl.test.ts checks
 * every entry against those files.
 *
 * Table order = the enriched TSV order without its three JSON columns (contexts, unstruct_event,
 * derived_contexts), which are shredded into per-schema tables instead.
 */
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';

export interface AtomicColumn {
  readonly name: string;
  /** PostgreSQL type, as in the spec DDL (e.g. `VARCHAR(255)`). */
  readonly pgType: string;
  readonly notNull: boolean;
  /** Redshift column definition after the name, verbatim from the spec DDL. */
  readonly redshift: string;
  /** Index of this column in the 131-column enriched TSV. */
  readonly tsvIndex: number;
}

const DEFS: ReadonlyArray<readonly [string, string, boolean, string]> = [
  ['app_id', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['platform', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['etl_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
  ['collector_tstamp', 'TIMESTAMP', true, 'timestamp not null encode RAW'],
  ['dvce_created_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
  ['event', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['event_id', 'UUID', true, 'char(36) not null unique encode ZSTD'],
  ['txn_id', 'INTEGER', false, 'int encode ZSTD'],
  ['name_tracker', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['v_tracker', 'VARCHAR(100)', false, 'varchar(100) encode ZSTD'],
  ['v_collector', 'VARCHAR(100)', true, 'varchar(100) encode ZSTD not null'],
  ['v_etl', 'VARCHAR(100)', true, 'varchar(100) encode ZSTD not null'],
  ['user_id', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['user_ipaddress', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['user_fingerprint', 'VARCHAR(50)', false, 'varchar(128) encode ZSTD'],
  ['domain_userid', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['domain_sessionidx', 'INTEGER', false, 'int encode ZSTD'],
  ['network_userid', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['geo_country', 'CHAR(2)', false, 'char(2) encode ZSTD'],
  ['geo_region', 'CHAR(3)', false, 'char(3) encode ZSTD'],
  ['geo_city', 'VARCHAR(75)', false, 'varchar(75) encode ZSTD'],
  ['geo_zipcode', 'VARCHAR(15)', false, 'varchar(15) encode ZSTD'],
  ['geo_latitude', 'DOUBLE PRECISION', false, 'double precision encode ZSTD'],
  ['geo_longitude', 'DOUBLE PRECISION', false, 'double precision encode ZSTD'],
  ['geo_region_name', 'VARCHAR(100)', false, 'varchar(100) encode ZSTD'],
  ['ip_isp', 'VARCHAR(100)', false, 'varchar(100) encode ZSTD'],
  ['ip_organization', 'VARCHAR(100)', false, 'varchar(128) encode ZSTD'],
  ['ip_domain', 'VARCHAR(100)', false, 'varchar(128) encode ZSTD'],
  ['ip_netspeed', 'VARCHAR(100)', false, 'varchar(100) encode ZSTD'],
  ['page_url', 'VARCHAR(4096)', false, 'varchar(10000) encode ZSTD'],
  ['page_title', 'VARCHAR(2000)', false, 'varchar(2000) encode ZSTD'],
  ['page_referrer', 'VARCHAR(4096)', false, 'varchar(10000) encode ZSTD'],
  ['page_urlscheme', 'VARCHAR(16)', false, 'varchar(16) encode ZSTD'],
  ['page_urlhost', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['page_urlport', 'INTEGER', false, 'int encode ZSTD'],
  ['page_urlpath', 'VARCHAR(3000)', false, 'varchar(3000) encode ZSTD'],
  ['page_urlquery', 'VARCHAR(6000)', false, 'varchar(6000) encode ZSTD'],
  ['page_urlfragment', 'VARCHAR(3000)', false, 'varchar(3000) encode ZSTD'],
  ['refr_urlscheme', 'VARCHAR(16)', false, 'varchar(16) encode ZSTD'],
  ['refr_urlhost', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['refr_urlport', 'INTEGER', false, 'int encode ZSTD'],
  ['refr_urlpath', 'VARCHAR(6000)', false, 'varchar(6000) encode ZSTD'],
  ['refr_urlquery', 'VARCHAR(6000)', false, 'varchar(6000) encode ZSTD'],
  ['refr_urlfragment', 'VARCHAR(3000)', false, 'varchar(3000) encode ZSTD'],
  ['refr_medium', 'VARCHAR(25)', false, 'varchar(25) encode ZSTD'],
  ['refr_source', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['refr_term', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['mkt_medium', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['mkt_source', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['mkt_term', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['mkt_content', 'VARCHAR(500)', false, 'varchar(500) encode ZSTD'],
  ['mkt_campaign', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['se_category', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['se_action', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['se_label', 'VARCHAR(1000)', false, 'varchar(4096) encode ZSTD'],
  ['se_property', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['se_value', 'DOUBLE PRECISION', false, 'double precision encode ZSTD'],
  ['tr_orderid', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['tr_affiliation', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['tr_total', 'DOUBLE PRECISION', false, 'dec(18,2) encode ZSTD'],
  ['tr_tax', 'DOUBLE PRECISION', false, 'dec(18,2) encode ZSTD'],
  ['tr_shipping', 'DOUBLE PRECISION', false, 'dec(18,2) encode ZSTD'],
  ['tr_city', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['tr_state', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['tr_country', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['ti_orderid', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['ti_sku', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['ti_name', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['ti_category', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['ti_price', 'DOUBLE PRECISION', false, 'dec(18,2) encode ZSTD'],
  ['ti_quantity', 'INTEGER', false, 'int encode ZSTD'],
  ['pp_xoffset_min', 'INTEGER', false, 'int encode ZSTD'],
  ['pp_xoffset_max', 'INTEGER', false, 'int encode ZSTD'],
  ['pp_yoffset_min', 'INTEGER', false, 'int encode ZSTD'],
  ['pp_yoffset_max', 'INTEGER', false, 'int encode ZSTD'],
  ['useragent', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['br_name', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['br_family', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['br_version', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['br_type', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['br_renderengine', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['br_lang', 'VARCHAR(255)', false, 'varchar(255) encode ZSTD'],
  ['br_features_pdf', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_flash', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_java', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_director', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_quicktime', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_realplayer', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_windowsmedia', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_gears', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_features_silverlight', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_cookies', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['br_colordepth', 'VARCHAR(12)', false, 'varchar(12) encode ZSTD'],
  ['br_viewwidth', 'INTEGER', false, 'int encode ZSTD'],
  ['br_viewheight', 'INTEGER', false, 'int encode ZSTD'],
  ['os_name', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['os_family', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['os_manufacturer', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['os_timezone', 'VARCHAR(50)', false, 'varchar(255) encode ZSTD'],
  ['dvce_type', 'VARCHAR(50)', false, 'varchar(50) encode ZSTD'],
  ['dvce_ismobile', 'BOOLEAN', false, 'boolean encode ZSTD'],
  ['dvce_screenwidth', 'INTEGER', false, 'int encode ZSTD'],
  ['dvce_screenheight', 'INTEGER', false, 'int encode ZSTD'],
  ['doc_charset', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['doc_width', 'INTEGER', false, 'int encode ZSTD'],
  ['doc_height', 'INTEGER', false, 'int encode ZSTD'],
  ['tr_currency', 'CHAR(3)', false, 'char(3) encode ZSTD'],
  ['tr_total_base', 'DOUBLE PRECISION', false, 'dec(18, 2) encode ZSTD'],
  ['tr_tax_base', 'DOUBLE PRECISION', false, 'dec(18, 2) encode ZSTD'],
  ['tr_shipping_base', 'DOUBLE PRECISION', false, 'dec(18, 2) encode ZSTD'],
  ['ti_currency', 'CHAR(3)', false, 'char(3) encode ZSTD'],
  ['ti_price_base', 'DOUBLE PRECISION', false, 'dec(18, 2) encode ZSTD'],
  ['base_currency', 'CHAR(3)', false, 'char(3) encode ZSTD'],
  ['geo_timezone', 'VARCHAR(64)', false, 'varchar(64) encode ZSTD'],
  ['mkt_clickid', 'VARCHAR(128)', false, 'varchar(1000) encode ZSTD'],
  ['mkt_network', 'VARCHAR(64)', false, 'varchar(64) encode ZSTD'],
  ['etl_tags', 'VARCHAR(500)', false, 'varchar(500) encode ZSTD'],
  ['dvce_sent_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
  ['refr_domain_userid', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['refr_dvce_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
  ['domain_sessionid', 'VARCHAR(128)', false, 'char(128) encode ZSTD'],
  ['derived_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
  ['event_vendor', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['event_name', 'VARCHAR(1000)', false, 'varchar(1000) encode ZSTD'],
  ['event_format', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['event_version', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['event_fingerprint', 'VARCHAR(128)', false, 'varchar(128) encode ZSTD'],
  ['true_tstamp', 'TIMESTAMP', false, 'timestamp encode ZSTD'],
];

/** Columns that exist in the TSV but not in atomic.events (they become per-schema tables). */
export const SHREDDED_TSV_FIELDS = ['contexts', 'unstruct_event', 'derived_contexts'] as const;

export const ATOMIC_COLUMNS: readonly AtomicColumn[] = Object.freeze(
  DEFS.map(([name, pgType, notNull, redshift]) => {
    const tsvIndex = (ENRICHED_FIELDS as readonly string[]).indexOf(name);
    if (tsvIndex < 0) throw new Error(`atomic column ${name} is not an enriched field`);
    return Object.freeze({ name, pgType, notNull, redshift, tsvIndex });
  }),
);

/** Redshift's extra column (not in the TSV; filled by the database). */
export const REDSHIFT_LOAD_TSTAMP = 'load_tstamp timestamp default getdate() null encode AZ64';
