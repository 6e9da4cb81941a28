import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../loaders/config.js';
import { parseLoadFlags } from '../../bin/commands/load.js';
import { FurrowError } from '../../common/errors.js';
import { generateLine } from '../support/enriched-generator.js';
import { startPostgres } from '../support/postgres.js';
import { IGLU_CENTRAL } from './fixtures/dir-resolver.js';

const dir = mkdtempSync(join(tmpdir(), 'furrow-load-cli-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function furrow(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.stdin.end(stdin ?? '');
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

async function configError(target: 'postgres' | 'redshift' | 's3', argv: string[]): Promise<string> {
  try {
    await loadConfig(target, parseLoadFlags(argv, target));
    return 'no error';
  } catch (e) {
    return e instanceof FurrowError ? e.message : String(e);
  }
}

t.test('--help prints the usage', async (t) => {
  const r = await furrow(['load', '--help']);
  t.equal(r.code, 0);
  t.match(r.stdout, /furrow load postgres --url/);
  t.match(r.stdout, /--dry-run/);
});

t.test('bad command lines and configs stop start-up naming the key', async (t) => {
  t.match(await configError('postgres', []), /^CONFIG_MISSING_KEY: .*url/);
  t.match(await configError('postgres', ['--url', 'postgres://x', '--nope', '1']), /^CONFIG_CLI_USAGE: .*--nope/);
  t.match(await configError('postgres', ['--url', 'postgres://x', '--dry-run']), /^CONFIG_CLI_USAGE: .*--dry-run/, 'a redshift-only flag');
  t.match(await configError('postgres', ['--url', 'postgres://x', '--batch-size', '0']), /^CONFIG_INVALID_VALUE: batchSize/);
  t.match(await configError('postgres', ['--url', 'postgres://x', '--schema', 'Robert"); DROP']), /^CONFIG_INVALID_VALUE: schema/);
  t.match(await configError('redshift', ['--url', 'postgres://x']), /^CONFIG_MISSING_KEY: stage/);
  t.match(await configError('s3', []), /^CONFIG_MISSING_KEY: output/);
  const file = join(dir, 'bad.conf');
  writeFileSync(file, 'url = "postgres://x"\nbatchSise = 10\n');
  t.match(await configError('postgres', ['--config', file]), /^CONFIG_UNKNOWN_KEY: batchSise/);
  writeFileSync(file, 'url = "postgres://x"\nkinesis { streamName = enriched, appName = loader, shards = 2 }\n');
  t.match(await configError('postgres', ['--config', file]), /^CONFIG_UNKNOWN_KEY: kinesis\.shards/);
  const good = join(dir, 'good.conf');
  writeFileSync(good, 'url = "postgres://x"\nbatchSize = 250\nbatchMaxDelay = 2 seconds\nkinesis { streamName = enriched, appName = furrow-load, region = eu-west-1 }\n');
  const cfg = await loadConfig('postgres', parseLoadFlags(['--config', good, '--schema', 'snowplow'], 'postgres'));
  t.equal(cfg.batchSize, 250);
  t.equal(cfg.batchMaxDelayMs, 2000);
  t.equal(cfg.schema, 'snowplow', 'flags override the file');
  t.equal(cfg.input, null);
  t.same(cfg.kinesis, { streamName: 'enriched', appName: 'furrow-load', initialPosition: 'TRIM_HORIZON', region: 'eu-west-1', endpoint: null, dynamodbEndpoint: null, leases: true });
  t.ok(Object.isFrozen(cfg));
  const r = await furrow(['load', 'mysql']);
  t.equal(r.code, 2);
  t.match(r.stderr, /expected postgres, redshift or s3/);
});

t.test('furrow load postgres from stdin: good rows loaded, bad rows to stdout, resumable with --stream-name', async (t) => {
  const server = await startPostgres();
  t.teardown(() => server.stop());
  const resolverJson = join(dir, 'resolver.json');
  writeFileSync(resolverJson, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1',
    data: { cacheSize: 50, repositories: [{ name: 'local', priority: 0, vendorPrefixes: ['com.snowplowanalytics'], connection: { embedded: { path: join(IGLU_CENTRAL, '..') } } }] },
  }));
  const input = Array.from({ length: 40 }, (_, i) => generateLine(i, { seed: 99 })).concat(['not an event']).join('\n') + '\n';
  const args = ['load', 'postgres', '--url', server.url, '--iglu-config', resolverJson, '--batch-size', '16', '--stream-name', 'stdin-test'];
  const r = await furrow(args, input);
  t.equal(r.code, 0, r.stderr);
  const bad = r.stdout.trim().split('\n');
  t.equal(bad.length, 1);
  t.match(JSON.parse(bad[0]!), { schema: /loader_parsing_error/, data: { payload: 'not an event' } });
  t.match(r.stderr, /"msg":"input finished"/);
  // The same data again under the same stream name: nothing is loaded twice.
  const again = await furrow(args, input);
  t.equal(again.code, 0);
  t.equal(again.stdout, '', 'no bad row repeated either');
  const c = new pg.Client({ connectionString: server.url });
  await c.connect();
  const n = await c.query('SELECT count(*)::int AS n FROM atomic.events');
  await c.end();
  t.equal(n.rows[0].n, 40);
  // bad rows to a file
  const badFile = join(dir, 'bad.jsonl');
  const third = await furrow([...args.slice(0, -2), '--bad', badFile], 'garbage\n');
  t.equal(third.code, 0);
  t.match(readFileSync(badFile, 'utf8'), /"payload":"garbage"/);
  // a live pipe: partial batches after --batch-max-delay, Prometheus counters on --metrics-port
  const live = spawn(process.execPath, ['--import', 'tsx', 'bin/furrow.ts', 'load', 'postgres', '--url', server.url, '--iglu-config', resolverJson,
    '--schema', 'live', '--batch-max-delay', '100', '--metrics-port', '0', '--bad', join(dir, 'live-bad.jsonl')], { stdio: ['pipe', 'ignore', 'pipe'] });
  let liveErr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`no metrics port: ${liveErr}`)), 30_000);
    live.stderr.on('data', (d: Buffer) => {
      liveErr += d;
      const m = /"port":(\d+),"msg":"serving \/metrics/.exec(liveErr);
      if (m) {
        clearTimeout(guard);
        resolve(Number(m[1]));
      }
    });
  });
  live.stdin.write(Array.from({ length: 7 }, (_, i) => generateLine(100 + i, { seed: 99 })).join('\n') + '\nbroken\n');
  let metrics = '';
  for (let i = 0; i < 100 && !/furrow_loader_events_total\{target="postgres",outcome="loaded"\} 7/.test(metrics); i++) {
    await new Promise((r) => setTimeout(r, 100));
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }
  t.match(metrics, /furrow_loader_events_total\{target="postgres",outcome="loaded"\} 7/, 'the partial batch loaded while stdin stays open');
  t.match(metrics, /furrow_loader_events_total\{target="postgres",outcome="bad"\} 1/);
  t.match(metrics, /furrow_loader_batch_seconds_count\{target="postgres"\} 1/);
  // SIGTERM while stdin is still open and idle: the loader stops after loading what it read.
  live.stdin.write(generateLine(200, { seed: 99 }) + '\n');
  for (let i = 0; i < 100 && !/outcome="loaded"\} 8/.test(metrics); i++) {
    await new Promise((r) => setTimeout(r, 100));
    metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }
  live.kill('SIGTERM');
  t.equal(await new Promise((r) => live.on('close', r)), 0, 'clean exit on SIGTERM');
  const lc = new pg.Client({ connectionString: server.url });
  await lc.connect();
  const ln = await lc.query('SELECT count(*)::int AS n FROM live.events');
  await lc.end();
  t.equal(ln.rows[0].n, 8, 'everything read before SIGTERM is in the table');

  // an unreadable input stops the loader with LOADER_INPUT
  const missing = await furrow([...args.slice(0, -2), '--input', join(dir, 'missing.tsv')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /LOADER_INPUT: reading the input failed: ENOENT/);
});
