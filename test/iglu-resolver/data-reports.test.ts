/**
 * Data reports as networknt json-schema-validator 1.0.76 (the Iglu client's validator) writes them: keyword-specific
 * texts and arguments, and its order (per schema node: `properties` in declaration order, then the other keywords
 * alphabetically; a missing declared property reports the node's `required` failures at that point). Expected values
 * below are derived by hand from networknt's validators for each input.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuiltinResolver } from '../../iglu-resolver/index.js';
import { javaDouble } from '../../iglu-resolver/data-reports.js';
import { PATTERN_FORMATS } from '../../iglu-resolver/formats.js';
import type { DataReport } from '../../iglu-resolver/types.js';

const SCHEMAS: Record<string, Record<string, unknown>> = {
  order: {
    type: 'object',
    properties: { b: { type: 'string' }, a: { type: 'integer', maximum: 5 } },
    required: ['a', 'b', 'c'],
    additionalProperties: false,
    minProperties: 5,
  },
  placement: { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, c: { type: 'string' } }, required: ['c', 'd'] },
  exclusive: { type: 'object', properties: { n: { type: 'number', maximum: 10, exclusiveMaximum: true, minimum: 0.5 } } },
  multiple: { type: 'object', properties: { cents: { type: 'number', multipleOf: 0.01 }, five: { type: 'integer', multipleOf: 5 } } },
  enums: { type: 'object', properties: { e: { enum: ['a', 1, null, { k: 1 }, [1], true] } } },
  tuple: { type: 'array', items: [{ type: 'string' }], additionalItems: false },
  one: { oneOf: [{ type: 'string', maxLength: 2 }, { type: 'integer', minimum: 10 }] },
  many: { oneOf: [{ type: 'string' }, { maxLength: 5 }] },
  any: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
  deps: { type: 'object', dependencies: { a: ['b', 'c'] } },
  not: { not: { type: 'string' } },
  quiet: { oneOf: [{ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, required: ['b'] }, { type: 'array' }] },
  formats: {
    type: 'object',
    properties: {
      u: { type: 'string', format: 'uri' },
      m: { type: 'string', format: 'email' },
      d: { type: 'string', format: 'date' },
      dt: { type: 'string', format: 'date-time' },
      ip: { type: 'string', format: 'ipv4' },
      s: { type: 'string', format: 'strict-uri' },
    },
  },
};

async function resolver(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-iglu-reports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, body] of Object.entries(SCHEMAS)) {
    mkdirSync(join(dir, 'schemas/com.acme', name, 'jsonschema'), { recursive: true });
    writeFileSync(
      join(dir, 'schemas/com.acme', name, 'jsonschema/1-0-0'),
      JSON.stringify({ $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#', self: { vendor: 'com.acme', name, format: 'jsonschema', version: '1-0-0' }, ...body }),
    );
  }
  const r = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [dir] });
  return async (name: string, data: unknown): Promise<DataReport[] | 'valid'> => {
    const out = await r.validate(`iglu:com.acme/${name}/jsonschema/1-0-0`, data);
    if (out.ok) return 'valid';
    if (!('dataReports' in out.error)) throw new Error(JSON.stringify(out.error));
    return out.error.dataReports;
  };
}

const rep = (message: string, path: string, keyword: string, targets: string[]): DataReport => ({ message, path, keyword, targets });

t.test('order: properties (declaration order), then keywords alphabetically', async (t) => {
  const v = await resolver(t);
  t.same(await v('order', { z: 1, a: 7, b: 2 }), [
    rep('$.b: integer found, string expected', '$.b', 'type', ['integer', 'string']),
    rep('$.a: must have a maximum value of 5', '$.a', 'maximum', ['5']),
    rep('$.z: is not defined in the schema and the schema does not allow additional properties', '$', 'additionalProperties', ['z']),
    rep('$: should have a minimum of 5 properties', '$', 'minProperties', ['5']),
    rep('$.c: is missing but it is required', '$', 'required', ['c']),
  ]);
});

t.test('required failures are reported where the first declared property is missing', async (t) => {
  const v = await resolver(t);
  const expected = [rep('$.a: integer found, string expected', '$.a', 'type', ['integer', 'string']), rep('$.d: is missing but it is required', '$', 'required', ['d'])];
  t.same(await v('placement', { a: 1, c: 'x' }), expected);
  t.same(await v('placement', { c: 'x', a: 1 }), expected, 'data order does not matter');
  t.same(await v('placement', { b: 1 }), [
    rep('$.c: is missing but it is required', '$', 'required', ['c']),
    rep('$.d: is missing but it is required', '$', 'required', ['d']),
    rep('$.b: integer found, string expected', '$.b', 'type', ['integer', 'string']),
  ]);
});

t.test('draft-04 exclusiveMaximum keeps the maximum message; minimum renders the schema number', async (t) => {
  const v = await resolver(t);
  t.same(await v('exclusive', { n: 10 }), [rep('$.n: must have a maximum value of 10', '$.n', 'maximum', ['10'])]);
  t.same(await v('exclusive', { n: 0.25 }), [rep('$.n: must have a minimum value of 0.5', '$.n', 'minimum', ['0.5'])]);
  t.equal(await v('exclusive', { n: 9.99 }), 'valid');
});

t.test('multipleOf prints the divisor as a Java double', async (t) => {
  const v = await resolver(t);
  t.same(await v('multiple', { cents: 1.234, five: 7 }), [
    rep('$.cents: must be multiple of 0.01', '$.cents', 'multipleOf', ['0.01']),
    rep('$.five: must be multiple of 5.0', '$.five', 'multipleOf', ['5.0']),
  ]);
  t.same([1, 0.5, 1e7, 1.5e-5, -2, 123456.789].map(javaDouble), ['1.0', '0.5', '1.0E7', '1.5E-5', '-2.0', '123456.789']);
});

t.test('enum lists members as Jackson asText (containers empty)', async (t) => {
  const v = await resolver(t);
  t.same(await v('enums', { e: 'z' }), [rep('$.e: does not have a value in the enumeration [a, 1, null, , , true]', '$.e', 'enum', ['[a, 1, null, , , true]'])]);
});

t.test('additional tuple items: one `items` report per extra item', async (t) => {
  const v = await resolver(t);
  t.same(await v('tuple', [1, 2, 3]), [
    rep('$[0]: integer found, string expected', '$[0]', 'type', ['integer', 'string']),
    rep('$[1]: no validator found at this index', '$', 'items', ['1']),
    rep('$[2]: no validator found at this index', '$', 'items', ['2']),
  ]);
});

t.test('oneOf, anyOf, not', async (t) => {
  const v = await resolver(t);
  t.same(await v('one', 5), [rep('$: integer found, string expected', '$', 'type', ['integer', 'string']), rep('$: must have a minimum value of 10', '$', 'minimum', ['10'])]);
  t.same(await v('one', 'abc'), [rep('$: string found, integer expected', '$', 'type', ['string', 'integer']), rep('$: may only be 2 characters long', '$', 'maxLength', ['2'])]);
  t.same(await v('many', 'abc'), [
    rep('$: should be valid to one and only one of schema, but more than one are valid: {"type":"string"}{"maxLength":5}', '$', 'oneOf', ['{"type":"string"}{"maxLength":5}']),
  ]);
  t.same(await v('any', true), [rep('$: boolean found, string expected', '$', 'type', ['boolean', 'string']), rep('$: boolean found, integer expected', '$', 'type', ['boolean', 'integer'])]);
  t.same(await v('not', 'x'), [rep('$: should not be valid to the schema "not" : {"type":"string"}', '$', 'not', ['"not" : {"type":"string"}'])]);
  // inside oneOf, a branch whose object misses a required declared property reports no property errors
  t.same(await v('quiet', { a: 1 }), [rep('$: object found, array expected', '$', 'type', ['object', 'array'])]);
});

t.test('dependencies print the property map as Java does', async (t) => {
  const v = await resolver(t);
  t.same(await v('deps', { a: 1 }), [rep('$: has an error with dependencies {a=[b, c]}', '$', 'dependencies', ['{a=[b, c]}'])]);
  t.equal(await v('deps', { a: 1, b: 2, c: 3 }), 'valid');
});

t.test("formats as networknt checks them (unknown formats are not checked)", async (t) => {
  const v = await resolver(t);
  t.equal(await v('formats', { u: 'https://example.com/a?b=c#d', m: 'a@b.co', d: '2024-02-29', dt: '2024-02-29T23:59:59.123+01:00', ip: '10.0.0.1', s: '%%%' }), 'valid');
  t.same(await v('formats', { u: 'not a uri', m: 'nope', d: '2023-02-29', dt: '2024-02-29T24:00:00Z', ip: '999.1.1.1' }), [
    rep(`$.u: does not match the uri pattern ${PATTERN_FORMATS.uri}`, '$.u', 'format', ['uri', PATTERN_FORMATS.uri!]),
    rep('$.m: does not match the nope pattern email', '$.m', 'format', ['nope', 'email']),
    rep('$.d: 2023-02-29 is an invalid date', '$.d', 'dateTime', ['2023-02-29', 'date']),
    rep('$.dt: 2024-02-29T24:00:00Z is an invalid date-time', '$.dt', 'dateTime', ['2024-02-29T24:00:00Z', 'date-time']),
    rep(`$.ip: does not match the ipv4 pattern ${PATTERN_FORMATS.ipv4}`, '$.ip', 'format', ['ipv4', PATTERN_FORMATS.ipv4!]),
  ]);
  t.match(await v('formats', { u: 'https://example.com/a b' }), [{ keyword: 'format', targets: ['uri'] }], 'a space is not allowed in a uri');
  t.match(await v('formats', { dt: '2024-01-01T10:00:00' }), [{ keyword: 'dateTime' }], 'a date-time needs an offset');
});
