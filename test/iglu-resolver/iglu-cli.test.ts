/**
 * `furrow iglu lint DIR` and `furrow iglu resolve URI --resolver FILE`, run as child processes (offline).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TEST_REGISTRY } from '../support/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF_DESC = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#';

function furrow(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function tmp(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'furrow-iglu-cli-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function put(root: string, rel: string, content: string): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), content);
}

const selfOf = (vendor: string, name: string, version: string): Record<string, unknown> => ({ $schema: SELF_DESC, self: { vendor, name, format: 'jsonschema', version } });

t.test('--help and bad usage', async (t) => {
  const help = await furrow(['iglu', '--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /furrow iglu lint DIR/);
  t.match(help.stdout, /furrow iglu resolve URI/);
  const bad = await furrow(['iglu', 'frobnicate']);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /unknown subcommand frobnicate/);
  const noDir = await furrow(['iglu', 'lint']);
  t.equal(noDir.code, 2);
});

t.test('lint: the built-in registry is clean', async (t) => {
  const r = await furrow(['iglu', 'lint', 'schemas']);
  t.equal(r.code, 0, r.stdout + r.stderr);
  t.match(r.stdout, /^6[0-9]{2} schema\(s\) checked in schemas, 0 problem\(s\), \d+ warning\(s\)$/m);
});

t.test('lint: reports what does not compile, bad SchemaVer, path ≠ self, bad JSON, bad $supersededBy', async (t) => {
  const d = tmp(t);
  put(d, 'schemas/com.acme/good/jsonschema/1-0-0', JSON.stringify({ ...selfOf('com.acme', 'good', '1-0-0'), type: 'object' }));
  put(d, 'schemas/com.acme/broken/jsonschema/1-0-0', JSON.stringify({ ...selfOf('com.acme', 'broken', '1-0-0'), type: 'objekt' }));
  put(d, 'schemas/com.acme/badver/jsonschema/1-0', JSON.stringify({ ...selfOf('com.acme', 'badver', '1-0'), type: 'object' }));
  put(d, 'schemas/com.acme/zero/jsonschema/0-1-0', JSON.stringify({ ...selfOf('com.acme', 'zero', '0-1-0'), type: 'object' }));
  put(d, 'schemas/com.acme/moved/jsonschema/1-0-0', JSON.stringify({ ...selfOf('com.other', 'moved', '1-0-1'), type: 'object' }));
  put(d, 'schemas/com.acme/garbage/jsonschema/1-0-0', '{ not json');
  put(d, 'schemas/com.acme/sup/jsonschema/1-0-1', JSON.stringify({ ...selfOf('com.acme', 'sup', '1-0-1'), $supersededBy: '1-0-0', type: 'object' }));
  put(d, 'schemas/com.acme/stray.json', '{}');
  put(d, 'schemas/com.acme/loose/jsonschema/1-0-0', JSON.stringify({ self: { vendor: 'com.acme', name: 'loose', format: 'jsonschema', version: '1-0-0' }, properties: { u: { type: 'string', format: 'url' } } }));
  const r = await furrow(['iglu', 'lint', d]);
  t.equal(r.code, 1);
  const lines = r.stdout.trim().split('\n');
  t.match(r.stdout, /com\.acme\/broken\/jsonschema\/1-0-0: does not compile: \$\.type: /);
  t.match(r.stdout, /com\.acme\/badver\/jsonschema\/1-0: "1-0" is not a valid SchemaVer/);
  t.match(r.stdout, /com\.acme\/zero\/jsonschema\/0-1-0: "0-1-0" is not a valid SchemaVer/);
  t.match(r.stdout, /com\.acme\/moved\/jsonschema\/1-0-0: self\.vendor is "com\.other" but the path says "com\.acme"/);
  t.match(r.stdout, /com\.acme\/moved\/jsonschema\/1-0-0: self\.version is "1-0-1" but the path says "1-0-0"/);
  t.match(r.stdout, /com\.acme\/garbage\/jsonschema\/1-0-0: not valid JSON/);
  t.match(r.stdout, /com\.acme\/sup\/jsonschema\/1-0-1: \$supersededBy 1-0-0 is not higher than 1-0-1/);
  t.match(r.stdout, /com\.acme\/stray\.json: not laid out as vendor\/name\/format/);
  t.notMatch(r.stdout, /com\.acme\/good\//, 'a good schema is not reported');
  t.match(r.stdout, /com\.acme\/loose\/jsonschema\/1-0-0: warning: \$schema is undefined/);
  t.match(r.stdout, /com\.acme\/loose\/jsonschema\/1-0-0: warning: format "url" is not checked by the validator/);
  t.notMatch(r.stdout, /com\.acme\/loose\/jsonschema\/1-0-0: [^w]/, 'warnings only for a schema that works');
  t.match(lines.at(-1)!, /^9 schema\(s\) checked in .*, 10 problem\(s\), 2 warning\(s\)$/);
  const json = await furrow(['iglu', 'lint', d, '--json']);
  const report = JSON.parse(json.stdout) as { checked: number; problems: Array<{ file: string }> };
  t.equal(report.checked, 9);
  t.ok(report.problems.some((p) => p.file === 'com.acme/garbage/jsonschema/1-0-0'));
});

t.test('resolve through a resolver file (relative embedded path), print the schema or the Iglu error', async (t) => {
  const d = tmp(t);
  put(d, 'local/schemas/com.acme/thing/jsonschema/1-0-0', JSON.stringify({ ...selfOf('com.acme', 'thing', '1-0-0'), type: 'object', properties: { n: { type: 'integer' } } }));
  const resolverFile = join(d, 'resolver.json');
  writeFileSync(
    resolverFile,
    JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
      data: {
        cacheSize: 10,
        cacheTtl: 60,
        repositories: [
          { name: 'Local', priority: 0, vendorPrefixes: ['com.acme'], connection: { embedded: { path: 'local' } } },
          { name: 'Tests', priority: 1, vendorPrefixes: [], connection: { embedded: { path: TEST_REGISTRY } } },
          { name: 'Iglu Central', priority: 2, vendorPrefixes: [], connection: { http: { uri: 'http://iglucentral.com' } } },
        ],
      },
    }),
  );
  const ok = await furrow(['iglu', 'resolve', 'iglu:com.acme/thing/jsonschema/1-0-0', '--resolver', resolverFile, '--offline']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(JSON.parse(ok.stdout), { self: { name: 'thing' }, properties: { n: { type: 'integer' } } });
  const fromTests = await furrow(['iglu', 'resolve', 'iglu:com.acme/email_sent/jsonschema/1-0-0', '--resolver', resolverFile, '--offline']);
  t.equal(fromTests.code, 0, 'a schema only the second embedded registry (test/fixtures/iglu) holds');
  t.match(JSON.parse(fromTests.stdout), { self: { vendor: 'com.acme', name: 'email_sent' } });

  const missing = await furrow(['iglu', 'resolve', 'iglu:com.acme/missing/jsonschema/1-0-0', '--resolver', resolverFile, '--offline']);
  t.equal(missing.code, 1);
  const err = JSON.parse(missing.stderr.split('\n')[0]!) as { error: string; lookupHistory: Array<{ repository: string }> };
  t.equal(err.error, 'ResolutionError');
  t.same(err.lookupHistory.map((h) => h.repository), ['Iglu Client Embedded', 'Local', 'Tests'], 'offline: Iglu Central left out');
  t.match(missing.stderr, /IGLU_SCHEMA_NOT_RESOLVED/);

  const valid = await furrow(['iglu', 'resolve', 'iglu:com.acme/thing/jsonschema/1-0-0', '--resolver', resolverFile, '--offline', '--data', '{"n":"x"}']);
  t.equal(valid.code, 1);
  t.same(JSON.parse(valid.stdout), {
    ok: false,
    error: { error: 'ValidationError', dataReports: [{ message: '$.n: string found, integer expected', path: '$.n', keyword: 'type', targets: ['string', 'integer'] }] },
  });
});

t.test('resolve: an invalid resolver config stops with a message naming the problem', async (t) => {
  const d = tmp(t);
  const f = join(d, 'resolver.json');
  writeFileSync(f, JSON.stringify({ schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 'big', repositories: [] } }));
  const r = await furrow(['iglu', 'resolve', 'iglu:com.acme/x/jsonschema/1-0-0', '--resolver', f]);
  t.equal(r.code, 1);
  t.match(r.stderr, /IGLU_RESOLVER_CONFIG_INVALID: .*resolver\.json: .*\$\.cacheSize: string found, number expected/);
  writeFileSync(f, '{ nope');
  const p = await furrow(['iglu', 'resolve', 'iglu:com.acme/x/jsonschema/1-0-0', '--resolver', f]);
  t.match(p.stderr, /CONFIG_PARSE: resolver config .* is not valid JSON/);
});
