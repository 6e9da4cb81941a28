import t from 'tap';
import { buildEnrichments } from '../../../enricher/enrichments/registry.js';
import { makeInput, rawEvent, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

const js = (source: string, config?: Record<string, unknown>) =>
  sdj(`iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/${config === undefined ? '1-0-0' : '1-0-1'}`, {
    vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true,
    parameters: { script: Buffer.from(source).toString('base64'), ...(config === undefined ? {} : { config }) },
  });

t.test('the fixture config script (test/fixtures/enrichment-configs): contexts from getters, throw → failure', async (t) => {
  const cfg = readConfig('javascript_script_enrichment.json') as { schema: string; data: Record<string, unknown> };
  cfg.data['enabled'] = true;
  const p = await buildEnrichments([cfg], testDeps());
  const ok = await p.run(makeInput({ app_id: 'shop', platform: 'web' }));
  t.same(ok.derivedContexts, [{ schema: 'iglu:com.acme/app_tag/jsonschema/1-0-0', data: { app: 'SHOP', chars: 4 } }]);
  t.same(ok.failures, []);
  t.same((await p.run(makeInput({ app_id: 'backend', platform: 'srv' }))).failures, [], 'the known server app passes');
  const bad = await p.run(makeInput({ app_id: 'other', platform: 'srv' }));
  t.same(bad.failures, [{
    enrichment: { schemaKey: 'iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0', identifier: 'Javascript enrichment' },
    message: { error: 'Error during execution of JavaScript function: [unknown server app other]' },
  }]);
  t.same((await p.run(makeInput({ app_id: null }))).derivedContexts, []);
});

t.test('setters, typed getters, params, headers, drop, derived contexts', async (t) => {
  const p = await buildEnrichments([
    sdj('iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1', { vendor: 'com.snowplowanalytics.snowplow', name: 'anon_ip', enabled: true, parameters: { anonOctets: 1 } }),
    js(`function process(event, params, headers) {
      if (event.getApp_id() === 'drop-me') { event.drop(); return null; }
      event.setUser_id(params.prefix + event.getUser_id());
      event.setTr_total(12.5);
      return [{ schema: 'iglu:com.acme/typed/jsonschema/1-0-0', data: {
        vid: event.getDomain_sessionidx(), lat: event.getGeo_latitude(), cookie: event.getBr_cookies(),
        ua: headers.filter(function (h) { return /^user-agent:/i.test(h); }).map(function (h) { return h.split(':')[1].trim(); })[0] || null, ip: event.getUser_ipaddress(), big: 12345678901234567890 } }];
    }`, { prefix: 'p-' }),
  ], testDeps());
  const input = makeInput({ app_id: 'a', user_id: 'u', domain_sessionidx: '3', geo_latitude: '51.5', br_cookies: '1', user_ipaddress: '1.2.3.4' }, rawEvent({}, { headers: ['User-Agent: ua/1'] }));
  const r = await p.run(input);
  t.equal(input.event.user_id, 'p-u');
  t.equal(input.event.tr_total, '12.5');
  t.same(r.derivedContexts[0]?.data, { vid: 3, lat: 51.5, cookie: 1, ua: 'ua/1', ip: '1.2.3.4', big: 12345678901234567000 });
  t.equal(input.event.user_ipaddress, '1.2.3.x', 'anon_ip runs after the script');
  const dropped = await p.run(makeInput({ app_id: 'drop-me' }));
  t.equal(dropped.drop, true);
});

t.test('setContexts / setUnstruct_event / eraseDerived_contexts are reported to the core', async (t) => {
  const p = await buildEnrichments([
    sdj('iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0', { vendor: 'com.snowplowanalytics.snowplow', name: 'ua_parser_config', enabled: true, parameters: {} }),
    js(`function process(event) {
      var seen = JSON.parse(event.getDerived_contexts()).data.length;
      event.eraseDerived_contexts();
      var c = JSON.parse(event.getContexts());
      c.data.push({ schema: 'iglu:com.acme/added/jsonschema/1-0-0', data: { n: 1.50 } });
      event.setContexts(JSON.stringify(c));
      event.setUnstruct_event(null);
      return [{ schema: 'iglu:com.acme/seen/jsonschema/1-0-0', data: { seen: seen } }];
    }`),
  ], testDeps());
  const input = makeInput({ useragent: 'curl/7.0', contexts: '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"a":1}}]}', unstruct_event: '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/e/jsonschema/1-0-0","data":{}}}' });
  input.contexts = [{ schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: { a: 1 } }];
  input.unstructEvent = { schema: 'iglu:com.acme/e/jsonschema/1-0-0', data: {} };
  const r = await p.run(input);
  t.same(r.derivedContexts, [{ schema: 'iglu:com.acme/seen/jsonschema/1-0-0', data: { seen: 1 } }], 'ua_parser context erased, JS output kept');
  t.equal(r.contextsChanged, true);
  t.equal(r.unstructEventChanged, true);
  t.equal(input.event.unstruct_event, null);
  t.equal(input.unstructEvent, null);
  t.same(input.contexts.map((c) => c.schema), ['iglu:com.acme/x/jsonschema/1-0-0', 'iglu:com.acme/added/jsonschema/1-0-0']);
});

t.test('params default to {} without a config', async (t) => {
  const p = await buildEnrichments([js('function process(e, params, headers) { return [{ schema: "iglu:a/p/jsonschema/1-0-0", data: { params: params, n: headers.length } }]; }')], testDeps());
  t.same((await p.run(makeInput({}, rawEvent({}, { headers: ['A: 1', 'B: 2'] })))).derivedContexts[0]?.data, { params: {}, n: 2 });
});

t.test('hostile scripts: loops time out, no require/process/host escape, bad returns', async (t) => {
  const deps = testDeps({ javascriptTimeoutMs: 100 });
  const run = async (source: string) => (await (await buildEnrichments([js(source)], deps)).run(makeInput({ app_id: 'a' })));
  const loop = await run('function process(e) { while (true) {} }');
  t.match(loop.failures[0]?.message, { error: /timed out after 100 ms/ });
  t.match((await run('function process(e) { return [typeof require, typeof process.exit, typeof setTimeout, typeof fetch]; }')).failures[0]?.message, { error: /not a self-describing JSON|process/ });
  const escape = await run(`function process(e) {
    var out = [];
    try { out.push(typeof e.constructor.constructor('return process')()); } catch (x) { out.push('blocked: ' + x.message); }
    try { out.push(typeof e.getApp_id.constructor('return this')().require); } catch (x) { out.push('blocked'); }
    return [{ schema: 'iglu:com.acme/probe/jsonschema/1-0-0', data: { out: out } }];
  }`);
  const probe = (escape.derivedContexts[0]?.data as { out: string[] }).out;
  t.notOk(probe.includes('object'), `no host process object reachable: ${JSON.stringify(probe)}`);
  t.match((await run('function process(e) { return "nope"; }')).failures[0]?.message, { error: /must return an array/ });
  t.match((await run('function process(e) { return [{ notSchema: 1 }]; }')).failures[0]?.message, { error: /not a self-describing JSON/ });
  t.match((await run('function process(e) { throw new TypeError("boom"); }')).failures[0]?.message, { error: 'Error during execution of JavaScript function: [boom]' });
  t.same((await run('function process(e) { return []; }')).failures, []);
});

t.test('scripts that do not compile or define no process() fail at start', async (t) => {
  await t.rejects(buildEnrichments([js('function process( {')], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /does not run/ });
  await t.rejects(buildEnrichments([js('var x = 1;')], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /must define function process/ });
  await t.rejects(buildEnrichments([js('while(true){}')], testDeps({ javascriptTimeoutMs: 50 })), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /timed out/ });
  // two scripts run in config order; both outputs kept, newest first
  const p = await buildEnrichments([js('function process(e) { return [{schema:"iglu:a/one/jsonschema/1-0-0",data:{}}]; }'), js('function process(e) { return [{schema:"iglu:a/two/jsonschema/1-0-0",data:{}}]; }')], testDeps());
  t.same((await p.run(makeInput())).derivedContexts.map((c) => c.schema), ['iglu:a/two/jsonschema/1-0-0', 'iglu:a/one/jsonschema/1-0-0']);
});

t.test('a microtask flood is cut off by the same per-event limit (child process)', async (t) => {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', 'test/support/enrichments-js-flood.ts'], { timeout: 30_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; failures: Array<{ error: string }> };
  t.match(r.failures, [{ error: /timed out after 100 ms/ }]);
  t.ok(r.ms < 10_000, `returned after ${r.ms} ms`);
});
