/**
 * Snowplow's own example files from ../shared/enrichment-configs, fed unchanged: the enrich reference HOCON, the stock
 * iglu_resolver.json and every example enrichment config (with the upstream test assets). `npm test` runs the same
 * checks on configs written for furrow (test/fixtures/).
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { readHoconFile } from '../config/hocon.js';
import { readEnrichConfig } from '../enricher/config.js';
import { readResolverConfigFile } from '../iglu-resolver/resolver-config.js';
import { buildEnrichments, ENRICHMENT_FACTORIES, EXECUTION_ORDER, UNSUPPORTED_ENRICHMENTS } from '../enricher/enrichments/registry.js';
import { makeInput, testDeps } from '../test/support/enrichments-deps.js';
import { ASSETS, SNOWPLOW_CONFIGS } from './support.js';

const require = createRequire(import.meta.url);
const REFERENCE = join(SNOWPLOW_CONFIGS, 'config.kinesis.reference.hocon');

t.test('the Snowplow enrich reference HOCON parses unchanged', async (t) => {
  const cfg = await readHoconFile(REFERENCE, { ...process.env, HOSTNAME: 'h' });
  t.type(cfg.input, 'object');
  t.match(cfg, { input: { streamName: String, workerIdentifier: 'h' }, output: { good: { streamName: String } } });
});

t.test('the reference config is accepted unchanged, with one warning each for the integrations furrow lacks', async (t) => {
  const c = await readEnrichConfig(REFERENCE, { HOSTNAME: 'h' });
  t.same(c.warnings.map((w) => w.key).sort(), ['identity', 'metadata', 'monitoring.metrics.statsd', 'monitoring.sentry']);
  t.match(c.warnings.find((w) => w.key === 'monitoring.metrics.statsd')!.message, /Prometheus/);
  t.equal(c.input?.streamName, 'snowplow-collector-payloads');
  t.equal(c.output.failed?.streamName, 'snowplow-failed');
});

t.test("Snowplow's stock iglu_resolver.json is read unchanged", async (t) => {
  const c = readResolverConfigFile(join(SNOWPLOW_CONFIGS, 'iglu_resolver.json'));
  t.equal(c.version, '1-0-1');
  t.equal(c.cacheSize, 500);
  t.equal(c.cacheTtl, null);
  t.same(
    c.repositories.map((r) => [r.name, r.priority, r.vendorPrefixes, r.connection]),
    [
      ['Iglu Central', 0, ['com.snowplowanalytics'], { kind: 'http', uri: 'http://iglucentral.com', apikey: null }],
      ['Iglu Central - GCP Mirror', 1, ['com.snowplowanalytics'], { kind: 'http', uri: 'http://mirror01.iglucentral.com', apikey: null }],
    ],
  );
});

t.test('every example config in ../shared/enrichment-configs builds (enabled), except the unsupported ones', async (t) => {
  const localAssets = {
    'GeoLite2-City.mmdb': join(ASSETS, 'fs2-5.4.0', 'GeoLite2-City.mmdb'),
    'referers-latest.json': join(ASSETS, 'fs2-5.4.0', 'referers-test.json'),
    'regexes-latest.yaml': require.resolve('uap-core/regexes.yaml'),
    'ip_exclude_current_cidr.txt': join(ASSETS, 'fs2-5.4.0', 'ip_exclude_current_cidr.txt'),
    'exclude_current.txt': join(ASSETS, 'fs2-5.4.0', 'exclude_current.txt'),
    'include_current.txt': join(ASSETS, 'fs2-5.4.0', 'include_current.txt'),
    'bad-asn-list.csv': join(ASSETS, 'common-registry', 'bad-asn-list.csv'),
  };
  const files = readdirSync(SNOWPLOW_CONFIGS).filter((f) => f.endsWith('.json') && f !== 'iglu_resolver.json');
  t.ok(files.length >= 20);
  const all = [];
  for (const f of files) {
    const c = JSON.parse(readFileSync(join(SNOWPLOW_CONFIGS, f), 'utf8')) as { schema: string; data: Record<string, unknown> };
    c.data['enabled'] = true;
    const name = c.data['name'] as string;
    if (name === 'bot_detection_enrichment_config') {
      // The upstream example sets useClientSideDetection, which only 1-0-1 allows: as written it fails validation.
      await t.rejects(buildEnrichments([c], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /additional properties/ }, f);
      c.schema = c.schema.replace('1-0-0', '1-0-1');
    }
    if (UNSUPPORTED_ENRICHMENTS[name] !== undefined) {
      await t.rejects(buildEnrichments([c], testDeps()), { code: 'ENRICH_ENRICHMENT_UNSUPPORTED' }, f);
      continue;
    }
    const p = await buildEnrichments([c], testDeps({ localAssets, assetsUpdatePeriodMs: 0 }));
    t.equal(p.enrichments.length, 1, f);
    await p.close();
    all.push(c);
  }
  // all of them together, in Snowplow's order, on one event
  const p = await buildEnrichments(all, testDeps({ localAssets, assetsUpdatePeriodMs: 0, sqlTimeoutMs: 200, openExchangeRatesBaseUrl: 'http://127.0.0.1:1', openWeatherMapBaseUrl: 'http://127.0.0.1:1' }));
  const order = p.enrichments.map((e) => EXECUTION_ORDER.findIndex((n) => ENRICHMENT_FACTORIES.get(n)?.name === n && e.schemaKey.includes(`/${n}/`)));
  t.same(order, [...order].sort((a, b) => a - b), 'pipeline order follows Snowplow');
  const r = await p.run(makeInput({ app_id: 'secret', platform: 'server', useragent: 'curl/7.0', user_ipaddress: '37.228.225.32', user_id: 'u' }));
  t.equal(r.drop, false);
  t.ok(r.derivedContexts.length > 0);
  await p.close();
});
