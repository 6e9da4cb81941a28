/**
 * The recovery core on bad rows made by the real enricher: each bad-row type is fixed, re-encoded and enriched
 * again to a good event (keeping its event id); rows that cannot be recovered are still failing with the reason;
 * hostile rows end as still failing, never as a throw; selection, ledger and Snowplow's config shape.
 */
import t from 'tap';
import { decodeCollectorPayload } from '../../formats/collector-payload.js';
import { loadCollectorPayload } from '../../enricher/payloads/thrift-loader.js';
import { parseRecoveryConfig, schemaPattern, singleFlowConfig } from '../../recovery/config.js';
import { Recoverer, recoveryErrorRow, validateWith, type RowResult } from '../../recovery/recoverer.js';
import { MemoryLedger } from '../../recovery/run.js';
import { testEnricher } from '../enricher/support.js';
import { badSchema, column, enrichAll, EVENT_ID, failingRecords, gzipBatch, qs, record, smallBatchEnricher } from './support.js';

const rows: Record<string, string> = {};
t.before(async () => {
  const { processor } = await testEnricher();
  for (const [k, r] of Object.entries(failingRecords())) {
    const o = await processor.process(r);
    rows[k] = o.bad[0]!;
  }
  const small = await smallBatchEnricher();
  const batch = gzipBatch([record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: 'x'.repeat(120), eid: '0d3d7c1e-1111-4a4a-8b8b-000000000006' }) }), record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', eid: '0d3d7c1e-1111-4a4a-8b8b-000000000007' }) })]);
  rows.batch = (await small.processor.process(batch)).bad[0]!;
});

async function recoverWith(steps: unknown[], lines: string[], more: Partial<Parameters<typeof Recoverer.create>[0]> = {}): Promise<RowResult[]> {
  const { processor } = await testEnricher();
  const r = await Recoverer.create({ config: singleFlowConfig('test', steps), loadCheck: loadCollectorPayload, validate: validateWith(processor), ...more });
  try {
    return await r.recover(lines);
  } finally {
    await r.close();
  }
}

t.test('every bad-row type that carries a payload is fixed and enriches to good events', async (t) => {
  const cases: Array<{ row: string; type: string; steps: unknown[]; events: number }> = [
    { row: 'extraField', type: 'schema_violations', steps: [{ op: 'Remove', path: '$.raw.parameters.ue_pr.data.data.extra' }], events: 1 },
    { row: 'missingSchema', type: 'schema_violations', steps: [{ op: 'SetSchema', from: 'iglu:com.acme/test/jsonschema/1-0-0', to: 'iglu:com.acme/test/jsonschema/1-0-1' }], events: 1 },
    { row: 'noContentType', type: 'tracker_protocol_violations', steps: [{ op: 'Set', path: '$.contentType', value: 'application/json' }], events: 2 },
    { row: 'unknownVendor', type: 'adapter_failures', steps: [{ op: 'Set', path: '$.vendor', value: 'com.snowplowanalytics.snowplow' }, { op: 'Set', path: '$.version', value: 'tp2' }], events: 1 },
    { row: 'illegalChar', type: 'collector_payload_format_violation', steps: [{ op: 'Replace', path: '$.querystring', match: '[{}]', value: '' }], events: 1 },
    { row: 'legacyAd', type: 'enrichment_failures', steps: [{ op: 'Set', path: '$.raw.parameters.e', value: 'pv' }], events: 1 },
    { row: 'batch', type: 'size_violation', steps: [], events: 2 },
  ];
  for (const c of cases) {
    t.equal(badSchema(rows[c.row]!), c.type, `${c.row} is a ${c.type} bad row`);
    const [res] = await recoverWith(c.steps, [rows[c.row]!]);
    t.equal(res!.outcome, 'recovered', `${c.row}: ${res!.reason}`);
    const { good, bad } = await enrichAll(res!.records);
    t.same(bad, [], `${c.row}: no bad rows after recovery`);
    t.equal(good.length, c.events, `${c.row}: ${c.events} good event(s)`);
    // Without the fix the same row is still failing, with the enricher's new failure.
    if (c.steps.length > 0) {
      const [unfixed] = await recoverWith([], [rows[c.row]!]);
      t.equal(unfixed!.outcome, 'failed', `${c.row} without its fix is still failing`);
      if (c.type !== 'collector_payload_format_violation') t.ok(unfixed!.newFailure, `${c.row}: the enricher's new bad row is kept`);
    }
  }
});

