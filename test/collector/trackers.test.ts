/**
 * Snowplow's own Node tracker (@snowplow/node-tracker 4.x) pointed at the collector, POST and GET: every
 * tracked event arrives in a decoded record, as the tracker sent it.
 */
import t from 'tap';
import { buildPageView, buildSelfDescribingEvent, buildStructEvent, newTracker } from '@snowplow/node-tracker';
import { startTestCollector } from './helpers.js';

t.test('node tracker, POST (tp2 batches) and GET (pixel)', async (t) => {
  const c = await startTestCollector();
  t.teardown(() => c.close());

  const post = newTracker({ namespace: 'ns', appId: 'furrow-test', encodeBase64: false }, { endpoint: `127.0.0.1:${c.port}`, protocol: 'http', eventMethod: 'post', bufferSize: 5 });
  for (let i = 0; i < 7; i++) post.track(buildStructEvent({ category: 'cat', action: `act-${i}` }));
  post.track(buildSelfDescribingEvent({ event: { schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: { n: 1.0, s: 'é ✓' } } }));
  await post.flush();

  const get = newTracker({ namespace: 'ns2', appId: 'furrow-get', encodeBase64: true }, { endpoint: `127.0.0.1:${c.port}`, protocol: 'http', eventMethod: 'get' });
  get.track(buildPageView({ pageUrl: 'https://shop.example/p?x=1', pageTitle: 'Page' }));
  await get.flush();

  const recs = await c.good();
  const posts = recs.filter((r) => r.path === '/com.snowplowanalytics.snowplow/tp2');
  t.ok(posts.length >= 1, `${posts.length} POST batches`);
  const events = posts.flatMap((r) => {
    t.match(r.contentType, /^application\/json/);
    const body = JSON.parse(r.body!) as { schema: string; data: Array<Record<string, string>> };
    t.match(body.schema, /^iglu:com\.snowplowanalytics\.snowplow\/payload_data\/jsonschema\/1-0-\d+$/);
    return body.data;
  });
  t.equal(events.length, 8, 'every POSTed event arrived once');
  t.same(events.filter((e) => e.e === 'se').map((e) => e.se_ac).sort(), Array.from({ length: 7 }, (_, i) => `act-${i}`));
  const ue = events.find((e) => e.e === 'ue')!;
  t.match(JSON.parse(ue.ue_pr!).data, { schema: 'iglu:com.acme/thing/jsonschema/1-0-0', data: { s: 'é ✓' } });
  t.ok(events.every((e) => e.aid === 'furrow-test' && e.tv!.startsWith('node-')));

  const pixel = recs.find((r) => r.path === '/i')!;
  t.ok(pixel, 'GET event on /i');
  const q = new URLSearchParams(pixel.querystring);
  t.equal(q.get('e'), 'pv');
  t.equal(q.get('url'), 'https://shop.example/p?x=1');
  t.equal(q.get('aid'), 'furrow-get');
  for (const r of recs) t.match(r.networkUserId, /^[0-9a-f-]{36}$/);
});
