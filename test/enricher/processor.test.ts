/**
 * The record processor end to end: a mixed corpus (good events, every bad-row type, hostile inputs) where
 * every input event leaves as exactly one good line or one bad row, and every good line parses with the
 * snowplow-analytics-sdk to the values furrow wrote.
 */
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { encodeCollectorPayload } from '../../formats/collector-payload.js';
import { ENRICHED_FIELDS, parseEnrichedTsv } from '../../formats/enriched-event.js';
import { BASE_PAYLOAD, badSchema, column, qs, record, sdkDisagreements, sdkParse, testEnricher, tp2Body } from './support.js';

const UE = (schema: string, data: unknown) => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } });
const CO = (...entities: Array<{ schema: string; data: unknown }>) => JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: entities });
const WEB_PAGE = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'b05b31c3-81ac-4af5-92d1-113133968655' } };
const GEO = { schema: 'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0', data: { latitude: 1, longitude: 2.5, altitude: 1000 } };
/** Written by hand: number lexemes that JSON.stringify would respell (1.0, 2.50, 1e3). */
const CO_LEXEMES = '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"b05b31c3-81ac-4af5-92d1-113133968655"}},{"data":{"latitude":1.0,"longitude":2.50,"altitude":1e3},"schema":"iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0"}]}';

function frame(payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 1])];
  for (const p of payloads) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(p.length);
    parts.push(len, p);
  }
  return Buffer.concat(parts);
}

/** A framed batch whose one payload is `n` zero bytes (inflates past small maxBytesInBatch limits). */
function zeroPayload(n: number): Buffer {
  const head = Buffer.from([1, 1, 0, 0, 0, 0]);
  head.writeInt32BE(n, 2);
  return Buffer.concat([head, Buffer.alloc(n)]);
}

/** A zstd frame holding `data` in one raw (uncompressed) block: enough to exercise the zstd path without an encoder. */
function zstdRaw(data: Buffer): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0, 0, 0, 0]); // single segment, 4-byte content size
  header.writeUInt32LE(data.length, 5);
  const block = Buffer.alloc(3);
  const bh = (data.length << 3) | 1; // last block, raw
  block[0] = bh & 0xff;
  block[1] = (bh >> 8) & 0xff;
  block[2] = (bh >> 16) & 0xff;
  return Buffer.concat([header, block, data]);
}

