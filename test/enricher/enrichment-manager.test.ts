/**
 * The enrichment manager's phases with a scripted pipeline standing in for the enrichments: derived
 * contexts (order, validation), failures, drop, the pii event, JS-style rewrites of contexts, in-place
 * edits of entities, superseded schemas — and the parsed config it runs with.
 */
import t from 'tap';
import type { EnrichmentInput, EnrichmentPipeline, EnrichmentPipelineResult } from '../../enricher/enrichments/enrichment.js';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { parseEnrichConfig } from '../../enricher/config.js';
import { badSchema, column, qs, record, sdkParse, testEnricher } from './support.js';

type Step = (input: EnrichmentInput) => Partial<EnrichmentPipelineResult>;

function scripted(step: Step): EnrichmentPipeline {
  return {
    enrichments: [{ schemaKey: 'iglu:com.acme/fake/jsonschema/1-0-0', identifier: 'fake', enrich: () => ({}) }],
    crossNavigation: null,
    async run(input) {
      const r = step(input);
      return { derivedContexts: [], failures: [], piiEvent: null, drop: false, contextsChanged: false, unstructEventChanged: false, ...r };
    },
    async close() {},
  };
}

const UA_CTX: SelfDescribingData = {
  schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0',
  data: { useragentFamily: 'Firefox', useragentMajor: '26', useragentMinor: '0', useragentPatch: null, useragentVersion: 'Firefox 26.0', osFamily: 'Mac OS X', osMajor: '10', osMinor: '9', osPatch: null, osPatchMinor: null, osVersion: 'Mac OS X 10.9', deviceFamily: 'Other' },
};
const WEB_PAGE = '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"b05b31c3-81ac-4af5-92d1-113133968655"}}]}';
const pv = (extra: Record<string, string> = {}) => record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', uid: 'alice', co: WEB_PAGE, ...extra }) });

