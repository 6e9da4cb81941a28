/**
 * `furrow forward --config FILE`: the forwarder configuration, parsed once at start into a frozen, typed object.
 * The file's shape is the schema below (config/schema.ts; types derived from it); each destination's
 * `target { ... }` block is read with the schema its target declares beside its implementation
 * (forwarders/targets/<type>-config.ts). config/reader.ts does the reading: any key the schema does not
 * name stops start-up with CONFIG_UNKNOWN_KEY naming its full path (`destinations[1].target.api_kye`).
 * Secrets are never in the file: the file names an environment variable (`api_key_env = "AMPLITUDE_API_KEY"`)
 * and the value is read here, once, into a Secret (which prints as `[redacted]`).
 *
 * Reference with every key and default: docs/forwarders.md; examples: config/examples/forward*.
 */
import { FurrowError } from '../common/errors.js';
import { readHoconFile } from '../config/hocon.js';
import { compileReader, deepFreeze, readConfig, readConfigThen } from '../config/reader.js';
import { t, type Schema, type Static } from '../config/schema.js';
import { Secret } from '../common/secret.js';
import { TARGET_CONFIGS, VENDOR_LIMITS, type TargetConfig } from './targets/target-configs.js';
import type { TargetConfigContext } from './targets/target-config.js';

export { VENDOR_LIMITS };
export type {
  AmplitudeTargetConfig,
  BrazeTargetConfig,
  Ga4TargetConfig,
  HttpAuth,
  HttpTargetConfig,
  KinesisTargetConfig,
  MixpanelTargetConfig,
  TargetConfig,
  VendorCommon,
} from './targets/target-configs.js';

// ---------------------------------------------------------------- types

export type InputConfig =
  | { readonly type: 'stdin'; readonly batchSize: number; readonly lingerMs: number }
  | { readonly type: 'file'; readonly path: string; readonly batchSize: number; readonly lingerMs: number }
  | {
      readonly type: 'kinesis';
      readonly streamName: string;
      readonly appName: string;
      readonly region: string | null;
      readonly endpoint: string | null;
      readonly dynamodbEndpoint: string | null;
      readonly initialPosition: 'TRIM_HORIZON' | 'LATEST';
      readonly maxRecords: number;
    };

export type DeadLetterConfig =
  | { readonly type: 'file'; readonly path: string }
  | { readonly type: 'kinesis'; readonly streamName: string; readonly region: string | null; readonly endpoint: string | null };

export interface FieldCondition {
  readonly path: string;
  readonly equals: ReadonlyArray<string | number | boolean> | null;
  readonly regex: string | null;
  readonly exists: boolean | null;
  readonly negate: boolean;
}

export interface FilterConfig {
  /** `page_view` (event_name) or `com.acme/checkout` (event_vendor/event_name). */
  readonly eventNames: readonly string[] | null;
  readonly eventVendors: readonly string[] | null;
  readonly appIds: readonly string[] | null;
  readonly platforms: readonly string[] | null;
  readonly fields: readonly FieldCondition[];
  readonly match: 'all' | 'any';
}

export type MappingValue = { readonly path: string; readonly default: unknown } | { readonly value: unknown };

export type TransformConfig =
  | { readonly type: 'mapping'; readonly fields: Readonly<Record<string, MappingValue>>; readonly mode: 'merge' | 'replace' }
  | { readonly type: 'js'; readonly script: string; readonly origin: string; readonly timeoutMs: number; readonly maxMemoryMb: number };

