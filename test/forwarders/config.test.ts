import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FurrowError } from '../../common/errors.js';
import { loadForwardConfig, parseForwardConfig } from '../../forwarders/config.js';
import { Secret } from '../../common/secret.js';

const ENV = {
  WEBHOOK_API_KEY: 'wh-secret-1234',
  GA4_API_SECRET: 'ga4-secret-5678',
  AMPLITUDE_API_KEY: 'amp-secret-9012',
  MIXPANEL_PROJECT_TOKEN: 'mp-token-3456',
  BRAZE_API_KEY: 'braze-secret-7890',
};

const minimal = (dest: Record<string, unknown> = {}, top: Record<string, unknown> = {}) => ({
  dead_letter: { path: '/tmp/dlq.jsonl' },
  destinations: [{ name: 'd1', target: { type: 'http', url: 'http://127.0.0.1:1/x' }, ...dest }],
  ...top,
});

/** Asserts parse fails with this code and a message matching `message`. */
async function rejects(t: Test, raw: Record<string, unknown>, code: string, message: RegExp, env: Record<string, string> = ENV): Promise<void> {
  try {
    await parseForwardConfig(raw, env);
    t.fail(`expected ${code}`);
  } catch (e) {
    t.ok(e instanceof FurrowError, 'a FurrowError');
    t.equal((e as FurrowError).code, code);
    t.match((e as Error).message, message);
  }
}

t.test('every example config parses (with its secrets in the environment)', async (t) => {
  const dir = 'config/examples';
  const files = readdirSync(dir).filter((f) => /^forward.*\.(json|hocon)$/.test(f));
  t.ok(files.length >= 3, `${files.length} examples`);
  for (const f of files) {
    const cfg = await loadForwardConfig(join(dir, f), ENV);
    t.ok(cfg.destinations.length > 0, f);
    t.ok(Object.isFrozen(cfg) && Object.isFrozen(cfg.destinations) && Object.isFrozen(cfg.destinations[0]!.target), `${f} is frozen`);
  }
});

t.test('the full example: defaults, vendor limits, secrets as Secret', async (t) => {
  const cfg = await loadForwardConfig('config/examples/forward.hocon', ENV);
  const by = Object.fromEntries(cfg.destinations.map((d) => [d.name, d]));
  t.equal(by.ga4!.batch.maxEvents, 25, 'GA4 batch defaults to its 25-event request limit');
  t.equal(by.amplitude!.batch.maxEvents, 2000);
  t.equal(by.braze!.batch.maxEvents, 75);
  t.equal(by.webhook!.batch.maxEvents, 50);
  t.equal(by.webhook!.rateLimit.requestsPerSecond, 50);
  t.equal(by.amplitude!.queue.maxEvents, 20000);
  t.equal(by.mixpanel!.retry.maxAttempts, 6, 'top-level retry is the default');
  t.equal(cfg.secrets.length, 5);
  const ga4 = by.ga4!.target;
  t.ok(ga4.type === 'ga4' && ga4.apiSecret instanceof Secret);
  t.equal(JSON.stringify(cfg).includes('ga4-secret-5678'), false, 'JSON of the whole config does not show a secret');
  t.equal(String(ga4.type === 'ga4' && ga4.apiSecret), '[redacted]');
  t.ok(by.braze!.transform?.type === 'js' && by.braze!.transform.script.includes('function transform'), 'JS file read relative to the config');
  const mapping = by.amplitude!.transform;
  t.ok(mapping?.type === 'mapping' && 'user_properties.plan' in mapping.fields, 'a quoted HOCON key with dots stays one key');
});

t.test('unknown keys fail at start, naming the full path', async (t) => {
  await rejects(t, { ...minimal(), extra: 1 }, 'CONFIG_UNKNOWN_KEY', /^CONFIG_UNKNOWN_KEY: extra is not a known key/);
  await rejects(t, minimal({ target: { type: 'http', url: 'http://x/', urll: 1 } }), 'CONFIG_UNKNOWN_KEY', /destinations\[0\]\.target\.urll/);
  await rejects(t, minimal({ filter: { app_id: ['x'] } }), 'CONFIG_UNKNOWN_KEY', /destinations\[0\]\.filter\.app_id/);
  await rejects(t, minimal({ batch: { max_event: 1 } }), 'CONFIG_UNKNOWN_KEY', /batch\.max_event/);
  await rejects(t, minimal({ filter: { fields: [{ path: 'app_id', equals: 'x', regexp: 'y' }] } }), 'CONFIG_UNKNOWN_KEY', /fields\[0\]\.regexp/);
  await rejects(t, minimal({ target: { type: 'amplitude', api_key_env: 'AMPLITUDE_API_KEY', api_key: 'inline' } }), 'CONFIG_UNKNOWN_KEY', /target\.api_key /);
});

