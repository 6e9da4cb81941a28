/**
 * The built-in registry (schemas/): derived from Iglu Central by scripts/build-builtin-schemas.ts, committed,
 * consistent with its SOURCE.json, and complete for what trackers, webhooks and enrichments send; every schema in it
 * compiles. That schemas/ is exactly what the script derives from Iglu Central (../shared/iglu-central) is checked by
 * `npm run conformance` (test-conformance/iglu.test.ts).
 */
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_DIR, IGLU_CENTRAL_REVISION, stripSchema } from '../../scripts/build-builtin-schemas.js';
import { createSchemaCompiler } from '../../iglu-resolver/validator.js';
import { createBuiltinResolver, createResolver } from '../../iglu-resolver/index.js';
import { TEST_REGISTRY } from '../support/fixtures.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

t.test('schemas/ agrees with its SOURCE.json: revision, count, one JSON Schema per path', async (t) => {
  const source = JSON.parse(readFileSync(join(BUILTIN_DIR, 'SOURCE.json'), 'utf8')) as { igluCentral: { commit: string; release: string }; schemas: number; licence: string; derivedBy: string };
  t.same(source.igluCentral, IGLU_CENTRAL_REVISION, 'the revision the derivation script records');
  t.match(source.igluCentral, { commit: /^cbac22ed/, release: 'R183' });
  t.match(source.licence, /^Apache-2\.0/);
  const files = walk(BUILTIN_DIR).filter((f) => !f.endsWith('SOURCE.json'));
  t.equal(files.length, source.schemas, `${files.length} schema files`);
  t.ok(source.schemas >= 660);
  const wrong: string[] = [];
  for (const f of files) {
    const [vendor, name, format, version] = f.slice(BUILTIN_DIR.length + 1).split('/');
    const s = JSON.parse(readFileSync(f, 'utf8')) as { self?: Record<string, unknown>; $schema?: unknown };
    const self = s.self ?? {};
    if (self.vendor !== vendor || self.name !== name || self.format !== format || self.version !== version || format !== 'jsonschema') wrong.push(f);
    if (s.$schema !== 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#') wrong.push(`${f}: $schema`);
  }
  t.same(wrong, [], 'every file is a self-describing JSON Schema whose self matches its path');
});

t.test('derivation drops prose, keeps facts (and properties named "description")', async (t) => {
  const stripped = stripSchema({
    description: 'x',
    title: 'y',
    self: { vendor: 'v', name: 'n', format: 'jsonschema', version: '1-0-0' },
    type: 'object',
    properties: { description: { type: 'string', description: 'the description field', maxLength: 10 }, n: { enum: [1, 2], description: 'z' } },
    items: [{ description: 'a', type: 'string' }],
    oneOf: [{ description: 'b', required: ['description'] }],
    additionalProperties: { description: 'c', format: 'uri' },
    definitions: { d: { $comment: 'c', pattern: '^a$' } },
  });
  t.same(stripped, {
    self: { vendor: 'v', name: 'n', format: 'jsonschema', version: '1-0-0' },
    type: 'object',
    properties: { description: { type: 'string', maxLength: 10 }, n: { enum: [1, 2] } },
    items: [{ type: 'string' }],
    oneOf: [{ required: ['description'] }],
    additionalProperties: { format: 'uri' },
    definitions: { d: { pattern: '^a$' } },
  });
  const files = walk(BUILTIN_DIR).filter((f) => !f.endsWith('SOURCE.json'));
  const withDescription = files.filter((f) => /"description": "/.test(readFileSync(f, 'utf8')));
  t.same(withDescription, [], 'no description text left in schema position');
});

t.test('every built-in schema compiles', async (t) => {
  const compiler = createSchemaCompiler();
  const files = walk(BUILTIN_DIR).filter((f) => f.includes('/jsonschema/'));
  t.ok(files.length >= 660, `${files.length} schemas`);
  const failed: string[] = [];
  for (const f of files) {
    const r = compiler.compile(JSON.parse(readFileSync(f, 'utf8')));
    if (!r.ok) failed.push(`${f}: ${JSON.stringify(r.schemaIssues)}`);
  }
  t.same(failed, []);
});

t.test('the built-in registry holds what trackers, webhooks and enrichments send', async (t) => {
  const r = await createBuiltinResolver({ offline: true });
  const needed = [
    // core
    'com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
    'com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1',
    'com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1',
    'com.snowplowanalytics.snowplow.badrows/adapter_failures/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.badrows/collector_payload_format_violation/jsonschema/1-0-0',
    'com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
    'com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0',
    // enrichment configs and outputs
    'com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow/campaign_attribution/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0',
    'com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0',
    'com.snowplowanalytics.snowplow.enrichments/yauaa_enrichment_config/jsonschema/1-0-0',
    'nl.basjes/yauaa_context/jsonschema/1-0-4',
    'org.openweathermap/weather/jsonschema/1-0-0',
    'com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0',
    // browser / mobile trackers and plugins
    'com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2',
    'com.snowplowanalytics.snowplow/browser_context/jsonschema/2-0-0',
    'com.snowplowanalytics.snowplow/mobile_context/jsonschema/1-0-3',
    'com.snowplowanalytics.snowplow/application/jsonschema/1-0-0',
    'com.snowplowanalytics.mobile/screen_view/jsonschema/1-0-0',
    'com.snowplowanalytics.mobile/application_lifecycle/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/screen_view/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
    'com.snowplowanalytics.snowplow/submit_form/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/change_form/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/focus_form/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/timing/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-1-0',
    'org.w3/PerformanceTiming/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.ecommerce/snowplow_ecommerce_action/jsonschema/1-0-2',
    'com.snowplowanalytics.snowplow.ecommerce/product/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow.media/play_event/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/media_player/jsonschema/2-0-0',
    'com.google.analytics/cookies/jsonschema/1-0-0',
    'com.snowplowanalytics.snowplow/web_vitals/jsonschema/1-0-0',
    // webhook vendors
    'com.mailchimp/subscribe/jsonschema/1-0-0',
    'com.sendgrid/processed/jsonschema/3-0-0',
    'com.callrail/call_complete/jsonschema/1-0-2',
    'com.mandrill/message_sent/jsonschema/1-0-1',
    'com.pagerduty/incident/jsonschema/1-0-0',
    'com.pingdom/incident_assign/jsonschema/1-0-0',
    'com.mailgun/message_delivered/jsonschema/1-0-0',
    'com.marketo/event/jsonschema/2-0-0',
    'com.olark/transcript/jsonschema/1-0-0',
    'com.statusgator/status_change/jsonschema/1-0-0',
    'com.unbounce/form_post/jsonschema/1-0-0',
    'com.hubspot/contact_creation/jsonschema/1-0-0',
    'com.google.analytics.measurement-protocol/page_view/jsonschema/1-0-0',
  ];
  const missing: string[] = [];
  for (const p of needed) {
    const out = await r.lookupSchema(`iglu:${p}`);
    if (!out.ok) missing.push(p);
  }
  t.same(missing, [], 'all resolve offline');
});

t.test("the tests' own registry (test/fixtures/iglu) resolves and compiles, incl. $supersededBy", async (t) => {
  const r = await createResolver(
    {
      schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
      data: { cacheSize: 500, repositories: [{ name: 'Test', priority: 0, vendorPrefixes: ['com.acme'], connection: { embedded: { path: TEST_REGISTRY } } }] },
    },
    { offline: true },
  );
  const files = walk(join(TEST_REGISTRY, 'schemas'));
  t.ok(files.length >= 6);
  for (const f of files) {
    const uri = 'iglu:' + f.split('/schemas/')[1];
    const looked = await r.lookupSchema(uri);
    t.ok(looked.ok, `${uri} resolves`);
    // validating {} either passes or reports data errors, never schema issues or resolution errors
    const v = await r.validate(uri, {});
    if (!v.ok) t.ok('dataReports' in v.error, `${uri} compiles: ${JSON.stringify(v.error).slice(0, 200)}`);
  }
  const superseded = await r.lookupSchema('iglu:com.acme/superseding_example/jsonschema/1-0-0');
  t.equal(superseded.ok && superseded.supersededBy, '1-0-1');
});
