import t from 'tap';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { userAgentUtils } from '../../../enricher/enrichments/user-agent-utils.js';
import { ASSETS, makeInput, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

const UA_CHROME = 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/33.0.1750.152 Safari/537.36';
const UA_FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:26.0) Gecko/20100101 Firefox/26.0';

const uaCfg = (parameters?: Record<string, unknown>, version = '1-0-1') =>
  sdj(`iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/${version}`, {
    name: 'ua_parser_config', vendor: 'com.snowplowanalytics.snowplow', enabled: true, ...(parameters === undefined ? {} : { parameters }),
  });

t.test('ua_parser: uap-core rules give Snowplow’s ua_parser_context', async (t) => {
  const p = await buildEnrichments([uaCfg({}, '1-0-0')], testDeps());
  const input = makeInput({ useragent: UA_CHROME });
  const r = await p.run(input);
  t.same(r.derivedContexts, [
    {
      schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0',
      data: {
        useragentFamily: 'Chrome', useragentMajor: '33', useragentMinor: '0', useragentPatch: '1750', useragentVersion: 'Chrome 33.0.1750',
        osFamily: 'Windows', osMajor: '7', osMinor: null, osPatch: null, osPatchMinor: null, osVersion: 'Windows 7', deviceFamily: 'Other',
      },
    },
  ]);
  const bot = makeInput({ useragent: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)' });
  const rb = await p.run(bot);
  t.match(rb.derivedContexts[0]?.data, { useragentFamily: 'Googlebot', useragentVersion: 'Googlebot 2.1', deviceFamily: 'Spider', osFamily: 'Other' });
  // The cached entity is shared between events and immutable (the pipeline copies it for pii, which rewrites
  // derived contexts in place): nothing done to one event's context can leak into the next event's.
  const again = await p.run(makeInput({ useragent: UA_CHROME }));
  t.equal(again.derivedContexts[0], r.derivedContexts[0]);
  t.throws(() => {
    (again.derivedContexts[0]!.data as Record<string, unknown>)['useragentFamily'] = 'rewritten';
  }, TypeError);
  t.equal((again.derivedContexts[0]?.data as { useragentFamily: string }).useragentFamily, 'Chrome');
});

t.test('ua_parser: null UA → no context; empty/garbage UA → Other', async (t) => {
  const p = await buildEnrichments([uaCfg()], testDeps());
  t.same((await p.run(makeInput({ useragent: null }))).derivedContexts, []);
  for (const ua of ['', '\u0000\u0001', 'x'.repeat(20000), '((((((((((']) {
    const r = await p.run(makeInput({ useragent: ua }));
    t.match(r.derivedContexts[0]?.data, { useragentFamily: 'Other', osFamily: 'Other', deviceFamily: 'Other', useragentVersion: 'Other' });
    t.same(r.failures, []);
  }
});

t.test('ua_parser: a huge agent is parsed on its first 10 000 characters (bounded time)', async (t) => {
  const p = await buildEnrichments([uaCfg()], testDeps());
  const huge = UA_CHROME + ';a'.repeat(500_000);
  const t0 = Date.now();
  const r = await p.run(makeInput({ useragent: huge }));
  t.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  t.match(r.derivedContexts[0]?.data, { useragentFamily: 'Chrome', useragentMajor: '33' });
});

t.test('ua_parser: custom rules file from uri/database', async (t) => {
  const p = await buildEnrichments([uaCfg({ uri: pathToFileURL(join(ASSETS, 'uap')).href, database: 'uap-test-rules.yml' })], testDeps());
  const r = await p.run(makeInput({ useragent: UA_CHROME }));
  t.match(r.derivedContexts[0]?.data, { useragentFamily: 'Fixture Agent', osFamily: 'Fixture OS', deviceFamily: 'Fixture Device', useragentVersion: 'Fixture Agent' });
  const dir = mkdtempSync(join(tmpdir(), 'furrow-uap-'));
  writeFileSync(join(dir, 'broken.yaml'), 'user_agent_parsers:\n  - regex: "(unclosed"\n');
  writeFileSync(join(dir, 'empty.yaml'), 'just text');
  await t.rejects(buildEnrichments([uaCfg({ uri: pathToFileURL(dir).href, database: 'broken.yaml' })], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /does not compile/ });
  await t.rejects(buildEnrichments([uaCfg({ uri: pathToFileURL(dir).href, database: 'empty.yaml' })], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET' });
  await t.rejects(buildEnrichments([uaCfg({ uri: pathToFileURL(dir).href, database: 'missing.yaml' })], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /missing.yaml/ });
});

t.test('user_agent_utils: legacy fields as in the legacy full-TSV vectors', async (t) => {
  const p = await buildEnrichments([readConfig('user_agent_utils_config.json')], testDeps());
  const input = makeInput({ useragent: UA_FIREFOX_MAC });
  await p.run(input);
  const e = input.event;
  t.same(
    [e.br_name, e.br_family, e.br_version, e.br_type, e.br_renderengine, e.os_name, e.os_family, e.os_manufacturer, e.dvce_type, e.dvce_ismobile],
    ['Firefox 26', 'Firefox', '26.0', 'Browser', 'GECKO', 'Mac OS X', 'Mac OS X', 'Apple Inc.', 'Computer', '0'],
  );
  const iphone = userAgentUtils('Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 Mobile/15E148 Safari/604.1');
  t.match(iphone, { br_family: 'Safari', br_name: 'Mobile Safari', br_type: 'Mobile Browser', os_family: 'iOS', os_name: 'iOS 16 (iPhone)', os_manufacturer: 'Apple Inc.', dvce_type: 'Mobile', dvce_ismobile: '1' });
  t.match(userAgentUtils('Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/62.0.3202.84 Mobile Safari/537.36'), { br_name: 'Chrome Mobile', br_family: 'Chrome', os_name: 'Android 8.x', os_manufacturer: 'Google Inc.', dvce_type: 'Mobile' });
  t.match(userAgentUtils('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/106.0.0.0 Safari/537.36'), { br_name: 'Chrome 106', br_renderengine: 'BLINK', os_name: 'Windows 10', os_family: 'Windows', dvce_type: 'Computer', dvce_ismobile: '0' });
  t.match(userAgentUtils('curl/7.50.3'), { br_type: 'Robot', dvce_ismobile: '0' });
  t.match(userAgentUtils(''), { br_family: 'Unknown', os_family: 'Unknown', dvce_type: 'Unknown' });
  const none = makeInput({ useragent: null });
  await p.run(none);
  t.equal(none.event.br_name, null);
});

const refCfg = (database: string, dirName: string, internalDomains: string[] = [], referrers?: unknown) =>
  sdj('iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1', {
    name: 'referer_parser', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
    parameters: { internalDomains, database, uri: pathToFileURL(join(ASSETS, dirName)).href, ...(referrers === undefined ? {} : { referrers }) },
  });

const refr = (url: string, pageHost = 'www.snowplowanalytics.com') => {
  const u = new URL(url);
  return makeInput({
    page_urlhost: pageHost,
    page_referrer: url,
    refr_urlscheme: u.protocol.slice(0, -1),
    refr_urlhost: u.hostname,
    refr_urlpath: u.pathname,
    refr_urlquery: u.search === '' ? null : u.search.slice(1),
  });
};

t.test('referer_parser: search with term, social, email, paid, internal, unknown', async (t) => {
  // test/fixtures/assets/referer/referers.json (Snowplow's test database runs in `npm run conformance`)
  const p = await buildEnrichments([refCfg('referers.json', 'referer', ['www.subdomain1.snowplowanalytics.com'])], testDeps());
  const a = refr('https://www.google.co.uk/search?q=%0Aheavy%09rain%09forecast&hl=en&client=safari');
  await p.run(a);
  t.same([a.event.refr_medium, a.event.refr_source, a.event.refr_term], ['search', 'Google', 'heavy    rain    forecast'], 'the term is TSV-safe');
  const b = refr('https://m.facebook.com/some/page');
  await p.run(b);
  t.same([b.event.refr_medium, b.event.refr_source, b.event.refr_term], ['social', 'Facebook', null]);
  const bing = refr('https://www.bing.com/search?form=x&q=snow+plough');
  await p.run(bing);
  t.same([bing.event.refr_medium, bing.event.refr_source, bing.event.refr_term], ['search', 'Bing', 'snow plough']);
  const mail = refr('https://mail.google.com/mail/u/0/');
  await p.run(mail);
  t.same([mail.event.refr_medium, mail.event.refr_source], ['email', 'Gmail'], 'a more specific host wins over google.com');
  const ad = refr('https://ad.doubleclick.net/ddm/clk/1');
  await p.run(ad);
  t.same([ad.event.refr_medium, ad.event.refr_source], ['paid', 'DoubleClick']);
  const c = refr('http://www.subdomain1.snowplowanalytics.com/x');
  await p.run(c);
  t.same([c.event.refr_medium, c.event.refr_source], ['internal', null]);
  const d = refr('http://www.snowplowanalytics.com/page');
  await p.run(d);
  t.equal(d.event.refr_medium, 'internal', 'same host as the page');
  const e = refr('http://no-such-referer.example/');
  await p.run(e);
  t.same([e.event.refr_medium, e.event.refr_source], ['unknown', null]);
  const f = refr('ftp://www.google.com/search?q=x');
  await p.run(f);
  t.equal(f.event.refr_medium, null, 'non-http schemes are not classified');
  const g = makeInput({ page_referrer: null });
  await p.run(g);
  t.equal(g.event.refr_medium, null);
  const h = refr('http://maps.google.com/');
  await p.run(h);
  t.same([h.event.refr_medium, h.event.refr_source], ['unknown', 'Google'], 'medium "unknown" entries in the database still name the source');
});

t.test('referer_parser: inline referrers and subdomain stripping; bad databases fail at start', async (t) => {
  const cfg = readConfig('referer_parser.json') as { schema: string; data: { parameters: Record<string, unknown> } };
  cfg.data.parameters['uri'] = pathToFileURL(join(ASSETS, 'referer')).href;
  cfg.data.parameters['database'] = 'referers.json';
  const p = await buildEnrichments([cfg], testDeps());
  const a = refr('https://deep.find.acme.test/results?x=1&query=hello+world');
  await p.run(a);
  t.same([a.event.refr_medium, a.event.refr_source, a.event.refr_term], ['search', 'Acme Search', 'hello world'], 'inline entry, subdomain stripped, its own parameter');
  const b = refr('https://friends.acme.test/');
  await p.run(b);
  t.same([b.event.refr_medium, b.event.refr_source], ['social', 'Acme Social']);
  const lite = refr('https://lite.acme.test/?q=x');
  await p.run(lite);
  t.same([lite.event.refr_medium, lite.event.refr_source, lite.event.refr_term], ['search', 'Acme Lite', null], 'a search entry without parameters has no term');
  const db = refr('https://www.google.com/search?q=both');
  await p.run(db);
  t.same([db.event.refr_medium, db.event.refr_source, db.event.refr_term], ['search', 'Google', 'both'], 'the database still answers beside the inline entries');
  const shop = refr('https://shop.acme.test/basket', 'www.acme.test');
  await p.run(shop);
  t.equal(shop.event.refr_medium, 'internal', 'internalDomains from the config');
  const dir = mkdtempSync(join(tmpdir(), 'furrow-ref-'));
  writeFileSync(join(dir, 'bad.json'), '{"search": {"X": {"nodomains": []}}}');
  writeFileSync(join(dir, 'notjson.json'), '<html>');
  writeFileSync(join(dir, 'newer.json'), JSON.stringify({ search: { S: { domains: ['s.example'], parameters: ['q'] } }, chatbot: { ChatGPT: { utm_sources: ['chatgpt.com'] } } }));
  const bad = (db: string) => sdj('iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-0', { name: 'referer_parser', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { internalDomains: [], database: db, uri: pathToFileURL(dir).href } });
  await t.rejects(buildEnrichments([bad('bad.json')], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /domains/ });
  await t.rejects(buildEnrichments([bad('notjson.json')], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET' });
  const newer = await buildEnrichments([bad('newer.json')], testDeps());
  const n = refr('https://s.example/?q=x');
  await newer.run(n);
  t.same([n.event.refr_medium, n.event.refr_source, n.event.refr_term], ['search', 'S', 'x'], 'a database with utm_sources entries (Enrich 6.13+) still loads');
});
