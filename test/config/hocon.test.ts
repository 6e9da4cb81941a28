import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHocon, readHoconFile, parseDurationMs } from '../../config/hocon.js';

t.test('HOCON with env substitution, optional substitution and unquoted durations', async (t) => {
  const cfg = await parseHocon('collector { port = ${PORT}, host = ${?MISSING_VAR}, cookie { expiration = 365 days } }', 'x', { PORT: '8081' });
  t.same(cfg, { collector: { port: '8081', cookie: { expiration: '365 days' } } });
  t.equal(process.env.PORT, process.env.PORT, 'process.env restored');
});

t.test('a required substitution that is missing fails with CONFIG_PARSE naming it', async (t) => {
  await t.rejects(parseHocon('a = ${NOT_SET_ANYWHERE_123}', 'f.hocon', {}), { name: 'FurrowError', code: 'CONFIG_PARSE', message: /NOT_SET_ANYWHERE_123/ });
});

t.test('unreadable files and non-object documents fail clearly', async (t) => {
  await t.rejects(readHoconFile('/nonexistent/furrow.hocon'), { name: 'FurrowError', code: 'CONFIG_FILE_UNREADABLE' });
  const dir = mkdtempSync(join(tmpdir(), 'furrow-hocon-'));
  const bad = join(dir, 'bad.hocon');
  writeFileSync(bad, 'a = {');
  await t.rejects(readHoconFile(bad), { name: 'FurrowError', code: 'CONFIG_PARSE' });
  const good = join(dir, 'good.json');
  writeFileSync(good, '{"a": [1, 2], "b": {"c": "d"}}');
  t.same(await readHoconFile(good), { a: [1, 2], b: { c: 'd' } });
});

t.test('an enrich config in the layout of Snowplow\'s reference file parses (test/fixtures/configs)', async (t) => {
  const file = join(import.meta.dirname, '../fixtures/configs/enrich-kinesis.hocon');
  const cfg = await readHoconFile(file, { HOSTNAME: 'worker-7' });
  t.match(cfg, {
    license: { accept: true },
    input: { streamName: 'raw-payloads', workerIdentifier: 'worker-7', retrievalMode: { type: 'Polling', maxRecords: 500 }, debounceCheckpoints: '5 seconds' },
    output: { good: { streamName: 'enriched-good', partitionKey: 'domain_userid' }, failed: { streamName: 'enriched-failed' }, bad: { streamName: 'enriched-bad' } },
    telemetry: { method: 'POST', userProvidedId: 'fixture_pipeline', moduleVersion: '6.1.0' },
    metadata: { interval: '10 minutes' },
    identity: { identifiers: [{ name: 'user_id' }, { name: 'account', field: { type: 'entity', path: '$.id' } }] },
  });
  t.notOk('password' in (cfg.identity as Record<string, unknown>), 'an unset ${?VAR} leaves the key out');
  const withPassword = await readHoconFile(file, { HOSTNAME: 'h', IDENTITY_PASSWORD: 's3cret' });
  t.equal((withPassword.identity as Record<string, unknown>).password, 's3cret');
});

t.test('durations', async (t) => {
  t.equal(parseDurationMs('365 days', 'k'), 365 * 86_400_000);
  t.equal(parseDurationMs('10 seconds', 'k'), 10_000);
  t.equal(parseDurationMs('500 millis', 'k'), 500);
  t.equal(parseDurationMs('2m', 'k'), 120_000);
  t.equal(parseDurationMs('1 hour', 'k'), 3_600_000);
  t.equal(parseDurationMs(250, 'k'), 250);
  t.equal(parseDurationMs('100', 'k'), 100);
  for (const bad of ['soon', '-1 s', '5 fortnights', {}, null, -5]) {
    t.throws(() => parseDurationMs(bad, 'collector.cookie.expiration'), /CONFIG_INVALID_VALUE: collector\.cookie\.expiration/);
  }
});
