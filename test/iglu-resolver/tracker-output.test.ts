/**
 * What an official Snowplow tracker sends validates offline against the built-in registry: events are produced by
 * @snowplow/node-tracker (captured with its customFetch hook, no network), then the POST body (payload_data), the
 * unstruct_event / contexts wrappers and every entity inside them are validated. Also: every Iglu URI the installed
 * tracker packages name resolves from the built-in registry.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildAdClick, buildAddToCart, buildConsentGranted, buildEcommerceTransaction, buildEcommerceTransactionItem, buildFormFocusOrChange,
  buildFormSubmission, buildLinkClick, buildPagePing, buildPageView, buildRemoveFromCart, buildScreenView, buildSelfDescribingEvent,
  buildSiteSearch, buildSocialInteraction, buildStructEvent, newTracker,
} from '@snowplow/node-tracker';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';

const NODE_MODULES = fileURLToPath(new URL('../../node_modules/@snowplow/', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const s = statSync(p);
    return s.isDirectory() ? (n === 'node_modules' ? [] : files(p)) : /\.(c?js|mjs)$/.test(n) ? [p] : [];
  });
}

t.test('every Iglu URI in the installed tracker packages resolves offline', async (t) => {
  const uris = new Set<string>();
  for (const f of files(NODE_MODULES)) {
    for (const m of readFileSync(f, 'utf8').matchAll(/iglu:([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)\/jsonschema\/([1-9][0-9]*-[0-9]+-[0-9]+)/g)) {
      if (m[1] !== 'com.acme') uris.add(m[0]); // com.acme: documentation examples
    }
  }
  t.ok(uris.size >= 20, `${uris.size} schemas named by the trackers`);
  const r = await createBuiltinResolver({ offline: true });
  const missing: string[] = [];
  for (const u of uris) if (!(await r.lookupSchema(u)).ok) missing.push(u);
  t.same(missing, []);
});

function b64decode(s: string): string {
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
}

t.test('events from @snowplow/node-tracker validate against the built-in schemas', async (t) => {
  const bodies: string[] = [];
  const tracker = newTracker(
    { namespace: 'furrow', appId: 'iglu-test', encodeBase64: true },
    {
      endpoint: 'collector.invalid',
      eventMethod: 'post',
      bufferSize: 1,
      customFetch: async (req: Request) => {
        bodies.push(await req.text());
        return new Response('', { status: 200 });
      },
    },
  );
  const geo = {
    schema: 'iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0',
    data: { latitude: 52.52, longitude: 13.4, latitudeLongitudeAccuracy: null, altitude: null, altitudeAccuracy: null, bearing: null, speed: null, timestamp: 1764147600000 },
  };
  const webPage = { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: '0b4ba1b9-0a2b-4ef8-8c1f-6b5b0b4ba1b9' } };
  const ctx = [geo, webPage];
  tracker.track(buildPageView({ pageUrl: 'https://example.com/a?b=c', pageTitle: 'A', referrer: 'https://example.org/' }), ctx);
  tracker.track(buildPagePing({ pageUrl: 'https://example.com/a', minXOffset: 0, maxXOffset: 10, minYOffset: 0, maxYOffset: 300 }), ctx);
  tracker.track(buildScreenView({ name: 'home', id: '5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f' }));
  tracker.track(buildLinkClick({ targetUrl: 'https://example.com/x', elementId: 'cta', elementClasses: ['btn'], elementTarget: '_blank', elementContent: 'Go' }), ctx);
  tracker.track(buildFormSubmission({ formId: 'signup', formClasses: ['f'], elements: [{ name: 'email', value: 'a@b.c', nodeName: 'INPUT', type: 'email' }] }));
  tracker.track(buildFormFocusOrChange({ schema: 'change_form', formId: 'signup', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: [], value: 'a@b.c' }));
  tracker.track(buildFormFocusOrChange({ schema: 'focus_form', formId: 'signup', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: [], value: null }));
  tracker.track(buildSiteSearch({ terms: ['shoes'], filters: { size: '42', inStock: true }, totalResults: 12, pageResults: 10 }));
  tracker.track(buildSocialInteraction({ action: 'like', network: 'mastodon', target: 'post-1' }));
  tracker.track(buildAdClick({ targetUrl: 'https://ads.example/x', clickId: 'c1', costModel: 'cpc', cost: 0.5, bannerId: 'b', zoneId: 'z', impressionId: 'i', advertiserId: 'a', campaignId: 'k' }));
  tracker.track(buildAddToCart({ sku: 'SKU-1', name: 'Shoe', category: 'shoes', unitPrice: 50, quantity: 2, currency: 'EUR' }));
  tracker.track(buildRemoveFromCart({ sku: 'SKU-1', name: 'Shoe', category: 'shoes', unitPrice: 50, quantity: 1, currency: 'EUR' }));
  tracker.track(buildConsentGranted({ id: 'doc-1', version: '2', name: 'privacy', description: 'Privacy policy', expiry: '2027-01-01T00:00:00.000Z' }).event);
  tracker.track(buildEcommerceTransaction({ orderId: 'o1', total: 100, tax: 19, shipping: 5, city: 'Berlin', country: 'DE', currency: 'EUR' }));
  tracker.track(buildEcommerceTransactionItem({ orderId: 'o1', sku: 'SKU-1', name: 'Shoe', category: 'shoes', price: 50, quantity: 2, currency: 'EUR' }));
  tracker.track(buildStructEvent({ category: 'video', action: 'play', label: 'intro', property: 'hd', value: 1.5 }), ctx);
  tracker.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0', data: { category: 'load', variable: 'dom', timing: 123 } } }), ctx);
  await tracker.flush();
  const eventCount = (): number => bodies.reduce((n, b) => n + (JSON.parse(b) as { data: unknown[] }).data.length, 0);
  for (let i = 0; i < 100 && eventCount() < 17; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(eventCount(), 17, `17 events captured in ${bodies.length} POST bodies`);

  const r = await createBuiltinResolver({ offline: true });
  const failures: string[] = [];
  const check = async (uri: string, data: unknown, where: string): Promise<void> => {
    const out = await r.validate(uri, data);
    if (!out.ok) failures.push(`${where} ${uri}: ${JSON.stringify(out.error)}`);
  };
  let entities = 0;
  for (const body of bodies) {
    const sdj = JSON.parse(body) as { schema: string; data: Array<Record<string, string>> };
    await check(sdj.schema, sdj.data, 'payload_data');
    for (const ev of sdj.data) {
      if (ev.ue_px) {
        const ue = JSON.parse(b64decode(ev.ue_px)) as { schema: string; data: { schema: string; data: unknown } };
        await check(ue.schema, ue.data, `e=${ev.e} ue wrapper`);
        await check(ue.data.schema, ue.data.data, `e=${ev.e} ue`);
        entities++;
      }
      if (ev.cx) {
        const co = JSON.parse(b64decode(ev.cx)) as { schema: string; data: Array<{ schema: string; data: unknown }> };
        await check(co.schema, co.data, `e=${ev.e} contexts wrapper`);
        for (const c of co.data) {
          await check(c.schema, c.data, `e=${ev.e} context`);
          entities++;
        }
      }
    }
  }
  t.ok(entities >= 20, `${entities} self-describing entities checked`);
  t.same(failures, [], 'the tracker output is valid offline');
});
