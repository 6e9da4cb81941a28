/**
 * Validation outcomes in the exact ClientError shapes Snowplow puts in bad rows (enrich.md §5), plus $supersededBy and
 * schema issues.
 */
import t from 'tap';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';
import { TEST_REGISTRY } from '../support/fixtures.js';

// The tests' own registry (test/fixtures/iglu): com.acme/email_sent and com.acme/superseding_example.
// The data reports of Snowplow's adapter vectors are compared in `npm run conformance` (test-conformance/iglu.test.ts).
const COMMON_REGISTRY = TEST_REGISTRY;

t.test('additionalProperties message (as in the enrichment_manager vector)', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [COMMON_REGISTRY] });
  const out = await resolver.validate('iglu:com.acme/email_sent/jsonschema/1-0-0', { emailAddress: 'a@b.c', emailAddress2: 'd@e.f', unallowedAdditionalField: 'x' });
  t.equal(out.ok, false);
  if (!out.ok && 'dataReports' in out.error) {
    t.same(out.error.dataReports, [
      {
        message: '$.unallowedAdditionalField: is not defined in the schema and the schema does not allow additional properties',
        path: '$',
        keyword: 'additionalProperties',
        targets: ['unallowedAdditionalField'],
      },
    ]);
  }
});

t.test('networknt message texts for the common keywords', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const check = async (uri: string, data: unknown, expected: unknown[]): Promise<void> => {
    const out = await resolver.validate(uri, data);
    t.same(out, { ok: false, error: { error: 'ValidationError', dataReports: expected } }, `${uri} ${JSON.stringify(data)}`);
  };
  await check('iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0', { longitude: 'x', latitude: 91 }, [
    { message: '$.latitude: must have a maximum value of 90', path: '$.latitude', keyword: 'maximum', targets: ['90'] },
    { message: '$.longitude: string found, number expected', path: '$.longitude', keyword: 'type', targets: ['string', 'number'] },
  ]);
  await check('iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', { id: 'nope' }, [
    {
      message: '$.id: does not match the regex pattern ^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$',
      path: '$.id',
      keyword: 'pattern',
      targets: ['^[a-fA-F0-9]{8}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{4}-[a-fA-F0-9]{12}$'],
    },
  ]);
  // union type (resolver-config cacheTtl: ["integer","null"]) and enum
  await check('iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', { cacheSize: 1, cacheTtl: 'x', repositories: [] }, [
    { message: '$.cacheTtl: string found, but [integer, null] is required', path: '$.cacheTtl', keyword: 'unionType', targets: ['string', '[integer, null]'] },
  ]);
  await check('iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1', { userId: 'x', sessionId: 'y', sessionIndex: 1, previousSessionId: null, storageMechanism: 'DISK' }, [
    { message: '$.userId: does not match the regex pattern ^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$|^[0-9a-f]{16}$', path: '$.userId', keyword: 'pattern', targets: ['^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$|^[0-9a-f]{16}$'] },
    { message: '$.sessionId: y is an invalid uuid', path: '$.sessionId', keyword: 'uuid', targets: ['y', 'uuid'] },
    { message: '$.storageMechanism: does not have a value in the enumeration [SQLITE, COOKIE_1, COOKIE_3, LOCAL_STORAGE, FLASH_LSO]', path: '$.storageMechanism', keyword: 'enum', targets: ['[SQLITE, COOKIE_1, COOKIE_3, LOCAL_STORAGE, FLASH_LSO]'] },
  ]);
});

t.test('formats: uuid is the bare hex form, date-time needs a zone', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const uri = 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-1';
  const base = { userId: 'fd0e5288-e89a-45df-aa7c-df7f9b3b6f1b', sessionIndex: 1, previousSessionId: null, storageMechanism: 'COOKIE_1' };
  t.ok((await resolver.validate(uri, { ...base, sessionId: '5F4A6B8E-7C1D-4B3A-9E2F-1A2B3C4D5E6F' })).ok);
  t.match(await resolver.validate(uri, { ...base, sessionId: 'urn:uuid:5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f' }), {
    ok: false,
    error: { dataReports: [{ message: '$.sessionId: urn:uuid:5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f is an invalid uuid', keyword: 'uuid' }] },
  });
  const s2 = 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2';
  const ok2 = { ...base, sessionId: '5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f', firstEventId: '7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d' };
  t.ok((await resolver.validate(s2, { ...ok2, firstEventTimestamp: '2026-11-26T09:00:00.000Z' })).ok);
  t.match(await resolver.validate(s2, { ...ok2, firstEventTimestamp: '2026-11-26 09:00' }), {
    ok: false,
    error: { dataReports: [{ message: '$.firstEventTimestamp: 2026-11-26 09:00 is an invalid date-time', path: '$.firstEventTimestamp', keyword: 'dateTime', targets: ['2026-11-26 09:00', 'date-time'] }] },
  });
});

