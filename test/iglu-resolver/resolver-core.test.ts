/**
 * Resolver core with in-memory registries: compile-once under concurrency, LRU bounds and eviction of compiled
 * validators, cache disabled, registries that throw, metrics and logs.
 */
import t from 'tap';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Registry as PromRegistry } from 'prom-client';
import { Resolver } from '../../iglu-resolver/resolver.js';
import { createSchemaCompiler, type SchemaCompiler } from '../../iglu-resolver/validator.js';
import type { Registry, RegistryKind, RegistryResult } from '../../iglu-resolver/registries/registry.js';
import { schemaKeyToPath, type SchemaKey } from '../../formats/schema-key.js';

class MemoryRegistry implements Registry {
  calls: string[] = [];
  constructor(
    readonly name: string,
    readonly kind: RegistryKind,
    private readonly schemas: Record<string, unknown>,
    readonly priority = 0,
    readonly vendorPrefixes: readonly string[] = [],
    private readonly failWith: ((path: string) => RegistryResult<unknown> | 'throw' | null) | null = null,
  ) {}
  async lookup(key: SchemaKey): Promise<RegistryResult<unknown>> {
    const path = schemaKeyToPath(key);
    this.calls.push(path);
    await new Promise((r) => setTimeout(r, 5));
    const f = this.failWith?.(path);
    if (f === 'throw') throw new Error('registry bug');
    if (f) return f;
    return path in this.schemas ? { ok: true, value: this.schemas[path] } : { ok: false, error: { error: 'NotFound' } };
  }
  async list(): Promise<RegistryResult<string[]>> {
    return { ok: false, error: { error: 'NotFound' } };
  }
}

const obj = (name: string, extra: Record<string, unknown> = {}): unknown => ({
  self: { vendor: 'com.acme', name, format: 'jsonschema', version: '1-0-0' },
  type: 'object',
  properties: { n: { type: 'integer' } },
  ...extra,
});

function countingCompiler(): SchemaCompiler & { count: number } {
  const c = createSchemaCompiler();
  const wrapped = {
    count: 0,
    ajv: c.ajv,
    compile(s: unknown) {
      wrapped.count++;
      return c.compile(s);
    },
  };
  return wrapped;
}

t.test('concurrent first validations: one lookup, one compile', async (t) => {
  const reg = new MemoryRegistry('Mem', 'embedded', { 'com.acme/a/jsonschema/1-0-0': obj('a') });
  const compiler = countingCompiler();
  const r = new Resolver({ registries: [reg], compiler, cacheSize: 10, cacheTtl: null });
  const outs = await Promise.all(Array.from({ length: 25 }, (_, i) => r.validate('iglu:com.acme/a/jsonschema/1-0-0', { n: i })));
  t.ok(outs.every((o) => o.ok));
  t.equal(reg.calls.length, 1);
  t.equal(compiler.count, 1);
  t.same(r.validateCached('iglu:com.acme/a/jsonschema/1-0-0', { n: 'x' })?.ok, false);
  t.equal(compiler.count, 1, 'the hot path never compiles');
});

t.test('cacheSize bounds the cache; eviction drops the compiled validator too', async (t) => {
  const schemas = Object.fromEntries(['a', 'b', 'c'].map((n) => [`com.acme/${n}/jsonschema/1-0-0`, obj(n)]));
  const reg = new MemoryRegistry('Mem', 'embedded', schemas);
  const compiler = countingCompiler();
  const r = new Resolver({ registries: [reg], compiler, cacheSize: 2, cacheTtl: null });
  const u = (n: string): string => `iglu:com.acme/${n}/jsonschema/1-0-0`;
  await r.validate(u('a'), {});
  await r.validate(u('b'), {});
  t.ok(r.validateCached(u('a'), {}) && r.validateCached(u('b'), {}));
  await r.validate(u('c'), {});
  t.equal(r.validateCached(u('a'), {}), undefined, 'least recently used schema evicted with its validator');
  t.ok(r.validateCached(u('c'), {}));
  await r.validate(u('a'), {});
  t.equal(reg.calls.filter((c) => c.includes('/a/')).length, 2, 'evicted schema fetched again');
  t.equal(compiler.count, 4);
});

