import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Reader } from 'maxmind';
import { buildMmdb } from '../../support/mmdb-writer.js';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { normaliseIp } from '../../../enricher/enrichments/ip-lookups.js';
import { javaFloatString } from '../../../enricher/enrichments/tsv-safe.js';
import { makeInput, sdj, testDeps } from '../../support/enrichments-deps.js';
import { waitFor } from '../../support/wait-for.js';
import { createLogger } from '../../../common/logger.js';

const dir = mkdtempSync(join(tmpdir(), 'furrow-mmdb-'));
const city = buildMmdb(
  [
    {
      network: '81.2.69.160/27',
      data: {
        city: { geoname_id: 1, names: { en: 'London', de: 'London' } },
        country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
        location: { latitude: 51.5142, longitude: -0.0931, time_zone: 'Europe/London', accuracy_radius: 100 },
        postal: { code: 'EC1' },
        subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }, { iso_code: 'LND', names: { en: 'London Borough' } }],
      },
    },
    { network: '2001:db8::/32', data: { country: { iso_code: 'JP' } } },
  ],
  { databaseType: 'GeoIP2-City' },
);
writeFileSync(join(dir, 'GeoIP2-City.mmdb'), city);
writeFileSync(
  join(dir, 'GeoIP2-ISP.mmdb'),
  buildMmdb([{ network: '81.2.69.0/24', data: { isp: 'Acme ISP', organization: 'Acme Org', autonomous_system_number: 64500, autonomous_system_organization: 'Acme AS' } }], { databaseType: 'GeoIP2-ISP' }),
);
writeFileSync(join(dir, 'GeoIP2-Domain.mmdb'), buildMmdb([{ network: '81.2.69.0/24', data: { domain: 'acme.test' } }], { databaseType: 'GeoIP2-Domain' }));
writeFileSync(join(dir, 'GeoIP2-Connection-Type.mmdb'), buildMmdb([{ network: '81.2.0.0/16', data: { connection_type: 'Corporate' } }], { databaseType: 'GeoIP2-Connection-Type' }));
writeFileSync(join(dir, 'GeoLite2-ASN.mmdb'), buildMmdb([{ network: '81.2.69.128/25', data: { autonomous_system_number: 64501, autonomous_system_organization: 'ASN db org' } }], { databaseType: 'GeoLite2-ASN' }));
writeFileSync(join(dir, 'corrupt.mmdb'), Buffer.from('this is not a maxmind database at all'));

const uri = pathToFileURL(dir).href;
const cfg = (parameters: Record<string, unknown>, version = '2-0-1') =>
  sdj(`iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/${version}`, { name: 'ip_lookups', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters });

t.test('the test MMDB writer produces files the maxmind reader decodes', async (t) => {
  const r = new Reader(city);
  t.match(r.get('81.2.69.170'), { city: { names: { en: 'London' } }, location: { latitude: 51.5142 } });
  t.equal(r.get('81.2.70.1'), null);
  t.match(r.get('2001:db8::1'), { country: { iso_code: 'JP' } });
});

t.test('Java Float.toString rendering', async (t) => {
  t.equal(javaFloatString(53.3331), '53.3331');
  t.equal(javaFloatString(-6.2489), '-6.2489');
  t.equal(javaFloatString(42.1), '42.1');
  t.equal(javaFloatString(0), '0.0');
  t.equal(javaFloatString(125), '125.0');
  t.equal(javaFloatString(0.0001), '1.0E-4');
  t.equal(javaFloatString(12345678), '1.2345678E7');
});

