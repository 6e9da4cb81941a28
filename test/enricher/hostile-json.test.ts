/**
 * JSON nested too deep for a recursive walk, and exceptions in the per-event path: the enricher turns each into
 * a bad row and goes on with the rest of the record. Real parts throughout: the built-in Iglu registry plus
 * schemas written here, the record processor, the api_request enrichment against an HTTP server on 127.0.0.1.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import { silentLogger } from '../../common/logger.js';
import { DEFAULT_ENRICH_CONFIG } from '../../enricher/config.js';
import { createEnricher } from '../../enricher/enricher-factory.js';
import { JsonPath } from '../../enricher/enrichments/json-path.js';
import type { Enrichment, EnrichmentPipeline, EnrichmentPipelineResult } from '../../enricher/enrichments/enrichment.js';
import { buildEnrichments } from '../../enricher/enrichments/registry.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';
import { json, startServer } from '../support/enrichments-http.js';

const PAYLOAD: CollectorPayload = {
  schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0',
  ipAddress: '203.0.113.7', timestamp: Date.UTC(2026, 0, 2, 3, 4, 5, 6), encoding: 'UTF-8', collector: 'ssc-3.2.0-kinesis',
  userAgent: 'test', path: '/com.snowplowanalytics.snowplow/tp2', hostname: 'c.example', headers: [], contentType: 'application/json',
};
const tp2 = (events: Array<Record<string, string>>): Buffer =>
  encodeCollectorPayload({ ...PAYLOAD, body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: events }) });
const nested = (depth: number, leaf = '1'): string => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const column = (line: string, f: (typeof ENRICHED_FIELDS)[number]) => line.split('\t')[ENRICHED_FIELDS.indexOf(f)]!;
const schemaOf = (row: string) => (JSON.parse(row) as { schema: string }).schema.split('/')[1];

/** A directory registry with com.acme/answer/1-0-0 (any object) for the api_request outputs. */
function schemaDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-hostile-iglu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const d = join(dir, 'schemas', 'com.acme', 'answer', 'jsonschema');
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, '1-0-0'), JSON.stringify({
    $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#',
    self: { vendor: 'com.acme', name: 'answer', format: 'jsonschema', version: '1-0-0' },
    type: ['object', 'array'],
  }));
  return dir;
}

t.test('tp2 body, ue_pr and co nested 5,000 deep: one bad row each, the good event of the same record is kept', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const { processor } = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, null);
  const deepBody = encodeCollectorPayload({ ...PAYLOAD, body: `{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t","x":${nested(5000)}}]}` });
  const body = await processor.process(deepBody);
  t.same([body.events, body.good.length, body.bad.length], [1, 0, 1]);
  t.equal(schemaOf(body.bad[0]!), 'tracker_protocol_violations');
  t.match(body.bad[0], /maximum allowed JSON depth exceeded/);

  const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: 'X' } }).replace('"X"', nested(5000));
  const co = `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":${nested(5000)}}]}`;
  const mixed = await processor.process(tp2([
    { e: 'ue', p: 'web', tv: 't', ue_pr: ue },
    { e: 'pv', p: 'web', tv: 't', co },
    { e: 'pv', p: 'web', tv: 't', aid: 'survivor' },
  ]));
  t.same([mixed.events, mixed.good.length, mixed.bad.length], [3, 1, 2], 'every event in = good + bad out');
  t.equal(column(mixed.good[0]!, 'app_id'), 'survivor');
  for (const row of mixed.bad) {
    t.equal(schemaOf(row), 'schema_violations');
    t.match(row, /maximum allowed JSON depth exceeded/);
  }
});

t.test('the adapters take their depth limit from the enricher (validation.maxJsonDepth)', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const rec = tp2([{ e: 'pv', p: 'web', tv: 't', aid: 'y' }]);
  // The body {"schema":…,"data":[{…"aid":"y"}]} is 4 levels deep (the strings count).
  const at = (depth: number) => createEnricher({ ...DEFAULT_ENRICH_CONFIG, validation: { ...DEFAULT_ENRICH_CONFIG.validation, maxJsonDepth: depth } }, resolver, null).processor;
  t.equal((await at(4).process(rec)).good.length, 1);
  const refused = await at(3).process(rec);
  t.equal(refused.good.length, 0);
  t.match(refused.bad[0], /maximum allowed JSON depth exceeded/);
});

