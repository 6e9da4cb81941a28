import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const furrow = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

t.test('furrow --help lists every command', async (t) => {
  const r = furrow('--help');
  t.equal(r.status, 0);
  for (const c of ['collector', 'enrich', 'iglu', 'load', 'forward', 'mini', 'recover']) t.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

t.test('every command answers --help with its usage', async (t) => {
  for (const c of ['collector', 'enrich', 'iglu', 'load', 'forward', 'mini', 'recover']) {
    const r = furrow(c, '--help');
    t.equal(r.status, 0, `${c} --help exits 0`);
    t.match(r.stdout, /furrow/i, `${c} --help prints usage`);
  }
});

t.test('no command and unknown commands exit 2 with the command list', async (t) => {
  const none = furrow();
  t.equal(none.status, 2);
  const r = furrow('frobnicate');
  t.equal(r.status, 2);
  t.match(r.stderr, /unknown command 'frobnicate'/);
  t.match(r.stderr, /Commands:/);
});

t.test('furrow --version and -v print the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v']) {
    const r = furrow(flag);
    t.equal(r.status, 0, flag);
    t.equal(r.stdout, `furrow ${version}\n`, flag);
  }
});

// Each command with what it needs to get past its own required flags, so the flag under test decides.
const COMMANDS: Array<[string, string[]]> = [
  ['collector', ['collector']],
  ['enrich', ['enrich']],
  ['forward', ['forward']],
  ['load postgres', ['load', 'postgres', '--url', 'postgres://127.0.0.1:1/db']],
  ['mini', ['mini']],
  ['iglu resolve', ['iglu', 'resolve', 'iglu:com.acme/x/jsonschema/1-0-0']],
];

t.test('every command: a bad --log-level is a usage error (exit 2), not a stack trace', async (t) => {
  for (const [name, args] of COMMANDS) {
    for (const form of [['--log-level', 'loud'], ['--log-level=loud']]) {
      const r = furrow(...args, ...form);
      t.equal(r.status, 2, `${name} ${form.join(' ')}`);
      t.match(r.stderr, /--log-level: unknown level 'loud'/, name);
      t.notMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
    }
  }
});

t.test('every command: unknown options and missing values are usage errors naming the flag', async (t) => {
  for (const [name, args] of COMMANDS) {
    const unknown = furrow(...args, '--no-such-flag=1');
    t.equal(unknown.status, 2, `${name} unknown`);
    t.match(unknown.stderr, /unknown option --no-such-flag/, name);
    const missing = furrow(...args, '--log-level');
    t.equal(missing.status, 2, `${name} missing value`);
    t.match(missing.stderr, /--log-level needs a value/, name);
  }
});

t.test('`--x=y` and `--x y` mean the same for every command', async (t) => {
  const missing = join(ROOT, 'no-such-dir', 'x.hocon');
  const cases: Array<[string, string[]]> = [
    ['collector', ['collector']],
    ['enrich', ['enrich']],
    ['forward', ['forward']],
    ['load postgres', ['load', 'postgres']],
    ['mini', ['mini']],
  ];
  for (const [name, args] of cases) {
    const spaced = furrow(...args, '--config', missing);
    const joined = furrow(...args, `--config=${missing}`);
    t.equal(spaced.status, 1, `${name}: the file is read (and missing)`);
    t.equal(joined.status, spaced.status, name);
    t.match(spaced.stderr, /no-such-dir/, name);
    t.equal(joined.stderr.replace(/\d{4,}/g, 'N'), spaced.stderr.replace(/\d{4,}/g, 'N'), `${name}: same message`);
  }
});

t.test('mini --postgres with something that is not a URL names it (not getaddrinfo ENOTFOUND base)', async (t) => {
  const r = furrow('mini', '--port', '0', '--postgres', 'notaurl');
  t.not(r.status, 0);
  t.match(r.stderr, /--postgres "notaurl" is not a PostgreSQL connection URL/);
  t.notMatch(r.stderr, /ENOTFOUND|base/);
});
