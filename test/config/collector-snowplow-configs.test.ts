/**
 * Snowplow collector configs (stream-collector 2.x–3.x, Snowplow Micro's collector-micro.conf) start furrow
 * unchanged. Fixtures: furrow's own files written from the documented key names.
 */
import t from 'tap';
import { join } from 'node:path';
import { loadCollectorConfig } from '../../collector/config.js';

const FIX = join(import.meta.dirname, 'fixtures/snowplow');

t.test('3.4 Kinesis extended: accepted; SQS buffers, StatsD and TLS give one warning each saying what furrow does', async (t) => {
  const c = await loadCollectorConfig(join(FIX, 'collector-3.4.kinesis.extended.hocon'), {});
  t.equal(c.streams.sink, 'kinesis');
  t.equal(c.streams.good.type === 'kinesis' && c.streams.good.buffer.recordLimit, 100);
  t.same(c.warnings.map((w) => w.key), ['collector.monitoring.metrics.statsd.enabled', 'collector.ssl.enable', 'collector.streams.good.sqsGoodBuffer', 'collector.streams.bad.sqsBadBuffer']);
  t.match(c.warnings[0]!.message, /Prometheus/);
  t.match(c.warnings[1]!.message, /plain HTTP/);
  t.match(c.warnings[2]!.message, /503/);
});

t.test("Micro's collector-micro.conf: accepted; `domains += ${?UNSET}` adds nothing", async (t) => {
  const c = await loadCollectorConfig(join(FIX, 'collector-micro.conf'), {});
  t.equal(c.streams.sink, 'stdout');
  t.same(c.cookie.domains, []);
  t.equal(c.cookie.sameSite, 'Lax');
  t.same(c.warnings, []);
  const withDomain = await loadCollectorConfig(join(FIX, 'collector-micro.conf'), { MICRO_FIXTURE_COOKIE_DOMAIN_2: 'fixture.test' });
  t.same(withDomain.cookie.domains, ['fixture.test']);
});

t.test('minimal configs: 3.x stdout, 2.9 Kinesis (sink region without `enabled`)', async (t) => {
  t.equal((await loadCollectorConfig(join(FIX, 'collector-3.4.stdout.minimal.hocon'), {})).streams.sink, 'stdout');
  const k = await loadCollectorConfig(join(FIX, 'collector-2.9.kinesis.minimal.hocon'), {});
  t.equal(k.streams.sink, 'kinesis');
  t.equal(k.streams.good.name, 'fixture-raw');
  t.equal(k.streams.good.type === 'kinesis' && k.streams.good.region, 'eu-west-1');
});
