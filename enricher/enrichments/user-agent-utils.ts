/**
 * user_agent_utils_config (iglu:com.snowplowanalytics.snowplow/user_agent_utils_config/jsonschema/1-0-0, deprecated
 * by Snowplow): the legacy br_* / os_* / dvce_* atomic fields.
 *
 * Snowplow used the Java UserAgentUtils library (end-of-life). furrow parses with `ua-parser-js` 1.x (MIT; 2.x is
 * AGPL and must not be used) and maps its answer onto UserAgentUtils' vocabulary:
 *
 *   br_family   browser family ("Firefox", "Chrome", "Safari", "Internet Explorer", "Microsoft Edge", "Opera", …)
 *   br_name     "<family> <major>" (mobile browsers unversioned: "Mobile Safari", "Chrome Mobile")   br_version  full version
 *   br_type     Browser | Mobile Browser | Robot | Unknown
 *   br_renderengine  GECKO | WEBKIT | BLINK | TRIDENT | EDGE_HTML | PRESTO | KHTML | OTHER
 *   os_family / os_name / os_manufacturer   e.g. "Mac OS X" / "Mac OS X" / "Apple Inc.", "Windows" / "Windows 10" /
 *               "Microsoft Corporation", "Android" / "Android 8.x" / "Google Inc.", "iOS" / "iOS 16 (iPhone)"
 *   dvce_type   Computer | Mobile | Tablet | Game console | Digital media receiver | Wearable computer | Unknown
 *   dvce_ismobile  1 for Mobile/Tablet, else 0
 * Exact for mainstream desktop/mobile browsers (the legacy conformance UA matches byte for byte); rare agents may
 * be named differently than UserAgentUtils named them. Documented in docs/enrichments.md.
 */
import UAParser from 'ua-parser-js';
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { MAX_UA_LENGTH } from './ua-parser.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

export interface UauFields {
  br_name: string;
  br_family: string;
  br_version: string | null;
  br_type: string;
  br_renderengine: string;
  os_name: string;
  os_family: string;
  os_manufacturer: string;
  dvce_type: string;
  dvce_ismobile: string;
}

const BROWSER_FAMILY: Record<string, string> = {
  'Mobile Safari': 'Safari',
  IE: 'Internet Explorer',
  IEMobile: 'Internet Explorer',
  Edge: 'Microsoft Edge',
  'Chrome WebView': 'Chrome',
  'Mobile Chrome': 'Chrome',
  'Mobile Firefox': 'Firefox',
  'Opera Mini': 'Opera',
  'Opera Mobi': 'Opera',
  'Opera Touch': 'Opera',
  'Samsung Browser': 'Samsung Browser',
};

/** UserAgentUtils names its mobile browsers without a version. */
const MOBILE_NAME: Record<string, string> = {
  'Mobile Safari': 'Mobile Safari',
  'Mobile Chrome': 'Chrome Mobile',
  'Mobile Firefox': 'Firefox Mobile',
  'Opera Mini': 'Opera Mini',
  'Opera Mobi': 'Opera Mobile',
};

const ENGINE: Record<string, string> = {
  Gecko: 'GECKO',
  WebKit: 'WEBKIT',
  Blink: 'BLINK',
  Trident: 'TRIDENT',
  EdgeHTML: 'EDGE_HTML',
  Presto: 'PRESTO',
  KHTML: 'KHTML',
};

const OS: Record<string, { family: string; manufacturer: string }> = {
  'Mac OS': { family: 'Mac OS X', manufacturer: 'Apple Inc.' },
  iOS: { family: 'iOS', manufacturer: 'Apple Inc.' },
  Windows: { family: 'Windows', manufacturer: 'Microsoft Corporation' },
  'Windows Phone': { family: 'Windows', manufacturer: 'Microsoft Corporation' },
  'Windows Mobile': { family: 'Windows', manufacturer: 'Microsoft Corporation' },
  Android: { family: 'Android', manufacturer: 'Google Inc.' },
  'Chromium OS': { family: 'Chrome OS', manufacturer: 'Google Inc.' },
  'Chrome OS': { family: 'Chrome OS', manufacturer: 'Google Inc.' },
  Linux: { family: 'Linux', manufacturer: 'Other' },
  Ubuntu: { family: 'Linux', manufacturer: 'Other' },
  Debian: { family: 'Linux', manufacturer: 'Other' },
  Fedora: { family: 'Linux', manufacturer: 'Other' },
  BlackBerry: { family: 'BlackBerryOS', manufacturer: 'BlackBerry' },
  Tizen: { family: 'Tizen', manufacturer: 'Samsung' },
  PlayStation: { family: 'Sony Playstation', manufacturer: 'Sony Corporation' },
  Xbox: { family: 'Xbox OS', manufacturer: 'Microsoft Corporation' },
};