t.test('mixed corpus: count in = good + bad, right bad-row types, SDK parses every good line', async (t) => {
  const { processor } = await testEnricher();
  const pv = { e: 'pv', p: 'web', tv: 'js-3.0.0', aid: 'shop', url: 'https://shop.example.com/a?utm_source=x', page: 'Home', co: CO(WEB_PAGE, GEO) };
  const corpus: Array<{ rec: Buffer; expect: string; events: number }> = [
    { rec: record({ querystring: qs(pv) }), expect: 'good', events: 1 },
    { rec: record({ querystring: qs({ e: 'pp', p: 'web', tv: 'js-3.0.0', pp_mix: '0', pp_max: '10', pp_miy: '5', pp_may: '100' }) }), expect: 'good', events: 1 },
    { rec: record({ querystring: qs({ e: 'ue', p: 'mob', tv: 'ios-1', ue_pr: UE('iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0', { name: 'home', id: 'b05b31c3-81ac-4af5-92d1-113133968655' }) }) }), expect: 'good', events: 1 },
    { rec: record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json; charset=UTF-8', body: tp2Body([{ e: 'se', p: 'pc', tv: 'py', se_ca: 'c', se_ac: 'a', se_va: '1E+3' }, { e: 'pv', p: 'pc', tv: 'py', url: 'http://x.example/' }]) }), expect: 'good', events: 2 },
    { rec: Buffer.from('not thrift at all'), expect: 'collector_payload_format_violation', events: 1 },
    { rec: record({ querystring: qs(pv) }).subarray(0, 40), expect: 'collector_payload_format_violation', events: 1 },
    { rec: randomBytes(300), expect: 'collector_payload_format_violation', events: 1 },
    { rec: record({ querystring: 'e=pv&bad=a b' }), expect: 'collector_payload_format_violation', events: 1 },
    { rec: record({ schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0', querystring: qs(pv) }), expect: 'collector_payload_format_violation', events: 1 },
    { rec: record({ path: '/com.acme/v9', querystring: qs(pv) }), expect: 'adapter_failures', events: 1 },
    { rec: record({ querystring: '' }), expect: 'adapter_failures', events: 1 },
    { rec: record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: '{"schema":' }), expect: 'tracker_protocol_violations', events: 1 },
    { rec: record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: tp2Body([{ e: 'pv', p: 'web', tv: 't' }], '9-0-0') }), expect: 'tracker_protocol_violations', events: 1 },
    { rec: record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', tr_tt: 'lots' }) }), expect: 'schema_violations', events: 1 },
    { rec: record({ querystring: qs({ e: 'ue', p: 'web', tv: 't', ue_pr: UE('iglu:com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0', { nope: 1 }) }) }), expect: 'schema_violations', events: 1 },
    { rec: record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', co: '{not json' }) }), expect: 'schema_violations', events: 1 },
    { rec: record({ querystring: qs({ e: 'zz', p: 'web', tv: 't' }) }), expect: 'schema_violations', events: 1 },
    { rec: record({ querystring: qs({ p: 'web', tv: 't' }) }), expect: 'enrichment_failures', events: 1 },
  ];
  let inEvents = 0;
  let good = 0;
  let bad = 0;
  for (const [i, c] of corpus.entries()) {
    const out = await processor.process(c.rec);
    inEvents += c.events;
    good += out.good.length;
    bad += out.bad.length;
    t.equal(out.events, c.events, `case ${i}: events counted`);
    t.equal(out.good.length + out.bad.length, c.events, `case ${i}: every event leaves exactly once`);
    if (c.expect === 'good') t.equal(out.good.length, c.events, `case ${i}: good (${out.bad[0]?.slice(0, 300) ?? ''})`);
    else for (const b of out.bad) t.equal(badSchema(b), c.expect, `case ${i}: ${c.expect}`);
    for (const line of out.good) {
      t.equal(line.split('\t').length, 131, 'TSV has 131 columns');
      const sdk = sdkParse(line);
      const ours = parseEnrichedTsv(line);
      if (typeof ours === 'string') throw new Error(ours);
      t.equal(sdk['event_id'], ours.event_id, 'SDK reads the same event_id');
      t.equal(sdk['collector_tstamp'], '2024-06-01T12:00:00.123Z', 'SDK reads collector_tstamp');
      t.same(sdkDisagreements(line), [], 'SDK reads every column to the value furrow wrote');
    }
  }
  t.equal(good + bad, inEvents, 'count in = good + bad');
  t.equal(good, 5);
});

t.test('page view with 2 contexts: exact columns, lossless numbers, contexts wrapper 1-0-1, SDK contexts', async (t) => {
  const { processor } = await testEnricher();
  const out = await processor.process(record({
    querystring: qs({ e: 'pv', p: 'web', tv: 'js-3.0.0', aid: 'shop', url: 'https://shop.example.com:8443/a/b?x=1&_sp=abc.1697175843762#frag', refr: 'http://ref.example.org/q?s=1', co: CO_LEXEMES, dtm: '1717243199000', stm: '1717243200000', vp: '1280x720', f_pdf: '1', tid: '42', se_va: '0.50' }),
  }));
  t.equal(out.good.length, 1, out.bad[0] ?? '');
  const line = out.good[0]!;
  t.equal(column(line, 'contexts'), '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"b05b31c3-81ac-4af5-92d1-113133968655"}},{"schema":"iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0","data":{"latitude":1.0,"longitude":2.50,"altitude":1e3}}]}');
  t.equal(column(line, 'page_urlhost'), 'shop.example.com');
  t.equal(column(line, 'page_urlport'), '8443');
  t.equal(column(line, 'page_urlpath'), '/a/b');
  t.equal(column(line, 'page_urlquery'), 'x=1&_sp=abc.1697175843762');
  t.equal(column(line, 'page_urlfragment'), 'frag');
  t.equal(column(line, 'refr_urlhost'), 'ref.example.org');
  t.equal(column(line, 'refr_urlport'), '80');
  t.equal(column(line, 'refr_domain_userid'), 'abc');
  t.equal(column(line, 'refr_dvce_tstamp'), '2023-10-13 05:44:03.762');
  t.equal(column(line, 'dvce_created_tstamp'), '2024-06-01 11:59:59.000');
  t.equal(column(line, 'derived_tstamp'), '2024-06-01 11:59:59.123', 'collector - (sent - created)');
  t.equal(column(line, 'br_viewwidth'), '1280');
  t.equal(column(line, 'br_features_pdf'), '1');
  t.equal(column(line, 'txn_id'), '42');
  t.equal(column(line, 'se_value'), '0.50');
  t.equal(column(line, 'user_ipaddress'), '203.0.113.7');
  t.equal(column(line, 'network_userid'), 'c5f3a09f-75f8-4309-bec5-fea560f78455');
  t.equal(column(line, 'v_etl'), 'furrow-enrich-test-1.2.3');
  t.equal(column(line, 'v_collector'), 'ssc-3.2.0-kinesis');
  t.equal(column(line, 'event_vendor'), 'com.snowplowanalytics.snowplow');
  t.equal(column(line, 'event_name'), 'page_view');
  t.same(sdkDisagreements(line), [], 'SDK reads every column to the value furrow wrote');
  const sdk = sdkParse(line);
  t.same(sdk['contexts_com_snowplowanalytics_snowplow_web_page_1'], [{ id: 'b05b31c3-81ac-4af5-92d1-113133968655' }]);
  t.same(sdk['contexts_com_snowplowanalytics_snowplow_geolocation_context_1'], [{ latitude: 1, longitude: 2.5, altitude: 1000 }]);
  t.equal(sdk['br_viewwidth'], 1280);
});

t.test('X-Forwarded-For sets user_ipaddress; ip parameter wins over it', async (t) => {
  const { processor } = await testEnricher();
  const a = await processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't' }), headers: ['X-Forwarded-For: 198.51.100.1, 10.0.0.1'] }));
  t.equal(column(a.good[0]!, 'user_ipaddress'), '198.51.100.1');
  const b = await processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', ip: '192.0.2.9' }), headers: ['X-Forwarded-For: 198.51.100.1'] }));
  t.equal(column(b.good[0]!, 'user_ipaddress'), '192.0.2.9');
});

