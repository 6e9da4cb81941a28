/**
 * Loader configuration: command-line flags over an optional HOCON/JSON file (`--config FILE`), parsed
 * once at start into a frozen, typed object. Flags are the file keys in kebab-case
 * (`batchSize` ⇄ `--batch-size`). An unknown key or a bad value stops start-up naming the key.
 *
 *   {
 *     url = "postgres://loader@db:5432/snowplow"      # postgres, redshift
 *     schema = atomic
 *     igluConfig = "resolver.json"                    # default: furrow's built-in registry + Iglu Central
 *     input = "-"                                     # "-" (stdin) | FILE | "s3://bucket/prefix"
 *     kinesis {                                       # instead of input: the enriched stream, with leases
 *       streamName = "enriched-good", appName = "furrow-load-postgres", initialPosition = TRIM_HORIZON
 *       region = "eu-west-1", endpoint = "http://…", dynamodbEndpoint = "http://…"
 *     }
 *     batchSize = 1000, batchMaxDelay = 1 second, bad = "-", streamName = "…"
 *   }
 */
import { FurrowError } from '../common/errors.js';
import { readHoconFile } from '../config/hocon.js';
import { checkPostgresUrl } from '../config/postgres-url.js';
import { readConfig } from '../config/reader.js';
import { t, type JsonSchema, type Static } from '../config/schema.js';
import { checkLogLevel } from '../common/logger.js';
import { postgresKeys } from './postgres/config-schema.js';
import { redshiftKeys } from './redshift/config-schema.js';
import { s3Keys } from './s3/config-schema.js';

export type LoaderTarget = 'postgres' | 'redshift' | 's3';

export interface KinesisInputConfig {
  readonly streamName: string;
  readonly appName: string;
  readonly initialPosition: 'TRIM_HORIZON' | 'LATEST';
  readonly region: string | null;
  readonly endpoint: string | null;
  readonly dynamodbEndpoint: string | null;
  /** false = no lease table (one process, in-memory Kinesis checkpoints). */
  readonly leases: boolean;
}

export interface LoaderConfig {
  readonly target: LoaderTarget;
  /** '-' = stdin, a path, or s3://bucket/prefix; null when kinesis is set. */
  readonly input: string | null;
  readonly kinesis: KinesisInputConfig | null;
  readonly batchSize: number;
  readonly batchMaxDelayMs: number;
  /** Where bad rows go: '-' (stdout) or a file (postgres/redshift); s3://… for the s3 loader. */
  readonly bad: string;
  /** Name under which the input's position is stored (default: derived from the input). */
  readonly streamName: string | null;
  readonly igluConfig: string | null;
  readonly region: string | null;
  /** S3 endpoint override (s3rver, MinIO). */
  readonly s3Endpoint: string | null;
  readonly logLevel: string;
  /** Serve /metrics and /health on this port (0 = any free port); null = off. */
  readonly metricsPort: number | null;
  // postgres / redshift
  readonly url: string | null;
  readonly schema: string;
  readonly retryForMs: number;
  // redshift
  readonly stage: string | null;
  readonly iamRole: string | null;
  readonly maxError: number;
  readonly dryRun: boolean;
  // s3
  readonly output: string | null;
  readonly rollBytes: number;
  readonly rollMs: number;
  readonly purpose: 'enriched' | 'bad';
}

/** Keys every loader takes; each target adds its own (loaders/<target>/config-schema.ts). */
const commonKeys = {
  input: t.optional(t.string()),
  kinesis: t.optional(
    t.object({
      streamName: t.string(),
      appName: t.string(),
      initialPosition: t.enum(['TRIM_HORIZON', 'LATEST'], { default: 'TRIM_HORIZON' }),
      region: t.optional(t.string()),
      endpoint: t.optional(t.string()),
      dynamodbEndpoint: t.optional(t.string()),
      leases: t.boolean({ default: true }),
    }),
  ),
  batchMaxDelay: t.duration({ default: 1000 }),
  bad: t.string({ default: '-' }),
  streamName: t.optional(t.string()),
  region: t.optional(t.string()),
  s3Endpoint: t.optional(t.string()),
  logLevel: t.string({ default: 'info' }),
  metricsPort: t.optional(t.integer({ minimum: 0, maximum: 65535 })),
};

const SCHEMAS = {
  postgres: t.object({ ...commonKeys, ...postgresKeys }),
  redshift: t.object({ ...commonKeys, ...redshiftKeys }),
  s3: t.object({ ...commonKeys, ...s3Keys }),
};