t.test('cacheSize 0 or cacheTtl 0: no caching at all', async (t) => {
  for (const [cacheSize, cacheTtl] of [
    [0, null],
    [10, 0],
  ] as const) {
    const reg = new MemoryRegistry('Mem', 'embedded', { 'com.acme/a/jsonschema/1-0-0': obj('a') });
    const r = new Resolver({ registries: [reg], compiler: createSchemaCompiler(), cacheSize, cacheTtl });
    t.ok((await r.validate('iglu:com.acme/a/jsonschema/1-0-0', {})).ok);
    t.equal(r.validateCached('iglu:com.acme/a/jsonschema/1-0-0', {}), undefined);
    await r.lookupSchema('iglu:com.acme/a/jsonschema/1-0-0');
    t.equal(reg.calls.length, 2, `cacheSize ${cacheSize}, cacheTtl ${cacheTtl}: every lookup asks the registry`);
  }
});

t.test('a registry that throws is a ClientFailure; later registries still answer', async (t) => {
  const bad = new MemoryRegistry('Buggy', 'http', {}, 0, ['com.acme'], () => 'throw');
  const good = new MemoryRegistry('Good', 'embedded', { 'com.acme/a/jsonschema/1-0-0': obj('a') }, 5);
  const r = new Resolver({ registries: [good, bad], compiler: createSchemaCompiler(), cacheSize: 10, cacheTtl: null });
  t.ok((await r.lookupSchema('iglu:com.acme/a/jsonschema/1-0-0')).ok);
  t.same(bad.calls, ['com.acme/a/jsonschema/1-0-0'], 'the vendor-matched HTTP repo was asked first');
  const miss = await r.lookupSchema('iglu:com.acme/b/jsonschema/1-0-0');
  t.match(miss, { ok: false, error: { error: 'ResolutionError', lookupHistory: [{ repository: 'Buggy', errors: [{ error: 'ClientFailure', message: 'registry bug' }] }, { repository: 'Good', errors: [{ error: 'NotFound' }] }] } });
});

t.test('cached failures: embedded and NotFound repos are not asked again; all are after the TTL', async (t) => {
  let now = 0;
  const emb = new MemoryRegistry('Emb', 'embedded', {}, 0, [], () => ({ ok: false, error: { error: 'RepoFailure', message: 'disk' } }));
  const http = new MemoryRegistry('Http', 'http', {}, 0, [], () => ({ ok: false, error: { error: 'RepoFailure', message: 'down' } }));
  const r = new Resolver({ registries: [emb, http], compiler: createSchemaCompiler(), cacheSize: 10, cacheTtl: 60, clock: () => now });
  const uri = 'iglu:com.acme/a/jsonschema/1-0-0';
  await r.lookupSchema(uri);
  now += 10_000;
  await r.lookupSchema(uri);
  t.equal(emb.calls.length, 1, 'embedded failure not retried');
  t.equal(http.calls.length, 2, 'HTTP failure retried after its backoff');
  now += 61_000;
  await r.lookupSchema(uri);
  t.equal(emb.calls.length, 2, 'expired failure: everything asked again');
});

