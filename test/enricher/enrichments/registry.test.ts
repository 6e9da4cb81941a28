import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildEnrichments, createPipeline, loadEnrichmentsDir } from '../../../enricher/enrichments/registry.js';
import { FurrowError } from '../../../common/errors.js';
import { makeInput, readConfig, sdj, testDeps } from '../../support/enrichments-deps.js';

t.test('yauaa and unknown enrichments fail at start with a clear message; disabled ones are skipped', async (t) => {
  const yauaa = readConfig('yauaa_enrichment_config.json');
  const err = await buildEnrichments([yauaa], testDeps()).catch((e: unknown) => e);
  t.ok(err instanceof FurrowError);
  t.equal((err as FurrowError).code, 'ENRICH_ENRICHMENT_UNSUPPORTED');
  t.match((err as Error).message, /yauaa_enrichment_config.*Java library/);

  const unknown = sdj('iglu:com.acme/magic_enrichment/jsonschema/1-0-0', { name: 'magic_enrichment', vendor: 'com.acme', enabled: true, parameters: {} });
  await t.rejects(buildEnrichments([unknown], testDeps()), { code: 'ENRICH_ENRICHMENT_UNKNOWN', message: /magic_enrichment/ });

  const disabled = sdj('iglu:com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0', {
    name: 'yauaa_enrichment_config', vendor: 'com.snowplowanalytics.snowplow.enrichments', enabled: false,
  });
  const p = await buildEnrichments([disabled], testDeps());
  t.equal(p.enrichments.length, 0);
  const r = await p.run(makeInput());
  t.same(r, { derivedContexts: [], failures: [], piiEvent: null, drop: false, contextsChanged: false, unstructEventChanged: false });
});

t.test('schema validation through the resolver names the problem', async (t) => {
  const bad = sdj('iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1', { name: 'anon_ip', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { anonOctets: 'two' } });
  await t.rejects(buildEnrichments([bad], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID', message: /anon_ip.*does not match its schema/ });
  const wrongModel = sdj('iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/2-0-0', { name: 'anon_ip', vendor: 'com.snowplowanalytics.snowplow', enabled: true, parameters: { anonOctets: 1 } });
  await t.rejects(buildEnrichments([wrongModel], testDeps()), { code: 'ENRICH_ENRICHMENT_UNSUPPORTED', message: /2-0-0 is not accepted/ });
  await t.rejects(buildEnrichments([readConfig('anon_ip.json'), readConfig('anon_ip.json')], testDeps()), { code: 'ENRICH_ENRICHMENT_DUPLICATE' });
  await t.rejects(buildEnrichments([{ schema: 'nope', data: {} }], testDeps()), { code: 'ENRICH_ENRICHMENT_CONFIG_INVALID' });
});

t.test('pipeline runs in Snowplow order regardless of config order', async (t) => {
  // anon_ip runs after event_fingerprint: the fingerprint sees raw params, anon_ip masks the IP afterwards.
  const p = await buildEnrichments([readConfig('anon_ip.json'), readConfig('campaign_attribution.json'), readConfig('event_fingerprint_enrichment.json')], testDeps());
  t.same(p.enrichments.map((e) => e.identifier), ['campaign-attribution', 'event-fingerprint', 'anon-ip']);
  t.equal(p.crossNavigation, null);
  await p.close();
});

t.test('loadEnrichmentsDir reads a folder of configs and the wrapper form', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-enr-'));
  writeFileSync(join(dir, 'b_anon_ip.json'), JSON.stringify(readConfig('anon_ip.json')));
  writeFileSync(join(dir, 'a_wrapper.json'), JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/enrichments/jsonschema/1-0-0', data: [readConfig('campaign_attribution.json')] }));
  writeFileSync(join(dir, 'notes.txt'), 'ignored');
  writeFileSync(join(dir, 'c_bom.json'), `\ufeff${JSON.stringify(readConfig('event_fingerprint_enrichment.json'))}`);
  const configs = await loadEnrichmentsDir(dir);
  t.same(configs.map((c) => c.schema), [
    'iglu:com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1',
    'iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1',
    'iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1',
  ], 'sorted by file name; a UTF-8 BOM is tolerated');
  writeFileSync(join(dir, 'd_bad.json'), '{"schema": ');
  await t.rejects(loadEnrichmentsDir(dir), { code: 'CONFIG_PARSE', message: /d_bad.json/ });
  await t.rejects(loadEnrichmentsDir(join(dir, 'missing')), { code: 'CONFIG_FILE_UNREADABLE' });
});

t.test('pipeline: contexts newest first per step, failures tagged, a throwing enrichment does not stop the rest, drop stops', async (t) => {
  const step = (identifier: string, out: () => object) => ({ schemaKey: `iglu:x/${identifier}/jsonschema/1-0-0`, identifier, enrich: out });
  const p = createPipeline([
    step('first', () => ({ derivedContexts: [{ schema: 'iglu:x/a/jsonschema/1-0-0', data: 1 }, { schema: 'iglu:x/b/jsonschema/1-0-0', data: 2 }] })),
    step('broken', () => {
      throw new Error('bug');
    }),
    step('async', async () => ({ derivedContexts: [{ schema: 'iglu:x/c/jsonschema/1-0-0', data: 3 }], failures: [{ error: 'soft' }] })),
    step('rejects', async () => Promise.reject(new Error('async bug'))),
    step('pii', () => ({ piiEvent: { schema: 'iglu:x/pii/jsonschema/1-0-0', data: {} } })),
  ]);
  const r = await p.run(makeInput());
  t.same(r.derivedContexts.map((c) => c.data), [3, 1, 2]);
  t.same(r.failures, [
    { enrichment: { schemaKey: 'iglu:x/broken/jsonschema/1-0-0', identifier: 'broken' }, message: { error: 'unexpected error in broken: bug' } },
    { enrichment: { schemaKey: 'iglu:x/async/jsonschema/1-0-0', identifier: 'async' }, message: { error: 'soft' } },
    { enrichment: { schemaKey: 'iglu:x/rejects/jsonschema/1-0-0', identifier: 'rejects' }, message: { error: 'unexpected error in rejects: async bug' } },
  ]);
  t.equal(r.piiEvent?.schema, 'iglu:x/pii/jsonschema/1-0-0');
  let after = false;
  const d = createPipeline([step('dropper', () => ({ drop: true })), step('after', () => ((after = true), {}))]);
  t.equal((await d.run(makeInput())).drop, true);
  t.equal(after, false, 'nothing runs after a drop');
});
