/**
 * Wire compatibility with a real Snowplow tracker: @snowplow/node-tracker sends GET and POST requests (base64 and
 * plain JSON), captured through its customFetch hook, turned into CollectorPayload records as a collector would,
 * and enriched: every event good, every line read by the analytics SDK to the values furrow wrote.
 */
import t from 'tap';
import {
  buildEcommerceTransaction, buildEcommerceTransactionItem, buildPageView, buildScreenView, buildSelfDescribingEvent, buildStructEvent, newTracker,
} from '@snowplow/node-tracker';
import { column, record, sdkDisagreements, testEnricher } from './support.js';

interface Captured { path: string; querystring: string | undefined; body: string | undefined; contentType: string | undefined }

async function capture(method: 'get' | 'post', encodeBase64: boolean): Promise<Captured[]> {
  const requests: Captured[] = [];
  const tracker = newTracker({ namespace: 'ns', appId: 'wire-test', encodeBase64 }, {
    endpoint: 'collector.example.com',
    eventMethod: method,
    bufferSize: 1,
    customFetch: async (input: Request) => {
      const url = new URL(input.url);
      const body = input.method === 'POST' ? await input.text() : undefined;
      requests.push({ path: url.pathname, querystring: url.search === '' ? undefined : url.search.slice(1), body, contentType: input.headers.get('content-type') ?? undefined });
      return new Response('', { status: 200 });
    },
  });
  tracker.setDomainUserId('3c1757544e39bca4');
  tracker.setSessionId('6e6e6d0f-f191-4249-8ac8-469db39332a3');
  tracker.setSessionIndex(3);
  const context = [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'b05b31c3-81ac-4af5-92d1-113133968655' } }];
  tracker.track(buildPageView({ pageUrl: 'https://shop.example.com/p?x=1', pageTitle: 'Tëst', referrer: 'https://www.google.com/' }), context);
  tracker.track(buildStructEvent({ category: 'cat', action: 'act', label: 'lbl', property: 'prop', value: 1.5 }));
  tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: 'https://x.example/', elementClasses: ['a', 'b'] } } }), context);
  tracker.track(buildScreenView({ name: 'home', id: 'b05b31c3-81ac-4af5-92d1-113133968655' }));
  tracker.track(buildEcommerceTransaction({ orderId: 'o-1', total: 99.99, tax: 1.5, shipping: 5, city: 'Leeds', currency: 'GBP' }));
  tracker.track(buildEcommerceTransactionItem({ orderId: 'o-1', sku: 'sku-1', name: 'Thing', category: 'c', price: 10, quantity: 2, currency: 'GBP' }));
  await tracker.flush();
  return requests;
}

for (const method of ['get', 'post'] as const) {
  for (const encodeBase64 of [true, false]) {
    t.test(`node tracker, ${method.toUpperCase()}, encodeBase64=${encodeBase64}`, async (t) => {
      const requests = await capture(method, encodeBase64);
      t.ok(requests.length >= 1, 'the tracker sent requests');
      const { processor } = await testEnricher();
      const good: string[] = [];
      for (const r of requests) {
        const rec = record({
          path: r.path, querystring: r.querystring, body: r.body, contentType: r.contentType,
          headers: ['Host: collector.example.com', ...(r.contentType ? [`Content-Type: ${r.contentType}`] : [])],
        });
        const out = await processor.process(rec);
        t.same(out.bad, [], `no bad rows for ${r.path}`);
        good.push(...out.good);
      }
      t.equal(good.length, 6, 'six events');
      for (const l of good) t.same(sdkDisagreements(l), [], 'the SDK reads every column as written');
      const by = (e: string) => good.find((l) => column(l, 'event') === e)!;
      const pv = by('page_view');
      t.equal(column(pv, 'app_id'), 'wire-test');
      t.equal(column(pv, 'name_tracker'), 'ns');
      t.equal(column(pv, 'page_title'), 'Tëst');
      t.equal(column(pv, 'page_urlquery'), 'x=1');
      t.equal(column(pv, 'refr_urlhost'), 'www.google.com');
      t.equal(column(pv, 'domain_userid'), '3c1757544e39bca4');
      t.equal(column(pv, 'domain_sessionid'), '6e6e6d0f-f191-4249-8ac8-469db39332a3');
      t.equal(column(pv, 'domain_sessionidx'), '3');
      t.match(column(pv, 'contexts'), /web_page\/jsonschema\/1-0-0","data":\{"id":"b05b31c3/);
      t.match(column(pv, 'dvce_created_tstamp'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
      const se = by('struct');
      t.same([column(se, 'se_category'), column(se, 'se_action'), column(se, 'se_label'), column(se, 'se_property'), column(se, 'se_value')], ['cat', 'act', 'lbl', 'prop', '1.5']);
      const ues = good.filter((l) => column(l, 'event') === 'unstruct').map((l) => column(l, 'event_name')).sort();
      t.same(ues, ['link_click', 'screen_view']);
      const tr = by('transaction');
      t.same([column(tr, 'tr_orderid'), column(tr, 'tr_total'), column(tr, 'tr_tax'), column(tr, 'tr_shipping'), column(tr, 'tr_currency')], ['o-1', '99.99', '1.5', '5', 'GBP']);
      const ti = by('transaction_item');
      t.same([column(ti, 'ti_sku'), column(ti, 'ti_price'), column(ti, 'ti_quantity')], ['sku-1', '10', '2']);
    });
  }
}