t.test('schema_violations bad row: exact shape, atomic report first, raw parameters in order', async (t) => {
  const { processor } = await testEnricher();
  const out = await processor.process(record({
    querystring: qs({ e: 'ue', p: 'web', tv: 'js-0.13.1', tr_tt: 'not number', ue_pr: UE('iglu:com.acme/email_sent/jsonschema/1-0-0', { emailAddress: 'a@b.c', emailAddress2: 'x@y.z', unallowedAdditionalField: 'boo' }) }),
  }), Date.UTC(2020, 8, 10, 15, 15, 38, 180));
  t.equal(out.bad.length, 1);
  const row = JSON.parse(out.bad[0]!);
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1');
  t.same(Object.keys(row.data), ['processor', 'failure', 'payload']);
  t.same(row.data.processor, { artifact: 'furrow-enrich-test', version: '1.2.3' });
  t.equal(row.data.failure.timestamp, '2020-09-10T15:15:38.180Z');
  const [atomic, ue] = row.data.failure.messages;
  t.same(atomic, {
    schemaKey: 'iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0',
    error: { error: 'ValidationError', dataReports: [{ message: 'Cannot be converted to java.math.BigDecimal. Error : Character n is neither a decimal digit number, decimal point, nor "e" notation exponential mark.', path: 'tr_tt', keyword: 'atomic_field_parse_error', targets: [] }] },
  });
  t.equal(ue.schemaKey, 'iglu:com.acme/email_sent/jsonschema/1-0-0');
  t.equal(ue.error.error, 'ValidationError');
  t.match(ue.error.dataReports[0], { keyword: 'additionalProperties', targets: ['unallowedAdditionalField'] });
  t.same(Object.keys(row.data.payload), ['enriched', 'raw']);
  t.same(Object.keys(row.data.payload.enriched), [...ENRICHED_FIELDS], 'all 131 atomic names in order');
  t.equal(row.data.payload.enriched.event, 'unstruct');
  t.same(row.data.payload.raw.parameters.map((p: { name: string }) => p.name), ['e', 'p', 'tv', 'tr_tt', 'ue_pr']);
  t.same(Object.keys(row.data.payload.raw), ['vendor', 'version', 'parameters', 'contentType', 'loaderName', 'encoding', 'hostname', 'timestamp', 'ipAddress', 'useragent', 'refererUri', 'headers', 'userId']);
  t.equal(row.data.payload.raw.timestamp, '2024-06-01T12:00:00.123Z');
  t.equal(row.data.payload.raw.vendor, 'com.snowplowanalytics.snowplow');
  t.equal(row.data.payload.raw.version, 'tp1');
});

