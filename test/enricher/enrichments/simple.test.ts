import t from 'tap';
import { createHash } from 'node:crypto';
import { anonymizeIp } from '../../../enricher/enrichments/anon-ip.js';
import { fingerprintPreimage } from '../../../enricher/enrichments/event-fingerprint.js';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { makeInput, rawEvent, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

t.test('anon_ip: octets and segments as documented (IPv6 expanded without leading zeros, IPv4-mapped kept as IPv4)', async (t) => {
  // Snowplow's own table (unit/anon_ip.json) runs in `npm run conformance`.
  const cases: Array<[string | null, number, number, string | null]> = [
    ['203.0.113.45', 1, 1, '203.0.113.x'],
    ['203.0.113.45', 2, 8, '203.0.x.x'],
    ['198.51.100.7', 3, 1, '198.x.x.x'],
    ['198.51.100.7', 4, 1, 'x.x.x.x'],
    ['2001:db8:85a3:0:0:8a2e:370:7334', 1, 1, '2001:db8:85a3:0:0:8a2e:370:x'],
    ['2001:db8::8a2e:370:7334', 4, 2, '2001:db8:0:0:0:8a2e:x:x'],
    ['2001:0DB8:0000::0001', 4, 3, '2001:db8:0:0:0:x:x:x'],
    ['2001:db8::1', 1, 8, 'x:x:x:x:x:x:x:x'],
    ['::1', 1, 2, '0:0:0:0:0:0:x:x'],
    ['::ffff:198.51.100.7', 2, 6, '::ffff:198.51.x.x'],
    ['not an address', 2, 2, 'not an address'],
    [null, 2, 2, null],
  ];
  for (const [ip, octets, segments, want] of cases) t.equal(anonymizeIp(ip, octets, segments), want, `${ip} (${octets}/${segments})`);
});

t.test('anon_ip through the pipeline; anonSegments defaults to anonOctets', async (t) => {
  const p = await buildEnrichments(
    [sdj('iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0', { name: 'anon_ip', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { anonOctets: 2 } })],
    testDeps(),
  );
  const a = makeInput({ user_ipaddress: '10.20.30.40' });
  await p.run(a);
  t.equal(a.event.user_ipaddress, '10.20.x.x');
  const b = makeInput({ user_ipaddress: '2605:2700:0:3::4713:93e3' });
  await p.run(b);
  t.equal(b.event.user_ipaddress, '2605:2700:0:3:0:0:x:x');
  const c = makeInput({ user_ipaddress: null });
  await p.run(c);
  t.equal(c.event.user_ipaddress, null);
  await p.close();
});

t.test('anon_ip: bad config values stop start-up naming the key', async (t) => {
  const cfg = (parameters: unknown) => sdj('iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1', { name: 'anon_ip', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters });
  await t.rejects(buildEnrichments([cfg({ anonOctets: 5 })], testDeps()), /ENRICH_ENRICHMENT_CONFIG_INVALID/);
  // With a resolver that knows nothing, furrow's own checks still name the key.
  const limited = testDeps({ resolver: { ...testDeps().resolver, validate: async () => ({ ok: false, error: { error: 'ResolutionError', lookupHistory: [] } }) } });
  await t.rejects(buildEnrichments([cfg({ anonOctets: 0 })], limited), /anonOctets must be between 1 and 4/);
  await t.rejects(buildEnrichments([cfg({ anonOctets: 1, anonSegments: 9 })], limited), /anonSegments/);
  await t.rejects(buildEnrichments([cfg({ anonOctets: 1, extra: 1 })], limited), /parameters.extra is not a known key/);
});

t.test('event_fingerprint: hash of the sorted key/value pre-image, exclusions, every algorithm', async (t) => {
  // The documented pre-image: every parameter with a value, sorted by name, not excluded, as name U+001F value U+001F.
  const params = { tv: 'js-3', stm: '1700000000000', e: 'pv', url: 'https://a.example/é', aid: 'shop', eid: '0b4ba1b9-0a2b-4ef8-8c1f-6b5b0b4ba1b9' };
  const preimage = 'aid\u001fshop\u001fe\u001fpv\u001ftv\u001fjs-3\u001furl\u001fhttps://a.example/é\u001f';
  t.equal(fingerprintPreimage(new Map(Object.entries(params)), new Set(['stm', 'eid'])), preimage);
  for (const [algorithm, node] of [['MD5', 'md5'], ['SHA1', 'sha1'], ['SHA256', 'sha256'], ['SHA384', 'sha384'], ['SHA512', 'sha512']] as const) {
    const p = await buildEnrichments(
      [sdj('iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1', {
        name: 'event_fingerprint_config', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
        parameters: { excludeParameters: ['stm', 'eid'], hashAlgorithm: algorithm },
      })],
      testDeps(),
    );
    const input = makeInput({}, rawEvent(params));
    await p.run(input);
    t.equal(input.event.event_fingerprint, createHash(node).update(preimage, 'utf8').digest('hex'), algorithm);
  }
  // null-valued params are ignored, order of insertion does not matter
  const p = await buildEnrichments([readConfig('event_fingerprint_enrichment.json')], testDeps());
  const a = makeInput({}, rawEvent({ e: 'se', se_ac: 'buy', eid: 'x', flag: null }));
  const b = makeInput({}, rawEvent({ se_ac: 'buy', e: 'se', eid: 'y' }));
  await p.run(a);
  await p.run(b);
  t.equal(a.event.event_fingerprint, b.event.event_fingerprint);
  t.equal(a.event.event_fingerprint, '6829c2021516783f1ef03a9e9736ac77');
});

t.test('campaign_attribution: first configured param wins, click ids, decoding', async (t) => {
  const p = await buildEnrichments(
    [sdj('iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1', {
      name: 'campaign_attribution', vendor: 'com.snowplowanalytics.snowplow', enabled: true,
      parameters: {
        mapping: 'static',
        fields: {
          mktMedium: ['utm_medium', 'medium'], mktSource: ['utm_source', 'source'], mktTerm: ['utm_term', 'legacy_term'],
          mktContent: ['utm_content'], mktCampaign: ['utm_campaign', 'cid', 'legacy_campaign'], mktClickId: { customclid: 'Custom', gclid: 'GoogleX' },
        },
      },
    })],
    testDeps(),
  );
  const a = makeInput({ page_urlquery: 'utm_source=GoogleSearch&medium=cpc&utm_medium=email&utm_term=a+b%20c&utm_content=39&cid=tna&gclid=CI6' });
  await p.run(a);
  t.equal(a.event.mkt_source, 'GoogleSearch');
  t.equal(a.event.mkt_medium, 'email', 'utm_medium listed first wins over medium');
  t.equal(a.event.mkt_term, 'a b c');
  t.equal(a.event.mkt_content, '39');
  t.equal(a.event.mkt_campaign, 'tna');
  t.equal(a.event.mkt_clickid, 'CI6');
  t.equal(a.event.mkt_network, 'GoogleX', 'custom network overrides the default for gclid');
  const b = makeInput({ page_urlquery: 'customclid=zz&utm_source=a&utm_source=b&utm_campaign=&utm_term' });
  await p.run(b);
  t.equal(b.event.mkt_clickid, 'zz');
  t.equal(b.event.mkt_network, 'Custom');
  t.equal(b.event.mkt_source, 'b', 'a repeated name: the last wins');
  t.equal(b.event.mkt_campaign, null, 'empty value → null');
  t.equal(b.event.mkt_term, null, 'no value → null');
  const c = makeInput({ page_urlquery: 'utm_source=tab%09x%0A' });
  await p.run(c);
  t.equal(c.event.mkt_source, 'tab    x', 'makeTsvSafe applied');
  const d = makeInput({ page_urlquery: null });
  await p.run(d);
  t.equal(d.event.mkt_source, null);
  const e = makeInput({ page_urlquery: 'utm_source=%ZZbad%' });
  await p.run(e);
  t.equal(e.event.mkt_source, '%ZZbad%', 'malformed escapes kept literally');
});

t.test('campaign_attribution: script mapping is refused at start', async (t) => {
  const cfg = readConfig('campaign_attribution.json') as { schema: string; data: { parameters: { mapping: string } } };
  cfg.data.parameters.mapping = 'script';
  await t.rejects(buildEnrichments([cfg], testDeps()), /ENRICH_ENRICHMENT_UNSUPPORTED/);
});
