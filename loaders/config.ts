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
import { parseDurationMs, readHoconFile } from '../config/hocon.js';
import { checkPostgresUrl } from '../config/postgres-url.js';
import { checkLogLevel, parseCommandArgs, type FlagTable } from '../bin/args.js';

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

type Kind = 'string' | 'int' | 'duration' | 'bool' | 'object';

interface KeyDef {
  kind: Kind;
  targets: readonly LoaderTarget[];
}

const ALL: readonly LoaderTarget[] = ['postgres', 'redshift', 's3'];
const DB: readonly LoaderTarget[] = ['postgres', 'redshift'];

const KEYS: Record<string, KeyDef> = {
  input: { kind: 'string', targets: ALL },
  kinesis: { kind: 'object', targets: ALL },
  batchSize: { kind: 'int', targets: ALL },
  batchMaxDelay: { kind: 'duration', targets: ALL },
  bad: { kind: 'string', targets: ALL },
  streamName: { kind: 'string', targets: ALL },
  igluConfig: { kind: 'string', targets: DB },
  region: { kind: 'string', targets: ALL },
  s3Endpoint: { kind: 'string', targets: ALL },
  logLevel: { kind: 'string', targets: ALL },
  metricsPort: { kind: 'int', targets: ALL },
  url: { kind: 'string', targets: DB },
  schema: { kind: 'string', targets: DB },
  retryFor: { kind: 'duration', targets: DB },
  stage: { kind: 'string', targets: ['redshift'] },
  iamRole: { kind: 'string', targets: ['redshift'] },
  maxError: { kind: 'int', targets: ['redshift'] },
  dryRun: { kind: 'bool', targets: ['redshift'] },
  output: { kind: 'string', targets: ['s3'] },
  rollBytes: { kind: 'int', targets: ['s3'] },
  rollTime: { kind: 'duration', targets: ['s3'] },
  purpose: { kind: 'string', targets: ['s3'] },
};

const KINESIS_KEYS = new Set(['streamName', 'appName', 'initialPosition', 'region', 'endpoint', 'dynamodbEndpoint', 'leases']);

const kebab = (k: string): string => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string): string => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The flags of `furrow load <target>`: every file key of the target, in kebab-case (`batchSize` ⇄ `--batch-size`). */
function flagTable(target: LoaderTarget): FlagTable {
  const table: Record<string, { type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const [name, def] of Object.entries(KEYS)) {
    if (def.kind === 'object' || !def.targets.includes(target) || name === 'logLevel') continue;
    table[kebab(name)] = { type: def.kind === 'bool' ? 'boolean' : 'string' };
  }
  return table;
}

/** Parses the command line (bin/args.ts: `--key value`, `--key=value`, boolean flags) into camelCase keys. */
export function parseFlags(argv: readonly string[], target: LoaderTarget, usage = `see furrow load ${target} --help`): { values: Record<string, unknown>; configFile: string | null } {
  const args = parseCommandArgs(argv, flagTable(target), usage);
  const values: Record<string, unknown> = {};
  let configFile: string | null = null;
  for (const [flag, v] of Object.entries(args.values)) {
    if (v === undefined || flag === 'help') continue;
    if (flag === 'config') configFile = v as string;
    else if (flag === 'log-level') {
      if (argv.some((a) => a === '--log-level' || a.startsWith('--log-level='))) values['logLevel'] = v;
    } else values[camel(flag)] = v;
  }
  return { values, configFile };
}

function str(key: string, v: unknown): string {
  if (typeof v !== 'string' || v === '') throw new FurrowError('CONFIG_INVALID_VALUE', `${key}: expected a non-empty string`);
  return v;
}

