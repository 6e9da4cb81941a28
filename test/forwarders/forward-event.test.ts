import t from 'tap';
import sdk from 'snowplow-analytics-sdk';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { ATOMIC_KINDS, compileFieldPath, entityKey, ForwardEvent } from '../../forwarders/forward-event.js';
import { generateEvent, KINDS } from './tsv-generator.js';

t.test('atomic kinds agree with how the Snowplow Analytics SDK types each column', async (t) => {
  // Probe the SDK (a dev dependency) one column at a time: '1' stays a string, becomes true (boolean) or a
  // timestamp ('1Z'), '1.5' becomes 1 (integer) or 1.5 (double). Decimal columns are doubles to the SDK; which of
  // them are decimals is checked against Snowplow's field table in `npm run conformance`.
  // The JS SDK (0.1.0) calls column 121 `refr_device_tstamp`; the TSV column is Snowplow's refr_dvce_tstamp.
  const sdkName = (f: string): string => (f === 'refr_dvce_tstamp' ? 'refr_device_tstamp' : f);
  const typed = (i: number, value: string): unknown => {
    const cols = ENRICHED_FIELDS.map(() => '');
    cols[i] = value;
    try {
      return (sdk.transform(cols.join('\t')) as unknown as Record<string, unknown>)[sdkName(ENRICHED_FIELDS[i]!)];
    } catch {
      return 'rejected';
    }
  };
  const kinds: Record<string, string> = {};
  ENRICHED_FIELDS.forEach((f, i) => {
    if (f === 'contexts' || f === 'derived_contexts' || f === 'unstruct_event') kinds[f] = typed(i, '1') === 'rejected' ? 'json' : 'not json';
    else if (typed(i, '1') === true) kinds[f] = 'bool';
    else if (typed(i, '1') === '1Z') kinds[f] = 'timestamp';
    else if (typed(i, '1.5') === 1) kinds[f] = 'int';
    else if (typed(i, '1.5') === 1.5) kinds[f] = 'float';
    else if (typed(i, '1.5') === '1.5') kinds[f] = 'string';
    else kinds[f] = `unexpected ${String(typed(i, '1.5'))}`;
  });
  const ours: Record<string, string> = Object.fromEntries(ENRICHED_FIELDS.map((f) => [f, ATOMIC_KINDS[f] === 'decimal' ? 'float' : ATOMIC_KINDS[f]]));
  // One known difference: the JS SDK 0.1.0 leaves se_value a string; Snowplow's field table (and the Scala and
  // Python SDKs) make it a decimal, as furrow does.
  t.equal(kinds['se_value'], 'string');
  t.equal(ATOMIC_KINDS.se_value, 'decimal');
  t.same({ ...ours, se_value: 'string' }, kinds);
  t.equal(Object.values(ATOMIC_KINDS).filter((k) => k === 'decimal').length, 9, 'tr_total, tr_tax, tr_shipping, ti_price, their _base columns and se_value');
});

t.test('entity keys follow the Analytics SDK naming', async (t) => {
  t.equal(entityKey('contexts', 'iglu:com.acme/checkoutStarted/jsonschema/2-1-0'), 'contexts_com_acme_checkout_started_2');
  t.equal(entityKey('unstruct_event', 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1'), 'unstruct_event_com_snowplowanalytics_snowplow_link_click_1');
  t.equal(entityKey('contexts', 'not a schema'), null);
});

t.test('the JSON view equals the Snowplow Analytics SDK transform (generated events)', async (t) => {
  // Snowplow's full-TSV test events go through the same check in `npm run conformance`.
  const lines = [...KINDS.map((_, i) => generateEvent(i)), ...KINDS.map((_, i) => generateEvent(i + KINDS.length, { seed: 7 }))];
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
