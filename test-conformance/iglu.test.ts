/**
 * The Iglu side against ../shared: schemas/ is exactly what scripts/build-builtin-schemas.ts derives from Iglu Central
 * (../shared/iglu-central), every original Iglu Central schema compiles, the upstream test registries resolve and
 * compile, and validation errors match the data reports in Snowplow's adapter vectors.
 */
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deriveBuiltinSchemas, diffBuiltin } from '../scripts/build-builtin-schemas.js';
import { createSchemaCompiler } from '../iglu-resolver/validator.js';
import { createBuiltinResolver, createResolver } from '../iglu-resolver/index.js';
import { IGLU_CENTRAL, VECTORS } from './support.js';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

t.test('schemas/ is exactly what the derivation script produces from ../shared/iglu-central', async (t) => {
  const derived = deriveBuiltinSchemas(IGLU_CENTRAL);
  t.same(diffBuiltin(derived), { missing: [], changed: [], extra: [] }, 'run `npx tsx scripts/build-builtin-schemas.ts` to regenerate');
  const source = JSON.parse(derived.get('SOURCE.json')!) as { igluCentral: { commit: string } };
  t.match(readFileSync(join(IGLU_CENTRAL, 'SOURCE.txt'), 'utf8'), source.igluCentral.commit, "the recorded revision is the shared copy's");
});

t.test('every original Iglu Central JSON Schema compiles', async (t) => {
  const compiler = createSchemaCompiler();
  const originals = walk(join(IGLU_CENTRAL, 'schemas')).filter((f) => f.includes('/jsonschema/'));
  t.ok(originals.length >= 660, `${originals.length} schemas`);
  const failed: string[] = [];
  for (const f of originals) {
    const r = compiler.compile(JSON.parse(readFileSync(f, 'utf8')));
    if (!r.ok) failed.push(`${f}: ${JSON.stringify(r.schemaIssues)}`);
  }
  t.same(failed, []);
});

t.test('the upstream test registries resolve and compile, incl. $supersededBy', async (t) => {
  for (const name of ['test-iglu-registry-5.4.0', 'test-iglu-registry-common']) {
    const root = join(VECTORS, name);
    const r = await createResolver(
      {
        schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
        data: { cacheSize: 500, repositories: [{ name: 'Test', priority: 0, vendorPrefixes: ['com', 'nl'], connection: { embedded: { path: root } } }] },
      },
      { offline: true },
    );
    const files = walk(join(root, 'schemas'));
    let n = 0;
    for (const f of files) {
      const uri = 'iglu:' + f.split('/schemas/')[1];
      const looked = await r.lookupSchema(uri);
      t.ok(looked.ok, `${name}: ${uri} resolves`);
      const v = await r.validate(uri, {});
      if (!v.ok) t.ok('dataReports' in v.error, `${uri} compiles: ${JSON.stringify(v.error).slice(0, 200)}`);
      n++;
    }
    t.equal(n, files.length);
  }
  const common = await createBuiltinResolver({ offline: true, extraEmbeddedDirs: [join(VECTORS, 'test-iglu-registry-common')] });
  t.same(await common.validate('iglu:com.acme/superseding_example/jsonschema/1-0-0', { field_a: 'a', field_b: 'b', field_d: 'd' }), { ok: true, supersededBy: '1-0-1' });
});

interface VectorMessage {
  type?: string;
  schemaKey?: string;
  error?: { error: string; dataReports?: unknown[]; dataReports_contains?: Record<string, unknown> };
}

/** Every IgluError message with exact dataReports in the Tp2 adapter vectors, with the JSON that produced it. */
function adapterVectors(): Array<{ name: string; schemaKey: string; data: unknown; dataReports: unknown[] }> {
  const file = JSON.parse(readFileSync(join(VECTORS, 'unit', 'snowplow_adapters.json'), 'utf8')) as { cases?: unknown[] } | unknown[];
  const cases = (Array.isArray(file) ? file : ((file as { cases?: unknown[] }).cases ?? [])) as Array<Record<string, unknown>>;
  const out: Array<{ name: string; schemaKey: string; data: unknown; dataReports: unknown[] }> = [];
  for (const c of cases) {
    const expected = c.expected as { messages?: VectorMessage[] } | undefined;
    for (const m of expected?.messages ?? []) {
      if (!m.error?.dataReports || !m.schemaKey) continue;
      // The data is the SDJ in the body (payload_data) or the geolocation built from the querystring.
      let data: unknown;
      if (typeof c.body === 'string') {
        const sdj = JSON.parse(c.body) as { schema: string; data: unknown };
        if (sdj.schema === m.schemaKey) data = sdj.data;
      }
      if (data === undefined && m.schemaKey.includes('geolocation_context')) {
        const qs = (c.querystring ?? []) as Array<{ name: string; value: string }>;
        const get = (n: string): string | undefined => qs.find((q) => q.name === n)?.value;
        const geo: Record<string, number> = {};
        if (get('lat') !== undefined) geo.latitude = Number(get('lat'));
        if (get('lon') !== undefined) geo.longitude = Number(get('lon'));
        data = geo;
      }
      if (data !== undefined) out.push({ name: String(c.name), schemaKey: m.schemaKey, data, dataReports: m.error.dataReports });
    }
  }
  return out;
}

t.test("data reports match the Tp2 adapter vectors' exactly (unit/snowplow_adapters.json)", async (t) => {
  const resolver = await createBuiltinResolver({ offline: true });
  const vectors = adapterVectors();
  t.ok(vectors.length >= 2, `found ${vectors.length} vectors with exact dataReports`);
  for (const v of vectors) {
    const outcome = await resolver.validate(v.schemaKey, v.data);
    t.same(outcome, { ok: false, error: { error: 'ValidationError', dataReports: v.dataReports } }, v.name);
  }
});

