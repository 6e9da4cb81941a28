/**
 * `furrow enrich` as a real child process: stdin/file in, stdout/dir out, Snowplow config files (HOCON,
 * resolver.json, enrichments/), start-up failures, and Kinesis in/out against kinesalite.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createStream, readAll, startLocalAws } from '../support/local-aws.js';
import { badSchema, column, qs, record, sdkDisagreements, sdkParse } from './support.js';
import { BUILTIN_REGISTRY, ENRICHMENT_CONFIGS, TEST_REGISTRY } from '../support/fixtures.js';
import { waitFor } from '../support/wait-for.js';

interface Run { code: number | null; stdout: string; stderr: string }

function furrow(args: string[], opts: { stdin?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', ...args], { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

const dir = mkdtempSync(join(tmpdir(), 'furrow-enrich-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const resolverJson = join(dir, 'resolver.json');
writeFileSync(resolverJson, JSON.stringify({
  schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
  data: {
    cacheSize: 500,
    repositories: [
      { name: 'test registry', priority: 0, vendorPrefixes: [], connection: { embedded: { path: TEST_REGISTRY } } },
      { name: 'Iglu Central copy', priority: 1, vendorPrefixes: [], connection: { embedded: { path: BUILTIN_REGISTRY } } },
    ],
  },
}));

const lines = [
  record({ querystring: qs({ e: 'pv', p: 'web', tv: 'js-3', aid: 'a1', url: 'https://x.example/p' }) }).toString('base64'),
  record({ querystring: qs({ e: 'se', p: 'web', tv: 'js-3', se_ca: 'c', se_ac: 'a' }), ipAddress: '10.1.2.3' }).toString('base64'),
  record({ path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ e: 'pp', p: 'web', tv: 't' }, { e: 'pv', p: 'web', tv: 't' }] }) }).toString('base64'),
  '!!! definitely not base64 !!!',
  record({ querystring: qs({ e: 'pv', p: 'nope', tv: 't' }) }).toString('base64'),
  '',
];

t.test('--help prints the flags', async (t) => {
  const r = await furrow(['--help']);
  t.equal(r.code, 0);
  for (const flag of ['--config', '--iglu-config', '--enrichments', '--input', '--output']) t.match(r.stdout, flag);
});

t.test('stdin → stdout, bad rows to a file: every line accounted for, SDK parses the output', async (t) => {
  const bad = join(dir, 'bad-1.jsonl');
  const r = await furrow(['--input', 'stdin', '--output', 'stdout', '--bad', bad, '--iglu-config', resolverJson, '--offline', '--log-level', 'warn'], { stdin: lines.join('\n') });
  t.equal(r.code, 0, r.stderr);
  const good = r.stdout.split('\n').filter((l) => l !== '');
  const badRows = readFileSync(bad, 'utf8').split('\n').filter((l) => l !== '');
  t.equal(good.length, 4, 'pv, se, and the two tp2 events');
  t.same(badRows.map(badSchema), ['collector_payload_format_violation', 'schema_violations']);
  t.equal(good.length + badRows.length, 6, 'in (6 events) = good + bad');
  for (const l of good) t.same(sdkDisagreements(l), [], 'SDK reads every column to the value furrow wrote');
  t.equal(column(good[1]!, 'user_ipaddress'), '10.1.2.3');
  const cpfv = JSON.parse(badRows[0]!);
  t.equal(Buffer.from(cpfv.data.payload, 'base64').toString('utf8'), lines[3], 'the unreadable line can be recovered from the bad row');
});

t.test('--config HOCON + --enrichments DIR + --output DIR', async (t) => {
  const conf = join(dir, 'enrich.hocon');
  writeFileSync(conf, `
    # a Snowplow enrich config without Kinesis input/output (file mode)
    "license": { "accept": true }
    "validation": { "acceptInvalid": false, "atomicFieldsLimits": { "app_id": 1 }, "maxJsonDepth": 40 }
    "monitoring": { "metrics": { "prometheus": { "tags": { "env": "test" } } } }
    "assetsUpdatePeriod": "7 days"
    "telemetry": { "disable": true }
  `);
  const enrichments = join(dir, 'enrichments');
  mkdirSync(enrichments);
  writeFileSync(join(enrichments, 'anon_ip.json'), readFileSync(join(ENRICHMENT_CONFIGS, 'anon_ip.json')));
  const out = join(dir, 'out');
  const input = join(dir, 'in.b64');
  writeFileSync(input, lines.join('\r\n') + '\r\n\r\n'); // Windows line ends and blank lines are fine
  const r = await furrow(['--config', conf, '--iglu-config', resolverJson, '--enrichments', enrichments, '--input', input, '--output', out, '--offline', '--log-level', 'warn']);
  t.equal(r.code, 0, r.stderr);
  const good = readFileSync(join(out, 'good.tsv'), 'utf8').split('\n').filter(Boolean);
  const bad = readFileSync(join(out, 'bad.jsonl'), 'utf8').split('\n').filter(Boolean);
  t.equal(good.length + bad.length, 6);
  const se = good.find((l) => column(l, 'event') === 'struct')!;
  t.equal(column(se, 'user_ipaddress'), '10.1.2.x', 'anon_ip (1 octet in the example config) ran');
  t.ok(bad.some((b) => JSON.parse(b).data.failure.messages?.[0]?.error?.dataReports?.[0]?.keyword === 'atomic_field_length_exceeded'), 'app_id limit 1 from the HOCON applied');
});

t.test('start-up failures name the problem', async (t) => {
  const enrichments = join(dir, 'enrichments-yauaa');
  mkdirSync(enrichments);
  writeFileSync(join(enrichments, 'yauaa.json'), readFileSync(join(ENRICHMENT_CONFIGS, 'yauaa_enrichment_config.json')));
  const y = await furrow(['--enrichments', enrichments, '--input', 'stdin', '--output', 'stdout', '--iglu-config', resolverJson, '--offline']);
  t.equal(y.code, 1);
  t.match(y.stderr, /ENRICH_ENRICHMENT_UNSUPPORTED: yauaa_enrichment_config/);

  const unknown = join(dir, 'unknown.hocon');
  writeFileSync(unknown, '{ "validation": { "acceptInvalidd": true } }');
  const u = await furrow(['--config', unknown, '--input', 'stdin', '--output', 'stdout', '--offline']);
  t.equal(u.code, 1);
  t.match(u.stderr, /CONFIG_UNKNOWN_KEY: unknown configuration key validation\.acceptInvalidd/);

  // Snowplow's 6.10 reference layout (furrow's fixture of it) starts; each integration furrow lacks is named once.
  const reference = await furrow(['--config', join(import.meta.dirname, '../config/fixtures/snowplow/enrich-6.10.reference.hocon'), '--input', 'stdin', '--output', 'stdout', '--offline']);
  t.equal(reference.code, 0, reference.stderr);
  const warns = reference.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; key?: string; msg: string }).filter((l) => l.level === 40 && l.key !== undefined);
  t.same(warns.map((w) => w.key).sort(), ['identity', 'metadata', 'monitoring.metrics.statsd', 'monitoring.sentry'], 'one warning per key');
  t.match(warns.find((w) => w.key === 'monitoring.metrics.statsd')!.msg, /Prometheus/);

  const flag = await furrow(['--bogus']);
  t.equal(flag.code, 2);
  t.match(flag.stderr, /unknown option --bogus/);
});

t.test('validation.exitOnJsCompileError (6.x) / featureFlags.exitOnJsCompileError (5.x): false = every event fails the enrichment', async (t) => {
  const enrichments = join(dir, 'enrichments-js-broken');
  mkdirSync(enrichments);
  writeFileSync(join(enrichments, 'js.json'), JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0',
    data: { vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true, parameters: { script: Buffer.from('function process(event) { return [ ').toString('base64') } },
  }));
  const pv = record({ querystring: qs({ e: 'pv', p: 'web', tv: 'js-3', aid: 'a1' }) }).toString('base64') + '\n';
  const strict = await furrow(['--enrichments', enrichments, '--input', 'stdin', '--output', 'stdout', '--offline'], { stdin: pv });
  t.equal(strict.code, 1, 'default: a script that does not compile stops start-up');
  t.match(strict.stderr, /javascript_script_config/);
  for (const [name, hocon] of [['6.x', '{ validation { exitOnJsCompileError = false } }'], ['5.x', '{ featureFlags { exitOnJsCompileError = false } }']] as const) {
    const cfg = join(dir, `js-${name}.hocon`);
    writeFileSync(cfg, hocon);
    const bad = join(dir, `js-${name}-bad.jsonl`);
    const r = await furrow(['--config', cfg, '--enrichments', enrichments, '--input', 'stdin', '--output', 'stdout', '--bad', bad, '--offline'], { stdin: pv });
    t.equal(r.code, 0, `${name}: starts`);
    t.equal(r.stdout, '', `${name}: no good event`);
    const rows = readFileSync(bad, 'utf8').trim().split('\n');
    t.equal(rows.length, 1, `${name}: the event is a bad row`);
    t.equal(badSchema(rows[0]!), 'enrichment_failures');
    t.match(rows[0], /Error compiling JavaScript function: \[/);
  }
});

const KINESIS_MODES = [
  { leases: false, workers: null, name: 'all shards, no leases' },
  { leases: true, workers: null, name: 'DynamoDB leases' },
  { leases: true, workers: 2, name: '--workers 2 sharing the leases' },
] as const;

for (const { leases, workers, name } of KINESIS_MODES) t.test(`Kinesis in, Kinesis good/bad out (${name})`, async (t) => {
  const aws = await startLocalAws();
  t.teardown(() => aws.close());
  await createStream(aws.kinesis, 'raw', 2);
  await createStream(aws.kinesis, 'enriched', 1);
  await createStream(aws.kinesis, 'bad', 1);
  const payloads = lines.filter(Boolean);
  const res = await aws.kinesis.send(new PutRecordsCommand({
    StreamName: 'raw',
    Records: payloads.map((l, i) => ({ Data: l.startsWith('!') ? Buffer.from(l) : Buffer.from(l, 'base64'), PartitionKey: `k${i}` })),
  }));
  t.equal(res.FailedRecordCount ?? 0, 0);
  const metricsPort = await new Promise<number>((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
  const conf = join(dir, 'kinesis.hocon');
  writeFileSync(conf, `
    monitoring { healthProbe { port = ${metricsPort} } }
    input { streamName = "raw", appName = "furrow-test", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1"
            dynamodbCustomEndpoint = "${aws.dynamoEndpoint}", leases = ${leases}
            initialPosition { type = TRIM_HORIZON } }
    output {
      good { streamName = "enriched", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1", partitionKey = "app_id" }
      bad { streamName = "bad", customEndpoint = "${aws.kinesisEndpoint}", region = "us-east-1" }
    }
  `);
  const workerFlags = workers === null ? [] : ['--workers', String(workers)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'enrich', '--config', conf, '--iglu-config', resolverJson, '--offline', '--log-level', 'warn', ...workerFlags], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  t.teardown(() => child.kill('SIGKILL'));
  let good: string[] = [];
  let bad: string[] = [];
  await waitFor('6 events out', async () => {
    good = await readAll(aws.kinesis, 'enriched');
    bad = await readAll(aws.kinesis, 'bad');
    return good.length + bad.length >= 6;
  }, { timeoutMs: 40_000, everyMs: 200 });
  t.equal(good.length, 4, stderr);
  t.equal(bad.length, 2);
  for (const g of good) t.ok(sdkParse(g)['event_id']);
  const health = await fetch(`http://127.0.0.1:${metricsPort}/health`);
  t.equal(health.status, 200);
  if (workers === null) {
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    t.match(metrics, /furrow_enrich_good_total 4/);
    t.match(metrics, /furrow_enrich_bad_total 2/);
    t.match(metrics, /furrow_enrich_events_total 6/);
  }
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'graceful shutdown on SIGTERM');
  // Read after the enricher (every worker) has exited: whatever it wrote is in the stream by now, so a
  // duplicate (a batch re-processed before its checkpoint) would be counted here.
  t.equal((await readAll(aws.kinesis, 'enriched')).length, 4, 'no duplicates');
});