t.test('atomic field length: no truncation, schema_violations with atomic_field_length_exceeded; acceptInvalid keeps it', async (t) => {
  const long = 'x'.repeat(256);
  const strict = await testEnricher();
  const out = await strict.processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: long }) }));
  t.equal(out.good.length, 0);
  const msg = JSON.parse(out.bad[0]!).data.failure.messages[0];
  t.same(msg.error.dataReports, [{ message: 'Field is longer than maximum allowed size 255', path: 'app_id', keyword: 'atomic_field_length_exceeded', targets: [] }]);
  const lax = await testEnricher({ validation: { acceptInvalid: true } });
  const ok = await lax.processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: long }) }));
  t.equal(column(ok.good[0]!, 'app_id'), long, 'kept whole, not truncated');
  t.equal(ok.invalid, 1);
  const custom = await testEnricher({ validation: { atomicFieldsLimits: { app_id: 5 } } });
  const c = await custom.processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: 'abcdef' }) }));
  t.equal(badSchema(c.bad[0]!), 'schema_violations');
});

t.test('hostile inputs each become the right bad row', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesInBatch: 1_000_000 } });
  const huge = 'a'.repeat(10 * 1024 * 1024);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const nestedCo = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: JSON.parse('{"a":'.repeat(60) + '1' + '}'.repeat(60)) }] });
  const cases: Array<[string, Buffer, string]> = [
    ['random bytes', randomBytes(1000), 'collector_payload_format_violation'],
    ['truncated Thrift', record({ querystring: qs({ e: 'pv' }) }).subarray(0, 25), 'collector_payload_format_violation'],
    ['invalid base64 line bytes', Buffer.from('%%%not-base64%%%', 'utf8'), 'collector_payload_format_violation'],
    ['negative string length', Buffer.from([0x0b, 0x00, 0x64, 0xff, 0xff, 0xff, 0xf0]), 'collector_payload_format_violation'],
    ['invalid JSON body', record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: '{"schema": nope}' }), 'tracker_protocol_violations'],
    ['wrong payload_data version', record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: tp2Body([{ e: 'pv', p: 'web', tv: 't' }], '1-0-99') }), 'tracker_protocol_violations'],
    ['payload_data with a non-string value', record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web', tv: 1 }] }) }), 'tracker_protocol_violations'],
    ['10 MB string in a field', record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', page: huge.slice(0, 3000) }) }), 'schema_violations'],
    ['10 MB body', record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pv', p: 'web', tv: 't', page: huge }] }) }), 'schema_violations'],
    ['100 000-deep JSON body', record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: deep }), 'tracker_protocol_violations'],
    ['deeply nested context', record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', co: nestedCo }) }), 'schema_violations'],
    ['deeply nested ue_pr', record({ querystring: qs({ e: 'ue', p: 'web', tv: 't', ue_pr: deep }) }), 'schema_violations'],
    ['wrong type of tracker value', record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', vp: '10xabc', eid: 'nope', cookie: '2' }) }), 'schema_violations'],
    ['gzip bomb over the batch limit', gzipSync(zeroPayload(5_000_000)), 'size_violation'],
    ['gzip of zeros (framing version 0.0)', gzipSync(Buffer.alloc(5_000_000)), 'collector_payload_format_violation'],
    ['gzip with wrong framing version', gzipSync(Buffer.from([2, 1, 0, 0, 0, 0])), 'collector_payload_format_violation'],
    ['truncated gzip', gzipSync(frame([record({ querystring: 'e=pv' })])).subarray(0, 30), 'collector_payload_format_violation'],
  ];
  for (const [name, rec, kind] of cases) {
    const out = await processor.process(rec);
    t.equal(out.good.length, 0, `${name}: no good line`);
    t.equal(out.bad.length, 1, `${name}: one bad row`);
    t.equal(badSchema(out.bad[0]!), kind, name);
  }
  const deepRow = JSON.parse((await processor.process(cases[11]![1])).bad[0]!);
  t.same(deepRow.data.failure.messages[0].error, 'invalid json: maximum allowed JSON depth exceeded');
});

