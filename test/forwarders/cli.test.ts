/**
 * `furrow forward` as a process: stdin → destinations, secrets never in logs or dead letters, replay of the
 * dead letter, graceful stop on SIGTERM, start-up errors.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseJsonLines, startServer, tempDir, type RecordedRequest } from './helpers.js';
import { column, generateLines } from './tsv-generator.js';
import { waitFor } from '../support/wait-for.js';

const SECRET = 'amp-super-secret-key-4f9e1c';
const TOKEN = 'hook-bearer-token-77aa21';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function furrow(args: string[], input: string | null, env: Record<string, string> = {}, onSpawn?: (p: ReturnType<typeof spawn>) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    onSpawn?.(p);
    if (input !== null) p.stdin.end(input);
  });
}

const idsOf = (reqs: readonly RecordedRequest[]) => reqs.flatMap((r) => (JSON.parse(r.body) as { events: Array<{ insert_id: string }> }).events.map((e) => e.insert_id));

t.test('stdin → Amplitude and a webhook; failures dead-lettered; no secret in logs or dead letter; replay re-sends', async (t) => {
  const dir = tempDir();
  // The vendor echoes the API key in its error body (some do): the dead letter must not keep it.
  let healthy = false;
  const amp = await startServer((r) => {
    const b = JSON.parse(r.body) as { api_key: string; events: Array<{ insert_id: string }> };
    if (!healthy) return { status: 503, body: `{"error":"unavailable for key ${b.api_key}"}` };
    return { status: 200, body: '{"code":200}' };
  });
  const hook = await startServer((r) => (r.headers.authorization === `Bearer ${TOKEN}` ? { status: 200 } : { status: 401 }));
  t.teardown(() => Promise.all([amp.close(), hook.close()]));
  const dlq = join(dir, 'dlq.jsonl');
  const cfgPath = join(dir, 'forward.hocon');
  writeFileSync(
    cfgPath,
    `input { type = "stdin", batch_size = 40 }
dead_letter { type = "file", path = "${dlq}" }
retry { max_attempts = 2, initial_delay = "5 millis", max_delay = "10 millis" }
destinations = [
  { name = "amp", filter { app_ids = ["shop"] }, target { type = "amplitude", base_url = "${amp.url}", api_key_env = "AMP_KEY" } }
  { name = "hook", target { type = "http", url = "${hook.url}/e", auth { type = "bearer", token_env = "HOOK_TOKEN" } }, batch { max_events = 25 } }
]
`,
  );
  const lines = generateLines(120);
  const env = { AMP_KEY: SECRET, HOOK_TOKEN: TOKEN };
  const r = await furrow(['forward', '--config', cfgPath, '--log-level', 'trace'], lines.join('\n') + '\nnot an event\n', env);
  t.equal(r.code, 0, r.stderr.slice(-2000));
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as { read: number; unparseable: number; destinations: Record<string, { delivered: number; deadLettered: number; matched: number }> };
  const shop = lines.filter((l) => column(l, 'app_id') === 'shop');
  t.match(summary, { read: 121, unparseable: 1, destinations: { amp: { delivered: 0, deadLettered: shop.length }, hook: { delivered: 120, deadLettered: 0 } } });
  t.ok(amp.requests.length > 0 && hook.accepted.length > 0);
  t.notOk(r.stderr.includes(SECRET), 'the Amplitude key is not in the logs (trace level)');
  t.notOk(r.stderr.includes(TOKEN), 'the webhook token is not in the logs');
  t.notOk(r.stdout.includes(SECRET) || r.stdout.includes(TOKEN));
  t.match(r.stderr, /"msg":"retries used up; dead-lettering"/, 'the failures were logged');
  const dl = readFileSync(dlq, 'utf8');
  t.notOk(dl.includes(SECRET), 'the echoed key is redacted in the dead letter');
  const letters = parseJsonLines(dl);
  t.equal(letters.length, shop.length + 1);
  t.match(letters.find((l) => l.destination === 'amp'), { reason: 'retries_exhausted', status: 503, attempts: 2, response_body: /unavailable for key \[redacted\]/ });

  // Replaying into the same file is refused.
  const same = await furrow(['forward', 'replay', dlq, '--config', cfgPath], null, env);
  t.equal(same.code, 1);
  t.match(same.stderr, /FORWARD_REPLAY_INPUT/);

  healthy = true;
  const before = hook.accepted.length;
  const dlq2 = join(dir, 'dlq2.jsonl');
  const rep = await furrow(['forward', 'replay', dlq, '--config', cfgPath, '--dead-letter', dlq2], null, env);
  t.equal(rep.code, 3, 'exit 3: one record (the unparseable line) could not be replayed');
  t.same(idsOf(amp.accepted).sort(), shop.map((l) => column(l, 'event_id')).sort(), 'every dead-lettered Amplitude event delivered once by the replay');
  t.equal(hook.accepted.length, before, 'replay sends only to the destination each record names');
  const left = parseJsonLines(readFileSync(dlq2, 'utf8'));
  t.match(left, [{ reason: 'unparseable', destination: null, event: 'not an event' }], 'what cannot be replayed is kept, unchanged');
});

t.test('SIGTERM: stops reading, finishes deliveries, exits 0', async (t) => {
  const dir = tempDir();
  const server = await startServer();
  t.teardown(() => server.close());
  const cfgPath = join(dir, 'f.json');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      input: { type: 'stdin', batch_size: 10, linger: '20 millis' },
      dead_letter: { path: join(dir, 'dlq.jsonl') },
      metrics: { port: 0 },
      destinations: [{ name: 'h', target: { type: 'http', url: server.url }, batch: { max_events: 10, flush_interval: '10 millis' } }],
    }),
  );
  const lines = generateLines(30);
  let child: ReturnType<typeof spawn> | null = null;
  let stderr = '';
  const run = furrow(['forward', '--config', cfgPath], null, {}, (p) => {
    child = p;
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdin!.write(lines.join('\n') + '\n'); // stdin stays open: a live pipe
  });
  const got = () => server.accepted.reduce((n, r) => n + (JSON.parse(r.body) as unknown[]).length, 0);
  t.ok(await waitFor('30 lines forwarded', () => got() === 30, { timeoutMs: 20_000 }), 'lines on a live pipe are forwarded without waiting for EOF');
  const port = Number(/"port":(\d+),"msg":"serving \/metrics and \/health"/.exec(stderr)?.[1]);
  t.ok(port > 0, 'the metrics port is logged');
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  t.match(metrics, /furrow_forward_events_delivered_total\{destination="h"\} 30/);
  t.equal(await (await fetch(`http://127.0.0.1:${port}/health`)).text(), 'ok');
  child!.kill('SIGTERM');
  const r = await run;
  t.equal(r.code, 0, r.stderr.slice(-1000));
  t.match(r.stderr, /stopping: finishing deliveries/);
  t.match(JSON.parse(r.stdout.trim()), { read: 30, destinations: { h: { delivered: 30 } } });
});

t.test('start-up errors: unknown key, missing secret, bad command line, --help', async (t) => {
  const dir = tempDir();
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ dead_letter: { path: join(dir, 'd') }, destinations: [{ name: 'a', target: { type: 'amplitude', api_key_env: 'NOPE_KEY', apikey: 'x' } }] }));
  const r1 = await furrow(['forward', '--config', bad], null);
  t.equal(r1.code, 1);
  t.match(r1.stderr, /CONFIG_MISSING_KEY: destinations\[0\]\.target\.api_key_env: environment variable NOPE_KEY is not set/);
  const r2 = await furrow(['forward', '--config', bad], null, { NOPE_KEY: 'k-123456' });
  t.match(r2.stderr, /CONFIG_UNKNOWN_KEY: destinations\[0\]\.target\.apikey is not a known key/);
  const r3 = await furrow(['forward'], null);
  t.equal(r3.code, 2);
  t.match(r3.stderr, /--config FILE is required/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ input: { type: 'file', path: join(dir, 'missing.tsv') }, dead_letter: { path: join(dir, 'd') }, destinations: [{ name: 'a', target: { type: 'http', url: 'http://127.0.0.1:9/' } }] }));
  const r5 = await furrow(['forward', '--config', good], null);
  t.equal(r5.code, 1);
  t.match(r5.stderr, /CONFIG_FILE_UNREADABLE: input\.path: cannot read/);
  const r6 = await furrow(['forward', 'replay', join(dir, 'nope.jsonl'), '--config', good], null);
  t.equal(r6.code, 1);
  t.match(r6.stderr, /FORWARD_REPLAY_INPUT: cannot read/);
  const r4 = await furrow(['forward', '--help'], null);
  t.equal(r4.code, 0);
  t.match(r4.stdout, /furrow forward replay DLQ_FILE/);
});