t.test('size_violation of one payload whose output was too big: its tp2 events are split and recovered', async (t) => {
  const { manager } = await testEnricher();
  const { AdapterRegistry } = await import('../../enricher/adapters/registry.js');
  const { RecordProcessor } = await import('../../enricher/processor.js');
  const { DEFAULT_ENRICH_CONFIG } = await import('../../enricher/config.js');
  const { testResolver, tp2Body, TEST_PROCESSOR } = await import('../enricher/support.js');
  const resolver = await testResolver();
  // An enricher whose per-payload output bound is small enough that 1,200 events exceed it.
  const bounded = new RecordProcessor({
    manager, adapters: new AdapterRegistry(), adapterDeps: { resolver, maxJsonDepth: 50 }, processor: TEST_PROCESSOR,
    framing: DEFAULT_ENRICH_CONFIG.decompression, maxRecordSize: null, maxPayloadOutputChars: 100_000,
  });
  const events = Array.from({ length: 1200 }, (_, i) => ({ e: 'pv', p: 'web', tv: 't', eid: `0d3d7c1e-2222-4a4a-8b8b-${String(i).padStart(12, '0')}` }));
  const big = record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: tp2Body(events) });
  const out = await bounded.process(big);
  t.equal(out.bad.length, 1);
  t.equal(badSchema(out.bad[0]!), 'size_violation');
  const [r] = await recoverWith([], [out.bad[0]!]);
  t.equal(r!.outcome, 'recovered', r!.reason ?? '');
  t.equal(r!.records.length, 3, '1,200 events in payloads of 500');
  const { good, bad } = await enrichAll(r!.records);
  t.same(bad, []);
  t.equal(good.length, 1200);
  t.equal(new Set(good.map((g) => column(g, 'event_id'))).size, 1200);
});

t.test('a recovered event keeps its event id (tracker eid, or the failed event\'s id)', async (t) => {
  const [a] = await recoverWith([{ op: 'Remove', path: '$.raw.parameters.ue_pr.data.data.extra' }], [rows.extraField!]);
  t.equal(column((await enrichAll(a!.records)).good[0]!, 'event_id'), EVENT_ID);
  // missingSchema had no eid: the enricher gave the failed event an id, which the recovered one keeps.
  const failedId = (JSON.parse(rows.missingSchema!) as { data: { payload: { enriched: { event_id: string } } } }).data.payload.enriched.event_id;
  const [b] = await recoverWith([{ op: 'SetSchema', from: 'iglu:com.acme/test/jsonschema/1-0-*', to: 'iglu:com.acme/test/jsonschema/1-0-1' }], [rows.missingSchema!]);
  const good = (await enrichAll(b!.records)).good[0]!;
  t.equal(column(good, 'event_id'), failedId);
  t.match(column(good, 'contexts'), 'iglu:com.acme/test/jsonschema/1-0-1');
  // cx stayed base64url (the encoding it came in)
  const cx = new URLSearchParams(decodeCollectorPayload(b!.records[0]!).querystring!).get('cx')!;
  t.match(cx, /^[A-Za-z0-9_-]+$/);
});

t.test('changes are reported field by field, embedded JSON decoded', async (t) => {
  const [r] = await recoverWith([{ op: 'SetSchema', from: 'iglu:com.acme/test/jsonschema/1-0-0', to: 'iglu:com.acme/test/jsonschema/1-0-1' }], [rows.missingSchema!]);
  t.same(r!.changes, [{ path: '$.raw.parameters.cx.data[0].schema', before: 'iglu:com.acme/test/jsonschema/1-0-0', after: 'iglu:com.acme/test/jsonschema/1-0-1' }]);
  const [x] = await recoverWith([{ op: 'Rename', path: '$.raw.parameters.ue_pr.data.data.extra', to: 'emailAddress2' }], [rows.extraField!]);
  t.same(x!.changes.map((c) => c.path).sort(), ['$.raw.parameters.ue_pr.data.data.emailAddress2', '$.raw.parameters.ue_pr.data.data.extra']);
  t.equal(x!.outcome, 'failed', 'emailAddress2 must be a string: still failing');
  t.match(x!.reason, /still failing after the fixes: schema_violations/);
});

