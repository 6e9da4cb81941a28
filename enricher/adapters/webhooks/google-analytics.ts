/**
 * Google Analytics Measurement Protocol (v1) hits, one per body line (form-encoded).
 *
 *   t=<hit type>            → the unstruct event's schema (pageview → page_view, …) and its fields
 *   flat fields (cid, dr…)  → one context per schema (general, user, session, traffic_source, …)
 *   composite fields        → contexts per product / impression / promotion / custom dimension…
 *                             e.g. pr1id=sku → product {index: 1, sku}, il1pi2nm → impression {listIndex 1, productIndex 2, name}
 *   some fields also map straight onto tracker-protocol parameters (dl → url, dr → refr, uip → ip, …)
 */
import type { Adapter, AdapterFailureMessage, RawEvent } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { CONTEXTS_SCHEMA, UNSTRUCT_EVENT_SCHEMA, fail, inputData, lookupSchema, parseForm, rawEvent, toParams, type Json, type JsonObject, type Params } from './support.js';

type Translate = (value: string) => Json | { error: string };
interface Field {
  name: string;
  translate: Translate;
}

const INT32 = /^[+-]?\d+$/;
const asString: Translate = (v) => v;
const asInt: Translate = (v) => {
  const n = INT32.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n <= 2147483647 && n >= -2147483648 ? n : { error: 'Cannot be converted to java.lang.Integer' };
};
const JAVA_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const asDouble: Translate = (v) => (JAVA_DECIMAL.test(v) ? Number(v) : { error: 'Cannot be converted to Double' });
const asTwoDecimals: Translate = (v) => {
  if (!JAVA_DECIMAL.test(v)) return { error: 'Cannot be converted to Double' };
  return roundHalfEven2(v);
};
const asBoolean: Translate = (v) => (v === '1' ? true : v === '0' ? false : { error: 'Cannot be converted to boolean, only 1 or 0 are supported' });

/** BigDecimal(v).setScale(2, HALF_EVEN).toDouble, computed on the decimal digits (no binary rounding). */
function roundHalfEven2(v: string): number {
  const m = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(v)!;
  const sign = m[1] === '-' ? -1 : 1;
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0); // value = digits × 10^-scale
  if (digits === '') digits = '0';
  if (scale <= 2) return sign * Number(`${digits}e${-scale}`);
  // Drop (scale - 2) digits with half-even rounding.
  const drop = scale - 2;
  const padded = digits.padStart(drop + 1, '0');
  const keep = BigInt(padded.slice(0, padded.length - drop));
  const rest = padded.slice(padded.length - drop);
  const half = '5'.padEnd(drop, '0');
  let rounded = keep;
  if (rest > half || (rest === half && keep % 2n === 1n)) rounded = keep + 1n;
  scale = 2;
  return sign * Number(`${rounded}e-2`);
}

const f = (name: string, translate: Translate = asString): Field => ({ name, translate });