t.test('derived contexts are validated; valid ones are written, invalid ones make a schema_violations row', async (t) => {
  const ok = await testEnricher(undefined, scripted(() => ({ derivedContexts: [UA_CTX] })));
  const out = await ok.processor.process(pv());
  t.equal(out.good.length, 1, out.bad[0] ?? '');
  t.same(JSON.parse(column(out.good[0]!, 'derived_contexts')), { schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [UA_CTX] });
  t.ok(sdkParse(out.good[0]!)['contexts_com_snowplowanalytics_snowplow_ua_parser_context_1']);

  const bad = await testEnricher(undefined, scripted(() => ({ derivedContexts: [UA_CTX, { schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0', data: { nope: true } }] })));
  const b = await bad.processor.process(pv());
  t.equal(badSchema(b.bad[0]!), 'schema_violations');
  t.equal(JSON.parse(b.bad[0]!).data.failure.messages[0].schemaKey, 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0');
});

t.test('enrichment failures: one enrichment_failures row with the tagged messages; schema violations win over them', async (t) => {
  const tag = { schemaKey: 'iglu:com.acme/fake/jsonschema/1-0-0', identifier: 'fake' };
  const e = await testEnricher(undefined, scripted(() => ({ failures: [{ enrichment: tag, message: { error: 'boom' } }] })));
  const out = await e.processor.process(pv());
  const row = JSON.parse(out.bad[0]!);
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1');
  t.same(row.data.failure.messages, [{ enrichment: tag, message: { error: 'boom' } }]);
  t.equal(row.data.payload.enriched.user_id, 'alice');
  const both = await e.processor.process(pv({ tid: 'x' }));
  t.equal(badSchema(both.bad[0]!), 'schema_violations', 'phase-1 errors are reported, not the enrichment failure');
});

t.test('a dropped event produces no output and is counted', async (t) => {
  const e = await testEnricher(undefined, scripted(() => ({ drop: true })));
  const out = await e.processor.process(pv());
  t.same([out.good.length, out.bad.length, out.dropped, out.events], [0, 0, 1, 1]);
});

t.test('pii event: pii_transformation with a parent_event context', async (t) => {
  const pii: SelfDescribingData = { schema: 'iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0', data: { pii: { pojo: [{ fieldName: 'user_id', originalValue: 'alice', modifiedValue: 'h' }] }, strategy: { pseudonymize: { hashFunction: 'SHA-1' } } } };
  const e = await testEnricher(undefined, scripted((input) => {
    input.event.user_id = 'h';
    return { piiEvent: pii };
  }));
  const out = await e.processor.process(pv({ aid: 'app' }));
  t.equal(out.pii.length, 1);
  const p = out.pii[0]!;
  t.equal(column(p, 'event'), 'pii_transformation');
  t.equal(column(p, 'platform'), 'srv');
  t.equal(column(p, 'app_id'), 'app');
  t.equal(column(p, 'event_name'), 'pii_transformation');
  t.equal(JSON.parse(column(p, 'contexts')).data[0].data.parentEventId, column(out.good[0]!, 'event_id'));
  t.same(JSON.parse(column(p, 'unstruct_event')).data, pii);
  t.equal(column(out.good[0]!, 'user_id'), 'h');
  t.ok(sdkParse(p)['event_id']);
});

t.test('entities edited in place by an enrichment are written edited; a rewritten contexts column is re-validated', async (t) => {
  const edit = await testEnricher(undefined, scripted((input) => {
    (input.contexts[0]!.data as { id: string }).id = 'c0ffee00-0000-4000-8000-000000000000';
    return {};
  }));
  const a = await edit.processor.process(pv());
  t.match(column(a.good[0]!, 'contexts'), /c0ffee00-0000-4000-8000-000000000000/);

  const rewrite = (ctx: string) => testEnricher(undefined, scripted((input) => {
    input.event.contexts = ctx;
    return { contextsChanged: true };
  }));
  const good = await (await rewrite('{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"11111111-1111-4111-8111-111111111111"}}]}')).processor.process(pv());
  t.match(column(good.good[0]!, 'contexts'), /^\{"schema":"iglu:com.snowplowanalytics.snowplow\/contexts\/jsonschema\/1-0-1".*11111111-1111/);
  const bad = await (await rewrite('{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{}}]}')).processor.process(pv());
  t.equal(badSchema(bad.bad[0]!), 'schema_violations');
});

t.test('superseded schemas: entity re-labelled, validation_info appended once', async (t) => {
  const e = await testEnricher();
  const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [
    { schema: 'iglu:com.acme/superseding_example/jsonschema/1-0-0', data: { field_a: 'a', field_b: 'b' } },
    { schema: 'iglu:com.acme/superseding_example/jsonschema/1-0-0', data: { field_a: 'b', field_b: 'c' } },
  ] });
  const out = await e.processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', co }) }));
  t.equal(out.good.length, 1, out.bad[0] ?? '');
  t.same(JSON.parse(column(out.good[0]!, 'contexts')).data.map((x: { schema: string }) => x.schema), ['iglu:com.acme/superseding_example/jsonschema/1-0-1', 'iglu:com.acme/superseding_example/jsonschema/1-0-1']);
  t.same(JSON.parse(column(out.good[0]!, 'derived_contexts')).data, [{ schema: 'iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0', data: { originalSchema: 'iglu:com.acme/superseding_example/jsonschema/1-0-0', validatedWith: '1-0-1' } }]);
});

t.test('failed events: a copy of the failing event with failure entities first, invalid entities dropped, long fields nulled', async (t) => {
  const tag = { schemaKey: 'iglu:com.acme/fake/jsonschema/1-0-0', identifier: 'fake' };
  const e = await testEnricher({ validation: { atomicFieldsLimits: { page_title: 5 } } }, scripted(() => ({ derivedContexts: [UA_CTX] })), null, true);
  const co = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [
    { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'b05b31c3-81ac-4af5-92d1-113133968655' } },
    { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 42 } },
  ] });
  const out = await e.processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', co, page: 'much too long' }) }));
  t.equal(out.good.length, 0);
  t.equal(out.bad.length, 1, 'still exactly one bad row for the event');
  t.equal(badSchema(out.bad[0]!), 'schema_violations');
  t.equal(out.failed.length, 1);
  const f = out.failed[0]!;
  t.ok(sdkParse(f)['event_id'], 'the failed event is a valid enriched TSV line');
  t.equal(column(f, 'page_title'), '', 'the oversize field is nulled');
  t.same(JSON.parse(column(f, 'contexts')).data.length, 1, 'only the valid context is kept');
  const derived = JSON.parse(column(f, 'derived_contexts')).data as Array<{ schema: string; data: any }>;
  t.same(derived.map((d) => d.schema.split('/')[1]), ['failure', 'failure', 'ua_parser_context'], 'failure entities first, then the enrichment output');
  t.match(derived[0]!.data, { failureType: 'ValidationError', schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 42 }, componentName: 'furrow-enrich-test', componentVersion: '1.2.3', errors: [{ source: 'contexts', keyword: 'type' }] });
  t.match(derived[1]!.data, { failureType: 'ValidationError', schema: 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0', errors: [{ source: 'page_title', keyword: 'atomic_field_length_exceeded' }] });
  const resolver = await (await import('./support.js')).testResolver();
  for (const d of derived) t.ok((await resolver.validate(d.schema, d.data)).ok, `${d.schema} validates`);

  const ef = await testEnricher(undefined, scripted(() => ({ failures: [{ enrichment: tag, message: { field: 'x', value: 'y', expectation: 'z' } }] })), null, true);
  const o2 = await ef.processor.process(pv());
  t.equal(badSchema(o2.bad[0]!), 'enrichment_failures');
  t.match(JSON.parse(column(o2.failed[0]!, 'derived_contexts')).data[0].data, { failureType: 'EnrichmentError: fake', schema: tag.schemaKey, data: { x: 'y' }, errors: [{ message: 'z', source: 'x' }] });
  const good = await ef.processor.process(record({ path: '/com.acme/v1' }));
  t.same([good.bad.length, good.failed.length], [1, 0], 'payload-level failures (no event yet) have no failed event');
});

t.test('Iglu outage: bad rows by default, stop before the checkpoint with onIgluOutage=stop', async (t) => {
  const { createEnricher } = await import('../../enricher/enricher-factory.js');
  const { DEFAULT_ENRICH_CONFIG } = await import('../../enricher/config.js');
  const { testResolver } = await import('./support.js');
  const real = await testResolver();
  const outage = { error: 'ResolutionError' as const, lookupHistory: [{ repository: 'Iglu Server', errors: [{ error: 'RepoFailure' as const, message: 'connect ECONNREFUSED 127.0.0.1:1' }], attempts: 1, lastAttempt: '2024-01-01T00:00:00Z' }] };
  const down = (uri: string) => uri.includes('com.acme/');
  const resolver = {
    ...real,
    validateCached: (uri: string, data: unknown) => (down(uri) ? undefined : real.validateCached(uri, data)),
    validate: async (uri: string, data: unknown) => (down(uri) ? { ok: false as const, error: outage } : real.validate(uri, data)),
  };
  const rec = record({ querystring: qs({ e: 'ue', p: 'web', tv: 't', ue_pr: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: {} } }) }) });
  const lenient = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, null);
  const out = await lenient.processor.process(rec);
  t.equal(badSchema(out.bad[0]!), 'schema_violations');
  t.match(JSON.parse(out.bad[0]!).data.failure.messages[0].error, { error: 'ResolutionError' });
  const strict = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, null, { onIgluOutage: 'stop' });
  await t.rejects(strict.processor.process(rec), /ENRICH_IGLU_UNAVAILABLE/);
  const notFound = { ...resolver, validate: async (uri: string, data: unknown) => (down(uri) ? { ok: false as const, error: { ...outage, lookupHistory: [{ ...outage.lookupHistory[0]!, errors: [{ error: 'NotFound' as const }] }] } } : real.validate(uri, data)) };
  const strictNotFound = createEnricher(DEFAULT_ENRICH_CONFIG, notFound, null, { onIgluOutage: 'stop' });
  t.equal(badSchema((await strictNotFound.processor.process(rec)).bad[0]!), 'schema_violations', 'a schema that does not exist is still a bad row');
});

