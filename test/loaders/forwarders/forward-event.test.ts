import { readFileSync } from 'node:fs';
import t from 'tap';
import sdk from 'snowplow-analytics-sdk';
import { ENRICHED_FIELDS } from '../../../enricher/event.js';
import { ATOMIC_KINDS, compileFieldPath, entityKey, ForwardEvent } from '../../../loaders/forwarders/forward-event.js';
import { corpusLines, generateEvent, KINDS } from './tsv-generator.js';

t.test('atomic kinds agree with ../shared/spec/enriched_fields.json', async (t) => {
  const spec = JSON.parse(readFileSync('../shared/spec/enriched_fields.json', 'utf8')) as Array<{ name: string; tsv_type: string }>;
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

t.test('entity keys follow the Analytics SDK naming', async (t) => {
  t.equal(entityKey('contexts', 'iglu:com.acme/checkoutStarted/jsonschema/2-1-0'), 'contexts_com_acme_checkout_started_2');
  t.equal(entityKey('unstruct_event', 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1'), 'unstruct_event_com_snowplowanalytics_snowplow_link_click_1');
  t.equal(entityKey('contexts', 'not a schema'), null);
});

t.test('the JSON view equals the Snowplow Analytics SDK transform (generated and corpus events)', async (t) => {
  const lines = [...KINDS.map((_, i) => generateEvent(i)), ...corpusLines().map((c) => c.line)];
  for (const line of lines) {
    const ev = ForwardEvent.parse(line);
    if (typeof ev === 'string') {
      t.fail(ev);
      continue;
    }
    const ours = ev.toJson();
    const theirs = sdk.transform(line) as unknown as Record<string, unknown>;
    // The SDK renders decimals as JS numbers too; compare every key it produces (it drops empty columns as we do).
    t.same(ours, theirs, `event ${ev.fields.event_id} (${ev.fields.event})`);
    const fresh = ForwardEvent.parse(line) as ForwardEvent;
    t.equal(fresh.jsonText(), JSON.stringify(ours), 'jsonText() is the JSON view serialized, byte for byte');
  }
});

t.test('field paths read atomic fields, contexts (first or indexed) and the unstruct event', async (t) => {
  const ev = ForwardEvent.parse(generateEvent(2)) as ForwardEvent; // checkout, user pro
  const read = (p: string) => {
    const c = compileFieldPath(p);
    if (typeof c === 'string') throw new Error(c);
    return c.read(ev);
  };
  t.equal(read('app_id'), 'shop');
  t.equal(read('domain_sessionidx'), 3);
  t.equal(read('br_cookies'), true);
  t.equal(read('derived_tstamp')?.toString().endsWith('Z'), true);
  t.equal(read('contexts_com_acme_user_1.plan'), 'pro');
  t.equal(read('contexts_com_acme_user_1[0].tier'), 2);
  t.equal(read('contexts_com_acme_user_1[1].tier'), undefined);
  t.equal(read('contexts_com_snowplowanalytics_snowplow_ua_parser_context_1.useragentFamily'), 'Firefox', 'derived contexts too');
  t.equal(read('unstruct_event_com_acme_checkout_started_1.currency'), 'EUR');
  t.equal(read('se_label'), undefined, 'empty column');
  for (const bad of ['contexts', 'nope', 'app_id.x', 'a..b', '']) t.type(compileFieldPath(bad), 'string', `rejects ${JSON.stringify(bad)}`);
});

t.test('hostile lines: wrong column count, broken JSON columns', async (t) => {
  t.type(ForwardEvent.parse('a\tb\tc'), 'string');
  t.type(ForwardEvent.parse(''), 'string');
  const cols = generateEvent(2).split('\t');
  cols[ENRICHED_FIELDS.indexOf('unstruct_event')] = '{"schema":"x","data":{"schema":';
  cols[ENRICHED_FIELDS.indexOf('contexts')] = '[1,2';
  const ev = ForwardEvent.parse(cols.join('\t')) as ForwardEvent;
  t.equal(ev.entities().size, 1, 'only the parseable derived context');
  t.match(ev.entityError, /not JSON/);
  t.ok(ev.toJson().app_id, 'the atomic view still works');
});
