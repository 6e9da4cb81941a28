import t from 'tap';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { parseIpList } from '../../../enricher/enrichments/iab-spiders-and-robots.js';
import { crossNavigationContext } from '../../../enricher/enrichments/cross-navigation.js';
import { buildMmdb } from '../../support/mmdb-writer.js';
import { ASSETS, makeInput, rawEvent, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; rv:120.0) Gecko/20100101 Firefox/120.0';
const CURL = 'curl/8.4.0';
// test/fixtures/assets/iab: lists in the IAB/ABC layout written for these tests (Snowplow's test lists run in
// `npm run conformance`). include: "Mozilla/" (start of string), "FurrowBrowser", "Retired Browser" (inactive from
// 06/15/2019); exclude: crawlbot (exceptions goodcrawlbot, crawlbot-friend; ad impressions), "scanner tool" (page and
// ad), feedfetch (page), FetcherX (start of string), oldspider (inactive from 01/01/2015); IPs: 203.0.113.0/26,
// 198.51.100.77, 100.64.0.0/15, 2001:db8:dead::/48.
const iabUri = pathToFileURL(join(ASSETS, 'iab')).href;
const iabCfg = (extra: Record<string, unknown> = {}, version = '1-0-0') =>
  sdj(`iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/${version}`, {
    name: 'iab_spiders_and_robots_enrichment', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true,
    parameters: {
      ipFile: { database: 'ip_exclude_current_cidr.txt', uri: iabUri },
      excludeUseragentFile: { database: 'exclude_current.txt', uri: iabUri },
      includeUseragentFile: { database: 'include_current.txt', uri: iabUri },
      ...extra,
    },
  });
const iabRun = async (p: Awaited<ReturnType<typeof buildEnrichments>>, useragent: string | null, ip: string | null, tstamp: string | null = '2024-01-01 00:00:00.000') =>
  (await p.run(makeInput({ useragent, user_ipaddress: ip, derived_tstamp: tstamp }))).derivedContexts;

t.test('iab: browser, not included, no useragent, no IP, no derived_tstamp', async (t) => {
  const p = await buildEnrichments([iabCfg()], testDeps());
  const ctx = (data: object) => [{ schema: 'iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0', data }];
  t.same(await iabRun(p, FIREFOX, '192.0.2.10'), ctx({ spiderOrRobot: false, category: 'BROWSER', reason: 'PASSED_ALL', primaryImpact: 'NONE' }));
  const notIncluded = ctx({ spiderOrRobot: true, category: 'SPIDER_OR_ROBOT', reason: 'FAILED_UA_INCLUDE', primaryImpact: 'UNKNOWN' });
  t.same(await iabRun(p, CURL, '192.0.2.10'), notIncluded);
  t.same(await iabRun(p, CURL, '192.0.2.10:8080'), notIncluded, 'a port is ignored');
  t.same(await iabRun(p, CURL, '2001:db8::42'), notIncluded);
  t.same(await iabRun(p, CURL, '[2001:db8::42]:9090'), notIncluded);
  t.same(await iabRun(p, 'x Mozilla/5.0', '192.0.2.10'), notIncluded, '"Mozilla/" is a start-of-string include');
  t.same(await iabRun(p, 'my furrowbrowser 2', '192.0.2.10'), ctx({ spiderOrRobot: false, category: 'BROWSER', reason: 'PASSED_ALL', primaryImpact: 'NONE' }), 'patterns are case-insensitive substrings');
  t.same(await iabRun(p, null, '192.0.2.10'), [], 'no useragent → no context');
  t.same(await iabRun(p, CURL, null), notIncluded, 'no IP: the IP check is skipped');
  t.same(await iabRun(p, CURL, '192.0.2.10', null), [], 'no derived_tstamp → no context');
});