t.test('hostile or unusable rows are still failing with a reason, never a throw', async (t) => {
  const deep = '{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1","data":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
  const truncatedSize = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0', data: { processor: {}, failure: { timestamp: '2026-01-01T00:00:00Z' }, payload: 'app\tweb\t2026-01-01' } });
  const cpfvJunk = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0', data: { processor: {}, failure: {}, payload: Buffer.from([0x0b, 0x00, 0x64, 0x7f, 0xff, 0xff, 0xff]).toString('base64') } });
  const wrongShape = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1', data: { processor: {}, failure: {}, payload: { raw: 'nope' } } });
  const loader = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow.badrows/loader_parsing_error/jsonschema/2-0-0', data: { processor: {}, failure: {}, payload: 'x' } });
  const lines = ['not json', deep, 'x'.repeat(1000), truncatedSize, cpfvJunk, wrongShape, loader, '{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{}}'];
  const res = await recoverWith([], lines, { limits: { maxLineChars: 500_000, maxDepth: 200, maxBatchBytes: 1 << 20 } });
  t.same(res.map((r) => r.outcome), lines.map(() => 'failed'));
  t.match(res[1]!.reason, /depth/);
  t.match(res[3]!.reason, /truncated/);
  t.match(res[4]!.reason, /does not parse as a Thrift/);
  t.match(res[6]!.reason, /carry no payload/);
  for (const r of res) {
    const row = JSON.parse(recoveryErrorRow(r)) as { schema: string; data: { failure: { error: string }; recoveries: number } };
    t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/recovery_error/jsonschema/1-0-1');
    t.equal(row.data.recoveries, 1);
  }
});

t.test('a still-failing row (recovery_error) can be recovered by a later run', async (t) => {
  const [first] = await recoverWith([], [rows.extraField!]);
  t.equal(first!.outcome, 'failed');
  const again = recoveryErrorRow(first!);
  const [second] = await recoverWith([{ op: 'Remove', path: '$.raw.parameters.ue_pr.data.data.extra' }], [again]);
  t.equal(second!.outcome, 'recovered');
  t.equal(second!.type, 'schema_violations');
  t.equal(JSON.parse(recoveryErrorRow({ ...second!, reason: 'x' })).data.recoveries, 2);
});

t.test('selection: type, schema, error text and time range; the rest is skipped', async (t) => {
  const all = Object.values(rows);
  const { processor } = await testEnricher();
  const run = async (selection: object): Promise<RowResult[]> => {
    const r = await Recoverer.create({ config: singleFlowConfig('t', []), loadCheck: loadCollectorPayload, selection, validate: validateWith(processor) });
    try {
      return await r.recover(all);
    } finally {
      await r.close();
    }
  };
  const byType = await run({ types: ['schema_violations'] });
  t.same(byType.map((r) => r.outcome === 'skipped'), all.map((l) => badSchema(l) !== 'schema_violations'));
  const bySchema = await run({ schemas: [schemaPattern('iglu:com.acme/email_sent/jsonschema/1-*-*', 's')] });
  t.same(bySchema.filter((r) => r.outcome !== 'skipped').map((r) => r.id), [byType.find((r) => r.line === rows.extraField)!.id]);
  const byError = await run({ errors: [/ResolutionError/] });
  t.same(byError.filter((r) => r.outcome !== 'skipped').map((r) => r.line), [rows.missingSchema]);
  const future = await run({ since: Date.now() + 60_000 });
  t.ok(future.every((r) => r.outcome === 'skipped'));
  const past = await run({ until: Date.now() + 60_000 });
  t.ok(past.every((r) => r.outcome !== 'skipped'));
});

t.test('the ledger makes a re-run skip what was recovered', async (t) => {
  const ledger = new MemoryLedger();
  const steps = [{ op: 'Remove', path: '$.raw.parameters.ue_pr.data.data.extra' }];
  const [a] = await recoverWith(steps, [rows.extraField!], { ledger });
  t.equal(a!.outcome, 'recovered');
  await ledger.add([a!.id]);
  const [b] = await recoverWith(steps, [rows.extraField!], { ledger });
  t.equal(b!.outcome, 'skipped');
  t.match(b!.reason, /already recovered/);
  // The same row inside a recovery_error (from an earlier run's failed output) is the same recovery.
  const [failedFirst] = await recoverWith([], [rows.extraField!]);
  const [c] = await recoverWith(steps, [recoveryErrorRow(failedFirst!)], { ledger });
  t.equal(c!.outcome, 'skipped');
  t.equal(c!.id, a!.id);
});