t.test('bad values fail at start with the key named', async (t) => {
  await rejects(t, minimal({ target: { type: 'segment' } }), 'CONFIG_INVALID_VALUE', /target\.type: must be one of http, ga4/);
  await rejects(t, minimal({ batch: { max_events: 26 }, target: { type: 'ga4', measurement_id: 'G-1', api_secret_env: 'GA4_API_SECRET' } }), 'CONFIG_INVALID_VALUE', /max_events: must be an integer from 1 to 25/);
  await rejects(t, minimal({ concurrency: 0 }), 'CONFIG_INVALID_VALUE', /concurrency/);
  await rejects(t, minimal({ request_timeout: 'soon' }), 'CONFIG_INVALID_VALUE', /request_timeout: not a duration/);
  await rejects(t, minimal({ target: { type: 'http', url: 'ftp://x' } }), 'CONFIG_INVALID_VALUE', /url: must be an http or https URL/);
  await rejects(t, minimal({ filter: { fields: [{ path: 'app_id' }] } }), 'CONFIG_INVALID_VALUE', /exactly one of equals, regex, exists/);
  await rejects(t, minimal({ target: { type: 'http', url: 'http://x/', body_format: 'template' } }), 'CONFIG_INVALID_VALUE', /body_template/);
  await rejects(t, minimal({ transform: { type: 'js', script: 'x', file: 'y' } }), 'CONFIG_INVALID_VALUE', /exactly one of file, script/);
  await rejects(t, { ...minimal(), destinations: [] }, 'CONFIG_INVALID_VALUE', /at least one destination/);
  await rejects(t, { destinations: minimal().destinations }, 'CONFIG_MISSING_KEY', /dead_letter is required/);
  await rejects(t, { ...minimal(), destinations: [minimal().destinations[0], minimal().destinations[0]] }, 'CONFIG_INVALID_VALUE', /used twice/);
  await rejects(t, minimal({ target: { type: 'mixpanel', project_token_env: 'MIXPANEL_PROJECT_TOKEN', service_account: { username: 'u', secret_env: 'BRAZE_API_KEY' } } }), 'CONFIG_INVALID_VALUE', /exactly one of project_token_env, service_account/);
  await rejects(t, minimal({ target: { type: 'braze', api_key_env: 'BRAZE_API_KEY' } }), 'CONFIG_MISSING_KEY', /target\.base_url is required/);
});

t.test('a secret named in the config must be in the environment; its value is never in the error', async (t) => {
  await rejects(t, minimal({ target: { type: 'amplitude', api_key_env: 'AMP_KEY' } }), 'CONFIG_MISSING_KEY', /api_key_env: environment variable AMP_KEY is not set/, {});
  await rejects(t, minimal({ target: { type: 'amplitude', api_key_env: 'not a name' } }), 'CONFIG_INVALID_VALUE', /must name an environment variable/);
  const cfg = await parseForwardConfig(minimal({ target: { type: 'http', url: 'http://x/', auth: { type: 'bearer', token_env: 'T' } } }), { T: 'tok-abcdef' });
  t.equal(cfg.secrets[0]!.reveal(), 'tok-abcdef');
  t.notMatch(JSON.stringify(cfg), /tok-abcdef/);
});

t.test('input and dead letter sections', async (t) => {
  const k = await parseForwardConfig(
    minimal({}, { input: { type: 'kinesis', stream_name: 's', app_name: 'a', endpoint: 'http://127.0.0.1:4567' }, dead_letter: { type: 'kinesis', stream_name: 'dlq' } }),
    ENV,
  );
  t.match(k.input, { type: 'kinesis', streamName: 's', appName: 'a', endpoint: 'http://127.0.0.1:4567', initialPosition: 'TRIM_HORIZON' });
  t.match(k.deadLetter, { type: 'kinesis', streamName: 'dlq' });
  await rejects(t, minimal({}, { input: { type: 'kinesis', stream_name: 's' } }), 'CONFIG_MISSING_KEY', /input\.app_name is required/);
  const d = await parseForwardConfig(minimal(), ENV);
  t.match(d.input, { type: 'stdin', batchSize: 500 });
});