function int(key: string, v: unknown, min: number): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new FurrowError('CONFIG_INVALID_VALUE', `${key}: expected an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

const dur = (key: string, v: unknown): number => parseDurationMs(v, key);

function bool(key: string, v: unknown): boolean {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new FurrowError('CONFIG_INVALID_VALUE', `${key}: expected true or false`);
}

function parseKinesis(v: unknown): KinesisInputConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new FurrowError('CONFIG_INVALID_VALUE', 'kinesis: expected an object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KINESIS_KEYS.has(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `kinesis.${k} is not a known key`);
  const ip = o['initialPosition'] ?? 'TRIM_HORIZON';
  if (ip !== 'TRIM_HORIZON' && ip !== 'LATEST') throw new FurrowError('CONFIG_INVALID_VALUE', 'kinesis.initialPosition: TRIM_HORIZON or LATEST');
  const opt = (k: string): string | null => (o[k] === undefined ? null : str(`kinesis.${k}`, o[k]));
  return Object.freeze({
    streamName: str('kinesis.streamName', o['streamName']),
    appName: str('kinesis.appName', o['appName']),
    initialPosition: ip,
    region: opt('region'),
    endpoint: opt('endpoint'),
    dynamodbEndpoint: opt('dynamodbEndpoint'),
    leases: o['leases'] === undefined ? true : bool('kinesis.leases', o['leases']),
  });
}

/** Flags over the config file → frozen LoaderConfig for one target; checks required keys per target. */
export async function loadConfig(target: LoaderTarget, argv: readonly string[]): Promise<LoaderConfig> {
  const { values, configFile } = parseFlags(argv, target);
  const file = configFile === null ? {} : await readHoconFile(configFile);
  for (const k of Object.keys(file)) {
    const def = KEYS[k];
    if (def === undefined || !def.targets.includes(target)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `${k} is not a known key for furrow load ${target}`);
  }
  const raw: Record<string, unknown> = { ...file, ...values };
  const get = <T>(k: string, parse: (key: string, v: unknown) => T, dflt: T): T => (raw[k] === undefined ? dflt : parse(k, raw[k]));
  const optStr = (k: string): string | null => get(k, str, null as string | null);

  const kinesis = raw['kinesis'] === undefined ? null : parseKinesis(raw['kinesis']);
  if (kinesis !== null && values['input'] === undefined && file['input'] !== undefined) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'input and kinesis are exclusive: set one');
  }
  const input = kinesis !== null && values['input'] === undefined ? null : get('input', str, '-');
  const purpose = get('purpose', str, 'enriched');
  if (purpose !== 'enriched' && purpose !== 'bad') throw new FurrowError('CONFIG_INVALID_VALUE', `purpose: enriched or bad, got ${purpose}`);
  const schema = get('schema', str, 'atomic');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new FurrowError('CONFIG_INVALID_VALUE', `schema: '${schema}' is not a plain lower-case SQL identifier`);

  const cfg: LoaderConfig = Object.freeze({
    target,
    input,
    kinesis: kinesis !== null && input === null ? kinesis : null,
    batchSize: get('batchSize', (k, v) => int(k, v, 1), target === 'redshift' ? 100_000 : target === 'postgres' ? 2000 : 1000),
    batchMaxDelayMs: get('batchMaxDelay', dur, 1000),
    bad: get('bad', str, '-'),
    streamName: optStr('streamName'),
    igluConfig: optStr('igluConfig'),
    region: optStr('region'),
    s3Endpoint: optStr('s3Endpoint'),
    logLevel: get('logLevel', str, 'info'),
    metricsPort: get('metricsPort', (k, v) => int(k, v, 0), null as number | null),
    url: optStr('url'),
    schema,
    retryForMs: get('retryFor', dur, 10 * 60_000),
    stage: optStr('stage'),
    iamRole: optStr('iamRole'),
    maxError: get('maxError', (k, v) => int(k, v, 0), 1),
    dryRun: get('dryRun', bool, false),
    output: optStr('output'),
    rollBytes: get('rollBytes', (k, v) => int(k, v, 1), 64 * 1024 * 1024),
    rollMs: get('rollTime', dur, 5 * 60_000),
    purpose,
  });
  if (cfg.metricsPort !== null && cfg.metricsPort > 65535) throw new FurrowError('CONFIG_INVALID_VALUE', `metricsPort: ${cfg.metricsPort} is not a TCP port`);
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