t.test('config: a Snowplow enrich HOCON object parses into typed, frozen values', async (t) => {
  const c = parseEnrichConfig({
    license: { accept: true },
    input: { streamName: 'raw', appName: 'app', initialPosition: { type: 'AT_TIMESTAMP', timestamp: '2024-01-01T00:00:00Z' }, retrievalMode: { type: 'Polling', maxRecords: 750, idleTimeBetweenReads: '200 millis' }, workerIdentifier: 'w1', leaseDuration: '10 seconds', maxLeasesToStealAtOneTimeFactor: 2, checkpointThrottledBackoffPolicy: { minBackoff: '100 millis', maxBackoff: '1 second' }, debounceCheckpoints: '10 seconds' },
    output: {
      good: { streamName: 'enriched', throttledBackoffPolicy: { minBackoff: '100 milliseconds', maxBackoff: '1 second' }, recordLimit: 500, byteLimit: 5242880, partitionKey: 'user_id', maxRetries: 10 },
      bad: { streamName: 'bad' },
    },
    cpuParallelismFraction: 1,
    monitoring: { metrics: { prometheus: { tags: { env: 'prod' } } }, healthProbe: { port: 8000, unhealthyLatency: '2 minutes' } },
    assetsUpdatePeriod: '7 days',
    validation: { acceptInvalid: true, atomicFieldsLimits: { app_id: 5, mkt_clickid: 100000 }, maxJsonDepth: 50 },
    telemetry: { disable: true },
  });
  t.equal(c.input?.streamName, 'raw');
  t.same(c.input?.initialPosition, { timestamp: new Date('2024-01-01T00:00:00Z') });
  t.equal(c.input?.maxRecords, 750);
  t.equal(c.input?.idleTimeBetweenReadsMs, 200);
  t.equal(c.input?.leaseDurationMs, 10_000);
  t.equal(c.output.good?.partitionKey, 'user_id');
  t.equal(c.output.good?.minBackoffMs, 100);
  t.equal(c.output.bad?.recordLimit, 500, 'defaults');
  t.equal(c.validation.atomicFieldsLimits['app_id'], 5);
  t.equal(c.validation.atomicFieldsLimits['user_id'], 255, 'defaults merged');
  t.equal(c.metricsPort, 8000);
  t.equal(c.assetsUpdatePeriodMs, 7 * 86_400_000);
  t.ok(c.ignored.includes('telemetry') && c.ignored.includes('cpuParallelismFraction'));
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.validation.atomicFieldsLimits));
  t.throws(() => parseEnrichConfig({ validation: { atomicFieldsLimits: { not_a_field: 3 } } }), /CONFIG_UNKNOWN_KEY: validation.atomicFieldsLimits.not_a_field/);
  t.throws(() => parseEnrichConfig({ input: { appName: 'x' } }), /CONFIG_MISSING_KEY: input.streamName is required/);
  t.same(parseEnrichConfig({ input: { streamName: 'x', retrievalMode: { type: 'FanOut' } } }).warnings.map((w) => w.key), ['input.retrievalMode.type'], 'FanOut: furrow polls, with a warning');
  t.throws(() => parseEnrichConfig({ input: { streamName: 'x', retrievalMode: { type: 'Push' } } }), /CONFIG_INVALID_VALUE: input.retrievalMode.type/);
  t.throws(() => parseEnrichConfig({ validation: { maxJsonDepth: 'deep' } }), /CONFIG_INVALID_VALUE: validation.maxJsonDepth/);
  t.throws(() => parseEnrichConfig({ validation: { maxJsonDepth: 998 } }), /CONFIG_INVALID_VALUE: validation.maxJsonDepth.*1 to 997/, 'deeper than the loaders and forwarders accept');
  t.equal(parseEnrichConfig({ maxJsonDepth: 997 }).validation.maxJsonDepth, 997);
  t.equal(parseEnrichConfig({ output: { good: { streamName: 'g' }, bad: { streamName: 'b' }, failed: { streamName: 'f' } } }).output.failed?.streamName, 'f');
  t.match(parseEnrichConfig({ monitoring: { sentry: { dsn: 'x' } } }).warnings, [{ key: 'monitoring.sentry', message: /Sentry/ }]);
  t.throws(() => parseEnrichConfig({ assetsUpdatePeriod: 'soon' }), /CONFIG_INVALID_VALUE: assetsUpdatePeriod/);

  const v5 = parseEnrichConfig({
    input: { type: 'Kinesis', appName: 'enrich', streamName: 'raw', region: 'eu-central-1', initialPosition: { type: 'LATEST' }, retrievalMode: { type: 'Polling', maxRecords: 1000 }, bufferSize: 3, cloudwatchCustomEndpoint: 'http://localhost:4566' },
    output: {
      good: { type: 'Kinesis', streamName: 'enriched', region: 'eu-central-1', partitionKey: 'user_id', backoffPolicy: { minBackoff: '100 milliseconds', maxBackoff: '10 seconds', maxRetries: 7 }, throttledBackoffPolicy: { minBackoff: '100 milliseconds', maxBackoff: '1 second' }, recordLimit: 500, byteLimit: 5242880 },
      pii: { type: 'Kinesis', streamName: 'pii' },
      bad: { type: 'Kinesis', streamName: 'bad', backoffPolicy: { minBackoff: '100 milliseconds', maxBackoff: '10 seconds', maxRetries: 3 } },
    },
    concurrency: { enrich: 256, sink: 1 },
    remoteAdapters: { connectionTimeout: '10 seconds', readTimeout: '45 seconds', maxConnections: 10, configs: [] },
    monitoring: { metrics: { stdout: { period: '1 minute' }, cloudwatch: false } },
    featureFlags: { acceptInvalid: true, legacyEnrichmentOrder: false, tryBase64Decoding: false },
    blobStorage: { s3: true },
  });
  t.equal(v5.output.pii?.streamName, 'pii', '5.x pii stream');
  t.equal(v5.output.good?.maxRetries, 7, 'good: retries from backoffPolicy');
  t.equal(v5.output.good?.maxBackoffMs, 1000, 'good: delays from the throttling policy');
  t.equal(v5.output.bad?.maxRetries, 3, 'bad: retries from backoffPolicy');
  t.equal(v5.input?.initialPosition, 'LATEST');
  t.equal(v5.validation.acceptInvalid, true, 'featureFlags.acceptInvalid');
  t.throws(() => parseEnrichConfig({ input: { type: 'PubSub', streamName: 'x' } }), /CONFIG_UNSUPPORTED: input.type/);
  t.match(parseEnrichConfig({ remoteAdapters: { configs: [{ vendor: 'a', version: 'b', url: 'http://x' }] } }).warnings, [{ key: 'remoteAdapters.configs' }]);
  t.match(parseEnrichConfig({ monitoring: { metrics: { cloudwatch: true } } }).warnings, [{ key: 'monitoring.metrics.cloudwatch', message: /Prometheus/ }]);
});

