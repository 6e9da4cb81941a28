import t from 'tap';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHocon, readHoconFile, parseDurationMs } from '../../config/hocon.js';

t.test('HOCON with env substitution, optional substitution and unquoted durations', async (t) => {
  const cfg = await parseHocon('collector { port = ${PORT}, host = ${?MISSING_VAR}, cookie { expiration = 365 days } }', 'x', { PORT: '8081' });
  t.same(cfg, { collector: { port: '8081', cookie: { expiration: '365 days' } } });
});

t.test('substitution reads the environment it is given, never the global process.env', async (t) => {
  const before = process.env;
  const pending = parseHocon('a = ${FURROW_HOCON_ONLY_HERE}', 'x', { FURROW_HOCON_ONLY_HERE: 'given' });
  t.equal(process.env, before, 'process.env is not swapped while the parse is pending');
  const other = parseHocon('a = ${FURROW_HOCON_ONLY_HERE}', 'y', { FURROW_HOCON_ONLY_HERE: 'other' });
  t.same(await Promise.all([pending, other]), [{ a: 'given' }, { a: 'other' }], 'two parses at once each see their own env');
  process.env.FURROW_HOCON_ONLY_IN_PROCESS = 'leak';
  try {
    await t.rejects(parseHocon('a = ${FURROW_HOCON_ONLY_IN_PROCESS}', 'z', {}), { code: 'CONFIG_PARSE', message: /FURROW_HOCON_ONLY_IN_PROCESS/ }, 'a variable only in process.env is not seen');
  } finally {
    delete process.env.FURROW_HOCON_ONLY_IN_PROCESS;
  }
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

t.test('HOCON as Snowplow\'s enrich reference file writes it parses (quoted keys, ${HOSTNAME}, ${?VAR}, bare values)', async (t) => {
  // Snowplow's own reference file is parsed by `npm run conformance` (test-conformance/snowplow-configs.test.ts).
  const file = join(import.meta.dirname, 'fixtures/enrich-reference-syntax.hocon');
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

t.test('a stray closer or comma after the root is rejected with its line and column', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{\n  "a": 1\n}\n]\n', /line 4, column 1: unexpected '\]' after the root object closed on line 3/],
    ['{\n  "a": 1\n}\n}\n', /line 4, column 1: unexpected '\}' after the root object closed on line 3/],
    ['{\n  "a": 1\n},\n', /line 3, column 2: unexpected ',' after the root object closed on line 3/],
    ['collector {\n  port = 8080\n}\n}\n', /line 4, column 1: unexpected '\}': there is no open '\{' to close/],
    ['a = [1]]\n', /line 1, column 8: unexpected '\]'/],
    ['a { b = 1 } ]\nc = 2\n', /line 1, column 13: unexpected '\]'/],
    ['a = [1, 2}\n', /line 1, column 10: '\}' cannot close the '\[' opened on line 1, column 5/],
  ];
  for (const [text, message] of cases) {
    await t.rejects(parseHocon(text, 'app.hocon', {}), { code: 'CONFIG_PARSE', message }, JSON.stringify(text));
  }
  // Closers inside strings, comments and substitutions are text, not structure; a trailing comma inside is HOCON.
  t.same(await parseHocon('a = "}]"\nb = """ ]\n } """ # ]\n// }\nc = ${?NOT_SET_X}\nd = [1, 2,]\n', 'x', {}), { a: '}]', b: ' ]\n } ', d: [1, 2] });
});

t.test('parse errors name the line and column, not the parser internals', async (t) => {
  for (const text of ['collector {\n  port = {{collectorPort}}\n}', 'a { b = 1', 'a = 1,,']) {
    const e = await parseHocon(text, 'app.hocon', {}).then(() => null, (err: Error) => err);
    t.ok(e, 'rejected');
    t.match(e!.message, /^CONFIG_PARSE: app\.hocon: line \d+, column \d+: /);
    t.notMatch(e!.message, /Source:|Node\.|@[0-9a-f]{5}|Token:/, e!.message);
  }
  await t.rejects(parseHocon('a = ${NOT_SET_Y}', 'app.hocon', {}), { message: /line 1, column 5: \$\{NOT_SET_Y\} is not set/ });
});

t.test('`key += ${?VAR}` adds nothing when VAR is unset, as Snowplow 2.x sample configs rely on', async (t) => {
  const text = 'cookie {\n  domains = ["a.com"]\n  domains += ${?DOMAIN_1}\n  domains += ${?DOMAIN_2}\n}\nx { l += ${?DOMAIN_1} }\n';
  t.same(await parseHocon(text, 'x', {}), { cookie: { domains: ['a.com'] }, x: {} });
  t.same(await parseHocon(text, 'x', { DOMAIN_2: 'b.com' }), { cookie: { domains: ['a.com', 'b.com'] }, x: {} });
});
