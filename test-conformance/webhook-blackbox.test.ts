/**
 * Every webhook blackbox vector in ../shared/conformance/enrich/blackbox (moved from npm test; the adapters' own tests
 * are test/enricher/adapters/webhooks/adapters.test.ts): the adapter's event must
 * carry exactly the unstruct_event (and contexts) Snowplow produced, and the right tracker version.
 */
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCollectorPayload } from '../formats/collector-payload.js';
import { adapterFor, payload, run, unstruct } from '../test/enricher/adapters/webhooks/helpers.js';
import { VECTORS } from './support.js';

const DIR = join(VECTORS, 'blackbox');
const files = readdirSync(DIR).filter((f) => /AdapterSpec/.test(f) && !/^Tp2/.test(f));

t.ok(files.length >= 13, `found ${files.length} webhook vectors`);

for (const file of files) {
  t.test(file, async (t) => {
    const v = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    // The Thrift bytes are the input; decode them as the enricher does.
    const cp = decodeCollectorPayload(Buffer.from(v.input.thrift_base64, 'base64'));
    const out = await run(adapterFor(...(cp.path!.split('/').slice(1, 3) as [string, string])), payload({
      path: cp.path!, body: cp.body ?? null, contentType: cp.contentType ?? null, querystring: cp.querystring ?? null,
    }));
    t.ok(out.ok, JSON.stringify(out));
    if (!out.ok) return;
    t.equal(out.events.length, v.expected.count);
    const e = out.events[0]!;
    t.same(unstruct(e), v.expected.json_fields.unstruct_event);
    t.equal(e.parameters.get('tv'), v.expected.fields.v_tracker);
    t.equal(e.parameters.get('e'), 'ue');
    if (v.expected.fields.app_id !== undefined) t.equal(e.parameters.get('aid') ?? '', v.expected.fields.app_id);
    if (v.expected.fields.platform !== undefined) t.equal(e.parameters.get('p'), v.expected.fields.platform);
  });
}