t.test('a cold resolver (every validation waits) and a warm one (hot cache) give the same lines', async (t) => {
  // The same records through a resolver whose hot cache always misses (every validation of the tp2 body, the ue/cx
  // wrappers and entities and the derived contexts goes through validate()) and through the plain one (validateCached
  // answers), with an enrichment that awaits and one that answers at once.
  const { createEnricher } = await import('../../enricher/enricher-factory.js');
  const { DEFAULT_ENRICH_CONFIG } = await import('../../enricher/config.js');
  const { testResolver, TEST_PROCESSOR } = await import('./support.js');
  const warm = await testResolver();
  let waited = 0;
  const cold = {
    ...warm,
    validateCached: () => undefined,
    validate: async (uri: string, data: unknown) => {
      waited++;
      await new Promise((r) => setImmediate(r));
      return warm.validate(uri, data);
    },
  } as typeof warm;
  const { createPipeline } = await import('../../enricher/enrichments/registry.js');
  const fake = { schemaKey: 'iglu:com.acme/fake/jsonschema/1-0-0', identifier: 'fake' };
  const syncPipeline = createPipeline([{ ...fake, enrich: () => ({ derivedContexts: [UA_CTX] }) }]);
  const asyncPipeline = createPipeline([{ ...fake, enrich: async () => ({ derivedContexts: [UA_CTX] }) }]);
  const link = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: 'https://a.example/' } } });
  const twoCtx = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [JSON.parse(WEB_PAGE).data[0], { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'not a uuid' } }, JSON.parse(WEB_PAGE).data[0]] });
  const records = [
    pv(),
    pv({ co: twoCtx }),
    pv({ e: 'ue', ue_pr: link }),
    pv({ e: 'ue', ue_pr: link.replace('targetUrl', 'target') }),
    record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'ue', p: 'web', tv: 't', ue_pr: link }, { e: 'pv', p: 'web', tv: 't', co: twoCtx }] }) }),
  ];
  const run = async (resolver: typeof warm, pipeline: EnrichmentPipeline): Promise<string[]> => {
    const { processor } = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, pipeline, { processor: TEST_PROCESSOR });
    const lines: string[] = [];
    for (const r of records) {
      const out = await processor.process(r, Date.UTC(2026, 0, 1));
      // event_id is random for bad rows' partially enriched events without eid; compare without it.
      lines.push(...out.good.map((l) => l.split('\t').filter((_, i) => i !== 6).join('\t')), ...out.bad.map((b) => b.replace(/"event_id":"[^"]*"/g, '')));
    }
    return lines;
  };
  const fast = await run(warm, syncPipeline);
  const slow = await run(cold, asyncPipeline);
  t.ok(waited > 10, `the cold resolver was waited on (${waited} validations)`);
  t.equal(fast.length, 6, 'five records, six events: each a good line or a bad row');
  t.ok(fast.some((l) => l.startsWith('{')) && fast.some((l) => !l.startsWith('{')), 'good lines and bad rows both compared');
  t.same(slow, fast);
});
