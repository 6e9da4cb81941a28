import t from 'tap';
import { encodeCollectorPayload } from '../../formats/collector-payload.js';
import { parseEnrichedTsv, type EnrichedEvent } from '../../formats/enriched-event.js';
import { entityColumn, toLossyJson, toSdkEvent, tsvTimestampToInstant } from '../../mini/event-json.js';
import { RawTap } from '../../mini/raw-tap.js';
import { MiniStore, type GoodRecord } from '../../mini/store.js';
import { pageView, schemaViolation, selfDescribing, trackerProtocolViolation, uuid } from './fixtures.js';
// The JS Analytics SDK (dev dependency, Apache-2.0) is the reference for the lossy JSON transform.
import sdk from 'snowplow-analytics-sdk';
const transform = (line: string) => (sdk as unknown as { transform(l: string): unknown }).transform(line);

t.test('timestamps render like Java Instant.toString', async (t) => {
  t.equal(tsvTimestampToInstant('2026-11-26 10:00:01.250'), '2026-11-26T10:00:01.250Z');
  t.equal(tsvTimestampToInstant('2026-11-26 10:00:01.000'), '2026-11-26T10:00:01Z');
  t.equal(tsvTimestampToInstant('2026-11-26 10:00:01'), '2026-11-26T10:00:01Z');
  t.equal(tsvTimestampToInstant('2026-11-26 10:00:01.5'), '2026-11-26T10:00:01.500Z');
});

t.test('GoodEvent.event is typed like the Analytics SDK Event', async (t) => {
  const ev = parseEnrichedTsv(pageView()) as EnrichedEvent;
  const j = toSdkEvent(ev);
  t.equal(Object.keys(j).length, 131);
  t.equal(j.collector_tstamp, '2026-11-26T10:00:00Z');
  t.equal(j.etl_tstamp, '2026-11-26T10:00:01.250Z');
  t.equal(j.domain_sessionidx, 3);
  t.equal(j.page_urlport, 80);
  t.equal(j.geo_latitude, 51.5);
  t.equal(j.tr_total, 12.5);
  t.equal(j.br_features_pdf, true);
  t.equal(j.br_cookies, false);
  t.equal(j.user_id, null);
  t.equal(j.unstruct_event, null);
  t.ok('refr_device_tstamp' in j, 'the SDK name of refr_dvce_tstamp');
  t.same(j.contexts, {
    schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
    data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'abc' } }],
  });
  const empty = toSdkEvent(parseEnrichedTsv(pageView({ contexts: '', derived_contexts: '' })) as EnrichedEvent);
  t.same(empty.contexts, [], 'empty contexts encode as [] (SDK Contexts encoder)');
  const ue = toSdkEvent(parseEnrichedTsv(selfDescribing('iglu:com.acme/signup/jsonschema/1-0-0', { plan: 'pro' }, [])) as EnrichedEvent);
  t.same(ue.unstruct_event, {
    schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
    data: { schema: 'iglu:com.acme/signup/jsonschema/1-0-0', data: { plan: 'pro' } },
  });
});

