import t from 'tap';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { convertAmount, parseDecimal } from '../../../enricher/enrichments/currency-conversion.js';
import { json, startServer } from '../../support/enrichments-http.js';
import { makeInput, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

const currencyCfg = (base = 'EUR', account = 'DEVELOPER') =>
  sdj('iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0', {
    enabled: true, vendor: 'com.snowplowanalytics.snowplow', name: 'currency_conversion_config',
    parameters: { accountType: account, apiKey: 'k3y', baseCurrency: base, rateAt: 'EOD_PRIOR' },
  });

t.test('decimal conversion is exact and rounds HALF_EVEN', async (t) => {
  const d = (s: string) => parseDecimal(s)!;
  t.equal(convertAmount(d('8000'), d('0.885936'), d('1'), 2), '7087.49');
  t.equal(convertAmount(d('50'), d('0.885936'), d('1'), 2), '44.30');
  t.equal(convertAmount(d('0.125'), d('1'), d('1'), 2), '0.12');
  t.equal(convertAmount(d('0.135'), d('1'), d('1'), 2), '0.14');
  t.equal(convertAmount(d('-10.005'), d('1'), d('1'), 2), '-10.00');
  t.equal(convertAmount(d('1E+3'), d('110.5'), d('1'), 0), '110500');
  t.equal(parseDecimal('abc'), null);
});

t.test('currency_conversion: the blackbox transaction and transaction item figures against a local rates API', async (t) => {
  const server = await startServer((req, res) => {
    if (req.url === '/api/historical/2019-06-30.json?app_id=k3y') json(res, 200, { disclaimer: 'test', base: 'USD', rates: { EUR: 0.885936, GBP: 0.790856, USD: 1, JPY: 107.85 } });
    else if (req.url.startsWith('/api/historical/2019-07-01')) json(res, 500, { error: true });
    else json(res, 404, { error: true, message: 'not_found' });
  });
  t.teardown(() => server.close());
  const deps = testDeps({ openExchangeRatesBaseUrl: `${server.base}/api` });
  const p = await buildEnrichments([currencyCfg()], deps);
  const tr = makeInput({ event: 'transaction', collector_tstamp: '2019-07-01 19:23:03.000', tr_currency: 'USD', tr_total: '8000', tr_tax: '200', tr_shipping: '50' });
  const r = await p.run(tr);
  t.same(r.failures, []);
  t.same([tr.event.base_currency, tr.event.tr_total_base, tr.event.tr_tax_base, tr.event.tr_shipping_base], ['EUR', '7087.49', '177.19', '44.30']);
  const ti = makeInput({ event: 'transaction_item', collector_tstamp: '2019-07-01 19:23:03.000', ti_currency: 'GBP', ti_price: '2000' });
  await p.run(ti);
  t.same([ti.event.base_currency, ti.event.ti_price_base], ['EUR', '2240.45']);
  t.equal(server.requests.length, 1, 'rates for a day are fetched once');
  const yen = await buildEnrichments([currencyCfg('JPY')], deps);
  const j = makeInput({ collector_tstamp: '2019-07-01 00:00:00.000', tr_currency: 'EUR', tr_total: '10' });
  await yen.run(j);
  t.equal(j.event.tr_total_base, '1217', 'JPY has no minor unit');
  const none = makeInput({ event: 'page_view', collector_tstamp: '2019-07-01 19:23:03.000' });
  t.same((await p.run(none)).failures, []);
  t.equal(none.event.base_currency, null, 'nothing to convert');
  const unknown = makeInput({ collector_tstamp: '2019-07-01 19:23:03.000', tr_currency: 'XXX', tr_total: '1' });
  t.match((await p.run(unknown)).failures, [{ enrichment: { identifier: 'currency-conversion' }, message: { field: 'tr_currency', value: 'XXX' } }]);
  const down = makeInput({ collector_tstamp: '2019-07-02 10:00:00.000', tr_currency: 'USD', tr_total: '1' });
  t.match((await p.run(down)).failures, [{ message: { error: /HTTP 500/ } }]);
  const before = server.requests.length;
  await p.run(makeInput({ collector_tstamp: '2019-07-02 11:00:00.000', tr_currency: 'USD', tr_total: '1' }));
  t.equal(server.requests.length, before + 1, 'failed days are retried, not cached');
  const ent = await buildEnrichments([currencyCfg('EUR', 'ENTERPRISE')], deps);
  await ent.run(makeInput({ collector_tstamp: '2019-07-01 19:23:03.000', tr_currency: 'USD', tr_total: '1' }));
  t.match(server.requests.at(-1)?.url, /&base=EUR$/);
});

t.test('currency_conversion: a hanging API is bounded; bad configs fail at start', async (t) => {
  const server = await startServer(() => undefined);
  t.teardown(() => server.close());
  await t.rejects(buildEnrichments([currencyCfg('euro')], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID' });
  const limited = testDeps({ resolver: { ...testDeps().resolver, validate: async () => ({ ok: false, error: { error: 'ResolutionError', lookupHistory: [] } }) } });
  await t.rejects(buildEnrichments([currencyCfg('euro')], limited), { message: /baseCurrency/ });
  const p = await buildEnrichments([currencyCfg()], testDeps({ openExchangeRatesBaseUrl: server.base }));
  const t0 = Date.now();
  const r = await p.run(makeInput({ collector_tstamp: '2019-07-01 19:23:03.000', tr_currency: 'USD', tr_total: '1' }));
  t.match(r.failures, [{ message: { error: /timed out after 5000 ms/ } }]);
  t.ok(Date.now() - t0 < 8000);
});

const weatherCfg = () => {
  const c = readConfig('weather_enrichment_config.json') as { schema: string; data: { enabled: boolean; parameters: Record<string, unknown> } };
  c.data.enabled = true;
  c.data.parameters['timeout'] = 1;
  c.data.parameters['geoPrecision'] = 1; // whole degrees: the place key below
  return c;
};

t.test('weather: nearest hourly observation at the rounded place, cached per place and day', async (t) => {
  const day = Date.UTC(2020, 4, 17) / 1000;
  const server = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.searchParams.get('lat') === '52' && u.searchParams.get('appid') === 'fixture-key') {
      json(res, 200, { list: [
        { dt: day + 3600, main: { temp: 280, temp_min: 279, temp_max: 281, pressure: 1000, humidity: 80 }, wind: { speed: 3, deg: 90 }, clouds: { all: 20 }, weather: [{ main: 'Clouds', description: 'few clouds', id: 801, icon: '02d' }] },
        { dt: day + 7200, main: { temp: 285, temp_min: 284, temp_max: 286, pressure: 1001, humidity: 70 }, wind: { speed: 4, deg: 100 }, clouds: { all: 90 }, rain: { '1h': 0.5 }, weather: [{ main: 'Rain', description: 'light rain', id: 500, icon: '10d' }] },
      ] });
    } else if (u.searchParams.get('lat') === '10') setTimeout(() => json(res, 200, { list: [] }), 8000);
    else json(res, 200, { list: [] });
  });
  t.teardown(() => server.close());
  const p = await buildEnrichments([weatherCfg()], testDeps({ openWeatherMapBaseUrl: server.base }));
  const input = makeInput({ geo_latitude: '51.6', geo_longitude: '-0.2', derived_tstamp: '2020-05-17 02:10:00.000' });
  const r = await p.run(input);
  t.same(r.failures, []);
  t.same(r.derivedContexts, [{ schema: 'iglu:org.openweathermap/weather/jsonschema/1-0-0', data: {
    main: { temp: 285, temp_min: 284, temp_max: 286, pressure: 1001, humidity: 70 }, wind: { speed: 4, deg: 100 }, clouds: { all: 90 }, rain: { '1h': 0.5 },
    weather: [{ main: 'Rain', description: 'light rain', id: 500, icon: '10d' }], dt: '2020-05-17T02:00:00.000Z',
  } }]);
  t.match(server.requests[0]?.url, /^\/data\/2\.5\/history\/city\?lat=52&lon=0&type=hour&start=1589673600&end=1589760000&appid=/);
  await p.run(makeInput({ geo_latitude: '52.4', geo_longitude: '0.3', derived_tstamp: '2020-05-17 01:00:00.000' }));
  t.equal(server.requests.length, 1, 'same rounded place and day → cached');
  t.same((await p.run(makeInput({ derived_tstamp: null }))).failures.map((f) => f.message), [
    { field: 'geo_latitude', value: null, expectation: 'missing' },
    { field: 'geo_longitude', value: null, expectation: 'missing' },
    { field: 'derived_tstamp', value: null, expectation: 'missing' },
  ]);
  t.match((await p.run(makeInput({ geo_latitude: '30', geo_longitude: '1', derived_tstamp: '2020-05-17 01:00:00.000' }))).failures, [{ enrichment: { identifier: 'weather' }, message: { error: /no observation/ } }]);
  const t0 = Date.now();
  t.match((await p.run(makeInput({ geo_latitude: '10', geo_longitude: '1', derived_tstamp: '2020-05-17 01:00:00.000' }))).failures, [{ message: { error: /timed out after 1000 ms/ } }]);
  t.ok(Date.now() - t0 < 7000, 'bounded by the 1 s timeout, well before the 8 s answer');
});