t.test("Snowplow's recovery config shape: flows by bad-row schema, first flow whose conditions hold", async (t) => {
  const config = parseRecoveryConfig(Buffer.from(JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/recoveries/jsonschema/4-0-0',
    data: {
      'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-*': [
        { name: 'not this one', conditions: [{ op: 'Test', path: '$.processor.artifact', value: { value: 'snowplow-enrich' } }], steps: [] },
        {
          name: 'email extra',
          conditions: [
            { op: 'Test', path: '$.failure.messages[0].schemaKey', value: { regex: 'email_sent' } },
            { op: 'Test', path: '$.payload.raw.parameters.[?(@.name=~ue_pr)].value', value: { size: { gt: 10 } } },
          ],
          steps: [{ op: 'Remove', path: '$.raw.parameters.[?(@.name=~ue_pr)].value.data.data.extra' }],
        },
      ],
      'iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/*-*-*': [
        { name: 'ad → pv', conditions: [], steps: [{ op: 'Replace', path: '$.raw.parameters.e', match: '^ad$', value: 'pv' }] },
      ],
    },
  })).toString('base64'));
  const { processor } = await testEnricher();
  const r = await Recoverer.create({ config, loadCheck: loadCollectorPayload, validate: validateWith(processor) });
  const res = await r.recover([rows.extraField!, rows.missingSchema!, rows.legacyAd!, rows.unknownVendor!]);
  await r.close();
  t.same(res.map((x) => [x.outcome, x.flow]), [['recovered', 'email extra'], ['failed', null], ['recovered', 'ad → pv'], ['skipped', null]]);
  t.match(res[1]!.reason, /no flow's conditions hold/);
  t.match(res[3]!.reason, /no flows configured/);
});

t.test('config errors stop start-up naming the key', async (t) => {
  t.throws(() => parseRecoveryConfig({ 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-*': [{ name: 'x', steps: [{ op: 'Explode', path: '$.a' }] }] }), /unknown step op "Explode"/);
  t.throws(() => parseRecoveryConfig({ 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-*': [{ name: 'x', steps: [{ op: 'Set', path: 'a', value: 1 }] }] }), /must start with '\$'/);
  t.throws(() => parseRecoveryConfig({ 'iglu:com.snowplowanalytics.snowplow.badrows/x/jsonschema/2-0-*': [{ name: 'x', stepz: [] }] }), /unknown key 'stepz'/);
  t.throws(() => parseRecoveryConfig({ schema: 'iglu:com.snowplowanalytics.snowplow/recoveries/jsonschema/1-0-0', data: [] }), /CONFIG_UNSUPPORTED/);
});

t.test('Script steps run in the operator sandbox; a runaway script fails its row only', async (t) => {
  const script = `function recover(payload, badRow) {
    if (payload.raw === undefined) return null;
    var ue = payload.raw.parameters.filter(function (p) { return p.name === 'ue_pr'; })[0];
    var v = JSON.parse(ue.value); delete v.data.data.extra; ue.value = JSON.stringify(v);
    if (typeof process !== 'undefined' || typeof require !== 'undefined') throw new Error('host reachable');
  }`;
  const res = await recoverWith([{ op: 'Script', script }], [rows.extraField!, rows.unknownVendor!]);
  t.equal(res[0]!.outcome, 'recovered', res[0]!.reason ?? '');
  t.equal(res[1]!.outcome, 'failed');
  t.match(res[1]!.reason, /declined/);
  const spin = await recoverWith([{ op: 'Script', script: 'function recover(p) { if (p.raw) for (;;) {} return p; }' }], [rows.extraField!, rows.unknownVendor!], { scriptLimits: { timeoutMs: 200, maxMemoryMb: 64 } });
  t.equal(spin[0]!.outcome, 'failed');
  t.match(spin[0]!.reason, /Script failed/);
  // The next row ran in a fresh script process: its script answer came back (the enricher still rejects it).
  t.match(spin[1]!.reason, /still failing after the fixes: adapter_failures/, 'the next row ran in a fresh script process');
});