export interface RetryConfig {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

export interface DestinationConfig {
  readonly name: string;
  readonly filter: FilterConfig;
  readonly transform: TransformConfig | null;
  readonly target: TargetConfig;
  readonly batch: { readonly maxEvents: number; readonly maxBytes: number; readonly flushIntervalMs: number };
  readonly queue: { readonly maxEvents: number; readonly whenFull: 'pause' | 'dead_letter' };
  readonly concurrency: number;
  readonly rateLimit: { readonly requestsPerSecond: number | null; readonly eventsPerSecond: number | null };
  readonly retry: RetryConfig;
  readonly requestTimeoutMs: number;
}

export interface ForwardConfig {
  readonly input: InputConfig;
  readonly deadLetter: DeadLetterConfig;
  readonly destinations: readonly DestinationConfig[];
  readonly metricsPort: number | null;
  readonly progressIntervalMs: number;
  /** Every secret the config read (for redaction of logs and dead-letter bodies). */
  readonly secrets: readonly Secret[];
}


// ---------------------------------------------------------------- the file's schema

const durationKeys = { batch_size: t.integer({ minimum: 1, maximum: 100_000, default: 500 }), linger: t.duration({ default: 50 }) };

const inputSchema = t.union('type', {
  stdin: t.object(durationKeys),
  file: t.object({ path: t.string(), ...durationKeys }),
  kinesis: t.object({
    stream_name: t.string(),
    app_name: t.string(),
    region: t.optional(t.string()),
    endpoint: t.optional(t.httpUrl()),
    dynamodb_endpoint: t.optional(t.httpUrl()),
    initial_position: t.enum(['TRIM_HORIZON', 'LATEST'], { default: 'TRIM_HORIZON' }),
    max_records: t.integer({ minimum: 1, maximum: 10_000, default: 1000 }),
  }),
}, { default: 'stdin' });

const deadLetterSchema = t.union(
  'type',
  {
    file: t.object({ path: t.string() }),
    kinesis: t.object({ stream_name: t.string(), region: t.optional(t.string()), endpoint: t.optional(t.httpUrl()) }),
  },
  { default: 'file', missing: 'where events go when a destination gives up on them' },
);

const nameList = t.optional(t.array(t.string(), { single: true, expect: 'must be a list of non-empty strings' }));

const filterSchema = t.object({
  event_names: nameList,
  event_vendors: nameList,
  app_ids: nameList,
  platforms: nameList,
  fields: t.array(
    t.object({
      path: t.string(),
      equals: t.optional(t.array(t.scalar(), { single: true, expect: 'must be a value or a list of strings, numbers or booleans' })),
      regex: t.optional(t.string()),
      exists: t.optional(t.boolean()),
      negate: t.boolean({ default: false }),
    }),
    { default: [] },
  ),
  match: t.enum(['all', 'any'], { default: 'all' }),
});

const transformSchema = t.union('type', {
  // field name → path (string) or { path, default } or { value }: checked in readMapping
  mapping: t.object({ fields: t.record(t.any()), mode: t.enum(['merge', 'replace'], { default: 'merge' }) }),
  js: t.object({
    file: t.optional(t.string()),
    script: t.optional(t.string()),
    timeout: t.duration({ default: 100, minimumMs: 1 }),
    // The script process (a node of its own) needs ~50 MB before the script allocates anything.
    max_memory_mb: t.integer({ minimum: 64, maximum: 65_536, default: 256 }),
  }),
});

const mappingValueSchema = t.object({ path: t.optional(t.string()), default: t.optional(t.any()), value: t.optional(t.any()) });

const retrySchema = t.object({
  max_attempts: t.optional(t.integer({ minimum: 1, maximum: 1000 })),
  initial_delay: t.optional(t.duration()),
  max_delay: t.optional(t.duration()),
  multiplier: t.optional(t.number({ minimum: 1 })),
});

const TARGET_TYPES = Object.keys(TARGET_CONFIGS) as TargetConfig['type'][];
const MAX_BATCH_EVENTS = Math.max(...Object.values(VENDOR_LIMITS).map((l) => l.maxEvents));
const MAX_BATCH_BYTES = Math.max(...Object.values(VENDOR_LIMITS).map((l) => l.maxBytes));

const destinationSchema = t.object({
  name: t.string(),
  filter: t.optional(filterSchema),
  transform: t.optional(transformSchema),
  // The target's own keys are read with its schema (forwarders/targets/<type>-config.ts).
  target: t.object({ type: t.enum(TARGET_TYPES) }, { open: true }),
  batch: t.object(
    {
      max_events: t.optional(t.integer({ minimum: 1, maximum: MAX_BATCH_EVENTS })),
      max_bytes: t.optional(t.integer({ minimum: 64, maximum: MAX_BATCH_BYTES })),
      flush_interval: t.duration({ default: 200 }),
    },
    { default: {} },
  ),
  queue: t.object({ max_events: t.integer({ minimum: 1, maximum: 10_000_000, default: 10_000 }), when_full: t.enum(['pause', 'dead_letter'], { default: 'pause' }) }, { default: {} }),
  concurrency: t.integer({ minimum: 1, maximum: 256, default: 4 }),
  rate_limit: t.object({ requests_per_second: t.optional(t.number({ minimum: 0.001 })), events_per_second: t.optional(t.number({ minimum: 0.001 })) }, { default: {} }),
  retry: t.optional(retrySchema),
  request_timeout: t.duration({ default: 10_000, minimumMs: 1 }),
});

const forwardFileSchema = t.object({
  input: t.optional(inputSchema),
  dead_letter: deadLetterSchema,
  retry: t.optional(retrySchema),
  destinations: t.array(destinationSchema),
  metrics: t.optional(t.object({ port: t.integer({ minimum: 0, maximum: 65535 }) })),
  progress_interval: t.duration({ default: 10_000, minimumMs: 100 }),
});

/** The forwarder file as the schema describes it (snake_case keys, defaults filled in, durations in ms). */
export type ForwardFile = Static<typeof forwardFileSchema>;

const readForwardFile = compileReader(forwardFileSchema);

// ---------------------------------------------------------------- from the file to ForwardConfig

const DEFAULT_RETRY: RetryConfig = Object.freeze({ maxAttempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2 });

function toInput(i: Static<typeof inputSchema> | undefined): InputConfig {
  if (i === undefined) return { type: 'stdin', batchSize: 500, lingerMs: 50 };
  switch (i.type) {
    case 'stdin':
      return { type: 'stdin', batchSize: i.batch_size, lingerMs: i.linger };
    case 'file':
      return { type: 'file', path: i.path, batchSize: i.batch_size, lingerMs: i.linger };
    case 'kinesis':
      return {
        type: 'kinesis',
        streamName: i.stream_name,
        appName: i.app_name,
        region: i.region ?? null,
        endpoint: i.endpoint ?? null,
        dynamodbEndpoint: i.dynamodb_endpoint ?? null,
        initialPosition: i.initial_position,
        maxRecords: i.max_records,
      };
  }
}

function toDeadLetter(d: Static<typeof deadLetterSchema>): DeadLetterConfig {
  return d.type === 'file' ? { type: 'file', path: d.path } : { type: 'kinesis', streamName: d.stream_name, region: d.region ?? null, endpoint: d.endpoint ?? null };
}

function toFilter(f: Static<typeof filterSchema> | undefined, path: string): FilterConfig {
  if (f === undefined) return { eventNames: null, eventVendors: null, appIds: null, platforms: null, fields: [], match: 'all' };
  const fields = f.fields.map((c, i): FieldCondition => {
    const equals = c.equals ?? null;
    const regex = c.regex ?? null;
    const exists = c.exists ?? null;
    if ([equals, regex, exists].filter((x) => x !== null).length !== 1) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.fields[${i}]: give exactly one of equals, regex, exists`);
    }
    return { path: c.path, equals, regex, exists, negate: c.negate };
  });
  return { eventNames: f.event_names ?? null, eventVendors: f.event_vendors ?? null, appIds: f.app_ids ?? null, platforms: f.platforms ?? null, fields, match: f.match };
}

async function toTransform(x: Static<typeof transformSchema> | undefined, path: string, baseDir: string): Promise<TransformConfig | null> {
  if (x === undefined) return null;
  if (x.type === 'mapping') {
    const fields: Record<string, MappingValue> = {};
    for (const [k, v] of Object.entries(x.fields)) {
      if (typeof v === 'string') {
        fields[k] = { path: v, default: undefined };
        continue;
      }
      const m = readConfig(mappingValueSchema, v, { path: `${path}.fields.${k}` });
      if (m.value !== undefined) fields[k] = { value: m.value };
      else if (m.path === undefined) throw new FurrowError('CONFIG_MISSING_KEY', `${path}.fields.${k}.path is required`);
      else fields[k] = { path: m.path, default: m.default };
    }
    return { type: 'mapping', fields, mode: x.mode };
  }
  if ((x.file === undefined) === (x.script === undefined)) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}: give exactly one of file, script`);
  let script = x.script ?? '';
  let origin = `${path}.script`;
  if (x.file !== undefined) {
    const { readFile } = await import('node:fs/promises');
    const { resolve } = await import('node:path');
    const p = resolve(baseDir, x.file);
    try {
      script = await readFile(p, 'utf8');
    } catch (e) {
      throw new FurrowError('CONFIG_FILE_UNREADABLE', `${path}.file: cannot read ${p}: ${(e as Error).message}`);
    }
    origin = p;
  }
  return { type: 'js', script, origin, timeoutMs: x.timeout, maxMemoryMb: x.max_memory_mb };
}

function toRetry(r: Static<typeof retrySchema> | undefined, def: RetryConfig, path: string): RetryConfig {
  if (r === undefined) return def;
  const out: RetryConfig = {
    maxAttempts: r.max_attempts ?? def.maxAttempts,
    initialDelayMs: r.initial_delay ?? def.initialDelayMs,
    maxDelayMs: r.max_delay ?? def.maxDelayMs,
    multiplier: r.multiplier ?? def.multiplier,
  };
  if (out.maxDelayMs < out.initialDelayMs) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.max_delay: must be ≥ initial_delay`);
  return out;
}

function toTarget(block: Static<typeof destinationSchema>['target'], path: string, env: NodeJS.ProcessEnv, secrets: Secret[]): TargetConfig {
  const { type, ...keys } = block as { type: TargetConfig['type'] } & Record<string, unknown>;
  const mod = TARGET_CONFIGS[type];
  const cx: TargetConfigContext = {
    path,
    secret(key, envName) {
      const value = env[envName];
      if (value === undefined || value === '') throw new FurrowError('CONFIG_MISSING_KEY', `${path}.${key}: environment variable ${envName} is not set`);
      const s = new Secret(envName, value);
      secrets.push(s);
      return s;
    },
  };
  // Each module's build takes the value its own schema describes.
  return readConfigThen(mod.schema as Schema<unknown>, keys, { path }, (b) => (mod.build as (b: unknown, cx: TargetConfigContext) => TargetConfig)(b, cx));
}

async function toDestination(d: Static<typeof destinationSchema>, path: string, defRetry: RetryConfig, baseDir: string, names: Set<string>, env: NodeJS.ProcessEnv, secrets: Secret[]): Promise<DestinationConfig> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(d.name)) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.name: use letters, digits, . _ - (at most 64)`);
  if (names.has(d.name)) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.name: destination name ${d.name} is used twice`);
  names.add(d.name);
  const filter = toFilter(d.filter, `${path}.filter`);
  const transform = await toTransform(d.transform, `${path}.transform`, baseDir);
  const target = toTarget(d.target, `${path}.target`, env, secrets);
  const mod = TARGET_CONFIGS[target.type];
  const limits = mod.limits;
  const def = (mod as { defaultBatch?: (c: TargetConfig) => { maxEvents: number; maxBytes: number } }).defaultBatch?.(target) ?? limits;
  const capped = (key: 'max_events' | 'max_bytes', v: number | undefined, min: number, max: number, dflt: number): number => {
    if (v === undefined) return Math.min(dflt, max);
    if (v > max) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.batch.${key}: must be an integer from ${min} to ${max} (got ${v})`);
    return v;
  };
  const batch = {
    maxEvents: capped('max_events', d.batch.max_events, 1, limits.maxEvents, def.maxEvents),
    maxBytes: capped('max_bytes', d.batch.max_bytes, 64, limits.maxBytes, def.maxBytes),
    flushIntervalMs: d.batch.flush_interval,
  };
  if (target.type === 'http' && target.bodyFormat === 'single' && batch.maxEvents !== 1) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.batch.max_events: body_format "single" sends one event per request (max_events = 1)`);
  }
  return {
    name: d.name,
    filter,
    transform,
    target,
    batch,
    queue: { maxEvents: d.queue.max_events, whenFull: d.queue.when_full },
    concurrency: d.concurrency,
    rateLimit: { requestsPerSecond: d.rate_limit.requests_per_second ?? null, eventsPerSecond: d.rate_limit.events_per_second ?? null },
    retry: toRetry(d.retry, defRetry, `${path}.retry`),
    requestTimeoutMs: d.request_timeout,
  };
}

/** Parses an already-read config object. `baseDir` resolves relative file paths (JS transformations). */
export async function parseForwardConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): Promise<ForwardConfig> {
  const file = readForwardFile(raw);
  if (file.destinations.length === 0) throw new FurrowError('CONFIG_INVALID_VALUE', 'destinations: give at least one destination');
  const secrets: Secret[] = [];
  const defRetry = toRetry(file.retry, DEFAULT_RETRY, 'retry');
  const names = new Set<string>();
  const destinations: DestinationConfig[] = [];
  for (let i = 0; i < file.destinations.length; i++) {
    destinations.push(await toDestination(file.destinations[i]!, `destinations[${i}]`, defRetry, baseDir, names, env, secrets));
  }
  return deepFreeze({
    input: toInput(file.input),
    deadLetter: toDeadLetter(file.dead_letter),
    destinations,
    metricsPort: file.metrics?.port ?? null,
    progressIntervalMs: file.progress_interval,
    secrets,
  });
}

/** Reads and parses a HOCON/JSON forwarder config file. */
export async function loadForwardConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ForwardConfig> {
  const { dirname, resolve } = await import('node:path');
  const raw = await readHoconFile(path, env);
  return parseForwardConfig(raw, env, dirname(resolve(path)));
}