t.test('city + isp + domain + connection type fields, ASN context from the ISP db', async (t) => {
  const p = await buildEnrichments(
    [cfg({ geo: { uri, database: 'GeoIP2-City.mmdb' }, isp: { uri, database: 'GeoIP2-ISP.mmdb' }, domain: { uri, database: 'GeoIP2-Domain.mmdb' }, connectionType: { uri, database: 'GeoIP2-Connection-Type.mmdb' } })],
    testDeps(),
  );
  const input = makeInput({ user_ipaddress: '81.2.69.170' });
  const r = await p.run(input);
  const ev = input.event;
  t.same(
    [ev.geo_country, ev.geo_region, ev.geo_city, ev.geo_zipcode, ev.geo_latitude, ev.geo_longitude, ev.geo_region_name, ev.geo_timezone],
    ['GB', 'LND', 'London', 'EC1', '51.5142', '-0.0931', 'London Borough', 'Europe/London'],
  );
  t.same([ev.ip_isp, ev.ip_organization, ev.ip_domain, ev.ip_netspeed], ['Acme ISP', 'Acme Org', 'acme.test', 'Corporate']);
  t.same(r.derivedContexts, [{ schema: 'iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1', data: { number: 64500, organization: 'Acme AS' } }]);
  // second lookup hits the cache and gives the same answer
  const again = makeInput({ user_ipaddress: '81.2.69.170' });
  await p.run(again);
  t.equal(again.event.geo_city, 'London');
  await p.close();
});

t.test('ASN db wins over ISP db for the ASN context; location missing → 0.0', async (t) => {
  const p = await buildEnrichments([cfg({ geo: { uri, database: 'GeoIP2-City.mmdb' }, isp: { uri, database: 'GeoIP2-ISP.mmdb' }, asn: { uri, database: 'GeoLite2-ASN.mmdb' } })], testDeps());
  const a = makeInput({ user_ipaddress: '81.2.69.130' });
  const r = await p.run(a);
  t.same(r.derivedContexts[0]?.data, { number: 64501, organization: 'ASN db org' });
  const b = makeInput({ user_ipaddress: '[2001:db8::5]:443' });
  await p.run(b);
  t.same([b.event.geo_country, b.event.geo_latitude, b.event.geo_longitude, b.event.geo_city], ['JP', '0.0', '0.0', null]);
  await p.close();
});

t.test('garbage and unknown addresses leave the fields empty, never fail', async (t) => {
  const p = await buildEnrichments([cfg({ geo: { uri, database: 'GeoIP2-City.mmdb' } })], testDeps());
  for (const ip of ['', 'not an ip', '999.1.1.1', '10.0.0.1', '::', '1.2.3.4.5', 'x'.repeat(10000), '81.2.69.170, 10.0.0.1']) {
    const input = makeInput({ user_ipaddress: ip });
    const r = await p.run(input);
    t.equal(input.event.geo_country, null, JSON.stringify(ip.slice(0, 20)));
    t.same(r.failures, []);
  }
  t.equal(normaliseIp('216.160.83.56:8080'), '216.160.83.56');
  t.equal(normaliseIp('[::1]'), '::1');
  await p.close();
});

t.test('missing, corrupt or mistyped databases fail at start naming the file', async (t) => {
  await t.rejects(buildEnrichments([cfg({ geo: { uri, database: 'GeoLite2-City.mmdb' } })], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /GeoLite2-City.mmdb.*does not exist/ });
  const deps = testDeps({ localAssets: { 'GeoIP2-City.mmdb': join(dir, 'corrupt.mmdb') } });
  await t.rejects(buildEnrichments([cfg({ geo: { uri, database: 'GeoIP2-City.mmdb' } })], deps), { code: 'ENRICH_ENRICHMENT_ASSET', message: /not a valid file/ });
  const wrong = testDeps({ localAssets: { 'GeoIP2-ISP.mmdb': join(dir, 'GeoIP2-City.mmdb') } });
  await t.rejects(buildEnrichments([cfg({ isp: { uri, database: 'GeoIP2-ISP.mmdb' } })], wrong), { code: 'ENRICH_ENRICHMENT_ASSET', message: /database type is "GeoIP2-City"/ });
  await t.rejects(buildEnrichments([cfg({ geo: { uri: 'gs://bucket/maxmind', database: 'GeoIP2-City.mmdb' } })], testDeps()), { code: 'ENRICH_ENRICHMENT_ASSET', message: /only http/ });
  await t.rejects(buildEnrichments([cfg({})], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /no database/ });
});