t.test('metrics and warnings', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
  const metrics = new PromRegistry();
  const http = new MemoryRegistry('Http', 'http', {}, 0, ['com.acme'], (p) => (p.includes('/down/') ? { ok: false, error: { error: 'RepoFailure', message: 'Unexpected server response: x' } } : null));
  const emb = new MemoryRegistry('Emb', 'embedded', { 'com.acme/a/jsonschema/1-0-0': obj('a') });
  const r = new Resolver({ registries: [http, emb], compiler: createSchemaCompiler(), cacheSize: 10, cacheTtl: null, logger, metricsRegistry: metrics });
  // a second resolver on the same registry shares the counters instead of failing on re-registration
  new Resolver({ registries: [], compiler: createSchemaCompiler(), cacheSize: 1, cacheTtl: null, metricsRegistry: metrics });
  await r.lookupSchema('iglu:com.acme/a/jsonschema/1-0-0');
  await r.lookupSchema('iglu:com.acme/a/jsonschema/1-0-0');
  await r.lookupSchema('iglu:com.acme/down/jsonschema/1-0-0');
  const text = await metrics.metrics();
  t.match(text, /furrow_iglu_registry_requests_total\{repository="Http",result="not_found"\} 1/);
  t.match(text, /furrow_iglu_registry_requests_total\{repository="Emb",result="ok"\} 1/);
  t.match(text, /furrow_iglu_registry_requests_total\{repository="Http",result="repo_failure"\} 1/);
  t.match(text, /furrow_iglu_lookups_total\{result="cached"\} 1/);
  t.match(text, /furrow_iglu_lookups_total\{result="fetched"\} 1/);
  t.match(text, /furrow_iglu_lookups_total\{result="failed"\} 1/);
  t.equal(lines.length, 1, 'NotFound is not worth a warning; the RepoFailure is');
  t.match(JSON.parse(lines[0]!), { level: 40, repository: 'Http', schema: 'iglu:com.acme/down/jsonschema/1-0-0', msg: 'Iglu registry lookup failed' });
});

t.test('$supersededBy is fetched from the repository that served the superseded schema', async (t) => {
  const v = (name: string, version: string, extra: Record<string, unknown> = {}): unknown => ({
    self: { vendor: 'com.acme', name, format: 'jsonschema', version },
    type: 'object',
    ...extra,
  });
  const a = new MemoryRegistry('A', 'embedded', {
    'com.acme/s/jsonschema/1-0-0': v('s', '1-0-0', { $supersededBy: '1-0-1' }),
    'com.acme/s/jsonschema/1-0-1': v('s', '1-0-1', { required: ['fromA'] }),
    'com.acme/lonely/jsonschema/1-0-0': v('lonely', '1-0-0', { $supersededBy: '1-0-1' }),
    'com.acme/down/jsonschema/2-0-0': v('down', '2-0-0', { $supersededBy: '1-0-0' }),
  }, 0);
  const b = new MemoryRegistry('B', 'embedded', {
    'com.acme/s/jsonschema/1-0-1': v('s', '1-0-1', { required: ['fromB'] }),
    'com.acme/lonely/jsonschema/1-0-1': v('lonely', '1-0-1'),
  }, 1);
  const r = new Resolver({ registries: [b, a], compiler: createSchemaCompiler(), cacheSize: 10, cacheTtl: null });
  // A (priority 0) serves 1-0-0, so 1-0-1 comes from A even though B has one too
  t.match(await r.validate('iglu:com.acme/s/jsonschema/1-0-0', {}), { ok: false, error: { dataReports: [{ targets: ['fromA'] }], supersededBy: '1-0-1' } });
  const lonely = await r.lookupSchema('iglu:com.acme/lonely/jsonschema/1-0-0');
  t.match(lonely, { ok: false, error: { error: 'ResolutionError', lookupHistory: [{ repository: 'A', errors: [{ error: 'NotFound' }] }] } }, 'not taken from another repository');
  const down = await r.lookupSchema('iglu:com.acme/down/jsonschema/2-0-0');
  t.match(down, { ok: false, error: { error: 'ResolutionError', lookupHistory: [{ repository: 'A', errors: [{ error: 'ClientFailure', message: "Superseding version 1-0-0 isn't greater than the version of schema com.acme/down/jsonschema/2-0-0" }] }] } });
});