t.test('compressed batches: gzip and zstd framing, per-payload size limit', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesSinglePayload: 5000 } });
  const a = record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: 'one' }) });
  const b = record({ querystring: qs({ e: 'pp', p: 'web', tv: 't', aid: 'two' }) });
  const gz = await processor.process(gzipSync(frame([a, b])));
  t.same(gz.good.map((l) => column(l, 'app_id')), ['one', 'two']);
  const zs = await processor.process(zstdRaw(frame([a, b, Buffer.from('junk')])));
  t.same(zs.good.map((l) => column(l, 'app_id')), ['one', 'two']);
  t.equal(badSchema(zs.bad[0]!), 'collector_payload_format_violation', 'a bad payload inside a batch is its own bad row');
  const big = record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', page: 'p'.repeat(6000) }) });
  const sv = await processor.process(gzipSync(frame([big])));
  const row = JSON.parse(sv.bad[0]!);
  t.equal(badSchema(sv.bad[0]!), 'size_violation');
  t.equal(row.data.failure.maximumAllowedSizeBytes, 5000);
  t.equal(typeof row.data.payload, 'string');
});

t.test('good line over the sink limit becomes a size_violation with a truncated payload', async (t) => {
  const { processor } = await testEnricher(undefined, null, 2000);
  const out = await processor.process(record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', page: 'q'.repeat(1900) }) }));
  t.equal(out.good.length, 0);
  const row = JSON.parse(out.bad[0]!);
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0');
  t.equal(row.data.failure.maximumAllowedSizeBytes, 2000);
  t.ok(row.data.failure.actualSizeBytes > 2000);
  t.equal(row.data.payload.length, 200);
});

t.test('with a sink limit, no bad row is ever bigger than the limit (huge hostile records)', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesInBatch: 100_000 } }, null, 10_000);
  const huge = [randomBytes(50_000), gzipSync(zeroPayload(2_000_000)), record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'text/plain', body: 'x'.repeat(50_000) })];
  for (const rec of huge) {
    const out = await processor.process(rec);
    t.equal(out.bad.length, 1);
    t.ok(Buffer.byteLength(out.bad[0]!) <= 10_000, `bad row fits the sink (${badSchema(out.bad[0]!)})`);
    t.equal(badSchema(out.bad[0]!), 'size_violation');
  }
});

t.test('adapter_failures and tracker_protocol_violations carry the collector payload', async (t) => {
  const { processor } = await testEnricher();
  const out = await processor.process(encodeCollectorPayload({ ...BASE_PAYLOAD, path: '/com.acme/v1', querystring: 'a=1&b', body: 'x' }));
  const row = JSON.parse(out.bad[0]!);
  t.equal(row.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0');
  t.same(row.data.failure.messages, [{ field: 'vendor/version', value: 'com.acme/v1', expectation: 'vendor/version combination is not supported' }]);
  t.same(row.data.payload.querystring, [{ name: 'a', value: '1' }, { name: 'b', value: null }]);
  t.same(Object.keys(row.data.payload), ['vendor', 'version', 'querystring', 'contentType', 'body', 'collector', 'encoding', 'hostname', 'timestamp', 'ipAddress', 'useragent', 'refererUri', 'headers', 'networkUserId']);
  const tp = await processor.process(record({ path: '/com.snowplowanalytics.snowplow/tp2', body: 'body' }));
  const tr = JSON.parse(tp.bad[0]!);
  t.equal(tr.schema, 'iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1');
  t.same(tr.data.failure.messages, [{ field: 'contentType', value: null, expectation: 'expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8' }]);
  t.equal(tr.data.failure.vendor, 'com.snowplowanalytics.snowplow');
  t.equal(tr.data.failure.version, 'tp2');
});