t.test('databases are downloaded from an http uri into assetsDir, and a 404 fails at start', async (t) => {
  let hits = 0;
  const server = createServer((req, res) => {
    hits++;
    if (req.url === '/maxmind/GeoIP2-City.mmdb') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(city);
    } else res.writeHead(404).end('nope');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maxmind`;
  const deps = testDeps();
  const p = await buildEnrichments([cfg({ geo: { uri: base, database: 'GeoIP2-City.mmdb' } })], deps);
  const input = makeInput({ user_ipaddress: '81.2.69.170' });
  await p.run(input);
  t.equal(input.event.geo_city, 'London');
  t.equal(hits, 1);
  await p.close();
  await t.rejects(buildEnrichments([cfg({ isp: { uri: base, database: 'GeoIP2-ISP.mmdb' } })], deps), { code: 'ENRICH_ENRICHMENT_ASSET', message: /HTTP 404/ });
});

t.test('downloaded databases are refreshed on a timer and hot-swapped; a bad refresh keeps the old copy', async (t) => {
  const v2 = buildMmdb([{ network: '81.2.69.160/27', data: { city: { names: { en: 'Paris' } }, country: { iso_code: 'FR' } } }], { databaseType: 'GeoIP2-City' });
  let serve: Buffer = city;
  const server = createServer((req, res) => res.writeHead(200).end(serve));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mm`;
  // The refresh logs each refused download: that line is the proof the corrupt file had its chance to be used.
  const logged: string[] = [];
  const logger = createLogger('test', 'error', { write: (line: string) => void logged.push(line) });
  const p = await buildEnrichments([cfg({ geo: { uri: base, database: 'GeoIP2-City.mmdb' } })], testDeps({ assetsUpdatePeriodMs: 50, logger }));
  t.teardown(() => p.close());
  const cityOf = async () => {
    const input = makeInput({ user_ipaddress: '81.2.69.170' });
    await p.run(input);
    return input.event.geo_city;
  };
  t.equal(await cityOf(), 'London');
  serve = Buffer.from('garbage, not a database');
  await waitFor('a refused refresh', () => logged.some((l) => l.includes('enrichment asset refresh failed')), { timeoutMs: 15_000 });
  t.equal(await cityOf(), 'London', 'a corrupt download is refused; the previous database stays');
  serve = v2;
  const city2 = await waitFor('the new database', async () => ((await cityOf()) === 'Paris' ? 'Paris' : null), { timeoutMs: 15_000, everyMs: 50 });
  t.equal(city2, 'Paris', 'the new database is used (and the lookup cache dropped)');
});

t.test('databases are fetched from s3:// (a local S3 stand-in)', async (t) => {
  const { startS3rver } = await import('../../loaders/fixtures/s3rver.js');
  const { createS3Client } = await import('../../../streams/aws-clients.js');
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await startS3rver(['assets']);
  t.teardown(() => s3.stop());
  const client = createS3Client({ endpoint: s3.endpoint });
  await client.send(new PutObjectCommand({ Bucket: 'assets', Key: 'maxmind/GeoIP2-City.mmdb', Body: city }));
  client.destroy();
  const p = await buildEnrichments([cfg({ geo: { uri: 's3://assets/maxmind', database: 'GeoIP2-City.mmdb' } })], testDeps({ s3Endpoint: s3.endpoint, assetsUpdatePeriodMs: 0 }));
  t.teardown(() => p.close());
  const input = makeInput({ user_ipaddress: '81.2.69.170' });
  await p.run(input);
  t.equal(input.event.geo_city, 'London');
  await t.rejects(buildEnrichments([cfg({ geo: { uri: 's3://assets/missing', database: 'GeoIP2-City.mmdb' } })], testDeps({ s3Endpoint: s3.endpoint })), { code: 'ENRICH_ENRICHMENT_ASSET', message: /S3 download failed/ });
});
