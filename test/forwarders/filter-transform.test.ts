import t from 'tap';
import { FurrowError } from '../../common/errors.js';
import type { FilterConfig, TransformConfig } from '../../forwarders/config.js';
import { compileFilter } from '../../forwarders/filter.js';
import { ForwardEvent } from '../../forwarders/forward-event.js';
import { compileTransform, SKIP, TransformFailure } from '../../forwarders/transform.js';
import { config } from './helpers.js';
import { generateLines, kindOf } from './tsv-generator.js';

const events = generateLines(40).map((l) => ForwardEvent.parse(l) as ForwardEvent);

async function filterOf(filter: Record<string, unknown>): Promise<FilterConfig> {
  const cfg = await config({ dead_letter: { path: '/tmp/x' }, destinations: [{ name: 'd', filter, target: { type: 'http', url: 'http://127.0.0.1:1/' } }] });
  return cfg.destinations[0]!.filter;
}

async function kept(filter: Record<string, unknown>): Promise<number[]> {
  const p = compileFilter(await filterOf(filter), 'd');
  return events.map((e, i) => (p(e) ? i : -1)).filter((i) => i >= 0);
}

const all = events.map((_, i) => i);

t.test('no filter keeps everything', async (t) => {
  t.same(await kept({}), all);
});

t.test('event names (plain and vendor/name), vendors, app_ids, platforms', async (t) => {
  t.same(await kept({ event_names: ['page_view'] }), all.filter((i) => kindOf(i) === 'page_view'));
  t.same(await kept({ event_names: ['com.acme/checkout_started', 'page_ping'] }), all.filter((i) => kindOf(i) === 'checkout' || kindOf(i) === 'page_ping'));
  t.same(await kept({ event_names: ['com.other/checkout_started'] }), [], 'vendor must match');
  t.same(await kept({ event_vendors: ['com.acme'] }), all.filter((i) => kindOf(i) === 'checkout'));
  t.same(await kept({ app_ids: ['blog'] }), all.filter((i) => i % 3 === 0));
  t.same(await kept({ app_ids: ['blog'], event_names: ['page_view'] }), all.filter((i) => i % 3 === 0 && kindOf(i) === 'page_view'), 'criteria combine with AND');
  t.same(await kept({ platforms: ['mob'] }), []);
});

t.test('field conditions: equals (typed and text), regex, exists, negate, all/any', async (t) => {
  t.same(await kept({ fields: [{ path: 'contexts_com_acme_user_1.plan', equals: 'pro' }] }), all.filter((i) => i % 2 === 0));
  t.same(await kept({ fields: [{ path: 'contexts_com_acme_user_1.tier', equals: [3] }] }), all.filter((i) => i % 4 === 3), 'number');
  t.same(await kept({ fields: [{ path: 'contexts_com_acme_user_1.tier', equals: ['3'] }] }), all.filter((i) => i % 4 === 3), 'a quoted number matches too');
  t.same(await kept({ fields: [{ path: 'unstruct_event_com_acme_checkout_started_1.total', regex: '^1[0-9]$' }] }), all.filter((i) => kindOf(i) === 'checkout' && 10 + (i % 90) < 20));
  t.same(await kept({ fields: [{ path: 'user_id', exists: true }] }), all.filter((i) => i % 2 === 0));
  t.same(await kept({ fields: [{ path: 'user_id', exists: false }] }), all.filter((i) => i % 2 === 1));
  t.same(await kept({ fields: [{ path: 'geo_country', equals: ['GB', 'FR'], negate: true }] }), all.filter((i) => i % 4 >= 2));
  t.same(await kept({ fields: [{ path: 'br_cookies', equals: true }] }), all, 'boolean column');
  const any = await kept({ match: 'any', fields: [{ path: 'geo_country', equals: 'GB' }, { path: 'app_id', equals: 'blog' }] });
  t.same(any, all.filter((i) => i % 4 === 0 || i % 3 === 0));
  const both = await kept({ fields: [{ path: 'geo_country', equals: 'GB' }, { path: 'app_id', equals: 'blog' }] });
  t.same(both, all.filter((i) => i % 4 === 0 && i % 3 === 0));
});

t.test('bad filters fail at start', async (t) => {
  t.throws(() => compileFilter({ eventNames: null, eventVendors: null, appIds: null, platforms: null, match: 'all', fields: [{ path: 'nope', equals: ['x'], regex: null, exists: null, negate: false }] }, 'd'), FurrowError);
  t.throws(() => compileFilter({ eventNames: null, eventVendors: null, appIds: null, platforms: null, match: 'all', fields: [{ path: 'app_id', equals: null, regex: '([', exists: null, negate: false }] }, 'd'), /regex/);
});

