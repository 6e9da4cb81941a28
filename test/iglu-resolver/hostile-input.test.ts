/**
 * Hostile input never crashes the resolver or escapes a registry: traversal in URIs, deep and huge instances,
 * schemas that are not JSON.
 */
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuiltinResolver, createResolver } from '../../iglu-resolver/index.js';
import { startStaticRegistry } from './support/registry-servers.js';

const SELF_DESC = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';

function tmpRegistry(t: { teardown(fn: () => void): void }): { root: string; put(rel: string, content: string): void } {
  const root = mkdtempSync(join(tmpdir(), 'furrow-iglu-hostile-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  return {
    root,
    put(rel, content) {
      const p = join(root, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
    },
  };
}

function config(repos: unknown[]): unknown {
  return { schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 100, cacheTtl: null, repositories: repos } };
}

const schema = (name: string, body: Record<string, unknown>): string =>
  JSON.stringify({ $schema: SELF_DESC, self: { vendor: 'com.acme', name, format: 'jsonschema', version: '1-0-0' }, ...body });

t.test('`..` and path separators never escape an embedded registry', async (t) => {
  const reg = tmpRegistry(t);
  // a valid schema OUTSIDE the registry's schemas/ folder, reachable by `schemas/../evil/jsonschema/1-0-0`
  reg.put('registry/evil/jsonschema/1-0-0', schema('evil', { type: 'object' }));
  reg.put('registry/schemas/com.acme/ok/jsonschema/1-0-0', schema('ok', { type: 'object' }));
  const r = await createResolver(config([{ name: 'Local', priority: 0, vendorPrefixes: [], connection: { embedded: { path: join(reg.root, 'registry') } } }]), { offline: true });
  t.ok((await r.lookupSchema('iglu:com.acme/ok/jsonschema/1-0-0')).ok, 'control: a normal schema resolves');
  for (const uri of [
    'iglu:../evil/jsonschema/1-0-0', // vendor ".." is allowed by the Iglu URI regex
    'iglu:./evil/jsonschema/1-0-0',
    'iglu:com.acme/../jsonschema/1-0-0',
    'iglu:com.acme/..%2Fevil/jsonschema/1-0-0',
    'iglu:com.acme\\..\\evil/x/jsonschema/1-0-0',
    'iglu:com.acme/ok/jsonschema/../../1-0-0',
    'iglu:/etc/passwd/jsonschema/1-0-0',
    'iglu:com.acme/ok/jsonschema/1-0-0/../../../../evil',
  ]) {
    const out = await r.lookupSchema(uri);
    t.equal(out.ok, false, `${uri} does not resolve`);
    t.equal(!out.ok && out.error.error, 'ResolutionError');
    t.equal(r.validateCached(uri, {}), undefined);
    const v = await r.validate(uri, {});
    t.equal(v.ok, false, `${uri} does not validate`);
  }
});

t.test('`..` never reaches an HTTP registry', async (t) => {
  const srv = await startStaticRegistry({ root: mkdtempSync(join(tmpdir(), 'furrow-iglu-empty-')) });
  t.teardown(() => srv.close());
  const r = await createResolver(config([{ name: 'Http', priority: 0, vendorPrefixes: [], connection: { http: { uri: srv.url } } }]), { httpRetries: 0 });
  const out = await r.lookupSchema('iglu:../evil/jsonschema/1-0-0');
  t.equal(out.ok, false);
  t.equal(srv.total(), 0, 'no request was made');
});

t.test('a schema file that is not valid JSON (or not an object) is a resolution error, not a crash', async (t) => {
  const reg = tmpRegistry(t);
  reg.put('schemas/com.acme/garbage/jsonschema/1-0-0', '{"type": "object", ');
  reg.put('schemas/com.acme/array/jsonschema/1-0-0', '[1, 2, 3]');
  reg.put('schemas/com.acme/empty/jsonschema/1-0-0', '');
  const r = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [reg.root] });
  for (const name of ['garbage', 'array', 'empty']) {
    const out = await r.validate(`iglu:com.acme/${name}/jsonschema/1-0-0`, {});
    t.equal(!out.ok && out.error.error, 'ResolutionError', name);
    const h = !out.ok && out.error.error === 'ResolutionError' ? out.error.lookupHistory[0] : undefined;
    t.equal(h?.errors[0]?.error, 'RepoFailure', `${name}: RepoFailure`);
  }
});