t.test('iab: IP excludes, UA excludes with exceptions, start-of-string and inactive dates', async (t) => {
  const p = await buildEnrichments([iabCfg()], testDeps());
  const data = async (ua: string | null, ip: string, ts?: string) => (await iabRun(p, ua, ip, ts))[0]?.data;
  t.match(await data(FIREFOX, '203.0.113.63'), { reason: 'FAILED_IP_EXCLUDE', category: 'SPIDER_OR_ROBOT', spiderOrRobot: true, primaryImpact: 'UNKNOWN' }, 'inside 203.0.113.0/26');
  t.match(await data(FIREFOX, '203.0.113.64'), { reason: 'PASSED_ALL' }, 'just outside the /26');
  t.match(await data(FIREFOX, '198.51.100.77'), { reason: 'FAILED_IP_EXCLUDE' }, 'a single address');
  t.match(await data(FIREFOX, '100.65.255.255'), { reason: 'FAILED_IP_EXCLUDE' }, 'inside 100.64.0.0/15');
  t.match(await data(FIREFOX, '2001:db8:dead:1::5'), { reason: 'FAILED_IP_EXCLUDE' }, 'an IPv6 block');
  t.match(await data(CURL, '198.51.100.77'), { reason: 'FAILED_IP_EXCLUDE' }, 'the IP check comes before the include list');
  t.match(await data(FIREFOX, 'garbage-ip'), { reason: 'PASSED_ALL' }, 'an unparseable IP skips the IP check');
  t.match(await data('Mozilla/5.0 (compatible; CrawlBot/2.1)', '192.0.2.1'), { reason: 'FAILED_UA_EXCLUDE', category: 'ACTIVE_SPIDER_OR_ROBOT', primaryImpact: 'AD_IMPRESSIONS' });
  t.match(await data('Mozilla/5.0 scanner tool', '192.0.2.1'), { reason: 'FAILED_UA_EXCLUDE', primaryImpact: 'PAGE_AND_AD_IMPRESSIONS' });
  t.match(await data('Mozilla/5.0 FeedFetch', '192.0.2.1'), { reason: 'FAILED_UA_EXCLUDE', primaryImpact: 'PAGE_IMPRESSIONS' });
  t.match(await data('Mozilla/5.0 goodcrawlbot', '192.0.2.1'), { reason: 'PASSED_ALL' }, 'an exception pattern rescues the agent');
  t.match(await data('Mozilla/5.0 crawlbot-friend', '192.0.2.1'), { reason: 'PASSED_ALL' }, 'exceptions are case-insensitive too');
  t.match(await data('FurrowBrowser fetcherx', '192.0.2.1'), { reason: 'PASSED_ALL' }, 'FetcherX excludes only at the start');
  t.match(await data('fetcherx furrowbrowser', '192.0.2.1'), { reason: 'FAILED_UA_EXCLUDE', primaryImpact: 'AD_IMPRESSIONS' });
  t.match(await data('Mozilla/5.0 oldspider', '192.0.2.1', '2014-06-01 00:00:00.000'), { reason: 'FAILED_UA_EXCLUDE', category: 'ACTIVE_SPIDER_OR_ROBOT' }, 'before its inactive date');
  t.match(await data('Mozilla/5.0 oldspider', '192.0.2.1', '2016-06-01 00:00:00.000'), { reason: 'FAILED_UA_EXCLUDE', category: 'INACTIVE_SPIDER_OR_ROBOT' }, 'after it');
  t.match(await data('Retired Browser 3', '192.0.2.1', '2019-06-14 23:00:00.000'), { reason: 'PASSED_ALL' }, 'an inactive include still counts before its date');
  t.match(await data('Retired Browser 3', '192.0.2.1', '2019-06-15 00:00:00.000'), { reason: 'FAILED_UA_INCLUDE' });
  t.match(await data('#Commented Out Browser', '192.0.2.1'), { reason: 'FAILED_UA_INCLUDE' }, 'comment lines are not patterns');
});

t.test('iab 1-0-1: custom include/exclude user agents', async (t) => {
  const p = await buildEnrichments([iabCfg({ includeUseragents: ['CURL/'], excludeUseragents: ['firefox/120'] }, '1-0-1')], testDeps());
  t.match((await iabRun(p, CURL, '198.51.100.77'))[0]?.data, { reason: 'PASSED_ALL' }, 'custom include wins even over the IP list');
  t.match((await iabRun(p, FIREFOX, '192.0.2.1'))[0]?.data, { reason: 'FAILED_UA_EXCLUDE', category: 'SPIDER_OR_ROBOT', primaryImpact: 'UNKNOWN' });
});

t.test('iab: broken list files fail at start', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-iab-'));
  const badIps = join(dir, 'ips');
  const badExclude = join(dir, 'exclude');
  mkdirSync(badIps);
  mkdirSync(badExclude);
  writeFileSync(join(badIps, 'ip_exclude_current_cidr.txt'), '1.2.3.4\nnot-an-ip\n');
  writeFileSync(join(badExclude, 'exclude_current.txt'), 'pattern|1||0|7|0\n');
  const cfg = (ipDir: string, exDir: string) =>
    sdj('iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/jsonschema/1-0-0', {
      name: 'iab_spiders_and_robots_enrichment', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true,
      parameters: {
        ipFile: { database: 'ip_exclude_current_cidr.txt', uri: pathToFileURL(ipDir).href },
        excludeUseragentFile: { database: 'exclude_current.txt', uri: pathToFileURL(exDir).href },
        includeUseragentFile: { database: 'include_current.txt', uri: iabUri },
      },
    });
  await t.rejects(buildEnrichments([cfg(badIps, join(ASSETS, 'iab'))], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /not-an-ip/ });
  await t.rejects(buildEnrichments([cfg(join(ASSETS, 'iab'), badExclude)], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /primary impact flag/ });
  t.ok(parseIpList('::1\n2001:db8::/32\n').check('2001:db8::7', 'ipv6'));
});