t.test('$supersededBy: validated against the superseding version, which is reported', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [COMMON_REGISTRY] });
  // field_d exists only in 1-0-1: valid only because 1-0-0 is superseded by 1-0-1
  t.same(await resolver.validate('iglu:com.acme/superseding_example/jsonschema/1-0-0', { field_a: 'a', field_b: 'b', field_d: 'd' }), { ok: true, supersededBy: '1-0-1' });
  t.same(await resolver.validate('iglu:com.acme/superseding_example/jsonschema/2-0-0', { field_e: 'e', field_f: 'f', field_g: 'g' }), { ok: true, supersededBy: '2-0-1' });
  t.same(await resolver.validate('iglu:com.acme/superseding_example/jsonschema/1-0-1', { field_a: 'a', field_b: 'b' }), { ok: true, supersededBy: null });
  const bad = await resolver.validate('iglu:com.acme/superseding_example/jsonschema/1-0-0', { field_a: 'a' });
  t.same(bad, {
    ok: false,
    error: { error: 'ValidationError', dataReports: [{ message: '$.field_b: is missing but it is required', path: '$', keyword: 'required', targets: ['field_b'] }], supersededBy: '1-0-1' },
  });
  const looked = await resolver.lookupSchema('iglu:com.acme/superseding_example/jsonschema/1-0-0');
  t.equal(looked.ok && looked.supersededBy, '1-0-1');
  t.equal(looked.ok && (looked.schema.self as { version: string }).version, '1-0-1');
  // the hot path gives the same answer once compiled
  t.same(resolver.validateCached('iglu:com.acme/superseding_example/jsonschema/1-0-0', { field_a: 'a', field_b: 'b', field_d: 'd' }), { ok: true, supersededBy: '1-0-1' });
});

t.test('validateCached: undefined until compiled, then the same outcome as validate', async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const uri = 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0';
  t.equal(resolver.validateCached(uri, { id: 'x' }), undefined);
  const good = { id: '0b4ba1b9-0a2b-4ef8-8c1f-6b5b0b4ba1b9' };
  t.same(await resolver.validate(uri, good), { ok: true, supersededBy: null });
  t.same(resolver.validateCached(uri, good), { ok: true, supersededBy: null });
  const bad = resolver.validateCached(uri, { id: 1 });
  t.equal(bad?.ok, false);
  t.same(bad, await resolver.validate(uri, { id: 1 }));
});

t.test('a schema that does not compile is a ValidationError with schemaIssues', async (t) => {
  const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'furrow-iglu-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'schemas/com.acme/broken/jsonschema'), { recursive: true });
  writeFileSync(
    join(dir, 'schemas/com.acme/broken/jsonschema/1-0-0'),
    JSON.stringify({ $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#', self: { vendor: 'com.acme', name: 'broken', format: 'jsonschema', version: '1-0-0' }, type: 'objekt' }),
  );
  // remote $refs resolve to the empty schema (as the Iglu client configures networknt); local ones work
  mkdirSync(join(dir, 'schemas/com.acme/remote/jsonschema'), { recursive: true });
  writeFileSync(
    join(dir, 'schemas/com.acme/remote/jsonschema/1-0-0'),
    JSON.stringify({
      type: 'object',
      definitions: { n: { type: 'integer' } },
      properties: { a: { $ref: 'http://example.com/elsewhere.json#/definitions/x' }, b: { $ref: 'http://example.com/doc.json' }, c: { $ref: '#/definitions/n' } },
      enum: [{ $ref: 'http://example.com/not-a-schema' }, { a: 1, c: 1 }],
    }),
  );
  // like the Iglu client, schemas are checked against draft-04 only: no `self` is fine for validation
  mkdirSync(join(dir, 'schemas/com.acme/selfless/jsonschema'), { recursive: true });
  writeFileSync(join(dir, 'schemas/com.acme/selfless/jsonschema/1-0-0'), JSON.stringify({ type: 'object', required: ['a'] }));
  const resolver = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [dir] });
  t.match(await resolver.validate('iglu:com.acme/selfless/jsonschema/1-0-0', {}), { ok: false, error: { dataReports: [{ keyword: 'required', targets: ['a'] }] } });
  t.same(await resolver.validate('iglu:com.acme/selfless/jsonschema/1-0-0', { a: 1 }), { ok: true, supersededBy: null });
  t.same(await resolver.validate('iglu:com.acme/remote/jsonschema/1-0-0', { a: 1, c: 1 }), { ok: true, supersededBy: null }, 'remote refs accept anything');
  t.match(await resolver.validate('iglu:com.acme/remote/jsonschema/1-0-0', { a: 1, c: 'x' }), { ok: false, error: { dataReports: [{ path: '$.c', keyword: 'type' }] } }, 'local refs still apply');
  t.match(await resolver.validate('iglu:com.acme/remote/jsonschema/1-0-0', { $ref: 'http://example.com/not-a-schema' }), { ok: true }, 'data under enum is not rewritten');
  const out = await resolver.validate('iglu:com.acme/broken/jsonschema/1-0-0', {});
  t.equal(out.ok, false);
  t.ok(!out.ok && 'schemaIssues' in out.error && out.error.schemaIssues.length > 0, JSON.stringify(out));
  t.same(resolver.validateCached('iglu:com.acme/broken/jsonschema/1-0-0', {}), out, 'cached as well');
});