/** One loader's file and flags as its schema describes them (defaults in, durations in ms). */
type LoaderFile = Partial<Static<typeof SCHEMAS.postgres> & Static<typeof SCHEMAS.redshift> & Static<typeof SCHEMAS.s3>>;

const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The flags of `furrow load <target>`: every file key of the target's schema, in kebab-case (`batchSize` ⇄ `--batch-size`). */
export function loaderFlagTable(target: LoaderTarget): Record<string, { type: 'string' | 'boolean' }> {
  const table: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  const props = SCHEMAS[target]['properties'] as Record<string, JsonSchema>;
  for (const [name, s] of Object.entries(props)) {
    if (s['type'] === 'object' || name === 'logLevel') continue;
    table[kebab(name)] = { type: s['type'] === 'boolean' ? 'boolean' : 'string' };
  }
  return table;
}

/** What the command line gave (parsed by bin/commands/load.ts with loaderFlagTable): file keys in camelCase, and --config. */
export interface LoaderFlags {
  values: Record<string, unknown>;
  configFile: string | null;
}

/** Parsed flag values (kebab-case names) → LoaderFlags. `logLevelGiven`: --log-level was on the command line. */
export function loaderFlags(parsed: Record<string, unknown>, logLevelGiven: boolean): LoaderFlags {
  const values: Record<string, unknown> = {};
  let configFile: string | null = null;
  for (const [flag, v] of Object.entries(parsed)) {
    if (v === undefined || flag === 'help') continue;
    if (flag === 'config') configFile = v as string;
    else if (flag === 'log-level') {
      if (logLevelGiven) values['logLevel'] = v;
    } else values[camel(flag)] = v;
  }
  return { values, configFile };
}

/** Flags over the config file → frozen LoaderConfig for one target; checks required keys per target. */
export async function loadConfig(target: LoaderTarget, flags: LoaderFlags, env: NodeJS.ProcessEnv = process.env): Promise<LoaderConfig> {
  const { values, configFile } = flags;
  const file = configFile === null ? {} : await readHoconFile(configFile, env);
  if (file['kinesis'] !== undefined && values['input'] === undefined && file['input'] !== undefined) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'input and kinesis are exclusive: set one');
  }
  const f = readConfig(SCHEMAS[target], { ...file, ...values }, { unknownKey: (k) => (k.includes('.') ? `${k} is not a known key` : `${k} is not a known key for furrow load ${target}`) }) as LoaderFile;
  const kinesis = f.kinesis !== undefined && values['input'] === undefined ? f.kinesis : null;
  const input = kinesis !== null ? null : (f.input ?? '-');
  const cfg: LoaderConfig = Object.freeze({
    target,
    input,
    kinesis: kinesis === null ? null : { ...kinesis, region: kinesis.region ?? null, endpoint: kinesis.endpoint ?? null, dynamodbEndpoint: kinesis.dynamodbEndpoint ?? null },
    batchSize: f.batchSize!,
    batchMaxDelayMs: f.batchMaxDelay!,
    bad: f.bad!,
    streamName: f.streamName ?? null,
    igluConfig: f.igluConfig ?? null,
    region: f.region ?? null,
    s3Endpoint: f.s3Endpoint ?? null,
    logLevel: f.logLevel!,
    metricsPort: f.metricsPort ?? null,
    url: f.url ?? null,
    schema: f.schema ?? 'atomic',
    retryForMs: f.retryFor ?? 10 * 60_000,
    stage: f.stage ?? null,
    iamRole: f.iamRole ?? null,
    maxError: f.maxError ?? 1,
    dryRun: f.dryRun ?? false,
    output: f.output ?? null,
    rollBytes: f.rollBytes ?? 64 * 1024 * 1024,
    rollMs: f.rollTime ?? 5 * 60_000,
    purpose: f.purpose ?? 'enriched',
  });
  Object.freeze(cfg.kinesis);
  if (target === 'postgres' && cfg.url === null) throw new FurrowError('CONFIG_MISSING_KEY', 'url (--url postgres://…) is required');
  if (target === 'postgres') checkPostgresUrl(cfg.url!, 'url');
  checkLogLevel(cfg.logLevel, 'logLevel');
  if (target === 'redshift') {
    if (cfg.stage === null) throw new FurrowError('CONFIG_MISSING_KEY', 'stage (--stage s3://bucket/prefix) is required');
    if (cfg.url === null && !cfg.dryRun) throw new FurrowError('CONFIG_MISSING_KEY', 'url (--url postgres://…redshift…) is required unless --dry-run');
  }
  if (target === 's3' && cfg.output === null) throw new FurrowError('CONFIG_MISSING_KEY', 'output (--output s3://bucket/prefix) is required');
  return cfg;
}
