/**
 * createLogger: JSON lines never carry the same key twice (child bindings over parent bindings, logged objects over
 * bindings): a JSON parser keeps only one of them and log tools disagree on which.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const tsx = join(import.meta.dirname, '../../node_modules/.bin/tsx');

/** Top-level keys of a flat JSON line, in order, duplicates kept (JSON.parse would hide them). */
function keysOfLine(line: string): string[] {
  const keys: string[] = [];
  const re = /[{,]"((?:[^"\\]|\\.)*)":/g;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) keys.push(m[1]!);
  return keys;
}

t.test('no JSON log line carries a key twice; renamed values are kept, the caller object untouched', async (t) => {
  const { stdout, stderr } = await run(tsx, [join(import.meta.dirname, 'fixtures/log-lines.ts')], { timeout: 60_000 });
  const lines = stderr.split('\n').filter((l) => l.startsWith('{'));
  t.equal(lines.length, 4, stderr);
  for (const l of lines) {
    const keys = keysOfLine(l);
    t.equal(new Set(keys).size, keys.length, `no key twice: ${l}`);
  }
  const [child, warn, same, pinoKeys] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(child, { stream: 'raw', shard: 's-1', msg: 'child over parent' }, 'the child binding wins');
  t.match(warn, { stream: 'good', stream_2: 'raw', records: 3 }, 'a different logged value is kept as <key>_2');
  t.match(same, { stream: 'good', n: 1 });
  t.notOk('stream_2' in same!, 'the same value is written once');
  t.match(pinoKeys, { level: 30, level_2: 'mine', time_2: 'mine' });
  t.same(JSON.parse(stdout.trim()), { stream: 'raw', records: 3 }, "the logged object itself is not changed");
});