t.test('lossy JSON matches the JS Analytics SDK transform', async (t) => {
  const line = selfDescribing('iglu:com.acme/signUp/jsonschema/2-1-0', { plan: 'pro' }, ['iglu:com.acme.shop/cart-item/jsonschema/1-0-0', 'iglu:com.acme.shop/cart-item/jsonschema/1-0-0']);
  const mine = toLossyJson(parseEnrichedTsv(line) as EnrichedEvent);
  const ref = transform(line) as Record<string, unknown>;
  t.same(mine.unstruct_event_com_acme_sign_up_2, ref.unstruct_event_com_acme_sign_up_2);
  t.same(mine['contexts_com_acme_shop_cart-item_1'] ?? mine.contexts_com_acme_shop_cart_item_1, [{ k: 1 }, { k: 1 }]);
  for (const k of ['app_id', 'domain_sessionidx', 'geo_latitude', 'br_features_pdf', 'br_cookies', 'geo_location', 'page_urlport']) {
    t.same(mine[k], ref[k], k);
  }
  t.equal(entityColumn('contexts', 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0'), 'contexts_com_snowplowanalytics_snowplow_web_page_1');
});

t.test('store keeps good and bad, newest first, with Micro filters', async (t) => {
  const s = new MiniStore();
  t.teardown(() => s.close());
  s.addGood(pageView());
  s.addGood(selfDescribing('iglu:com.acme/signup/jsonschema/1-0-0', {}, ['iglu:com.acme/user/jsonschema/1-0-0', 'iglu:com.acme/org/jsonschema/1-0-0']));
  s.addBad(schemaViolation(uuid()));
  s.addBad(trackerProtocolViolation());
  t.same(s.summary(), { total: 4, good: 2, bad: 2 });
  const all = s.filterGood();
  t.equal(all[0]!.eventType, 'unstruct', 'newest first');
  t.equal(all[0]!.schema, 'iglu:com.acme/signup/jsonschema/1-0-0');
  t.equal(all[1]!.schema, 'iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0');
  t.same(all[1]!.contexts, ['iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0'], 'derived contexts are not in contexts');
  t.equal(s.filterGood({ event_type: 'page_view' }).length, 1);
  t.equal(s.filterGood({ schema: 'iglu:com.acme/signup/jsonschema/1-0-0' }).length, 1);
  t.equal(s.filterGood({ contexts: ['iglu:com.acme/user/jsonschema/1-0-0', 'iglu:com.acme/org/jsonschema/1-0-0'] }).length, 1);
  t.equal(s.filterGood({ contexts: ['iglu:com.acme/user/jsonschema/1-0-0', 'iglu:com.acme/nope/jsonschema/1-0-0'] }).length, 0, 'contexts must all be present');
  t.equal(s.filterGood({ limit: 1 }).length, 1);
  t.equal(s.filterBad({ vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' }).length, 2);
  t.equal(s.filterBad({ vendor: 'com.mailchimp' }).length, 0);
  s.reset();
  t.same(s.summary(), { total: 0, good: 0, bad: 0 });
  t.same(s.groups(), []);
  t.same(s.schemas(), []);
});

t.test('an enriched line that does not parse is kept as bad, not dropped', async (t) => {
  const s = new MiniStore();
  t.teardown(() => s.close());
  s.addGood('only\tthree\tcolumns');
  t.same(s.summary(), { total: 1, good: 0, bad: 1 });
  t.equal(s.filterBad()[0]!.bad.type, 'unparseable_enriched_event');
  t.match(s.filterBad()[0]!.bad.message, /expected 131/);
  s.addBad('{not json');
  t.equal(s.filterBad()[0]!.bad.type, 'unreadable');
  t.equal(s.summary().bad, 2);
});

t.test('bad rows: Micro BadEvent shape, grouping by type and message, failing schemas', async (t) => {
  const s = new MiniStore();
  t.teardown(() => s.close());
  const eid = uuid();
  s.addBad(schemaViolation(eid));
  s.addBad(schemaViolation(uuid()));
  s.addBad(schemaViolation(uuid(), { message: '$.age: string found, integer expected' }));
  s.addBad(trackerProtocolViolation());
  const groups = s.groups();
  t.equal(groups.length, 3);
  t.same(groups[0], { ...groups[0], type: 'schema_violations', message: 'iglu:com.acme/email_sent/jsonschema/1-0-0: $.email: is missing but it is required', count: 2 });
  const tp = s.filterBad()[0]!;
  const j = s.badEventJson(tp) as { collectorPayload: Record<string, unknown>; rawEvent: unknown; errors: string[] };
  t.equal(j.errors[0], 'Error while extracting event(s) from collector payload and validating it/them.');
  t.same(JSON.parse(j.errors[1]!).schema, 'iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1');
  t.same(j.collectorPayload.api, { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' });
  t.same(j.collectorPayload.querystring, ['x=1']);
  t.equal(j.rawEvent, null);
  const sv = s.byId(eid)[0]!;
  t.equal(sv.valid, false);
  const sj = s.badEventJson(sv as never) as { rawEvent: { parameters: Record<string, string>; source: unknown; context: { timestamp: string } } };
  t.equal(sj.rawEvent.parameters.eid, eid);
  t.same(sj.rawEvent.source, { name: 'ssc-3.0.0-kinesis', encoding: 'UTF-8', hostname: 'localhost' });
  t.equal(sj.rawEvent.context.timestamp, '2026-11-26T10:00:00.000Z');
  t.same(s.schemas().map((u) => [u.schema, u.failed]), [['iglu:com.acme/email_sent/jsonschema/1-0-0', 3]]);
  const row = s.row(sv);
  t.equal(row.event_id, eid);
  t.equal(row.app_id, 'shop');
  t.same((row.contexts_com_snowplowanalytics_snowplow_failure_1 as Array<{ failureType: string }>)[0]!.failureType, 'schema_violations');
});

t.test('maxEvents drops the oldest and keeps indexes consistent', async (t) => {
  const s = new MiniStore({ maxEvents: 3 });
  t.teardown(() => s.close());
  const ids = [uuid(), uuid(), uuid(), uuid(), uuid()];
  s.addGood(pageView({ event_id: ids[0] }));
  s.addBad(schemaViolation(ids[1]!));
  s.addGood(pageView({ event_id: ids[2] }));
  s.addGood(pageView({ event_id: ids[3] }));
  s.addGood(pageView({ event_id: ids[4] }));
  t.same(s.summary(), { total: 3, good: 3, bad: 0 });
  t.equal(s.evicted, 2);
  t.same(s.byId(ids[0]!), []);
  t.same(s.byId(ids[1]!), []);
  t.same(s.groups(), [], 'the evicted bad row left its group');
  t.equal(s.byId(ids[4]!).length, 1);
  t.equal(s.schemas().find((u) => u.schema.endsWith('/page_view/jsonschema/1-0-0'))!.event, 3);
});

t.test('waitFor resolves on count, on event id, and times out with what is missing', async (t) => {
  const s = new MiniStore();
  t.teardown(() => s.close());
  const id = uuid();
  const byCount = s.waitFor({ count: 2 }, 5000);
  const byId = s.waitFor({ eventIds: [id] }, 5000);
  const never = s.waitFor({ eventIds: ['nope'] }, 50);
  setTimeout(() => s.addGood(pageView()), 10);
  setTimeout(() => s.addBad(schemaViolation(id)), 20);
  const [a, b, c] = await Promise.all([byCount, byId, never]);
  t.equal(a.ok, true);
  t.equal(a.summary.total, 2);
  t.equal(b.ok, true);
  t.equal(b.found[0]!.valid, false);
  t.equal(c.ok, false);
  t.same(c.missing, ['nope']);
  const already = await s.waitFor({ good: 1 }, 0);
  t.equal(already.ok, true, 'a condition already met resolves at once');
});

t.test('timeline buckets by time stored', async (t) => {
  let now = 1_000_000;
  const s = new MiniStore({ now: () => now });
  t.teardown(() => s.close());
  s.addGood(pageView());
  now += 1000;
  s.addGood(pageView());
  s.addBad(trackerProtocolViolation());
  const tl = s.timeline(1000, 5);
  t.equal(tl.length, 5);
  t.same(tl.slice(-2).map((b) => [b.good, b.bad]), [[1, 0], [1, 1]]);
});

t.test('the collector tap gives good events their raw event and bad events their payload', async (t) => {
  const tap = new RawTap();
  const s = new MiniStore({ tap });
  t.teardown(() => s.close());
  const getId = uuid();
  const postIds = [uuid(), uuid()];
  const ts = Date.UTC(2026, 10, 26, 10, 0, 0);
  const common = { timestamp: ts, ipAddress: '10.0.0.1', encoding: 'UTF-8', collector: 'ssc-furrow-kinesis', hostname: 'localhost', userAgent: 'curl', networkUserId: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb' };
  tap.recordsWritten([
    encodeCollectorPayload({ ...common, path: '/i', querystring: `e=pv&eid=${getId}&aid=shop&url=http%3A%2F%2Fa.example%2F` }),
    encodeCollectorPayload({
      ...common, path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json',
      body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: postIds.map((eid) => ({ e: 'pv', eid, p: 'web', tv: 'node-4' })) }),
    }),
    Buffer.from('not thrift at all'),
  ]);
  const g = s.addGood(pageView({ event_id: getId }));
  t.ok(g.valid);
  const gj = s.goodEventJson(g as never) as { rawEvent: Record<string, unknown> };
  t.same(gj.rawEvent.api, { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' });
  t.same(gj.rawEvent.parameters, { e: 'pv', eid: getId, aid: 'shop', url: 'http://a.example/' });
  t.same(gj.rawEvent.source, { name: 'ssc-furrow-kinesis', encoding: 'UTF-8', hostname: 'localhost' });
  t.same(gj.rawEvent.context, { timestamp: '2026-11-26T10:00:00.000Z', ipAddress: '10.0.0.1', useragent: 'curl', refererUri: null, headers: [], userId: 'c6ef3124-b53a-4b13-a233-0088f79dcbcb' });
  const p = s.addGood(pageView({ event_id: postIds[1] }));
  t.same((s.goodEventJson(p as never) as { rawEvent: { parameters: unknown } }).rawEvent.parameters, { e: 'pv', eid: postIds[1], p: 'web', tv: 'node-4' });
  const b = s.addBad(schemaViolation(postIds[0]!));
  const bj = s.badEventJson(b) as { collectorPayload: { api: unknown; body: string } };
  t.same(bj.collectorPayload.api, { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' });
  t.match(bj.collectorPayload.body, postIds[0]!);
  const unknown = s.addGood(pageView());
  t.equal((s.goodEventJson(unknown as never) as { rawEvent: unknown }).rawEvent, null, 'no tapped payload → rawEvent null, not invented');
});

t.test('the tap keeps one entry per raw event: retries, same-millisecond copies, webhooks, a flood of one eid', async (t) => {
  const tap = new RawTap(1000);
  const s = new MiniStore({ tap });
  t.teardown(() => s.close());
  const eid = uuid();
  const t1 = Date.UTC(2026, 10, 26, 10, 0, 0);
  const t2 = t1 + 1500;
  const tp1 = (ts: number, attempt: string) => encodeCollectorPayload({ timestamp: ts, path: '/i', querystring: `e=pv&eid=${eid}&tv=${attempt}`, collector: 'c', encoding: 'UTF-8', headers: [`X-Attempt: ${attempt}`] });
  tap.recordsWritten([tp1(t1, 'first'), tp1(t2, 'retry')]);
  // The enricher may emit the copies in any order: each takes the entry with its own collector timestamp.
  const retry = s.addGood(pageView({ event_id: eid, collector_tstamp: '2026-11-26 10:00:01.500' })) as GoodRecord;
  const first = s.addGood(pageView({ event_id: eid, collector_tstamp: '2026-11-26 10:00:00.000' })) as GoodRecord;
  t.equal(first.rawEvent?.parameters.tv, 'first');
  t.equal(retry.rawEvent?.parameters.tv, 'retry');
  t.same(retry.rawEvent?.context.headers, ['X-Attempt: retry']);

  // Two copies collected in the same millisecond: each gets one, oldest first.
  tap.recordsWritten([tp1(t1, 'a'), tp1(t1, 'b')]);
  const a = s.addGood(pageView({ event_id: eid, collector_tstamp: '2026-11-26 10:00:00.000' })) as GoodRecord;
  const b = s.addGood(pageView({ event_id: eid, collector_tstamp: '2026-11-26 10:00:00.000' })) as GoodRecord;
  t.same([a.rawEvent?.parameters.tv, b.rawEvent?.parameters.tv], ['a', 'b']);
  t.equal((s.addGood(pageView({ event_id: eid })) as GoodRecord).rawEvent, null, 'a third copy with no third request: null, not a reused one');

  // A bad copy of a retried event takes its own payload too.
  tap.recordsWritten([tp1(t1, 'bad-1'), tp1(t2, 'bad-2')]);
  const badRow = JSON.parse(schemaViolation(eid)) as { data: { payload: { raw: { timestamp: string; parameters: Array<{ name: string; value: string }> } } } };
  badRow.data.payload.raw.timestamp = new Date(t2).toISOString();
  const bad = s.addBad(JSON.stringify(badRow));
  t.ok(bad.collectorPayload?.querystring.includes('tv=bad-2'), 'the payload collected at its raw timestamp');

  // Webhooks (no eid): by timestamp; one payload may give several events, which all show it.
  const hook = encodeCollectorPayload({ timestamp: t2, path: '/com.snowplowanalytics.iglu/v1', querystring: 'schema=x&n=1', collector: 'c', encoding: 'UTF-8' });
  const other = encodeCollectorPayload({ timestamp: t2, path: '/com.acme/v1', querystring: 'n=2', collector: 'c', encoding: 'UTF-8' });
  tap.recordsWritten([hook, other]);
  const w1 = s.addGood(pageView({ collector_tstamp: '2026-11-26 10:00:01.500' })) as GoodRecord;
  const w2 = s.addGood(pageView({ collector_tstamp: '2026-11-26 10:00:01.500' })) as GoodRecord;
  const w3 = s.addGood(pageView({ collector_tstamp: '2026-11-26 10:00:01.500' })) as GoodRecord;
  t.same([w1.rawEvent?.parameters.n, w2.rawEvent?.parameters.n, w3.rawEvent?.parameters.n], ['1', '2', '2'], 'unused entries first, then the last used');
  const hookBad = JSON.parse(schemaViolation(uuid())) as { data: { payload: { raw: Record<string, unknown> } } };
  Object.assign(hookBad.data.payload.raw, { vendor: 'com.snowplowanalytics.iglu', version: 'v1', parameters: [{ name: 'schema', value: 'x' }], timestamp: new Date(t2).toISOString() });
  const hb = s.addBad(JSON.stringify(hookBad));
  t.same(hb.collectorPayload?.api, { vendor: 'com.snowplowanalytics.iglu', version: 'v1' }, "a webhook's bad event: its payload, by timestamp and API");

  // One eid sent 10 000 times: bounded (64 kept per eid), the newest kept.
  const flood = uuid();
  const recs: Buffer[] = [];
  for (let i = 0; i < 10_000; i++) recs.push(encodeCollectorPayload({ timestamp: t1 + i, path: '/i', querystring: `e=pv&eid=${flood}&n=${i}`, collector: 'c', encoding: 'UTF-8' }));
  tap.recordsWritten(recs);
  let kept = 0;
  const ns: string[] = [];
  for (let i = 0; i < 100; i++) {
    const r = s.addGood(pageView({ event_id: flood, collector_tstamp: '2026-11-26 10:00:00.000' })) as GoodRecord;
    if (r.rawEvent) {
      kept++;
      ns.push(r.rawEvent.parameters.n!);
    }
  }
  t.equal(kept, 64, 'at most 64 entries per event id');
  t.equal(ns[0], String(10_000 - 64), 'the newest 64');
});

t.test('since() returns what was stored after a seq, oldest first, bounded', async (t) => {
  const s = new MiniStore();
  t.teardown(() => s.close());
  s.addGood(pageView());
  const mark = s.lastSeq();
  const a = s.addBad(trackerProtocolViolation());
  const b = s.addGood(pageView());
  const c = s.addBad(trackerProtocolViolation());
  t.same(s.since(mark, 10).map((r) => r.seq), [a.seq, b.seq, c.seq]);
  t.same(s.since(mark, 2).map((r) => r.seq), [b.seq, c.seq], 'the newest ones when bounded');
  t.same(s.since(c.seq, 10), []);
});

t.test('eviction at the cap stays cheap and exact at scale (one repeated event id, the hostile case)', async (t) => {
  const s = new MiniStore({ maxEvents: 20_000 });
  t.teardown(() => s.close());
  const line = pageView();
  for (let i = 0; i < 60_000; i++) {
    if (i % 10 === 0) s.addBad(trackerProtocolViolation());
    else s.addGood(line);
  }
  const sum = s.summary();
  t.ok(sum.total <= 20_000 && sum.total >= 20_000 - 200, `bounded (${sum.total})`);
  t.equal(sum.total + s.evicted, 60_000, 'every record is either kept or counted as evicted');
  t.equal(s.groups()[0]!.count, sum.bad, 'group counts follow evictions');
  const seqs = s.all().map((r) => r.seq);
  t.equal(seqs[0], 60_000, 'the newest are kept');
  t.equal(seqs[seqs.length - 1], 60_000 - sum.total + 1, 'exactly the oldest were dropped');
});
