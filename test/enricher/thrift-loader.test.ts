/**
 * The Thrift loader's schema and path checks, which remember what passed (issue 18): the memory must never let a
 * record through that the checks refuse. Runs in its own process, so the first call sees a fresh loader.
 */
import t from 'tap';
import { loadCollectorPayload } from '../../enricher/payloads/thrift-loader.js';
import { COLLECTOR_PAYLOAD_SCHEMA } from '../../formats/collector-payload.js';

const ok = { schema: COLLECTOR_PAYLOAD_SCHEMA, path: '/i', querystring: 'e=pv', timestamp: 1 };

t.test('schema checks, before and after a good record was seen', async (t) => {
  const messageOf = (schema: string | undefined): string => {
    const r = loadCollectorPayload({ ...ok, schema });
    return r.ok ? 'accepted' : JSON.stringify(r.message);
  };
  // First call of this process: nothing remembered yet.
  t.match(messageOf(''), /empty schema/, 'an empty schema is refused on a fresh loader');
  t.equal(messageOf(COLLECTOR_PAYLOAD_SCHEMA), 'accepted');
  for (const round of ['after a good record', 'again']) {
    t.match(messageOf(''), /empty schema/, `empty, ${round}`);
    t.match(messageOf(undefined), /found no schema/, `missing, ${round}`);
    t.match(messageOf('iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0'), /found iglu:/, `another model, ${round}`);
    t.match(messageOf('not a uri'), /invalid schema key/, `not a URI, ${round}`);
    t.equal(messageOf(COLLECTOR_PAYLOAD_SCHEMA), 'accepted');
  }
});

t.test('paths: cached answers equal fresh ones; refused paths stay refused', async (t) => {
  const api = (path: string) => {
    const r = loadCollectorPayload({ ...ok, path });
    return r.ok ? r.payload.api : null;
  };
  for (let i = 0; i < 2; i++) {
    t.same(api('/i'), { vendor: 'com.snowplowanalytics.snowplow', version: 'tp1' });
    t.same(api('/com.snowplowanalytics.snowplow/tp2'), { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' });
    t.same(api('/com.acme/v1/'), { vendor: 'com.acme', version: 'v1' });
    t.equal(api('/a/b/c'), null);
  }
  t.ok(Object.isFrozen(api('/i')), 'a shared answer cannot be changed by one payload');
  // Hostile variety: many distinct paths are all answered correctly (the cache stops growing, the checks do not).
  for (let i = 0; i < 1000; i++) if (api(`/v${i}/x`)?.vendor !== `v${i}`) t.fail(`path ${i}`);
  t.same(api(`/${'v'.repeat(300)}/x`), { vendor: 'v'.repeat(300), version: 'x' });
});
