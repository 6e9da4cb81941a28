/**
 * Resolver configs are read unchanged (Snowplow resolver-config 1-0-0..1-0-3) and rejected at start with a message
 * that names the problem.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { parseResolverConfig, readResolverConfigFile } from '../../iglu-resolver/resolver-config.js';
import { FurrowError } from '../../common/errors.js';

/** A resolver file in the stock layout (resolver-config 1-0-1, HTTP registries), written for the tests. */
const STOCK_LAYOUT = fileURLToPath(new URL('../fixtures/enrichment-configs/iglu_resolver.json', import.meta.url));

const sdj = (version: string, data: unknown): unknown => ({ schema: `iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/${version}`, data });
const repo = (name: string, connection: unknown, extra: Record<string, unknown> = {}): unknown => ({ name, priority: 0, vendorPrefixes: [], connection, ...extra });

t.test('a resolver file in the stock layout (1-0-1, HTTP registries, apikey) is read unchanged', async (t) => {
  const c = readResolverConfigFile(STOCK_LAYOUT);
  t.equal(c.version, '1-0-1');
  t.equal(c.cacheSize, 250);
  t.equal(c.cacheTtl, null);
  t.same(
    c.repositories.map((r) => [r.name, r.priority, r.vendorPrefixes, r.connection]),
    [
      ['Iglu Central', 0, ['com.snowplowanalytics'], { kind: 'http', uri: 'http://iglucentral.com', apikey: null }],
      ['Acme Registry', 1, ['com.acme'], { kind: 'http', uri: 'https://iglu.acme.test/api', apikey: '00000000-0000-4000-8000-00000000000a' }],
    ],
  );
  t.ok(Object.isFrozen(c) && Object.isFrozen(c.repositories) && Object.isFrozen(c.repositories[0]));
});

t.test('1-0-3 with cacheTtl, Iglu Server apikey and an embedded repo (relative path resolved against baseDir)', async (t) => {
  const c = parseResolverConfig(
    sdj('1-0-3', {
      cacheSize: 1000,
      cacheTtl: 600,
      repositories: [
        repo('Server', { http: { uri: 'https://iglu.acme.com/api', apikey: '6d2a4e39-1111-4222-8333-444455556666' } }, { vendorPrefixes: ['com.acme'], priority: 1 }),
        repo('Local', { embedded: { path: 'iglu-local' } }),
      ],
    }),
    '/etc/furrow',
  );
  t.equal(c.cacheTtl, 600);
  t.same(c.repositories[0]!.connection, { kind: 'http', uri: 'https://iglu.acme.com/api', apikey: '6d2a4e39-1111-4222-8333-444455556666' });
  t.same(c.repositories[1]!.connection, { kind: 'embedded', path: '/etc/furrow/iglu-local' });
});

t.test('invalid configs fail with a message naming the problem', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['not an object', [1], /must be a JSON object/],
    ['no schema', { data: {} }, /no "schema"/],
    ['wrong schema', { schema: 'iglu:com.acme/resolver-config/jsonschema/1-0-0', data: {} }, /expected iglu:com\.snowplowanalytics\.iglu\/resolver-config\/jsonschema\/1-\*-\*/],
    ['unknown version', sdj('1-0-9', { cacheSize: 1, repositories: [] }), /resolver-config version 1-0-9 is not known/],
    ['model 2', sdj('2-0-0', { cacheSize: 1, repositories: [] }), /expected iglu:com\.snowplowanalytics\.iglu\/resolver-config/],
    ['missing cacheSize', sdj('1-0-3', { repositories: [] }), /\$\.cacheSize: is missing but it is required/],
    ['string cacheSize', sdj('1-0-3', { cacheSize: '500', repositories: [] }), /\$\.cacheSize: string found, number expected/],
    ['negative ttl', sdj('1-0-3', { cacheSize: 5, cacheTtl: -1, repositories: [] }), /\$\.cacheTtl: must have a minimum value of 0/],
    ['unknown key', sdj('1-0-3', { cacheSize: 5, repositories: [], cache: 1 }), /\$\.cache: is not defined in the schema/],
    ['repo without connection', sdj('1-0-3', { cacheSize: 5, repositories: [{ name: 'x', priority: 0, vendorPrefixes: [] }] }), /\$\.repositories\[0\]\.connection: is missing but it is required/],
    ['duplicate names', sdj('1-0-3', { cacheSize: 5, repositories: [repo('A', { embedded: { path: '/a' } }), repo('A', { embedded: { path: '/b' } })] }), /repositories\[1\]\.name "A" is used by two repositories/],
    ['ftp uri', sdj('1-0-3', { cacheSize: 5, repositories: [repo('A', { http: { uri: 'ftp://x.com' } })] }), /repositories\[0\]\.connection\.http\.uri "ftp:\/\/x\.com" must be http/],
    ['cacheTtl in 1-0-0', sdj('1-0-0', { cacheSize: 5, cacheTtl: 5, repositories: [] }), /\$\.cacheTtl: is not defined in the schema/],
  ];
  for (const [name, json, re] of cases) {
    try {
      parseResolverConfig(json);
      t.fail(`${name}: accepted`);
    } catch (e) {
      t.ok(e instanceof FurrowError && e.code === 'IGLU_RESOLVER_CONFIG_INVALID', `${name}: code`);
      t.match((e as Error).message, re, name);
    }
  }
});

t.test('file errors name the file', async (t) => {
  t.throws(() => readResolverConfigFile('/nonexistent/resolver.json'), { code: 'CONFIG_FILE_UNREADABLE', message: /\/nonexistent\/resolver\.json/ });
});
