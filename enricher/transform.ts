/**
 * Tracker protocol → enriched fields (../shared/spec/enrich.md §2.1, vectors unit/tracker_param_mapping.json).
 * The handler table is built once at module load; per event the core walks the raw parameters once.
 *
 * Alias precedence (upstream applies them in hash-map order; furrow picks one and documents it):
 * `se_*` over legacy `ev_*`, `ti_nm` over legacy `ti_na`, `tnuid` over `nuid`. `ue_pr/ue_px` and `co/cx`
 * are read by the self-describing step, not here.
 */
import type { EnrichedEvent, EnrichedFieldName } from '../formats/enriched-event.js';
import {
  ConversionError, convertBooleanByte, convertDecimal, convertDimensions, convertEventType, convertInt, convertIp,
  convertPlatform, convertTrackerTimestamp, convertUuid, makeTsvSafe,
} from './converters.js';

/** One `atomic_field_parse_error` report (bad row dataReports entry). */
export interface AtomicParseError {
  message: string;
  /** The tracker parameter name. */
  path: string;
}

type Fields = Record<EnrichedFieldName, string | null>;
type Handler = (ev: Fields, value: string, name: string, params: ReadonlyMap<string, string | null>, errors: AtomicParseError[]) => void;

const SAFE_FIELD = /^[a-z_]+$/;

/**
 * A store into one named field with its own property access site: a shared `ev[field] = …` site sees ~60 field
 * names and goes megamorphic (measured ~3x slower per parameter than a generated `ev.app_id = …`).
 */
function setter(field: EnrichedFieldName): (ev: Fields, value: string | null) => void {
  if (!SAFE_FIELD.test(field)) throw new Error(`unexpected field name ${field}`);
  return new Function('ev', 'v', `ev.${field} = v;`) as (ev: Fields, value: string | null) => void;
}

const str = (field: EnrichedFieldName): Handler => {
  const set = setter(field);
  return (ev, v) => set(ev, makeTsvSafe(v));
};

/** A legacy alias: ignored when the modern parameter is present with a value. */
const legacy = (modern: string, h: Handler): Handler => (ev, v, name, params, errors) => {
  const m = params.get(modern);
  if (m !== undefined && m !== null) return;
  h(ev, v, name, params, errors);
};

const conv = (field: EnrichedFieldName, f: (v: string) => string | null | ConversionError): Handler => {
  const set = setter(field);
  return (ev, v, name, _p, errors) => {
    const r = f(v);
    if (r instanceof ConversionError) errors.push({ message: r.message, path: name });
    else set(ev, r);
  };
};

const dims = (w: EnrichedFieldName, h: EnrichedFieldName): Handler => {
  const setW = setter(w);
  const setH = setter(h);
  return (ev, v, name, _p, errors) => {
    const r = convertDimensions(v);
    if (r instanceof ConversionError) errors.push({ message: r.message, path: name });
    else {
      setW(ev, r[0]);
      setH(ev, r[1]);
    }
  };
};

const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  ['e', conv('event', convertEventType)],
  ['ip', (ev, v) => { ev.user_ipaddress = convertIp(v); }],
  ['aid', str('app_id')],
  ['p', conv('platform', convertPlatform)],
  ['tid', conv('txn_id', convertInt)],
  ['uid', str('user_id')],
  ['duid', str('domain_userid')],
  ['nuid', legacy('tnuid', str('network_userid'))],
  ['tnuid', str('network_userid')],
  ['ua', str('useragent')],
  ['fp', str('user_fingerprint')],
  ['vid', conv('domain_sessionidx', convertInt)],
  ['sid', conv('domain_sessionid', convertUuid)],
  ['dtm', conv('dvce_created_tstamp', convertTrackerTimestamp)],
  ['stm', conv('dvce_sent_tstamp', convertTrackerTimestamp)],
  ['ttm', conv('true_tstamp', convertTrackerTimestamp)],
  ['tna', str('name_tracker')],
  ['tv', str('v_tracker')],
  ['cv', str('v_collector')],
  ['lang', str('br_lang')],
  ['f_pdf', conv('br_features_pdf', convertBooleanByte)],
  ['f_fla', conv('br_features_flash', convertBooleanByte)],
  ['f_java', conv('br_features_java', convertBooleanByte)],
  ['f_dir', conv('br_features_director', convertBooleanByte)],
  ['f_qt', conv('br_features_quicktime', convertBooleanByte)],
  ['f_realp', conv('br_features_realplayer', convertBooleanByte)],
  ['f_wma', conv('br_features_windowsmedia', convertBooleanByte)],
  ['f_gears', conv('br_features_gears', convertBooleanByte)],
  ['f_ag', conv('br_features_silverlight', convertBooleanByte)],
  ['cookie', conv('br_cookies', convertBooleanByte)],
  ['res', dims('dvce_screenwidth', 'dvce_screenheight')],
  ['cd', str('br_colordepth')],
  ['tz', str('os_timezone')],
  ['refr', str('page_referrer')],
  ['url', str('page_url')],
  ['page', str('page_title')],
  ['cs', str('doc_charset')],
  ['ds', dims('doc_width', 'doc_height')],
  ['vp', dims('br_viewwidth', 'br_viewheight')],
  ['eid', conv('event_id', convertUuid)],
  ['ev_ca', legacy('se_ca', str('se_category'))],
  ['ev_ac', legacy('se_ac', str('se_action'))],
  ['ev_la', legacy('se_la', str('se_label'))],
  ['ev_pr', legacy('se_pr', str('se_property'))],
  ['ev_va', legacy('se_va', conv('se_value', convertDecimal))],
  ['se_ca', str('se_category')],
  ['se_ac', str('se_action')],
  ['se_la', str('se_label')],
  ['se_pr', str('se_property')],
  ['se_va', conv('se_value', convertDecimal)],
  ['tr_id', str('tr_orderid')],
  ['tr_af', str('tr_affiliation')],
  ['tr_tt', conv('tr_total', convertDecimal)],
  ['tr_tx', conv('tr_tax', convertDecimal)],
  ['tr_sh', conv('tr_shipping', convertDecimal)],
  ['tr_ci', str('tr_city')],
  ['tr_st', str('tr_state')],
  ['tr_co', str('tr_country')],
  ['tr_cu', str('tr_currency')],
  ['ti_id', str('ti_orderid')],
  ['ti_sk', str('ti_sku')],
  ['ti_nm', str('ti_name')],
  ['ti_na', legacy('ti_nm', str('ti_name'))],
  ['ti_ca', str('ti_category')],
  ['ti_pr', conv('ti_price', convertDecimal)],
  ['ti_qu', conv('ti_quantity', convertInt)],
  ['ti_cu', str('ti_currency')],
  ['pp_mix', conv('pp_xoffset_min', convertInt)],
  ['pp_max', conv('pp_xoffset_max', convertInt)],
  ['pp_miy', conv('pp_yoffset_min', convertInt)],
  ['pp_may', conv('pp_yoffset_max', convertInt)],
]);

/**
 * Maps every parameter with a value onto the event; conversion failures are appended to `errors`
 * (the field stays as it was). Unknown parameters are ignored.
 */
export function transformParameters(event: EnrichedEvent, params: ReadonlyMap<string, string | null>, errors: AtomicParseError[]): void {
  const ev = event as unknown as Fields;
  for (const [name, value] of params) {
    if (value === null) continue;
    const h = HANDLERS.get(name);
    if (h !== undefined) h(ev, value, name, params, errors);
  }
}
