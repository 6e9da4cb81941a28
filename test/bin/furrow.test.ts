import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const furrow = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

t.test('furrow --help lists every command', async (t) => {
  const r = furrow('--help');
  t.equal(r.status, 0);
  for (const c of ['collector', 'enrich', 'iglu', 'load', 'forward', 'mini']) t.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
});

t.test('every command answers --help with its usage', async (t) => {
  for (const c of ['collector', 'enrich', 'iglu', 'load', 'forward', 'mini']) {
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