const DEVICE: Record<string, string> = {
  mobile: 'Mobile',
  tablet: 'Tablet',
  console: 'Game console',
  smarttv: 'Digital media receiver',
  wearable: 'Wearable computer',
  embedded: 'Unknown',
};

const ROBOT = /bot|crawl|spider|slurp|curl|wget|python-requests|httpclient|monitor|preview/i;

export function userAgentUtils(ua: string): UauFields {
  const r = new UAParser(ua).getResult();
  const robot = r.browser.name === undefined && ROBOT.test(ua);
  const family = r.browser.name === undefined ? (robot ? 'Robot/Spider' : 'Unknown') : (BROWSER_FAMILY[r.browser.name] ?? r.browser.name);
  const major = r.browser.major;
  const os = r.os.name === undefined ? null : (OS[r.os.name] ?? { family: r.os.name, manufacturer: 'Other' });
  let osName = 'Unknown';
  if (os !== null) {
    if (os.family === 'Mac OS X') osName = 'Mac OS X';
    else if (os.family === 'Windows' && r.os.version !== undefined) osName = `Windows ${r.os.version}`;
    else if (os.family === 'Android' && r.os.version !== undefined) osName = `Android ${r.os.version.split('.')[0]}.x`;
    else if (os.family === 'iOS' && r.os.version !== undefined) osName = `iOS ${r.os.version.split('.')[0]} (${r.device.type === 'tablet' ? 'iPad' : 'iPhone'})`;
    else osName = os.family;
  }
  const deviceType =
    r.device.type !== undefined ? (DEVICE[r.device.type] ?? 'Unknown') : os === null ? 'Unknown' : os.family === 'iOS' || os.family === 'Android' ? 'Mobile' : 'Computer';
  const mobile = deviceType === 'Mobile' || deviceType === 'Tablet';
  return {
    br_family: family,
    br_name:
      MOBILE_NAME[r.browser.name ?? ''] ??
      (mobile && (family === 'Chrome' || family === 'Firefox') ? `${family} Mobile` : major !== undefined ? `${family} ${major}` : family),
    br_version: r.browser.version ?? null,
    br_type: robot ? 'Robot' : r.browser.name === undefined ? 'Unknown' : mobile ? 'Mobile Browser' : 'Browser',
    br_renderengine: r.engine.name === undefined ? 'OTHER' : (ENGINE[r.engine.name] ?? 'OTHER'),
    os_family: os?.family ?? 'Unknown',
    os_name: osName,
    os_manufacturer: os?.manufacturer ?? 'Other',
    dvce_type: deviceType,
    dvce_ismobile: mobile ? '1' : '0',
  };
}

class UserAgentUtilsEnrichment implements Enrichment {
  readonly identifier = 'user-agent-utils';
  private readonly cache = new LRUCache<string, UauFields>({ max: 5000 });
  constructor(readonly schemaKey: string) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event;
    const ua = ev.useragent;
    if (ua === null) return NO_OUTPUT;
    let f = this.cache.get(ua);
    if (f === undefined) {
      f = userAgentUtils(ua.length > MAX_UA_LENGTH ? ua.slice(0, MAX_UA_LENGTH) : ua);
      this.cache.set(ua, f);
    }
    ev.br_name = f.br_name;
    ev.br_family = f.br_family;
    ev.br_version = f.br_version;
    ev.br_type = f.br_type;
    ev.br_renderengine = f.br_renderengine;
    ev.os_name = f.os_name;
    ev.os_family = f.os_family;
    ev.os_manufacturer = f.os_manufacturer;
    ev.dvce_type = f.dvce_type;
    ev.dvce_ismobile = f.dvce_ismobile;
    return NO_OUTPUT;
  }
}

/** `user_agent_utils_config` takes no parameters. */
const NO_PARAMETERS = t.object({});

export const userAgentUtilsFactory: EnrichmentFactory = {
  name: 'user_agent_utils_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    readParameters(config, NO_PARAMETERS, { optional: true });
    return new UserAgentUtilsEnrichment(config.schema);
  },
};
