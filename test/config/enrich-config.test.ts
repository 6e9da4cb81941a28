/**
 * Snowplow enrich-kinesis configs (3.x–6.10) start furrow unchanged: every documented key is accepted; the ones
 * furrow implements have their effect; integrations furrow lacks give one warning each naming the key.
 * The fixtures under fixtures/snowplow/ are furrow's own files written from Snowplow's documented key names.
 */
import t from 'tap';
import { join } from 'node:path';
import { parseEnrichConfig, readEnrichConfig } from '../../enricher/config.js';

const FIX = join(import.meta.dirname, 'fixtures/snowplow');
const read = (name: string) => readEnrichConfig(join(FIX, name), {});
const warned = (c: { warnings: readonly { key: string }[] }) => c.warnings.map((w) => w.key);

t.test('5.x extended: accepted; checkpointBackoff, incomplete, exitOnJsCompileError and maxJsonDepth take effect', async (t) => {
  const c = await read('enrich-5.x.extended.hocon');
  t.same(c.input?.checkpointBackoff, { minBackoffMs: 50, maxBackoffMs: 5000, maxRetries: 7 });
  t.equal(c.output.failed?.streamName, 'fixture-incomplete', 'output.incomplete is the failed-events stream');
  t.equal(c.output.failed?.recordLimit, 100);
  t.equal(c.output.pii?.streamName, 'fixture-pii');
  t.equal(c.validation.exitOnJsCompileError, false, 'featureFlags.exitOnJsCompileError');
  t.equal(c.validation.maxJsonDepth, 30, 'top-level maxJsonDepth');
  t.same(c.input?.initialPosition, { timestamp: new Date('2024-05-01T00:00:00Z') });
  t.same(warned(c).sort(), [
    'adaptersSchemas', 'experimental.metadata', 'input.retrievalMode.type', 'monitoring.metrics.cloudwatch', 'monitoring.metrics.statsd',
    'monitoring.metrics.stdout', 'monitoring.sentry', 'remoteAdapters.configs',
  ]);
  const statsd = c.warnings.find((w) => w.key === 'monitoring.metrics.statsd')!;
  t.match(statsd.message, /Prometheus/, 'says what furrow does instead');
  t.match(c.warnings.find((w) => w.key === 'input.retrievalMode.type')!.message, /polls/);
  t.ok(c.ignored.includes('telemetry') && c.ignored.includes('concurrency') && c.ignored.includes('blobStorage'));
});

t.test('6.10 reference: accepted with one warning each for identity, metadata, Sentry and StatsD', async (t) => {
  const c = await read('enrich-6.10.reference.hocon');
  t.same(warned(c).sort(), ['identity', 'metadata', 'monitoring.metrics.statsd', 'monitoring.sentry']);
  t.same(c.input?.checkpointBackoff, { minBackoffMs: 30, maxBackoffMs: 3000, maxRetries: 10 }, 'checkpointThrottledBackoffPolicy');
  t.equal(c.output.failed?.streamName, 'fixture-failed');
  t.equal(c.output.good?.maxRecordSize, 900_000);
  t.same(c.iglu, { maxRetry: 4, maxWaitMs: 2000 });
  t.equal(c.validation.maxJsonDepth, 45);
  t.equal(c.validation.exitOnJsCompileError, true);
  t.equal(c.httpRequestTimeoutMs, 3000);
});

t.test('3.0 KPL-era outputs and lower-case types; 6.10 nested input and 5.4 `enriched`', async (t) => {
  const kpl = await read('enrich-3.0.kpl.hocon');
  t.equal(kpl.output.good?.recordLimit, 200, 'collection.maxCount');
  t.equal(kpl.output.good?.byteLimit, 2_000_000, 'collection.maxSize');
  t.equal(kpl.input?.initialPosition, 'LATEST', 'types are matched case-insensitively, as Snowplow does');
  t.same(kpl.warnings, []);
  const nested = await read('enrich-6.10.nested-input.hocon');
  t.equal(nested.input?.streamName, 'fixture-raw');
  t.equal(nested.input?.appName, 'fixture-enrich');
  t.equal(nested.output.good?.streamName, 'fixture-enriched');
  t.same(warned(nested), ['input.http']);
});

t.test('each warning is given once, unknown keys still stop start-up, data-changing options still refuse', async (t) => {
  const c = parseEnrichConfig({ monitoring: { sentry: { dsn: 'x' } }, experimental: { metadata: { endpoint: 'x' } }, metadata: { endpoint: 'y' } });
  t.same(warned(c), ['monitoring.sentry', 'experimental.metadata', 'metadata']);
  t.throws(() => parseEnrichConfig({ input: { streamName: 's', checkpointBackof: {} } }), /CONFIG_UNKNOWN_KEY: unknown configuration key input\.checkpointBackof/);
  t.throws(() => parseEnrichConfig({ featureFlags: { legacyEnrichmentOrder: true } }), /CONFIG_UNSUPPORTED: featureFlags\.legacyEnrichmentOrder/);
  t.throws(() => parseEnrichConfig({ output: { failed: { streamName: 'a' }, incomplete: { streamName: 'b' } } }), /output\.failed and output\.incomplete/);
  t.equal(parseEnrichConfig({ output: { incomplete: { type: 'Kinesis', streamName: '' } } }).output.failed, null, 'an empty incomplete stream name means none, as in Snowplow');
  t.throws(() => parseEnrichConfig({ input: { streamName: 's', checkpointBackoff: { minBackoff: '2 seconds', maxBackoff: '1 second' } } }), /CONFIG_INVALID_VALUE: input\.checkpointBackoff\.maxBackoff/);
});
