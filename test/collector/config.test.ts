import t, { type Test } from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FurrowError } from '../../common/errors.js';
import { parseHocon } from '../../config/hocon.js';
import { loadCollectorConfig, parseCollectorConfig } from '../../collector/config.js';

const parse = async (text: string, env: NodeJS.ProcessEnv = {}) => parseCollectorConfig(await parseHocon(text, 't', env));

async function rejects(t: Test, text: string, code: string, mentions: string): Promise<void> {
  try {
    await parse(text);
    t.fail(`expected ${code} for ${text}`);
  } catch (e) {
    t.type(e, FurrowError);
    t.equal((e as FurrowError).code, code, text);
    t.match((e as Error).message, mentions);
  }
}

t.test('every example config parses', async (t) => {
  const dir = 'config/examples';
  const files = readdirSync(dir).filter((f) => f.startsWith('collector') && f.endsWith('.hocon'));
  t.ok(files.length >= 3);
  for (const f of files) {
    const c = await loadCollectorConfig(join(dir, f), {});
    t.ok(Object.isFrozen(c) && Object.isFrozen(c.streams.good), `${f} frozen`);
    t.equal(c.port, 8080, f);
  }
  t.equal((await loadCollectorConfig('config/examples/collector.kinesis.hocon', {})).streams.sink, 'kinesis');
  t.equal((await loadCollectorConfig('config/examples/collector.stdout.hocon', { COLLECTOR_PORT: '9999' })).port, 9999);
});

t.test('Snowplow minimal Kinesis config, defaults', async (t) => {
  const c = await parse('collector { license { accept = true }, interface = "0.0.0.0", port = 8080, streams { good { name = "good", region = eu-central-1 }, bad { name = "bad", region = eu-central-1 } } }');
  t.equal(c.streams.sink, 'kinesis');
  const g = c.streams.good;
  t.equal(g.type, 'kinesis');
  if (g.type !== 'kinesis') return;
  t.equal(g.maxBytes, 1_000_000);
  t.same(g.buffer, { byteLimit: 3145728, recordLimit: 500, timeLimitMs: 5000 });
  t.same(g.backoff, { minBackoffMs: 500, maxBackoffMs: 1500, maxRetries: 3 });
  t.equal(g.customEndpoint, null);
  t.equal(c.cookie.expirationMs, 365 * 86_400_000);
  t.equal(c.cookie.sameSite, 'None');
  t.equal(c.cors.accessControlMaxAgeSec, 3600);
  t.equal(c.networking.dropPayloadSize, 2_097_152);
  t.equal(c.preTerminationPeriodMs, 10_000);
  t.equal(c.furrow.acknowledge, 'buffered');
  // furrow's limits against hostile clients and a failing sink (docs/security.md).
  t.equal(c.furrow.maxBodyBytesInFlight, 64 * 1024 * 1024);
  t.equal(c.furrow.headersTimeoutMs, 10_000);
  t.equal(c.furrow.kinesisCallTimeoutMs, 3000);
});

t.test('furrow limits: values checked at start', async (t) => {
  const c = await parse('collector { streams { good { name = g }, bad { name = b } }, furrow { maxBodyBytesInFlight = 4194304, headersTimeout = 2 seconds, kinesisCallTimeout = 500 millis } }');
  t.same([c.furrow.maxBodyBytesInFlight, c.furrow.headersTimeoutMs, c.furrow.kinesisCallTimeoutMs], [4_194_304, 2000, 500]);
  await rejects(t, 'collector { streams { good { name = g }, bad { name = b } }, furrow.maxBodyBytesInFlight = 1000 }', 'CONFIG_INVALID_VALUE', 'maxBodyBytesInFlight must be at least collector.networking.dropPayloadSize');
  await rejects(t, 'collector { streams { good { name = g }, bad { name = b } }, furrow.headersTimeout = 0 seconds }', 'CONFIG_INVALID_VALUE', 'headersTimeout');
  await rejects(t, 'collector { streams { good { name = g }, bad { name = b } }, furrow.kinesisCallTimeout = 0 }', 'CONFIG_INVALID_VALUE', 'kinesisCallTimeout');
});

t.test('license.accept is not required', async (t) => {
  const c = await parse('collector { port = 1, streams { good { name = g }, bad { name = b } } }');
  t.equal(c.streams.sink, 'stdout');
  t.equal(c.streams.good.maxBytes, 1_000_000_000);
});

t.test('env substitution and durations', async (t) => {
  const c = await parse('collector { port = ${?PORT}, cookie { expiration = 42 days, sameSite = lax }, hsts { enable = true, maxAge = 180 days }, streams { good { name = ${GOOD}, region = x, buffer { timeLimit = 2 seconds } }, bad { name = b, region = x } } }', { PORT: '1234', GOOD: 'g-from-env' });
  t.equal(c.port, 1234);
  t.equal(c.streams.good.name, 'g-from-env');
  t.equal(c.cookie.expirationMs, 42 * 86_400_000);
  t.equal(c.cookie.sameSite, 'Lax');
  t.equal(c.hsts.maxAgeSec, 15_552_000);
  t.equal(c.streams.good.type === 'kinesis' && c.streams.good.buffer.timeLimitMs, 2000);
});

t.test('top-level keys without a collector block, and cn regions', async (t) => {
  const c = await parse('port = 7, streams { good { name = g, region = cn-north-1 }, bad { name = b, region = cn-north-1 } }');
  t.equal(c.port, 7);
  t.equal(c.streams.good.type === 'kinesis' && c.streams.good.customEndpoint, 'https://kinesis.cn-north-1.amazonaws.com.cn');
});

