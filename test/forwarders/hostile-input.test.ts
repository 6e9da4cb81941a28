/**
 * `furrow forward` on input that defeats a recursive walk. Before the fix, a line whose contexts nested 5,000 deep
 * made JSON.stringify throw inside the reading loop: the batch never settled, the event loop drained and the
 * process exited 0 after 500 of 1,000 events, with no summary, no error and no dead letter. Now the poison event is
 * dead-lettered, the rest delivered, the end of input is logged with its counts, and a fatal error exits non-zero
 * with a log line. Real HTTP destinations on 127.0.0.1, the real CLI, the real config parser and dead letter.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseJsonLines, runForward, startServer, tempDir } from './helpers.js';
import { column, generateLines } from './tsv-generator.js';

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deliveredIds = (reqs: ReadonlyArray<{ body: string }>) => reqs.flatMap((r) => (JSON.parse(r.body) as Array<{ event_id: string }>).map((e) => e.event_id));

/** The input: 1,000 enriched events, the one at 500 with a context nested 5,000 deep. */
function poisonedLines(): string[] {
  const lines = generateLines(1000);
  const cols = lines[500]!.split('\t');
  const i = cols.findIndex((c) => c.startsWith('{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/'));
  cols[i] = `{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":${nested(5000)}}]}`;
  lines[500] = cols.join('\t');
  return lines;
}

function furrow(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 90_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('furrow forward over a file with a poison line: it is dead-lettered, the other 999 delivered, the end logged', async (t) => {
  const dir = tempDir();
  const server = await startServer();
  t.teardown(() => server.close());
  const lines = poisonedLines();
  const input = join(dir, 'in.tsv');
  writeFileSync(input, lines.join('\n') + '\n');
  const dlq = join(dir, 'dlq.jsonl');
  const cfg = join(dir, 'forward.json');
  writeFileSync(cfg, JSON.stringify({
    input: { type: 'file', path: input, batch_size: 100 },
    dead_letter: { type: 'file', path: dlq },
    destinations: [{ name: 'hook', target: { type: 'http', url: `${server.url}/e` } }],
  }));
  const r = await furrow(['forward', '--config', cfg]);
  t.equal(r.code, 0, r.stderr.slice(-1500));
  const delivered = deliveredIds(server.accepted);
  t.equal(delivered.length, 999, 'every other event is delivered');
  t.same(new Set(delivered), new Set(lines.filter((_, i) => i !== 500).map((l) => column(l, 'event_id'))));
  const letters = parseJsonLines(readFileSync(dlq, 'utf8'));
  t.equal(letters.length, 1, 'one dead letter');
  t.match(letters[0], { reason: 'unparseable', destination: null, error: /contexts is JSON nested deeper than 1000 levels/, event: lines[500] });
  t.match(JSON.parse(r.stdout.trim()), { read: 1000, unparseable: 1, totals: { delivered: 999, deadLettered: 1, filtered: 0 } });
  t.match(r.stderr, /"msg":"input finished: 1000 read, 999 delivered, 1 dead-lettered, 0 filtered"/, 'the end of input is logged with its counts');
  t.notMatch(r.stderr, /RangeError/);
});

t.test('a payload too deep to serialize (JS transformation) is dead-lettered for that destination only', async (t) => {
  const server = await startServer();
  t.teardown(() => server.close());
  const lines = generateLines(40);
  const deepId = column(lines[7]!, 'event_id');
  const script = `function transform(event, payload) {
    if (event.event_id !== ${JSON.stringify(deepId)}) return payload;
    let o = {};
    for (let i = 0; i < 10000; i++) o = { o };
    return o;
  }`;
  const run = runForward({
    destinations: [
      { name: 'deep', transform: { type: 'js', script }, target: { type: 'http', url: `${server.url}/deep` } },
      { name: 'plain', target: { type: 'http', url: `${server.url}/plain` } },
    ],
  }, lines, { batchSize: 10 });
  // Bounded: before the fix, run() never settled.
  const result = await Promise.race([run, new Promise<'stuck'>((r) => setTimeout(() => r('stuck'), 30_000).unref())]);
  if (result === 'stuck') {
    t.fail('the forwarder never finished');
    return;
  }
  const { summary, deadLetters } = result;
  t.match(summary.destinations, { deep: { delivered: 39, deadLettered: 1 }, plain: { delivered: 40, deadLettered: 0 } });
  t.equal(deadLetters.length, 1);
  t.match(deadLetters[0], { destination: 'deep', reason: /^(invalid|transform_failed)$/, event: lines[7] });
  t.same(deliveredIds(server.accepted.filter((r) => r.url.pathname === '/deep')).sort(), lines.filter((_, i) => i !== 7).map((l) => column(l, 'event_id')).sort());
});

t.test('a fatal error (dead letter unwritable) exits 1 with a log line that says why and where the counts stood', async (t) => {
  const dir = tempDir();
  const input = join(dir, 'in.tsv');
  writeFileSync(input, `${generateLines(5).join('\n')}\nnot an event\n`);
  const cfg = join(dir, 'forward.json');
  const server = await startServer();
  t.teardown(() => server.close());
  // /dev/full opens for append but every write fails (ENOSPC): the unparseable line's dead letter cannot be written.
  writeFileSync(cfg, JSON.stringify({
    input: { type: 'file', path: input },
    dead_letter: { type: 'file', path: '/dev/full' },
    destinations: [{ name: 'hook', target: { type: 'http', url: server.url } }],
  }));
  const r = await furrow(['forward', '--config', cfg]);
  t.equal(r.code, 1);
  t.match(r.stderr, /"level":50.*"msg":"forwarder stopped on an error; unacknowledged input will be read again"/);
  t.match(r.stderr, /FORWARD_DEAD_LETTER_UNWRITABLE/);
});