t.test('cross_navigation: _sp parts, context only with a timestamp, more than 7 parts ignored', async (t) => {
  // Snowplow's own table (unit/cross_navigation.json) runs in `npm run conformance`.
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const full = { domain_user_id: 'dUid9', timestamp: '2023-11-14T22:13:20.123Z', session_id: 'a1b2c3d4-0000-4000-8000-000000000001', user_id: 'alice', source_id: 'campaign-7', source_platform: 'mob', reason: 'deep link' };
  const cases: Array<[Array<[string, string | null]>, Record<string, unknown> | null]> = [
    [[], null],
    [[['utm_source', 'x']], null],
    [[['_sp', null]], null],
    [[['_sp', 'dUid9']], null],
    [[['_sp', 'dUid9.1700000000123']], { ...full, session_id: null, user_id: null, source_id: null, source_platform: null, reason: null }],
    [[['_sp', 'dUid9.1700000000000']], { ...full, timestamp: '2023-11-14T22:13:20Z', session_id: null, user_id: null, source_id: null, source_platform: null, reason: null }],
    [[['_sp', `dUid9.1700000000123.${full.session_id}.${b64('alice')}.${b64('campaign-7')}.mob.${b64('deep link')}`]], full],
    [[['_sp', `dUid9.1700000000123.${full.session_id}.${b64('alice')}.${b64('campaign-7')}.mob.${b64('deep link')}.extra`]], null],
  ];
  const enabled = { ...readConfig('cross_navigation_config.json'), data: { ...(readConfig('cross_navigation_config.json').data as object), enabled: true } };
  const p = await buildEnrichments([enabled], testDeps());
  t.same(p.crossNavigation, { schemaKey: 'iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0', identifier: 'cross-navigation' });
  for (const [qs, want] of cases) {
    const input = makeInput();
    input.pageQuerystring = qs;
    const r = await p.run(input);
    t.same(r.derivedContexts, want === null ? [] : [{ schema: 'iglu:com.snowplowanalytics.snowplow/cross_navigation/jsonschema/1-0-0', data: want }], JSON.stringify(qs));
  }
  t.equal(crossNavigationContext('a.1.2.3.4.5.6.7'), null, 'more than 7 parts is ignored');
  t.equal(crossNavigationContext('abc.1426245561000')?.['timestamp'], '2015-03-13T11:19:21Z');
  t.equal(crossNavigationContext('abc.1426245561100')?.['timestamp'], '2015-03-13T11:19:21.1Z');
  // the pipeline parses page_urlquery itself when the core did not
  const input = makeInput({ page_urlquery: 'a=1&_sp=abc.1426245561368' });
  const r = await p.run(input);
  t.equal((r.derivedContexts[0]?.data as { timestamp: string }).timestamp, '2015-03-13T11:19:21.368Z');
});

t.test('cookie_extractor and http_header_extractor', async (t) => {
  const headers = ['Host: example.com', 'Cookie: sp=abc-123; other=x; empty=; sp2', 'cookie: sp=second', 'X-Forwarded-For:  1.2.3.4 ', 'Accept: */*', 'no colon header'];
  const p = await buildEnrichments(
    [
      sdj('iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0', { name: 'cookie_extractor_config', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { cookies: ['sp', 'empty', 'sp2'] } }),
      sdj('iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0', { name: 'http_header_extractor_config', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true, parameters: { headersPattern: 'X-Forwarded-.*|Host' } }),
    ],
    testDeps(),
  );
  const r = await p.run(makeInput({}, rawEvent({}, { headers })));
  t.same(r.derivedContexts, [
    { schema: 'iglu:org.ietf/http_header/jsonschema/1-0-0', data: { name: 'Host', value: 'example.com' } },
    { schema: 'iglu:org.ietf/http_header/jsonschema/1-0-0', data: { name: 'X-Forwarded-For', value: '1.2.3.4' } },
    { schema: 'iglu:org.ietf/http_cookie/jsonschema/1-0-0', data: { name: 'sp', value: 'abc-123' } },
    { schema: 'iglu:org.ietf/http_cookie/jsonschema/1-0-0', data: { name: 'empty', value: '' } },
    { schema: 'iglu:org.ietf/http_cookie/jsonschema/1-0-0', data: { name: 'sp2', value: null } },
    { schema: 'iglu:org.ietf/http_cookie/jsonschema/1-0-0', data: { name: 'sp', value: 'second' } },
  ], 'header contexts (later step) come first; each step keeps its own order');
  t.same((await p.run(makeInput())).derivedContexts, []);
  const bad = sdj('iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0', { name: 'http_header_extractor_config', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true, parameters: { headersPattern: '(unclosed' } });
  await t.rejects(buildEnrichments([bad], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /headersPattern/ });
});

