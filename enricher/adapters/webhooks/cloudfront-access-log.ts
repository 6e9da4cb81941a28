/**
 * CloudFront web distribution access logs: the body is one tab-separated log line. Its field
 * count (12, 15, 18, 19, 23, 24 or 26) picks the wd_access_log schema version; the line's date and
 * time become the collector timestamp, `c-ip` the IP, `cs(User-Agent)` the user agent.
 */
import type { Adapter, AdapterFailureMessage } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, inputData, rawEvent, unstructParams, type JsonObject, type Params } from './support.js';

const FIELD_NAMES = [
  'dateTime', 'xEdgeLocation', 'scBytes', 'cIp', 'csMethod', 'csHost', 'csUriStem', 'scStatus', 'csReferer',
  'csUserAgent', 'csUriQuery', 'csCookie', 'xEdgeResultType', 'xEdgeRequestId', 'xHostHeader', 'csProtocol',
  'csBytes', 'timeTaken', 'xForwardedFor', 'sslProtocol', 'sslCipher', 'xEdgeResponseResultType',
  'csProtocolVersion', 'fleStatus', 'fleEncryptedFields',
];

/** `%25XX` → `%XX` (CloudFront double-encodes percents). */
const singleEncodePcts = (s: string): string => s.replace(/%25([0-9a-fA-F]{2})/g, '%$1');

function doubleDecode(s: string): { value: string } | { error: string } {
  try {
    return { value: decodeURIComponent(singleEncodePcts(s).replace(/\+/g, ' ')) };
  } catch (e) {
    return { error: `Exception URL-decoding (encoding UTF-8): ${(e as Error).message}` };
  }
}

export function cloudfrontAccessLogAdapter(schemas: AdapterSchemas): Adapter {
  const s = schemas.cloudfrontAccessLog;
  const byCount: Record<number, string> = {
    12: s.with_12_fields, 15: s.with_15_fields, 18: s.with_18_fields, 19: s.with_19_fields,
    23: s.with_23_fields, 24: s.with_24_fields, 26: s.with_26_fields,
  };
  return {
    vendor: 'com.amazon.aws.cloudfront',
    version: 'wd_access_log',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const body = payload.body;
      if (body === null) return fail(inputData('body', null, 'empty body'));
      const fields = body.split('\t');
      const schema = byCount[fields.length];
      if (schema === undefined) return fail(inputData('body', body, `access log contained ${fields.length} fields, expected 12, 15, 18, 19, 23, 24 or 26`));
      const [date, time] = fields as [string, string];
      const values = [`${date}T${time}Z`, ...fields.slice(2)];
      const errors: AdapterFailureMessage[] = [];
      const data: JsonObject = {};
      values.forEach((v, i) => {
        const name = FIELD_NAMES[i]!;
        if (v === '') data[name] = null;
        else if (name === 'timeTaken') {
          const d = Number(v);
          if (v.trim() === '' || !Number.isFinite(d)) errors.push(inputData(name, v, 'cannot be converted to Double'));
          else data[name] = d;
        } else if (name === 'csBytes' || name === 'scBytes') {
          const n = /^[+-]?\d+$/.test(v) ? Number(v) : NaN;
          if (!Number.isInteger(n) || n > 2147483647 || n < -2147483648) errors.push(inputData(name, v, 'cannot be converted to Int'));
          else data[name] = n;
        } else if (name === 'csReferer' || name === 'csUserAgent') {
          const decoded = doubleDecode(v);
          if ('error' in decoded) errors.push(inputData(name, v, decoded.error));
          else data[name] = decoded.value;
        } else if (name === 'csUriQuery') data[name] = singleEncodePcts(v);
        else data[name] = v;
      });
      const timestamp = Date.parse(`${date}T${time}+00:00`);
      if (Number.isNaN(timestamp) || !/^\d{4}-\d{2}-\d{2}$/.test(date)) {
        errors.unshift(inputData('dateTime', `${date} ${time}`, `could not convert access log timestamp: Invalid format: "${date}T${time}+00:00"`));
      }
      if (errors.length > 0) return { ok: false, messages: errors };
      const qs: Params = new Map();
      const referer = values[8]!;
      if (referer !== '') qs.set('url', referer);
      const ip = values[3]!;
      const ua = values[9]!;
      const event = rawEvent(payload, unstructParams('com.amazon.aws.cloudfront/wd_access_log', 'srv', qs, schema, data));
      event.context = {
        timestamp,
        ipAddress: ip === '' ? null : ip,
        useragent: ua === '' ? null : singleEncodePcts(ua),
        refererUri: null,
        headers: [],
        userId: null,
      };
      return { ok: true, events: [event] };
    },
  };
}