async function transformOf(transform: Record<string, unknown>) {
  const cfg = await config({ dead_letter: { path: '/tmp/x' }, destinations: [{ name: 'd', transform, target: { type: 'http', url: 'http://127.0.0.1:1/' } }] });
  const tr = (await compileTransform(cfg.destinations[0]!.transform as TransformConfig, 'd'))!;
  t.teardown(() => tr.close());
  const one = async (payload: Record<string, unknown>, ev: ForwardEvent) => (await tr.many([payload], [ev]))[0];
  return Object.assign(one, { many: async (payloads: Array<Record<string, unknown>>, evs: ForwardEvent[]) => tr.many(payloads, evs) });
}

t.test('mapping: merge sets nested output paths from field paths, defaults and literals without touching the event', async (t) => {
  const tr = await transformOf({
    type: 'mapping',
    fields: {
      'event_properties.plan': 'contexts_com_acme_user_1.plan',
      'event_properties.total': { path: 'unstruct_event_com_acme_checkout_started_1.total', default: 0 },
      'meta.source': { value: 'furrow' },
      missing: 'se_label',
    },
  });
  const ev = events[2]!; // checkout, pro
  const base = { event_type: 'x', event_properties: { keep: 1 } };
  const out = (await tr(base, ev)) as Record<string, unknown>;
  t.same(out, { event_type: 'x', event_properties: { keep: 1, plan: 'pro', total: 12 }, meta: { source: 'furrow' } });
  t.same(base, { event_type: 'x', event_properties: { keep: 1 } }, 'the input payload is not changed');
  const out7 = (await tr({}, events[3]!)) as Record<string, unknown>;
  t.same(out7, { event_properties: { plan: 'free', total: 0 }, meta: { source: 'furrow' } }, 'default when the path does not resolve');
});

t.test('mapping: replace starts from an empty object', async (t) => {
  const tr = await transformOf({ type: 'mapping', mode: 'replace', fields: { id: 'event_id', when: 'derived_tstamp', n: 'domain_sessionidx' } });
  const out = (await tr({ big: 'payload' }, events[0]!)) as Record<string, unknown>;
  t.same(Object.keys(out).sort(), ['id', 'n', 'when']);
  t.equal(out.n, 1);
  t.match(out.when, /Z$/);
});

t.test('js: transform(event, payload) changes, skips, fails and times out per event', async (t) => {
  const tr = await transformOf({
    type: 'js',
    timeout: '200 millis',
    script: `
      function transform(event, payload) {
        if (event.app_id === 'blog') return null;
        if (event.geo_country === 'DE') throw new Error('no DE please');
        if (event.geo_country === 'US' && event.event_name === 'page_view') { while (true) {} }
        payload.plan = event.contexts_com_acme_user_1[0].plan;
        payload.country = event.geo_country;
        return payload;
      }`,
  });
  const results: unknown[] = [];
  for (const e of events.slice(0, 12)) results.push(await tr({ a: 1 }, e));
  for (let i = 0; i < 12; i++) {
    const r = results[i];
    const ev = events[i]!;
    if (i % 3 === 0) t.equal(r, SKIP, `${i} skipped (blog)`);
    else if (ev.fields.geo_country === 'DE') t.match((r as TransformFailure).reason, /no DE please/, `${i} threw`);
    else if (ev.fields.geo_country === 'US' && kindOf(i) === 'page_view') t.match((r as TransformFailure).reason, /timed out after 200 ms \(twice\)/, `${i} timed out`);
    else t.same(JSON.parse(JSON.stringify(r)), { a: 1, plan: i % 2 === 0 ? 'pro' : 'free', country: ev.fields.geo_country }, `${i} changed`);
  }
  t.ok(results.some((r) => r instanceof TransformFailure && /timed out/.test(r.reason)), 'the infinite loop case is in the sample');
  // The batch path (one vm call for many events) gives the same result per event, in order, across the throw
  // and the runaway in the middle of the batch.
  const batch = await tr.many(events.slice(0, 12).map(() => ({ a: 1 })), events.slice(0, 12));
  t.equal(batch.length, 12);
  const norm = (r: unknown) => (r === SKIP ? 'SKIP' : r instanceof TransformFailure ? `F:${r.reason}` : JSON.parse(JSON.stringify(r)));
  t.same(batch.map(norm), results.map(norm), 'many() = one() per event');
});

t.test('js: the event is read-only (other destinations see it unchanged)', async (t) => {
  const tr = await transformOf({ type: 'js', script: `'use strict'; function transform(event, payload) { event.app_id = 'hacked'; return payload; }` });
  const ev = ForwardEvent.parse(generateLines(1)[0]!) as ForwardEvent;
  const r = await tr({}, ev);
  t.ok(r instanceof TransformFailure, 'assignment to the frozen event throws in strict mode');
  t.equal(ev.toJson().app_id, 'blog');
});

t.test('js: compile errors and a missing transform() fail at start', async (t) => {
  await t.rejects(transformOf({ type: 'js', script: 'function transform(' }), /FORWARD_TRANSFORM_COMPILE/);
  await t.rejects(transformOf({ type: 'js', script: 'const x = 1;' }), /must define function transform/);
  await t.rejects(transformOf({ type: 'js', script: 'while(true){}' }), /FORWARD_TRANSFORM_COMPILE.*timed out/);
});