/** [[[[...]]]] built without recursion */
function nestedArrays(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

t.test('deeply nested instances fail cleanly', async (t) => {
  const reg = tmpRegistry(t);
  reg.put('schemas/com.acme/tree/jsonschema/1-0-0', schema('tree', { type: 'array', items: { $ref: '#' } }));
  reg.put('schemas/com.acme/unique/jsonschema/1-0-0', schema('unique', { type: 'array', uniqueItems: true }));
  const r = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [reg.root] });
  const deep = nestedArrays(200_000);
  const tree = await r.validate('iglu:com.acme/tree/jsonschema/1-0-0', deep);
  t.equal(tree.ok, false, 'recursive schema × 200k levels: a failure, not a stack overflow');
  t.match(tree, { ok: false, error: { error: 'ValidationError', dataReports: [{ keyword: 'maxJsonDepth', path: '$' }] } });
  t.ok((await r.validate('iglu:com.acme/tree/jsonschema/1-0-0', nestedArrays(50))).ok, 'moderate nesting is fine');
  const unique = await r.validate('iglu:com.acme/unique/jsonschema/1-0-0', [nestedArrays(200_000), nestedArrays(200_000)]);
  t.equal(unique.ok, false, 'deep equality on 200k levels fails cleanly');

  const limited = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [reg.root], maxJsonDepth: 40 });
  const out = await limited.validate('iglu:com.acme/tree/jsonschema/1-0-0', nestedArrays(41));
  t.same(out, {
    ok: false,
    error: { error: 'ValidationError', dataReports: [{ message: '$: the JSON is nested deeper than the maximum allowed depth of 40', path: '$', keyword: 'maxJsonDepth', targets: ['40'] }] },
  });
  t.ok((await limited.validate('iglu:com.acme/tree/jsonschema/1-0-0', nestedArrays(39))).ok);
});

t.test('huge instances validate in bounded time with the usual reports', async (t) => {
  const reg = tmpRegistry(t);
  reg.put('schemas/com.acme/text/jsonschema/1-0-0', schema('text', { type: 'object', properties: { elementId: { type: 'string', maxLength: 4096 } } }));
  const r = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [reg.root] });
  const big = 'x'.repeat(5_000_000);
  const out = await r.validate('iglu:com.acme/text/jsonschema/1-0-0', { elementId: big });
  t.equal(out.ok, false);
  t.match(out, { error: { dataReports: [{ keyword: 'maxLength', path: '$.elementId', message: '$.elementId: may only be 4096 characters long' }] } });
  const events = Array.from({ length: 100_000 }, (_, i) => ({ e: 'pv', tv: 'js-3.0.0', p: 'web', eid: String(i) }));
  t.ok((await r.validate('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', events)).ok, '100k events in one payload');
  events[99_999] = { tv: 'x' } as never;
  const bad = await r.validate('iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', events);
  t.match(bad, { ok: false, error: { dataReports: [{ path: '$[99999]', keyword: 'required' }] } });
});

t.test('invalid URIs are resolution errors, never exceptions', async (t) => {
  const r = await createBuiltinResolver({ offline: true });
  for (const uri of ['', 'iglu:', 'iglu:com.acme/x/jsonschema/1-0', 'iglu:com.acme/x/jsonschema/01-0-0', 'http://x', 'iglu:com.acme/x/jsonschema/1-0-0\n']) {
    const out = await r.lookupSchema(uri);
    t.match(out, { ok: false, error: { error: 'ResolutionError', lookupHistory: [{ errors: [{ error: 'ClientFailure' }] }] } }, JSON.stringify(uri));
    t.equal(r.validateCached(uri, {}), undefined);
  }
});