t.test('api_request: an answer nested past maxJsonDepth is a schema violation, and $.. walks a 10,000-deep answer', async (t) => {
  const server = await startServer((req, res) => {
    if (req.url.startsWith('/deep/')) json(res, 200, `{"record":${nested(60)}}`);
    else json(res, 200, `{"record":${nested(10_000, '{"leaf":"found"}')}}`);
  });
  t.teardown(() => server.close());
  const resolver = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [schemaDir(t)] });
  const api = (path: string, jsonPath: string) => ({
    schema: 'iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2',
    data: {
      vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'api_request_enrichment_config', enabled: true,
      parameters: {
        inputs: [{ key: 'app', pojo: { field: 'app_id' } }],
        api: { http: { method: 'GET', uri: `${server.base}/${path}/{{app}}`, timeout: 5000, authentication: {} } },
        outputs: [{ schema: 'iglu:com.acme/answer/jsonschema/1-0-0', json: { jsonPath } }],
        cache: { size: 10, ttl: 60 },
      },
    },
  });
  const deps = { resolver, logger: silentLogger, assetsDir: mkdtempSync(join(tmpdir(), 'furrow-assets-')), fetch: globalThis.fetch };
  t.teardown(() => rmSync(deps.assetsDir, { recursive: true, force: true }));

  const deep = await buildEnrichments([api('deep', '$.record')], deps);
  t.teardown(() => deep.close());
  const r1 = await createEnricher(DEFAULT_ENRICH_CONFIG, resolver, deep).processor.process(tp2([{ e: 'pv', p: 'web', tv: 't', aid: 'a' }]));
  t.same([r1.good.length, r1.bad.length], [0, 1], 'a 61-level derived context never reaches the good stream');
  t.equal(schemaOf(r1.bad[0]!), 'schema_violations');
  t.match(r1.bad[0], /nested deeper than the maximum allowed depth of 50/);

  const descent = await buildEnrichments([api('descent', '$..leaf')], deps);
  t.teardown(() => descent.close());
  const r2 = await createEnricher(DEFAULT_ENRICH_CONFIG, resolver, descent).processor.process(tp2([{ e: 'pv', p: 'web', tv: 't', aid: 'b' }]));
  t.same([r2.good.length, r2.bad.length], [1, 0], r2.bad[0] ?? '');
  t.match(column(r2.good[0]!, 'derived_contexts'), /"data":\["found"\]/);
});

t.test('JSONPath recursive descent is iterative and keeps document order', async (t) => {
  const doc = JSON.parse(nested(20_000, '{"leaf":1}')) as unknown;
  t.same(JsonPath.compile('$..leaf').read(doc), [1]);
  t.same(JsonPath.compile('$..x').read({ x: 1, a: [{ x: 2 }, { b: { x: 3 } }], c: { x: 4 } }), [1, 2, 3, 4]);
});

t.test('an enrichment that throws makes its event a bad row; the record\'s other events go on', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  // A plug-in that fails the way a bug does (an exception out of run()), for events of app "boom".
  const faulty: EnrichmentPipeline = {
    enrichments: [{ identifier: 'faulty', schemaKey: 'iglu:com.acme/faulty/jsonschema/1-0-0' } as unknown as Enrichment],
    crossNavigation: null,
    async run(input): Promise<EnrichmentPipelineResult> {
      if (input.event.app_id === 'boom') throw new RangeError('Maximum call stack size exceeded');
      return { derivedContexts: [], failures: [], piiEvent: null, drop: false, contextsChanged: false, unstructEventChanged: false };
    },
    async close() {},
  };
  const { processor } = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, faulty);
  const out = await processor.process(tp2([
    { e: 'pv', p: 'web', tv: 't', aid: 'ok-1', eid: 'b05b31c3-81ac-4af5-92d1-113133968655' },
    { e: 'pv', p: 'web', tv: 't', aid: 'boom', eid: '5d4d1b4f-3b46-4a33-9b0a-5a1d1b0d3c11' },
    { e: 'pv', p: 'web', tv: 't', aid: 'ok-2' },
  ]));
  t.same([out.events, out.good.length, out.bad.length], [3, 2, 1]);
  t.same(out.good.map((l) => column(l, 'app_id')), ['ok-1', 'ok-2']);
  const row = JSON.parse(out.bad[0]!) as { schema: string; data: { failure: { messages: Array<{ enrichment: unknown; message: { error: string } }> }; payload: { raw: { parameters: Array<{ name: string; value: string }> } } } };
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1');
  t.match(row.data.failure.messages[0]!.message.error, /unexpected error while enriching the event: RangeError: Maximum call stack size exceeded/);
  t.ok(row.data.payload.raw.parameters.some((p) => p.name === 'eid' && p.value === '5d4d1b4f-3b46-4a33-9b0a-5a1d1b0d3c11'), 'the raw event is in the bad row');
});
