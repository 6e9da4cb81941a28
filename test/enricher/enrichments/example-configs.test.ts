/**
 * One config per Snowplow enrichment (test/fixtures/enrichment-configs, written from the documented keys of each
 * config schema) builds when enabled, except the unsupported ones, and all of them run together in Snowplow's order.
 * Snowplow's own example files are run the same way by `npm run conformance` (test-conformance/snowplow-configs.test.ts).
 */
import t from 'tap';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnrichments, ENRICHMENT_FACTORIES, EXECUTION_ORDER, UNSUPPORTED_ENRICHMENTS } from '../../../enricher/enrichments/registry.js';
import { buildMmdb } from '../../support/mmdb-writer.js';
import { ASSETS, CONFIGS, makeInput, readConfig, testDeps } from '../../support/enrichments-deps.js';

const require = createRequire(import.meta.url);

t.test('every enrichment config in test/fixtures/enrichment-configs builds (enabled), except the unsupported ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-example-configs-'));
  const city = join(dir, 'GeoLite2-City.mmdb');
  writeFileSync(city, buildMmdb([{ network: '192.0.2.0/24', data: { country: { iso_code: 'NL' }, city: { names: { en: 'Utrecht' } }, location: { latitude: 52.09, longitude: 5.12 } } }], { databaseType: 'GeoLite2-City' }));
  const localAssets = {
    'GeoLite2-City.mmdb': city,
    'referers.json': join(ASSETS, 'referer', 'referers.json'),
    'regexes-latest.yaml': require.resolve('uap-core/regexes.yaml'),
    'ip_exclude_current_cidr.txt': join(ASSETS, 'iab', 'ip_exclude_current_cidr.txt'),
    'exclude_current.txt': join(ASSETS, 'iab', 'exclude_current.txt'),
    'include_current.txt': join(ASSETS, 'iab', 'include_current.txt'),
    'bad-asn-list.csv': join(ASSETS, 'asn', 'bad-asn-list.csv'),
  };
  const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.json') && f !== 'iglu_resolver.json');
  const names = new Set<string>();
  const all = [];
  for (const f of files) {
    const c = readConfig(f) as { schema: string; data: Record<string, unknown> };
    c.data['enabled'] = true;
    const name = c.data['name'] as string;
    names.add(name);
    if (UNSUPPORTED_ENRICHMENTS[name] !== undefined) {
      await t.rejects(buildEnrichments([c], testDeps()), { code: 'ENRICH_ENRICHMENT_UNSUPPORTED' }, f);
      continue;
    }
    const p = await buildEnrichments([c], testDeps({ localAssets, assetsUpdatePeriodMs: 0 }));
    t.equal(p.enrichments.length, 1, f);
    await p.close();
    all.push(c);
  }
  // A fixture for every enrichment furrow knows (and for YAUAA, which it refuses).
  const missing = [...ENRICHMENT_FACTORIES.keys()].filter((n) => !names.has(n));
  t.same(missing, [], 'every supported enrichment has a fixture config');
  t.ok(names.has('yauaa_enrichment_config'));

  // all of them together, in Snowplow's order, on one event
  const p = await buildEnrichments(all, testDeps({ localAssets, assetsUpdatePeriodMs: 0, sqlTimeoutMs: 200, openExchangeRatesBaseUrl: 'http://127.0.0.1:1', openWeatherMapBaseUrl: 'http://127.0.0.1:1' }));
  const order = p.enrichments.map((e) => EXECUTION_ORDER.findIndex((n) => ENRICHMENT_FACTORIES.get(n)?.name === n && e.schemaKey.includes(`/${n}/`)));
  t.same(order, [...order].sort((a, b) => a - b), 'pipeline order follows Snowplow');
  const input = makeInput({ app_id: 'backend', platform: 'srv', useragent: 'curl/7.0', user_ipaddress: '192.0.2.44', user_id: 'u', derived_tstamp: '2024-05-01 10:00:00.000' });
  const r = await p.run(input);
  t.equal(r.drop, false);
  // API request and SQL query ignore their errors (ignoreOnError); the weather API stand-in is unreachable.
  t.same([...new Set(r.failures.map((f) => f.enrichment?.identifier))], ['weather'], 'only the unreachable weather API fails; the script accepts the event');
  const schemas = r.derivedContexts.map((c) => c.schema);
  t.ok(schemas.includes('iglu:com.acme/app_tag/jsonschema/1-0-0'), `the script's context is there: ${schemas.join(', ')}`);
  t.ok(schemas.includes('iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0'));
  t.equal(input.event.geo_city, 'Utrecht', 'ip_lookups read the generated database');
  t.equal(input.event.user_ipaddress, '192.0.2.x', 'anon_ip ran after ip_lookups');
  t.ok(r.piiEvent !== null, 'the PII enrichment emitted its event');
  await p.close();
});
