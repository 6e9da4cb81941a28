/**
 * Enrichments against Snowplow's own unit tables and upstream test assets in ../shared/conformance/enrich (anon_ip,
 * event_fingerprint, cross_navigation; MaxMind's test databases, the IAB test lists, the referer-parser and
 * ua-parser test files). `npm test` runs the same behaviour on furrow's own cases and assets (test/fixtures/assets).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { anonymizeIp } from '../enricher/enrichments/anon-ip.js';
import { fingerprintPreimage } from '../enricher/enrichments/event-fingerprint.js';
import { buildEnrichments } from '../enricher/enrichments/registry.js';
import { makeInput, rawEvent, sdj, testDeps } from '../test/support/enrichments-deps.js';
import { ASSETS, VECTORS } from './support.js';

const UNIT = join(VECTORS, 'unit');
const readJson = <T>(p: string): T => JSON.parse(readFileSync(p, 'utf8')) as T;

t.test('anon_ip: every case of unit/anon_ip.json', async (t) => {
  const v = readJson<{ cases: Array<{ ip: string | null; anonOctets: number; anonSegments: number; expected: string | null }> }>(join(UNIT, 'anon_ip.json'));
  t.ok(v.cases.length >= 29);
  for (const c of v.cases) t.equal(anonymizeIp(c.ip, c.anonOctets, c.anonSegments), c.expected, `${c.ip} (${c.anonOctets}/${c.anonSegments})`);
});

t.test('event_fingerprint: every case of unit/event_fingerprint.json', async (t) => {
  const v = readJson<{ cases: Array<{ parameters: Record<string, string>; excludeParameters: string[]; hashAlgorithm: string; preimage?: string; expected?: string; expected_length?: number }> }>(join(UNIT, 'event_fingerprint.json'));
  let hashed = 0;
  for (const c of v.cases) {
    const params = new Map<string, string | null>(Object.entries(c.parameters));
    if (c.preimage !== undefined) t.equal(fingerprintPreimage(params, new Set(c.excludeParameters)), c.preimage);
    if (!['MD5', 'SHA1', 'SHA256', 'SHA384', 'SHA512'].includes(c.hashAlgorithm)) continue;
    const p = await buildEnrichments(
      [sdj('iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1', {
        name: 'event_fingerprint_config', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
        parameters: { excludeParameters: c.excludeParameters, hashAlgorithm: c.hashAlgorithm },
      })],
      testDeps(),
    );
    const input = makeInput({}, rawEvent(c.parameters));
    await p.run(input);
    if (c.expected !== undefined) t.equal(input.event.event_fingerprint, c.expected, c.hashAlgorithm);
    if (c.expected_length !== undefined) t.equal(input.event.event_fingerprint?.length, c.expected_length, c.hashAlgorithm);
    hashed++;
  }
  t.ok(hashed >= 3);
});

t.test('cross_navigation: the contexts of unit/cross_navigation.json', async (t) => {
  const v = readJson<{ cases: Array<{ page_querystring: Array<[string, string | null]>; expected: { context_if_enabled?: unknown } }> }>(join(UNIT, 'cross_navigation.json'));
  const p = await buildEnrichments([sdj('iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0', { vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'cross_navigation_config', enabled: true })], testDeps());
  for (const c of v.cases) {
    const input = makeInput();
    input.pageQuerystring = c.page_querystring;
    const r = await p.run(input);
    const want = c.expected.context_if_enabled ?? null;
    t.same(r.derivedContexts, want === null ? [] : [{ schema: 'iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0', data: want }], JSON.stringify(c.page_querystring));
  }
});

t.test("ip_lookups: MaxMind's own test databases", async (t) => {
  const common = pathToFileURL(join(ASSETS, 'common-registry')).href;
  const deps = testDeps({
    localAssets: {
      'GeoIP2-City.mmdb': join(ASSETS, 'common-registry', 'GeoIP2-City-Test.mmdb'),
      'GeoIP2-ISP.mmdb': join(ASSETS, 'common-registry', 'GeoIP2-ISP-Test.mmdb'),
      'GeoIP2-Domain.mmdb': join(ASSETS, 'common-registry', 'GeoIP2-Domain-Test.mmdb'),
      'GeoIP2-Connection-Type.mmdb': join(ASSETS, 'common-registry', 'GeoIP2-Connection-Type-Test.mmdb'),
    },
  });
  const p = await buildEnrichments(
    [sdj('iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1', {
      name: 'ip_lookups', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
      parameters: { geo: { uri: common, database: 'GeoIP2-City.mmdb' }, isp: { uri: common, database: 'GeoIP2-ISP.mmdb' }, domain: { uri: common, database: 'GeoIP2-Domain.mmdb' }, connectionType: { uri: common, database: 'GeoIP2-Connection-Type.mmdb' } },
    })],
    deps,
  );
  const a = makeInput({ user_ipaddress: '175.16.199.0' });
  await p.run(a);
  t.same([a.event.geo_country, a.event.geo_region, a.event.geo_city, a.event.geo_latitude, a.event.geo_longitude, a.event.geo_region_name, a.event.geo_timezone], ['CN', '22', 'Changchun', '43.88', '125.3228', 'Jilin Sheng', 'Asia/Harbin']);
  const b = makeInput({ user_ipaddress: '1.128.0.0' });
  const rb = await p.run(b);
  t.same([b.event.ip_isp, b.event.ip_organization], ['Telstra Internet', 'Telstra Internet']);
  t.same(rb.derivedContexts[0]?.data, { number: 1221, organization: 'Telstra Pty Ltd' });
  const c = makeInput({ user_ipaddress: '1.2.0.0' });
  await p.run(c);
  t.equal(c.event.ip_domain, 'maxmind.com');
  const d = makeInput({ user_ipaddress: '80.214.0.0' });
  await p.run(d);
  t.equal(d.event.ip_netspeed, 'Cellular');
  await p.close();
});

const GOOGLEBOT = 'Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Safari/537.36';
const INCLUDED = 'Mozilla/5.0%20(Windows%20NT%206.1;%20WOW64;%20rv:12.0)%20Gecko/20100101%20Firefox/12.0';
const iabUri = pathToFileURL(join(ASSETS, 'fs2-5.4.0')).href;
const iabCfg = () =>
  sdj('iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0', {
    name: 'iab_spiders_and_robots_enrichment', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true,
    parameters: {
      ipFile: { database: 'ip_exclude_current_cidr.txt', uri: iabUri },
      excludeUseragentFile: { database: 'exclude_current.txt', uri: iabUri },
      includeUseragentFile: { database: 'include_current.txt', uri: iabUri },
    },
  });
const iabRun = async (p: Awaited<ReturnType<typeof buildEnrichments>>, useragent: string | null, ip: string | null, tstamp: string | null = '1970-01-01 00:00:00.000') =>
  (await p.run(makeInput({ useragent, user_ipaddress: ip, derived_tstamp: tstamp }))).derivedContexts;

t.test('iab: the blackbox IabEnrichmentSpec cases on the upstream test lists', async (t) => {
  const p = await buildEnrichments([iabCfg()], testDeps());
  const ctx = (data: object) => [{ schema: 'iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0', data }];
  t.same(await iabRun(p, INCLUDED, '216.160.83.56'), ctx({ spiderOrRobot: false, category: 'BROWSER', reason: 'PASSED_ALL', primaryImpact: 'NONE' }));
  const notIncluded = ctx({ spiderOrRobot: true, category: 'SPIDER_OR_ROBOT', reason: 'FAILED_UA_INCLUDE', primaryImpact: 'UNKNOWN' });
  t.same(await iabRun(p, GOOGLEBOT, '216.160.83.56'), notIncluded);
  t.same(await iabRun(p, GOOGLEBOT, '216.160.83.56:8080'), notIncluded);
  t.same(await iabRun(p, GOOGLEBOT, '2001:db8:0:0:0:ff00:42:8329'), notIncluded);
  t.same(await iabRun(p, GOOGLEBOT, '[2001:db8:0:0:0:ff00:42:8329]:9090'), notIncluded);
  t.same(await iabRun(p, null, '216.160.83.56'), [], 'no useragent → no context');
  t.same(await iabRun(p, GOOGLEBOT, null), notIncluded, 'no IP: the IP check is skipped');
  t.same(await iabRun(p, GOOGLEBOT, '1.2.3.4', null), [], 'no derived_tstamp → no context');
});

t.test('iab: IP excludes, UA excludes with exceptions, start-of-string and inactive dates on the upstream test lists', async (t) => {
  const p = await buildEnrichments([iabCfg()], testDeps());
  const data = async (ua: string | null, ip: string, ts?: string) => (await iabRun(p, ua, ip, ts))[0]?.data;
  t.match(await data(INCLUDED, '217.152.89.230'), { reason: 'FAILED_IP_EXCLUDE', category: 'SPIDER_OR_ROBOT', spiderOrRobot: true }, 'inside 217.152.89.225/27');
  t.match(await data(INCLUDED, '215.151.101.210'), { reason: 'FAILED_IP_EXCLUDE' });
  t.match(await data(INCLUDED, '131.53.1.1'), { reason: 'FAILED_IP_EXCLUDE' });
  t.match(await data(INCLUDED, 'garbage-ip'), { reason: 'PASSED_ALL' }, 'an unparseable IP skips the IP check');
  t.match(await data('Xdroid xonitor', '1.1.1.1'), { reason: 'FAILED_UA_EXCLUDE', category: 'ACTIVE_SPIDER_OR_ROBOT', primaryImpact: 'AD_IMPRESSIONS' });
  t.match(await data('Xdroid xsoft url', '1.1.1.1'), { reason: 'FAILED_UA_EXCLUDE', primaryImpact: 'PAGE_AND_AD_IMPRESSIONS' });
  t.match(await data('Xdroid Xcho', '1.1.1.1'), { reason: 'FAILED_UA_EXCLUDE' });
  t.match(await data('Xdroid bonxcho', '1.1.1.1'), { reason: 'PASSED_ALL' }, 'exception pattern rescues the agent');
  t.match(await data('x Xdroid', '1.1.1.1'), { reason: 'FAILED_UA_INCLUDE' }, 'Xdroid is a start-of-string include');
  t.match(await data('Inactive Browser', '1.1.1.1', '2017-01-01 00:00:00.000'), { reason: 'PASSED_ALL' }, 'inactive include still counts before its date');
  t.match(await data('Inactive Browser', '1.1.1.1', '2018-01-01 00:00:00.000'), { reason: 'FAILED_UA_INCLUDE' });
});

const refr = (url: string, pageHost = 'www.snowplowanalytics.com') => {
  const u = new URL(url);
  return makeInput({ page_urlhost: pageHost, page_referrer: url, refr_urlscheme: u.protocol.slice(0, -1), refr_urlhost: u.hostname, refr_urlpath: u.pathname, refr_urlquery: u.search === '' ? null : u.search.slice(1) });
};

t.test('referer_parser: the blackbox RefererParserEnrichmentSpec database (referers-test.json)', async (t) => {
  const p = await buildEnrichments([sdj('iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1', {
    name: 'referer_parser', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
    parameters: { internalDomains: ['www.subdomain1.snowplowanalytics.com'], database: 'referers-test.json', uri: pathToFileURL(join(ASSETS, 'fs2-5.4.0')).href },
  })], testDeps());
  const a = refr('http://www.google.com/search?q=%0Agateway%09oracle%09cards%09denise%09linn&hl=en&client=safari');
  await p.run(a);
  t.same([a.event.refr_medium, a.event.refr_source, a.event.refr_term], ['search', 'Google', 'gateway    oracle    cards    denise    linn']);
  const b = refr('https://www.facebook.com/some/page');
  await p.run(b);
  t.same([b.event.refr_medium, b.event.refr_source, b.event.refr_term], ['social', 'Facebook', null]);
  const c = refr('http://www.subdomain1.snowplowanalytics.com/x');
  await p.run(c);
  t.same([c.event.refr_medium, c.event.refr_source], ['internal', null]);
  const h = refr('http://maps.google.com/');
  await p.run(h);
  t.same([h.event.refr_medium, h.event.refr_source], ['unknown', 'Google'], 'medium "unknown" entries in the database still name the source');
});

t.test('ua_parser: the upstream custom rules file (uap-test-rules.yml)', async (t) => {
  const p = await buildEnrichments([sdj('iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1', {
    name: 'ua_parser_config', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
    parameters: { uri: pathToFileURL(join(ASSETS, 'common-registry')).href, database: 'uap-test-rules.yml' },
  })], testDeps());
  const r = await p.run(makeInput({ useragent: 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.152 Safari/537.36' }));
  t.match(r.derivedContexts[0]?.data, { useragentFamily: 'UAP Test Family', osFamily: 'UAP Test OS', deviceFamily: 'UAP Test Device', useragentVersion: 'UAP Test Family' });
});

t.test('asn_lookups: the upstream bot ASN lists', async (t) => {
  const cfg = (database: string) => sdj('iglu:com.snowplowanalytics.snowplow.enrichments/asn_lookups/jsonschema/1-0-0', {
    name: 'asn_lookups', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true,
    parameters: { botAsnsFile: { uri: pathToFileURL(join(ASSETS, 'common-registry')).href, database } },
  });
  const p = await buildEnrichments([cfg('bad-asn-list.csv')], testDeps());
  await p.close();
  await t.rejects(buildEnrichments([cfg('bad-asn-list-invalid.csv')], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /not-a-number/ });
});
