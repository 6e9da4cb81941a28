import t from 'tap';
import pg from 'pg';
import { startPostgres } from '../../support/postgres.js';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { renameColumn, toNumberedPlaceholders } from '../../../enricher/enrichments/sql-query.js';
import { makeInput, sdj, testDeps } from '../../support/enrichments-deps.js';

t.test('placeholders and property names (pure)', async (t) => {
  t.same(toNumberedPlaceholders("SELECT a FROM t WHERE x = ? AND y = '?' AND \"q?\" = ? -- ?\n AND z = ? /* ? */"), {
    text: "SELECT a FROM t WHERE x = $1 AND y = '?' AND \"q?\" = $2 -- ?\n AND z = $3 /* ? */",
    count: 3,
  });
  t.equal(renameColumn('service_name', 'CAMEL_CASE'), 'serviceName');
  t.equal(renameColumn('service_name', 'PASCAL_CASE'), 'ServiceName');
  t.equal(renameColumn('serviceName', 'SNAKE_CASE'), 'service_name');
  t.equal(renameColumn('Mixed_Case', 'LOWER_CASE'), 'mixed_case');
  t.equal(renameColumn('pk', 'UPPER_CASE'), 'PK');
  t.equal(renameColumn('as_is', 'AS_IS'), 'as_is');
});