t.test('2.x layout with streams.sink', async (t) => {
  const c = await parse('collector { port = 8080, streams { good = raw, bad = bad-raw, sink { enabled = kinesis, region = us-east-1, threadPoolSize = 4, aws { accessKey = default, secretKey = default }, backoffPolicy { minBackoff = 100, maxBackoff = 200 } }, buffer { byteLimit = 1000, recordLimit = 10, timeLimit = 100 } } }, akka { loglevel = INFO }');
  t.equal(c.streams.sink, 'kinesis');
  t.equal(c.streams.good.name, 'raw');
  t.equal(c.streams.bad.name, 'bad-raw');
  const g = c.streams.good;
  t.equal(g.type === 'kinesis' && g.threadPoolSize, 4);
  t.same(g.type === 'kinesis' && g.buffer, { byteLimit: 1000, recordLimit: 10, timeLimitMs: 100 });
  const s = await parse('collector { port = 1, streams { good = g, bad = b, sink { enabled = stdout }, buffer { byteLimit = 1 } } }');
  t.equal(s.streams.sink, 'stdout');
});

t.test('sink choice: furrow.sink and the --sink override', async (t) => {
  const text = 'collector { port = 1, furrow { sink = kinesis }, streams { good { name = g, region = r }, bad { name = b, region = r } } }';
  t.equal((await parse(text)).streams.sink, 'kinesis');
  t.equal(parseCollectorConfig(await parseHocon('collector { port = 1, streams { good { name = g }, bad { name = b } } }', 't', {}), { sink: 'stdout' }).streams.sink, 'stdout');
  await rejects(t, 'collector { port = 1, furrow { sink = kinesis }, streams { good { name = g }, bad { name = b } } }', 'CONFIG_MISSING_KEY', 'collector.streams.good.region');
});

t.test('unknown and invalid keys stop start-up naming the key', async (t) => {
  await rejects(t, 'collector { port = 1, cookei { enabled = true } }', 'CONFIG_UNKNOWN_KEY', 'collector.cookei');
  await rejects(t, 'collector { port = 1, cookie { enabld = true } }', 'CONFIG_UNKNOWN_KEY', 'collector.cookie.enabld');
  await rejects(t, 'collector { port = 1, streams { good { name = g, region = r, buffer { byteLimt = 1 } }, bad { name = b, region = r } } }', 'CONFIG_UNKNOWN_KEY', 'collector.streams.good.buffer.byteLimt');
  await rejects(t, 'collector { port = 1 }, other { x = 1 }', 'CONFIG_UNKNOWN_KEY', 'other');
  await rejects(t, 'collector { port = "eighty" }', 'CONFIG_INVALID_VALUE', 'collector.port');
  await rejects(t, 'collector { port = 70000 }', 'CONFIG_INVALID_VALUE', 'collector.port');
  await rejects(t, 'collector { cookie { expiration = "a while" } }', 'CONFIG_INVALID_VALUE', 'collector.cookie.expiration');
  await rejects(t, 'collector { cookie { sameSite = Sometimes } }', 'CONFIG_INVALID_VALUE', 'collector.cookie.sameSite');
  await rejects(t, 'collector { cookie { secure = maybe } }', 'CONFIG_INVALID_VALUE', 'collector.cookie.secure');
  await rejects(t, 'collector { doNotTrackCookie { enabled = true, name = a, value = "(" } }', 'CONFIG_INVALID_VALUE', 'collector.doNotTrackCookie.value');
  await rejects(t, 'collector { rootResponse { statusCode = 42 } }', 'CONFIG_INVALID_VALUE', 'collector.rootResponse.statusCode');
  await rejects(t, 'collector { furrow { acknowledge = sometimes } }', 'CONFIG_INVALID_VALUE', 'collector.furrow.acknowledge');
  await rejects(t, 'collector { paths { "/x" = "/com.snowplowanalytics.snowplow/tp2" } }', 'CONFIG_INVALID_VALUE', 'collector.paths');
  await rejects(t, 'collector { networking { maxPayloadSize = 3000000 } }', 'CONFIG_INVALID_VALUE', 'maxPayloadSize');
});

t.test('StatsD, TLS and SQS buffers are accepted with a warning; another transport fails loudly', async (t) => {
  t.match((await parse('collector { monitoring.metrics.statsd.enabled = true }')).warnings, [{ key: 'collector.monitoring.metrics.statsd.enabled' }]);
  t.match((await parse('collector { ssl { enable = true } }')).warnings, [{ key: 'collector.ssl.enable' }]);
  t.match((await parse('collector { streams { good { name = g, region = r, sqsGoodBuffer = q }, bad { name = b, region = r } } }')).warnings, [{ key: 'collector.streams.good.sqsGoodBuffer' }]);
  await rejects(t, 'collector { streams { good { name = g, googleProjectId = p }, bad { name = b } } }', 'CONFIG_UNSUPPORTED', 'Pub/Sub');
  await rejects(t, 'collector { streams { good { name = g, brokers = "k:9092" }, bad { name = b } } }', 'CONFIG_UNSUPPORTED', 'Kafka');
  await rejects(t, 'collector { streams { good = g, bad = b, sink { enabled = google-pub-sub } } }', 'CONFIG_UNSUPPORTED', 'google-pub-sub');
});

t.test('keys Snowplow ignores are accepted', async (t) => {
  const c = await parse('collector { port = 1, p3p { policyRef = "/w3c/p3p.xml", CP = "NOI" }, redirectMacro { enabled = false }, telemetry { disable = false, interval = 60 minutes, url = x }, monitoring { metrics { statsd { enabled = false, hostname = localhost } } }, ssl { enable = false, redirect = false, port = 443 }, experimental { warmup { enable = false } }, prometheusMetrics { enabled = false }, streams { good { name = g }, bad { name = b } } }');
  t.equal(c.port, 1);
});
