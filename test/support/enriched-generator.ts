/**
 * Valid enriched TSV lines (131 columns, as the enricher writes them) for loader tests and benchmarks:
 * page views with a web_page context and a ua_parser_context derived context, and every third event a
 * link_click unstruct event. Schemas are real Iglu Central ones (as the built-in registry ships them in schemas/).
 * Deterministic: line i of a given seed is always the same; event ids are unique per (seed, i).
 */
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';

export const GENERATOR_SCHEMAS = {
  webPage: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
  uaParser: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0',
  linkClick: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
  contexts: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
  unstruct: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
} as const;

const F = Object.fromEntries(ENRICHED_FIELDS.map((n, i) => [n, i])) as Record<(typeof ENRICHED_FIELDS)[number], number>;

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, '0').slice(-width);
}

/** A v4-shaped UUID unique per (seed, i). */
export function eventIdFor(seed: number, i: number): string {
  return `${hex(seed, 8)}-${hex(i >>> 16, 4)}-4${hex(i, 3)}-8${hex(i >>> 12, 3)}-${hex(i * 2654435761, 8)}${hex(i, 4)}`;
}

export interface GeneratedOptions {
  seed?: number;
  /** Leave out contexts, derived contexts and unstruct events (atomic-only events). */
  atomicOnly?: boolean;
  /** Only the web_page context (no derived contexts, no unstruct events): smaller lines, one entity each. */
  light?: boolean;
  /** Base collector time (ms since epoch). */
  baseTime?: number;
}

function tstamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Builds the 131 columns of event i; callers may change columns before joining. */
export function generateColumns(i: number, opts: GeneratedOptions = {}): string[] {
  const seed = opts.seed ?? 1;
  const base = opts.baseTime ?? Date.UTC(2024, 4, 1, 12, 0, 0);
  const cols = new Array<string>(ENRICHED_FIELDS.length).fill('');
  const id = eventIdFor(seed, i);
  const t = base + i * 37;
  const isClick = i % 3 === 2;
  cols[F.app_id] = 'shop';
  cols[F.platform] = 'web';
  cols[F.etl_tstamp] = tstamp(t + 900);
  cols[F.collector_tstamp] = tstamp(t);
  cols[F.dvce_created_tstamp] = tstamp(t - 250);
  cols[F.event] = isClick ? 'unstruct' : 'page_view';
  cols[F.event_id] = id;
  cols[F.txn_id] = String(100000 + (i % 900000));
  cols[F.name_tracker] = 'sp';
  cols[F.v_tracker] = 'js-3.24.0';
  cols[F.v_collector] = 'ssc-3.4.0-kinesis';
  cols[F.v_etl] = 'furrow-0.1.0';
  cols[F.user_id] = i % 5 === 0 ? `user-${i % 977}` : '';
  cols[F.user_ipaddress] = `192.0.2.${i % 250}`;
  cols[F.domain_userid] = `d${hex(i % 4099, 8)}`;
  cols[F.domain_sessionidx] = String(1 + (i % 17));
  cols[F.network_userid] = eventIdFor(seed + 1, i % 4099);
  cols[F.geo_country] = 'DE';
  cols[F.geo_city] = i % 2 === 0 ? 'Berlin' : 'München';
  cols[F.geo_latitude] = '52.52';
  cols[F.geo_longitude] = '13.405';
  cols[F.page_url] = `https://shop.example.com/p/${i % 1000}?ref=a\\b`;
  cols[F.page_title] = `Product ${i % 1000} — "quoted" 'title'`;
  cols[F.page_urlscheme] = 'https';
  cols[F.page_urlhost] = 'shop.example.com';
  cols[F.page_urlport] = '443';
  cols[F.page_urlpath] = `/p/${i % 1000}`;
  cols[F.page_urlquery] = 'ref=a\\b';
  cols[F.useragent] = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36';
  cols[F.br_lang] = 'de-DE';
  cols[F.br_features_pdf] = '1';
  cols[F.br_features_flash] = '0';
  cols[F.br_cookies] = '1';
  cols[F.br_colordepth] = '24';
  cols[F.br_viewwidth] = '1280';
  cols[F.br_viewheight] = String(600 + (i % 400));
  cols[F.os_timezone] = 'Europe/Berlin';
  cols[F.dvce_screenwidth] = '1920';
  cols[F.dvce_screenheight] = '1080';
  cols[F.doc_charset] = 'UTF-8';
  cols[F.doc_width] = '1280';
  cols[F.doc_height] = '4000';
  cols[F.dvce_sent_tstamp] = tstamp(t - 100);
  cols[F.domain_sessionid] = eventIdFor(seed + 2, i >>> 4);
  cols[F.derived_tstamp] = tstamp(t - 150);
  cols[F.event_vendor] = isClick ? 'com.snowplowanalytics.snowplow' : 'com.snowplowanalytics.snowplow';
  cols[F.event_name] = isClick ? 'link_click' : 'page_view';
  cols[F.event_format] = 'jsonschema';
  cols[F.event_version] = isClick ? '1-0-1' : '1-0-0';
  if (i % 4 === 1) {
    cols[F.se_value] = String((i % 1000) / 8);
    cols[F.tr_total] = '12.5';
  }
  if (!opts.atomicOnly) {
    const pageViewId = eventIdFor(seed + 3, i >>> 2);
    cols[F.contexts] = JSON.stringify({ schema: GENERATOR_SCHEMAS.contexts, data: [{ schema: GENERATOR_SCHEMAS.webPage, data: { id: pageViewId } }] });
  }
  if (!opts.atomicOnly && !opts.light) {
    cols[F.derived_contexts] = JSON.stringify({
      schema: GENERATOR_SCHEMAS.contexts,
      data: [{
        schema: GENERATOR_SCHEMAS.uaParser,
        data: {
          useragentFamily: 'Chrome', useragentMajor: '120', useragentMinor: '0', useragentPatch: null, useragentVersion: 'Chrome 120.0',
          osFamily: 'Linux', osMajor: null, osMinor: null, osPatch: null, osPatchMinor: null, osVersion: 'Linux', deviceFamily: 'Other',
        },
      }],
    });
    if (isClick) {
      cols[F.unstruct_event] = JSON.stringify({
        schema: GENERATOR_SCHEMAS.unstruct,
        data: { schema: GENERATOR_SCHEMAS.linkClick, data: { targetUrl: `https://example.org/${i}`, elementId: `a${i % 7}`, elementClasses: ['nav', `c${i % 3}`] } },
      });
    }
  }
  return cols;
}

export function generateLine(i: number, opts: GeneratedOptions = {}): string {
  return generateColumns(i, opts).join('\t');
}

/** `count` lines joined by LF (with a final LF), built in one pass. */
export function generateTsv(count: number, opts: GeneratedOptions = {}): string {
  const parts = new Array<string>(count);
  for (let i = 0; i < count; i++) parts[i] = generateLine(i, opts);
  return parts.join('\n') + '\n';
}

export { F as ENRICHED_INDEX };
