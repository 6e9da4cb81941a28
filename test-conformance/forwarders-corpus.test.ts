/**
 * The forwarders against Snowplow's material in ../shared: the atomic field kinds against spec/enriched_fields.json,
 * the JSON view of Snowplow's full-TSV test events against the Analytics SDK, and every target's vendor stand-in
 * (test/forwarders/targets-suite.ts) on generated events plus those test events.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sdk from 'snowplow-analytics-sdk';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import { ATOMIC_KINDS, ForwardEvent } from '../forwarders/forward-event.js';
import { generateLines } from '../test/forwarders/tsv-generator.js';
import { N, targetTests } from '../test/forwarders/targets-suite.js';
import { corpusLines, SPEC } from './support.js';

t.test('atomic kinds agree with ../shared/spec/enriched_fields.json', async (t) => {
  const spec = JSON.parse(readFileSync(join(SPEC, 'enriched_fields.json'), 'utf8')) as Array<{ name: string; tsv_type: string }>;
  t.equal(spec.length, ENRICHED_FIELDS.length);
  for (const f of spec) {
    const want = f.tsv_type.startsWith('timestamp')
      ? 'timestamp'
      : f.tsv_type === 'int32'
        ? 'int'
        : f.tsv_type === 'float32'
          ? 'float'
          : f.tsv_type === 'decimal'
            ? 'decimal'
            : f.tsv_type === 'bool-as-0/1'
              ? 'bool'
              : f.tsv_type.startsWith('json')
                ? 'json'
                : 'string';
    t.equal(ATOMIC_KINDS[f.name as (typeof ENRICHED_FIELDS)[number]], want, f.name);
  }
});

t.test("the JSON view of Snowplow's full-TSV test events equals the Analytics SDK transform", async (t) => {
  const corpus = corpusLines();
  t.ok(corpus.length >= 6);
  for (const { id, line } of corpus) {
    const ev = ForwardEvent.parse(line);
    if (typeof ev === 'string') {
      t.fail(`${id}: ${ev}`);
      continue;
    }
    const ours = ev.toJson();
    t.same(ours, sdk.transform(line) as unknown as Record<string, unknown>, id);
    t.equal((ForwardEvent.parse(line) as ForwardEvent).jsonText(), JSON.stringify(ours), `${id}: jsonText() is the JSON view serialized`);
  }
});

// Every target on generated events plus Snowplow's test events (as `npm test` ran them before they moved here).
targetTests([...generateLines(N), ...corpusLines().map((c) => c.line)]);