export function googleAnalyticsAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.googleAnalytics;
  const hitTypes: Record<string, { schema: string; fields: Record<string, Field> }> = {
    pageview: { schema: s.page_view, fields: { dl: f('documentLocationUrl'), dh: f('documentHostName'), dp: f('documentPath'), dt: f('documentTitle') } },
    screenview: { schema: s.screen_view, fields: { cd: f('screenName') } },
    event: { schema: s.event, fields: { ec: f('category'), ea: f('action'), el: f('label'), ev: f('value', asInt) } },
    transaction: {
      schema: s.transaction,
      fields: { ti: f('id'), ta: f('affiliation'), tr: f('revenue', asTwoDecimals), ts: f('shipping', asTwoDecimals), tt: f('tax', asTwoDecimals), tcc: f('couponCode'), cu: f('currencyCode') },
    },
    item: {
      schema: s.item,
      fields: { ti: f('transactionId'), in: f('name'), ip: f('price', asTwoDecimals), iq: f('quantity', asInt), ic: f('code'), iv: f('category'), cu: f('currencyCode') },
    },
    social: { schema: s.social, fields: { sn: f('network'), sa: f('action'), st: f('actionTarget') } },
    exception: { schema: s.exception, fields: { exd: f('description'), exf: f('isFatal', asBoolean) } },
    timing: {
      schema: s.timing,
      fields: {
        utc: f('userTimingCategory'), utv: f('userTimingVariableName'), utt: f('userTimingTime', asInt), utl: f('userTimingLabel'),
        plt: f('pageLoadTime', asInt), dns: f('dnsTime', asInt), pdt: f('pageDownloadTime', asInt), rrt: f('redirectResponseTime', asInt),
        tcp: f('tcpConnectTime', asInt), srt: f('serverResponseTime', asInt), dit: f('domInteractiveTime', asInt), clt: f('contentLoadTime', asInt),
      },
    },
  };
  const hitSchemas: Record<string, string> = Object.fromEntries(Object.entries(hitTypes).map(([k, v]) => [k, v.schema]));

  // Flat contexts: each measurement-protocol field belongs to one context schema.
  const flatContexts: Array<{ schema: string; fields: Record<string, Field> }> = [
    hitTypes.pageview!,
    { schema: s.undocumented, fields: { a: f('a'), jid: f('jid'), gjid: f('gjid') } },
    { schema: s.private, fields: { _v: f('v'), _u: f('u'), _gid: f('gid'), _s: f('s', asInt), _r: f('r', asInt) } },
    { schema: s.general, fields: { v: f('protocolVersion'), tid: f('trackingId'), aip: f('anonymizeIp', asBoolean), ds: f('dataSource'), qt: f('queueTime', asInt), z: f('cacheBuster') } },
    { schema: s.user, fields: { cid: f('clientId'), uid: f('userId') } },
    { schema: s.session, fields: { sc: f('sessionControl'), uip: f('ipOverride'), ua: f('userAgentOverride'), geoid: f('geographicalOverride') } },
    {
      schema: s.traffic_source,
      fields: {
        dr: f('documentReferrer'), cn: f('campaignName'), cs: f('campaignSource'), cm: f('campaignMedium'), ck: f('campaignKeyword'),
        cc: f('campaignContent'), ci: f('campaignId'), gclid: f('googleAdwordsId'), dclid: f('googleDisplayAdsId'),
      },
    },
    { schema: s.system_info, fields: { sr: f('screenResolution'), vp: f('viewportSize'), de: f('documentEncoding'), sd: f('screenColors'), ul: f('userLanguage'), je: f('javaEnabled', asBoolean), fl: f('flashVersion') } },
    { schema: s.link, fields: { linkid: f('id') } },
    { schema: s.app, fields: { an: f('name'), aid: f('id'), av: f('version'), aiid: f('installerId') } },
    { schema: s.product_action, fields: { pa: f('productAction'), pal: f('productActionList'), cos: f('checkoutStep', asInt), col: f('checkoutStepOption') } },
    { schema: s.content_experiment, fields: { xid: f('id'), xvar: f('variant') } },
    { schema: s.hit, fields: { t: f('type'), ni: f('nonInteractionHit', asBoolean) } },
    { schema: s.promotion_action, fields: { promoa: f('promotionAction') } },
  ];
  const flatFieldSchema = new Map<string, { schema: string; field: Field }>();
  for (const c of flatContexts) for (const [k, field] of Object.entries(c.fields)) flatFieldSchema.set(k, { schema: c.schema, field });

  // Composite contexts: `IF<x>` keys carry the index found in the field name.
  const composite: Array<{ schema: string; fields: Record<string, Field> }> = [
    {
      schema: s.product,
      fields: {
        IFpr: f('index', asInt), prid: f('sku'), prnm: f('name'), prbr: f('brand'), prca: f('category'), prva: f('variant'),
        prpr: f('price', asTwoDecimals), prqt: f('quantity', asInt), prcc: f('couponCode'), prps: f('position', asInt), cu: f('currencyCode'),
      },
    },
    { schema: s.product_custom_dimension, fields: { IFprcd: f('productIndex', asInt), IFcd: f('dimensionIndex', asInt), prcd: f('value') } },
    { schema: s.product_custom_metric, fields: { IFprcm: f('productIndex', asInt), IFcm: f('metricIndex', asInt), prcm: f('value', asInt) } },
    { schema: s.product_impression_list, fields: { IFil: f('index', asInt), ilnm: f('name') } },
    {
      schema: s.product_impression,
      fields: {
        IFilpi: f('listIndex', asInt), IFpi: f('productIndex', asInt), ilpiid: f('sku'), ilpinm: f('name'), ilpibr: f('brand'), ilpica: f('category'),
        ilpiva: f('variant'), ilpips: f('position', asInt), ilpipr: f('price', asTwoDecimals), cu: f('currencyCode'),
      },
    },
    { schema: s.product_impression_custom_dimension, fields: { IFilpicd: f('listIndex', asInt), IFpicd: f('productIndex', asInt), IFcd: f('customDimensionIndex', asInt), ilpicd: f('value') } },
    { schema: s.product_impression_custom_metric, fields: { IFilpicm: f('listIndex', asInt), IFpicm: f('productIndex', asInt), IFcm: f('customMetricIndex', asInt), ilpicm: f('value', asInt) } },
    { schema: s.promotion, fields: { IFpromo: f('index', asInt), promoid: f('id'), promonm: f('name'), promocr: f('creative'), promops: f('position') } },
    { schema: s.custom_dimension, fields: { IFcd: f('index', asInt), cd: f('value') } },
    { schema: s.custom_metric, fields: { IFcm: f('index', asInt), cm: f('value', asDouble) } },
    { schema: s.content_group, fields: { IFcg: f('index', asInt), cg: f('value') } },
  ];
  const indexFieldCount = new Map(composite.map((c) => [c.schema, Object.keys(c.fields).filter((k) => k.startsWith('IF')).length]));
  const withCurrency = new Set(composite.filter((c) => 'cu' in c.fields).map((c) => c.schema));

  const directMappings = (hitType: string): Record<string, string> => ({
    uip: 'ip', dr: 'refr', de: 'cs', sd: 'cd', ul: 'lang', je: 'f_java', dl: 'url', dt: 'page',
    ti: hitType === 'transaction' ? 'tr_id' : 'ti_id', ta: 'tr_af', tr: 'tr_tt', ts: 'tr_sh', tt: 'tr_tx', in: 'ti_nm',
    ip: 'ti_pr', iq: 'ti_qu', ic: 'ti_sk', iv: 'ti_ca', cu: hitType === 'transaction' ? 'tr_cu' : 'ti_cu', ua: 'ua',
  });

  const COMPOSITE_NAME = /^(pr|promo|il|cd|cm|cg)(\d+)([a-zA-Z]*)(\d*)([a-zA-Z]*)(\d*)$/;

  /** `il1pi2nm` → { IFilpi: '1', IFpi: '2', ilpinm: value } */
  function breakDown(name: string, value: string): { index: Map<string, string>; values: Map<string, string> } | AdapterFailureMessage {
    if (name === '') return inputData(name, null, 'cannot parse empty field name');
    const m = COMPOSITE_NAME.exec(name);
    if (!m) return inputData(name, null, `composite field name has to conform to regex ${COMPOSITE_NAME.source.slice(1)}`);
    const groups = m.slice(1).filter((g) => g !== '');
    const strs = groups.filter((_, i) => i % 2 === 0);
    const ints = groups.filter((_, i) => i % 2 === 1);
    const named = strs.length === ints.length ? strs : strs.slice(0, -1);
    const index = new Map<string, string>();
    named.forEach((_, i) => index.set('IF' + named.slice(i).join(''), ints[i]!));
    return { index, values: new Map([[strs.join(''), value]]) };
  }

  function translate(table: Record<string, Field>, values: Map<string, string>): { data: JsonObject } | { errors: AdapterFailureMessage[] } {
    const data: JsonObject = {};
    const errors: AdapterFailureMessage[] = [];
    for (const [k, v] of values) {
      const field = table[k];
      if (!field) continue;
      const t = field.translate(v);
      if (t !== null && typeof t === 'object' && !Array.isArray(t) && 'error' in t) errors.push(inputData(field.name, v, t.error as string));
      else data[field.name] = t as Json;
    }
    return errors.length ? { errors } : { data };
  }

  function compositeContexts(values: Map<string, string>): { contexts: Array<[string, JsonObject]> } | { errors: AdapterFailureMessage[] } {
    const entries = [...values].filter(([k]) => /\d/.test(k)).sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
    const indexMaps: Array<Map<string, string>> = [];
    const valueMaps: Array<Map<string, string>> = [];
    for (const [k, v] of entries) {
      const b = breakDown(k, v);
      if (!('index' in b)) return { errors: [b] };
      indexMaps.push(b.index);
      valueMaps.push(b.values);
    }
    const sameMap = (a: Map<string, string>, b: Map<string, string>): boolean => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
    const dedupedIndex = indexMaps.filter((m, i) => i === 0 || !sameMap(m, indexMaps[i - 1]!));
    const grouped = new Map<string, string[]>();
    for (const m of [...valueMaps, ...dedupedIndex]) for (const [k, v] of m) grouped.set(k, [...(grouped.get(k) ?? []), v]);
    const out: Array<[string, JsonObject]> = [];
    const errors: AdapterFailureMessage[] = [];
    const currency = values.get('cu');
    for (const c of composite) {
      const columns: Array<[string, Json[]]> = [];
      for (const [fieldName, vs] of grouped) {
        const field = c.fields[fieldName];
        if (!field) continue;
        const col: Json[] = [];
        for (const v of vs) {
          const t = field.translate(v);
          if (t !== null && typeof t === 'object' && !Array.isArray(t) && 'error' in t) errors.push(inputData(field.name, v, t.error as string));
          else col.push(t as Json);
        }
        columns.push([field.name, col]);
      }
      if (columns.length === 0) continue;
      const rows = Math.max(...columns.map(([, col]) => col.length));
      for (let r = 0; r < rows; r++) {
        const row: JsonObject = {};
        if (currency !== undefined && withCurrency.has(c.schema)) row.currencyCode = currency;
        for (const [name, col] of columns) if (r < col.length) row[name] = col[r]!;
        const minSize = indexFieldCount.get(c.schema)! + (row.currencyCode !== undefined ? 1 : 0);
        if (Object.keys(row).length > minSize) out.push([c.schema, row]);
      }
    }
    return errors.length ? { errors } : { contexts: out };
  }

  function parseHit(line: string, payload: Parameters<Adapter['toRawEvents']>[0]): RawEvent | AdapterFailureMessage[] {
    const form = parseForm(line);
    if ('error' in form) return [inputData('body', line, form.error)];
    const params = toParams(form.pairs);
    const hitType = params.get('t');
    if (hitType === undefined || hitType === null) return [inputData('body', line, 'no t parameter provided: cannot determine hit type')];
    const values = new Map<string, string>();
    for (const [k, v] of params) if (v !== null) values.set(k, v);

    const errors: AdapterFailureMessage[] = [];
    const hit = hitTypes[hitType];
    if (!hit) errors.push(inputData('t', hitType, 'no matching hit type'));
    const found = lookupSchema(hitType, hitSchemas);
    if ('failure' in found) errors.push(found.failure);
    // Flat contexts, in table order.
    const flat: Array<[string, JsonObject]> = [];
    for (const c of flatContexts) {
      const present = new Map([...values].filter(([k]) => flatFieldSchema.get(k)?.schema === c.schema));
      if (present.size === 0) continue;
      const t = translate(c.fields, present);
      if ('errors' in t) errors.push(...t.errors);
      else flat.push([c.schema, t.data]);
    }
    const comp = compositeContexts(values);
    if ('errors' in comp) errors.push(...comp.errors);
    if (errors.length > 0 || !hit || 'failure' in found || 'errors' in comp) return errors;

    const contexts = [...flat, ...comp.contexts]
      .filter(([schema]) => hitType !== 'pageview' || schema !== hitTypes.pageview!.schema)
      .map(([schema, data]) => ({ schema, data }));
    const event = translate(hit.fields, values);
    if ('errors' in event) return [event.errors[0]!];

    const out: Params = new Map();
    if (contexts.length > 0) out.set('co', JSON.stringify({ schema: CONTEXTS_SCHEMA, data: contexts }));
    const direct = directMappings(hitType);
    for (const [k, v] of params) if (direct[k] !== undefined) out.set(direct[k]!, v);
    out.set('e', 'ue');
    out.set('ue_pr', JSON.stringify({ schema: UNSTRUCT_EVENT_SCHEMA, data: { schema: found.schema, data: event.data } }));
    out.set('tv', 'com.google.analytics.measurement-protocol-v1');
    out.set('p', 'srv');
    return rawEvent(payload, out);
  }

  return {
    vendor: 'com.google.analytics',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const body = payload.body;
      const lines = body === null ? [] : body.split(/\r\n|\r|\n/);
      if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      if (lines.length === 0) return fail(inputData('body', null, 'empty body'));
      const events: RawEvent[] = [];
      const messages: AdapterFailureMessage[] = [];
      for (const line of lines) {
        const r = parseHit(line, payload);
        if (Array.isArray(r)) messages.push(...r);
        else events.push(r);
      }
      return messages.length > 0 ? { ok: false, messages } : { ok: true, events };
    },
  };
}
