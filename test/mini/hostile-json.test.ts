/**
 * furrow mini (the CLI process, collector + enricher + store in one) under tracker requests holding JSON nested
 * thousands deep. Before the fix, one 30 KB tp2 POST made the raw-event tap's JSON.stringify overflow the stack in
 * a setImmediate and the whole process exited. Now each hostile request becomes bad rows, the process keeps
 * serving, and every event in is one good or bad event out.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const PAYLOAD_DATA = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

t.test('deeply nested JSON from a tracker never takes furrow mini down', async (t) => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'mini', '--port', String(port), '--host', '127.0.0.1', '--offline', '--log-level', 'warn'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const base = `http://127.0.0.1:${port}`;
  // Bounded wait for the collector (cold tsx start): 60 s.
  let up = false;
  for (let i = 0; i < 600 && child.exitCode === null && !up; i++) {
    up = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(up, `mini is up (stderr: ${stderr.slice(-300)})`);

  const post = (body: string) => fetch(`${base}/com.snowplowanalytics.snowplow/tp2`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  const eid = () => crypto.randomUUID();
  // 1. The request from the issue: a 30 KB tp2 POST whose event holds an object nested 5,000 deep.
  const attack = `{"schema":"${PAYLOAD_DATA}","data":[{"e":"pv","p":"web","tv":"t","eid":"${eid()}","x":${nested(5000)}}]}`;
  t.ok(attack.length > 30_000);
  t.equal((await post(attack)).status, 200, 'the collector takes it (the enricher judges it)');
  // 2. The same in string parameters the enricher parses: ue_pr (POST, 5,000 deep) and cx (GET, base64url; 1,500 deep
  //    fits the 16 KB request-line limit).
  const ue = `{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":${nested(5000)}}}`;
  t.equal((await post(JSON.stringify({ schema: PAYLOAD_DATA, data: [{ e: 'ue', p: 'web', tv: 't', eid: eid(), ue_pr: ue }] }))).status, 200);
  const cx = Buffer.from(`{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0","data":[{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":${nested(1500)}}]}`).toString('base64url');
  t.equal((await fetch(`${base}/i?e=pv&p=web&tv=t&eid=${eid()}&cx=${cx}`)).status, 200);
  // 3. An Iglu webhook whose body is nested 5,000 deep.
  const hook = await fetch(`${base}/com.snowplowanalytics.iglu/v1?schema=${encodeURIComponent('iglu:com.acme/x/jsonschema/1-0-0')}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: nested(5000),
  });
  t.equal(hook.status, 200);
  // 4. Nesting the issue found harmless (1,500) is refused the same way, and a plain event after all of it.
  t.equal((await post(`{"schema":"${PAYLOAD_DATA}","data":[{"e":"pv","p":"web","tv":"t","eid":"${eid()}","x":${nested(1500)}}]}`)).status, 200);
  const last = eid();
  t.equal((await post(JSON.stringify({ schema: PAYLOAD_DATA, data: [{ e: 'pv', p: 'web', tv: 't', eid: last, url: 'http://ok.example/' }] }))).status, 200);

  const w = (await (await fetch(`${base}/micro/wait?event_id=${last}&count=6&timeout=30000`)).json()) as { ok: boolean };
  t.equal(w.ok, true, `every event was processed (stderr: ${stderr.slice(-500)})`);
  t.equal(child.exitCode, null, 'mini is still running');
  t.same(await (await fetch(`${base}/micro/all`)).json(), { total: 6, good: 1, bad: 5 }, 'every event in = good + bad out');
  const bad = (await (await fetch(`${base}/micro/bad`)).json()) as Array<{ errors: string[] }>;
  t.equal(bad.length, 5);
  for (const b of bad) t.match(b.errors[1], /maximum allowed JSON depth exceeded/, 'the bad row says why');
  t.notMatch(stderr, /RangeError|Maximum call stack/);

  child.kill('SIGTERM');
  t.equal(await exited, 0, `a clean exit on SIGTERM (stderr: ${stderr.slice(-300)})`);
});