t.test('asn_lookups marks the ip_lookups ASN context; bot_detection consolidates', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-asn-'));
  writeFileSync(join(dir, 'GeoLite2-ASN.mmdb'), buildMmdb([
    { network: '10.0.0.0/8', data: { autonomous_system_number: 174, autonomous_system_organization: 'Cogent' } },
    { network: '11.0.0.0/8', data: { autonomous_system_number: 456, autonomous_system_organization: 'Listed' } },
    { network: '12.0.0.0/8', data: { autonomous_system_number: 999, autonomous_system_organization: 'Clean' } },
  ], { databaseType: 'GeoLite2-ASN' }));
  const ip = sdj('iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-1', { name: 'ip_lookups', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { asn: { uri: pathToFileURL(dir).href, database: 'GeoLite2-ASN.mmdb' } } });
  const asn = readConfig('asn_lookups.json') as { schema: string; data: { parameters: { botAsnsFile: { uri: string } } } };
  asn.data.parameters.botAsnsFile.uri = pathToFileURL(join(ASSETS, 'asn')).href;
  const bot = sdj('iglu:com.snowplowanalytics.snowplow.enrichments/bot_detection_enrichment_config/jsonschema/1-0-1', {
    name: 'bot_detection_enrichment_config', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: true,
    parameters: { useYauaa: true, useIab: true, useAsnLookups: true, useClientSideDetection: true },
  });
  const p = await buildEnrichments([bot, asn, ip], testDeps());
  const run = (ipaddr: string, platform = 'web', contexts: Array<{ schema: string; data: unknown }> = []) => {
    const input = makeInput({ user_ipaddress: ipaddr, platform });
    input.contexts = contexts;
    return p.run(input);
  };
  const a = await run('10.1.1.1');
  t.same(a.derivedContexts, [
    { schema: 'iglu:com.snowplowanalytics.snowplow/bot_detection/jsonschema/1-0-1', data: { bot: true, indicators: ['asnLookups'] } },
    { schema: 'iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1', data: { number: 174, organization: 'Cogent', likelyBot: true } },
  ], 'ASN 174 is in bad-asn-list.csv');
  t.match((await run('11.1.1.1')).derivedContexts[1]?.data, { number: 456, likelyBot: true }, 'botAsns list');
  t.match((await run('12.1.1.1')).derivedContexts, [{ data: { bot: false, indicators: [] } }, { data: { number: 999, likelyBot: false } }]);
  t.same((await run('10.1.1.1', 'srv')).derivedContexts[1]?.data, { number: 174, organization: 'Cogent' }, 'bypassed platform: no likelyBot');
  const client = await run('12.1.1.1', 'web', [{ schema: 'iglu:com.snowplowanalytics.snowplow/client_side_bot_detection/jsonschema/1-0-0', data: { bot: true, kind: 'selenium' } }]);
  t.same(client.derivedContexts[0]?.data, { bot: true, indicators: ['clientSideDetection'] });
  const both = await run('10.1.1.1', 'web', [{ schema: 'iglu:com.snowplowanalytics.snowplow/client_side_bot_detection/jsonschema/1-0-0', data: { bot: true, kind: null } }]);
  t.same(both.derivedContexts[0]?.data, { bot: true, indicators: ['asnLookups', 'clientSideDetection'] }, 'schema enum order');
  t.same((await run('not-an-ip')).derivedContexts, [{ schema: 'iglu:com.snowplowanalytics.snowplow/bot_detection/jsonschema/1-0-1', data: { bot: false, indicators: [] } }]);

  const badCsv = readConfig('asn_lookups.json') as { schema: string; data: { parameters: { botAsnsFile: { uri: string; database: string } } } };
  badCsv.data.parameters.botAsnsFile = { uri: pathToFileURL(join(ASSETS, 'asn')).href, database: 'bad-asn-list-invalid.csv' };
  await t.rejects(buildEnrichments([badCsv], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /not-a-number/ });
});