t.test('against a real PostgreSQL', async (t) => {
  const db = await startPostgres();
  t.teardown(() => db.stop());
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  t.teardown(() => admin.end());
  await admin.query(`CREATE TABLE enrichment_test (pk int PRIMARY KEY, service_name text, current_status text, last_status text, big bigint, price numeric(10,2), seen timestamp, ok boolean);
    INSERT INTO enrichment_test VALUES (1, 'sp-sql-request-enrichment', 'OK', 'OK', 9007199254740991, 12.50, '2020-01-02 03:04:05.678', true),
                                       (2, 'second', 'DOWN', 'OK', 2, 0.5, NULL, false);`);
  const u = new URL(db.url);
  const override = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) };
  const deps = testDeps({ postgresOverride: override, sqlTimeoutMs: 2000 });
  const cfg = (sql: string, inputs: unknown[], output: Record<string, string>, extra: Record<string, unknown> = {}) =>
    sdj('iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/1-0-1', {
      vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'sql_query_enrichment_config', enabled: true,
      parameters: {
        inputs,
        database: { postgresql: { host: 'localhost', port: 5432, sslMode: false, username: 'enricher', password: 'supersecret1', database: 'sql_enrichment_test' } },
        query: { sql },
        output: { expectedRows: output['expectedRows'] ?? 'EXACTLY_ONE', json: { schema: 'iglu:com.statusgator/status_change/jsonschema/1-0-0', describes: output['describes'] ?? 'ALL_ROWS', propertyNames: output['propertyNames'] ?? 'CAMEL_CASE' } },
        cache: { size: 1000, ttl: 60 },
        ...extra,
      },
    });

  await t.test('the blackbox SqlQueryEnrichmentSpec shape', async (t) => {
    const p = await buildEnrichments([cfg('SELECT service_name, current_status, last_status, pk FROM enrichment_test WHERE pk = 1', [], {})], deps);
    t.teardown(() => p.close());
    const r = await p.run(makeInput());
    t.same(r.failures, []);
    t.same(r.derivedContexts, [{ schema: 'iglu:com.statusgator/status_change/jsonschema/1-0-0', data: { serviceName: 'sp-sql-request-enrichment', currentStatus: 'OK', lastStatus: 'OK', pk: 1 } }]);
  });

  await t.test('placeholders from atomic fields and contexts; column types; cache', async (t) => {
    const p = await buildEnrichments([cfg('SELECT pk, big, price, seen, ok FROM enrichment_test WHERE pk = ? AND current_status = ?', [
      { placeholder: 1, json: { field: 'contexts', schemaCriterion: 'iglu:com.acme/lookup/jsonschema/1-*-*', jsonPath: '$.pk' } },
      { placeholder: 2, pojo: { field: 'app_id' } },
    ], { propertyNames: 'AS_IS' })], deps);
    t.teardown(() => p.close());
    const input = (pk: number | null, app: string | null) => {
      const i = makeInput({ app_id: app });
      i.contexts = pk === null ? [] : [{ schema: 'iglu:com.acme/lookup/jsonschema/1-0-0', data: { pk } }];
      return i;
    };
    const r = await p.run(input(1, 'OK'));
    t.same(r.derivedContexts[0]?.data, { pk: 1, big: 9007199254740991, price: 12.5, seen: '2020-01-02T03:04:05.678', ok: true });
    t.same((await p.run(input(null, 'OK'))).derivedContexts, [], 'a missing input → no query');
    await admin.query(`UPDATE enrichment_test SET ok = false WHERE pk = 1`);
    t.equal(((await p.run(input(1, 'OK'))).derivedContexts[0]?.data as { ok: boolean }).ok, true, 'answered from the cache');
    await admin.query(`UPDATE enrichment_test SET ok = true WHERE pk = 1`);
    t.match((await p.run(input(2, 'OK'))).failures, [{ enrichment: { identifier: 'sql-query' }, message: { error: /returned 0 rows, expected EXACTLY_ONE/ } }]);
  });

  await t.test('EVERY_ROW / ALL_ROWS with several rows, AT_MOST_ONE, AT_LEAST_ONE', async (t) => {
    const every = await buildEnrichments([cfg('SELECT pk FROM enrichment_test ORDER BY pk', [], { describes: 'EVERY_ROW', expectedRows: 'AT_LEAST_ONE' })], deps);
    t.same((await every.run(makeInput())).derivedContexts.map((c) => c.data), [{ pk: 1 }, { pk: 2 }]);
    await every.close();
    const all = await buildEnrichments([cfg('SELECT pk FROM enrichment_test ORDER BY pk', [], { describes: 'ALL_ROWS', expectedRows: 'AT_LEAST_ZERO' })], deps);
    t.same((await all.run(makeInput())).derivedContexts.map((c) => c.data), [[{ pk: 1 }, { pk: 2 }]]);
    await all.close();
    const one = await buildEnrichments([cfg("SELECT pk, DATE '1980-06-12' AS date_of_birth FROM enrichment_test WHERE pk = 1", [], { describes: 'ALL_ROWS', expectedRows: 'AT_LEAST_ZERO' })], deps);
    t.same((await one.run(makeInput())).derivedContexts.map((c) => c.data), [[{ pk: 1, dateOfBirth: '1980-06-12T00:00:00' }]], 'AT_LEAST_ZERO keeps the array even for one row');
    await one.close();
    const most = await buildEnrichments([cfg('SELECT pk FROM enrichment_test', [], { expectedRows: 'AT_MOST_ONE' })], deps);
    t.match((await most.run(makeInput())).failures, [{ message: { error: /returned 2 rows, expected AT_MOST_ONE/ } }]);
    await most.close();
    const none = await buildEnrichments([cfg('SELECT pk FROM enrichment_test WHERE false', [], { expectedRows: 'AT_MOST_ONE' })], deps);
    t.same(await none.run(makeInput()), { derivedContexts: [], failures: [], piiEvent: null, drop: false, contextsChanged: false, unstructEventChanged: false });
    await none.close();
  });

  await t.test('bad SQL, slow query and an unreachable database are failures, not crashes', async (t) => {
    const bad = await buildEnrichments([cfg('SELECT no_such_column FROM enrichment_test', [], {})], deps);
    t.match((await bad.run(makeInput())).failures, [{ message: { error: /SQL query failed: .*no_such_column/ } }]);
    await bad.close();
    const slow = await buildEnrichments([cfg('SELECT pk FROM enrichment_test, pg_sleep(10) WHERE pk = 1', [], {})], testDeps({ postgresOverride: override, sqlTimeoutMs: 300 }));
    const t0 = Date.now();
    t.match((await slow.run(makeInput())).failures, [{ message: { error: /SQL query failed/ } }]);
    t.ok(Date.now() - t0 < 8000, `bounded by the 300 ms timeout, well before the 10 s sleep (${Date.now() - t0} ms)`);
    await slow.close();
    const down = await buildEnrichments([cfg('SELECT 1 AS pk', [], {})], testDeps({ postgresOverride: { ...override, port: 1 }, sqlTimeoutMs: 500 }));
    t.match((await down.run(makeInput())).failures, [{ message: { error: /SQL query failed/ } }]);
    await down.close();
    const quiet = await buildEnrichments([cfg('SELECT 1 AS pk', [], {}, { ignoreOnError: true })], testDeps({ postgresOverride: { ...override, port: 1 }, sqlTimeoutMs: 500 }));
    t.same((await quiet.run(makeInput())).failures, []);
    await quiet.close();
  });

  await t.test('config errors at start', async (t) => {
    await t.rejects(buildEnrichments([cfg('SELECT ? AS x', [], {})], deps), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /no input for placeholder 1/ });
    await t.rejects(buildEnrichments([cfg('SELECT 1', [{ placeholder: 2, pojo: { field: 'app_id' } }], {})], deps), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /placeholder 2 does not exist/ });
    await t.rejects(buildEnrichments([cfg('SELECT ?', [{ placeholder: 1, pojo: { field: 'not_a_field' } }], {})], deps), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /not an atomic field/ });
    const mysql = cfg('SELECT 1', [], {}) as { schema: string; data: { parameters: { database: unknown } } };
    mysql.data.parameters.database = { mysql: { host: 'h', port: 3306, sslMode: false, username: 'u', password: 'p', database: 'd' } };
    await t.rejects(buildEnrichments([mysql], deps), { code: 'ENRICH_ENRICHMENT_UNSUPPORTED', message: /mysql/ });
  });
});
