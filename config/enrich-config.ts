/**
 * The enricher's configuration: Snowplow enrich-kinesis's HOCON file (6.x layout, config.kinesis.reference.hocon,
 * and the 3.x–5.x layout with `type = "Kinesis"`, `output.pii`, `featureFlags`, `concurrency`), read once at start
 * into a frozen, typed object.
 *
 *   file ──readHoconFile (env substitution)──▶ plain object ──Section walker──▶ deepFreeze(EnrichConfig)
 *
 * Unknown keys stop start-up (CONFIG_UNKNOWN_KEY). Keys Snowplow uses for things furrow does not do but that do
 * not change the data (telemetry, parallelism fractions, Iglu retry tuning, license) are accepted and listed in
 * `ignored`. Options furrow cannot honour (StatsD, Sentry, identity, metadata) stop
 * start-up with CONFIG_UNSUPPORTED naming the key. furrow's own options: `input.leases` (default true),
 * `javascript.timeout` and `javascript.maxMemoryMb` (the JavaScript enrichment's limits, docs/security.md).
 */
import { FurrowError } from '../common/errors.js';
import { DEFAULT_ATOMIC_FIELD_LIMITS } from '../enricher/atomic-fields.js';
import { parseDurationMs, readHoconFile } from './hocon.js';

export type InitialPositionConfig = 'TRIM_HORIZON' | 'LATEST' | { readonly timestamp: Date };

export interface KinesisInputConfig {
  readonly streamName: string;
  readonly appName: string;
  readonly initialPosition: InitialPositionConfig;
  readonly maxRecords: number;
  /** `retrievalMode.idleTimeBetweenReads`; null = the source's default. */
  readonly idleTimeBetweenReadsMs: number | null;
  readonly leaseDurationMs: number;
  readonly region: string | null;
  readonly customEndpoint: string | null;
  readonly dynamodbCustomEndpoint: string | null;
  /** KCL-style DynamoDB leases (several processes share the shards); false = this process reads every shard. */
  readonly leases: boolean;
  readonly workerIdentifier: string | null;
}

export interface KinesisOutputConfig {
  readonly streamName: string;
  readonly region: string | null;
  readonly customEndpoint: string | null;
  readonly recordLimit: number;
  readonly byteLimit: number;
  /** Atomic field whose value is the partition key; null = random UUID per record. */
  readonly partitionKey: string | null;
  readonly maxRetries: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface ValidationConfig {
  readonly acceptInvalid: boolean;
  readonly atomicFieldsLimits: Readonly<Record<string, number>>;
  readonly maxJsonDepth: number;
}

export interface EnrichConfig {
  readonly input: KinesisInputConfig | null;
  readonly output: {
    readonly good: KinesisOutputConfig | null;
    readonly bad: KinesisOutputConfig | null;
    readonly pii: KinesisOutputConfig | null;
    /** Failed events (6.x): failing events as TSV with failure entities, besides their bad rows. */
    readonly failed: KinesisOutputConfig | null;
  };
  readonly assetsUpdatePeriodMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly validation: ValidationConfig;
  readonly decompression: { readonly maxBytesSinglePayload: number; readonly maxBytesInBatch: number };
  /** `monitoring.healthProbe.port`: furrow serves /health and /metrics (Prometheus) there; null = off. */
  readonly metricsPort: number | null;
  /**
   * The JavaScript enrichment's script sandbox (docs/security.md): furrow's `javascript.timeout` (per event) and
   * `javascript.maxMemoryMb` (the script process), and Snowplow's `validation.exitOnJsCompileError`.
   */
  readonly javascript: { readonly timeoutMs: number; readonly maxMemoryMb: number; readonly exitOnCompileError: boolean };
  /** Accepted keys that have no effect in furrow (logged at start). */
  readonly ignored: readonly string[];
}

export const DEFAULT_ENRICH_CONFIG: EnrichConfig = deepFreeze({
  input: null,
  output: { good: null, bad: null, pii: null, failed: null },
  assetsUpdatePeriodMs: 7 * 86_400_000,
  httpRequestTimeoutMs: 5000,
  validation: { acceptInvalid: false, atomicFieldsLimits: { ...DEFAULT_ATOMIC_FIELD_LIMITS }, maxJsonDepth: 50 },
  decompression: { maxBytesSinglePayload: 10_000_000, maxBytesInBatch: 100_000_000 },
  metricsPort: null,
  javascript: { timeoutMs: 1000, maxMemoryMb: 256, exitOnCompileError: true },
  ignored: [],
});

export async function readEnrichConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<EnrichConfig> {
  return parseEnrichConfig(await readHoconFile(path, env), path);
}

const UNSUPPORTED: Readonly<Record<string, string>> = {
  'monitoring.metrics.statsd': 'StatsD metrics are not supported; furrow exposes Prometheus metrics on monitoring.healthProbe.port',
  'monitoring.sentry': 'Sentry reporting is not supported; errors are logged as JSON on stderr',
  identity: 'the identity service integration is a commercial Snowplow feature and is not supported',
  metadata: 'event metadata reporting to a Snowplow endpoint is not supported',
};

class Section {
  private readonly used = new Set<string>();
  constructor(readonly obj: Record<string, unknown>, readonly path: string, private readonly ignored: string[]) {}

  private key(k: string): string {
    return this.path === '' ? k : `${this.path}.${k}`;
  }
  has(k: string): boolean {
    return Object.hasOwn(this.obj, k) && this.obj[k] !== null && this.obj[k] !== undefined;
  }
  private get(k: string): unknown {
    this.used.add(k);
    return this.obj[k];
  }
  section(k: string): Section | null {
    if (!this.has(k)) {
      this.used.add(k);
      return null;
    }
    const v = this.get(k);
    if (typeof v !== 'object' || Array.isArray(v)) throw invalid(this.key(k), 'must be an object', v);
    return new Section(v as Record<string, unknown>, this.key(k), this.ignored);
  }
  str(k: string, def: string | null): string | null {
    if (!this.has(k)) { this.used.add(k); return def; }
    const v = this.get(k);
    if (typeof v !== 'string' || v === '') throw invalid(this.key(k), 'must be a non-empty string', v);
    return v;
  }
  reqStr(k: string): string {
    const v = this.str(k, null);
    if (v === null) throw new FurrowError('CONFIG_MISSING_KEY', `${this.key(k)} is required`);
    return v;
  }
  num(k: string, def: number, min = 0): number {
    if (!this.has(k)) { this.used.add(k); return def; }
    const v = this.get(k);
    const n = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min) throw invalid(this.key(k), `must be a number ≥ ${min}`, v);
    return n;
  }
  bool(k: string, def: boolean): boolean {
    if (!this.has(k)) { this.used.add(k); return def; }
    const v = this.get(k);
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw invalid(this.key(k), 'must be true or false', v);
  }
  duration(k: string, defMs: number): number {
    if (!this.has(k)) { this.used.add(k); return defMs; }
    return parseDurationMs(this.get(k), this.key(k));
  }
  /** Accepts the key without using it. */
  ignore(...keys: string[]): void {
    for (const k of keys) {
      if (Object.hasOwn(this.obj, k)) this.ignored.push(this.key(k));
      this.used.add(k);
    }
  }
  unsupported(): void {
    for (const k of Object.keys(this.obj)) {
      const reason = UNSUPPORTED[this.key(k)];
      if (reason !== undefined && this.obj[k] !== null && this.obj[k] !== undefined) {
        throw new FurrowError('CONFIG_UNSUPPORTED', `${this.key(k)}: ${reason}`);
      }
    }
  }
  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.used.has(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `unknown configuration key ${this.key(k)}`);
    }
  }
}

function invalid(key: string, what: string, v: unknown): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `${key} ${what} (got ${JSON.stringify(v)})`);
}

function initialPosition(s: Section | null): InitialPositionConfig {
  if (s === null) return 'TRIM_HORIZON';
  const type = s.str('type', 'TRIM_HORIZON');
  let out: InitialPositionConfig;
  if (type === 'TRIM_HORIZON' || type === 'LATEST') out = type;
  else if (type === 'AT_TIMESTAMP') {
    const ts = s.reqStr('timestamp');
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) throw invalid(`${s.path}.timestamp`, 'must be an ISO-8601 timestamp', ts);
    out = { timestamp: d };
  } else throw invalid(`${s.path}.type`, 'must be TRIM_HORIZON, LATEST or AT_TIMESTAMP', type);
  s.done();
  return out;
}

/** 5.x configs name the transport: only Kinesis is available. */
function kinesisType(s: Section): void {
  const type = s.str('type', 'Kinesis');
  if (type !== 'Kinesis') throw new FurrowError('CONFIG_UNSUPPORTED', `${s.path}.type: only Kinesis is supported (got ${type}); use --input/--output for files and stdin/stdout`);
}

function kinesisInput(s: Section): KinesisInputConfig {
  kinesisType(s);
  const streamName = s.reqStr('streamName');
  const appName = s.str('appName', 'snowplow-enrich')!;
  const pos = initialPosition(s.section('initialPosition'));
  let maxRecords = 1000;
  let idleTimeBetweenReadsMs: number | null = null;
  const retrieval = s.section('retrievalMode');
  if (retrieval !== null) {
    const type = retrieval.str('type', 'Polling');
    if (type !== 'Polling') throw new FurrowError('CONFIG_UNSUPPORTED', `${retrieval.path}.type: only Polling retrieval is supported (got ${type})`);
    maxRecords = retrieval.num('maxRecords', 1000, 1);
    if (retrieval.has('idleTimeBetweenReads')) idleTimeBetweenReadsMs = retrieval.duration('idleTimeBetweenReads', 0);
    retrieval.done();
  }
  const leaseDurationMs = s.duration('leaseDuration', 10_000);
  const out: KinesisInputConfig = {
    streamName,
    appName,
    initialPosition: pos,
    maxRecords,
    idleTimeBetweenReadsMs,
    leaseDurationMs,
    region: s.str('region', null),
    customEndpoint: s.str('customEndpoint', null),
    dynamodbCustomEndpoint: s.str('dynamodbCustomEndpoint', null),
    leases: s.bool('leases', true),
    workerIdentifier: s.str('workerIdentifier', null),
  };
  s.ignore('maxLeasesToStealAtOneTimeFactor', 'checkpointThrottledBackoffPolicy', 'debounceCheckpoints', 'cloudwatchCustomEndpoint', 'bufferSize');
  s.done();
  return out;
}

function kinesisOutput(s: Section): KinesisOutputConfig {
  kinesisType(s);
  const throttled = s.section('throttledBackoffPolicy');
  const general = s.section('backoffPolicy');
  // One backoff in furrow's writer: delays from the throttling policy (6.x), retries from backoffPolicy (5.x).
  const backoff = throttled ?? general;
  const minBackoffMs = backoff?.duration('minBackoff', 100) ?? 100;
  const maxBackoffMs = backoff?.duration('maxBackoff', 1000) ?? 1000;
  const policyRetries = general?.num('maxRetries', 10, 0) ?? throttled?.num('maxRetries', 10, 0);
  if (throttled !== null && general !== null) general.ignore('minBackoff', 'maxBackoff');
  throttled?.done();
  general?.done();
  const out: KinesisOutputConfig = {
    streamName: s.reqStr('streamName'),
    region: s.str('region', null),
    customEndpoint: s.str('customEndpoint', null),
    recordLimit: s.num('recordLimit', 500, 1),
    byteLimit: s.num('byteLimit', 5_242_880, 1),
    partitionKey: s.str('partitionKey', null),
    maxRetries: s.num('maxRetries', policyRetries ?? 10, 0),
    minBackoffMs,
    maxBackoffMs,
  };
  s.ignore('throttledBackoffPolicy', 'backoffPolicy', 'maxRecordSize', 'cloudwatchCustomEndpoint');
  s.done();
  return out;
}

/** Validates a parsed HOCON object (tests pass objects directly). */
export function parseEnrichConfig(root: Record<string, unknown>, origin = '<config>'): EnrichConfig {
  void origin;
  const ignored: string[] = [];
  const top = new Section(root, '', ignored);
  top.unsupported();
  const inputS = top.section('input');
  const input = inputS === null ? null : kinesisInput(inputS);
  const outS = top.section('output');
  let good: KinesisOutputConfig | null = null;
  let bad: KinesisOutputConfig | null = null;
  let pii: KinesisOutputConfig | null = null;
  let failed: KinesisOutputConfig | null = null;
  if (outS !== null) {
    outS.unsupported();
    const g = outS.section('good');
    const b = outS.section('bad');
    const p = outS.section('pii');
    const f = outS.section('failed');
    good = g === null ? null : kinesisOutput(g);
    bad = b === null ? null : kinesisOutput(b);
    pii = p === null ? null : kinesisOutput(p);
    failed = f === null ? null : kinesisOutput(f);
    outS.done();
  }
  const validationS = top.section('validation');
  const limits: Record<string, number> = { ...DEFAULT_ATOMIC_FIELD_LIMITS };
  let acceptInvalid = false;
  let maxJsonDepth = 50;
  let exitOnJsCompileError = true;
  if (validationS !== null) {
    acceptInvalid = validationS.bool('acceptInvalid', false);
    maxJsonDepth = validationS.num('maxJsonDepth', 50, 1);
    const l = validationS.section('atomicFieldsLimits');
    if (l !== null) {
      for (const k of Object.keys(l.obj)) {
        if (!Object.hasOwn(DEFAULT_ATOMIC_FIELD_LIMITS, k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `validation.atomicFieldsLimits.${k} is not a string atomic field`);
        limits[k] = l.num(k, 0, 1);
      }
      l.done();
    }
    exitOnJsCompileError = validationS.bool('exitOnJsCompileError', true);
    validationS.done();
  }
  const flags = top.section('featureFlags');
  if (flags !== null) {
    if (flags.bool('acceptInvalid', false)) acceptInvalid = true;
    if (flags.bool('legacyEnrichmentOrder', false)) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.legacyEnrichmentOrder: only the current enrichment order is implemented');
    if (flags.bool('tryBase64Decoding', false)) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.tryBase64Decoding: base64-encoded input records are not supported');
    flags.done();
  }
  const remote = top.section('remoteAdapters');
  if (remote !== null) {
    const configs = remote.obj['configs'];
    if (Array.isArray(configs) && configs.length > 0) throw new FurrowError('CONFIG_UNSUPPORTED', 'remoteAdapters.configs: remote HTTP adapters are not supported');
    remote.ignore('configs', 'connectionTimeout', 'readTimeout', 'maxConnections');
    remote.done();
  }
  const decS = top.section('decompression');
  const decompression = {
    maxBytesSinglePayload: decS?.num('maxBytesSinglePayload', 10_000_000, 1) ?? 10_000_000,
    maxBytesInBatch: decS?.num('maxBytesInBatch', 100_000_000, 1) ?? 100_000_000,
  };
  decS?.done();
  let metricsPort: number | null = null;
  const mon = top.section('monitoring');
  if (mon !== null) {
    mon.unsupported();
    const metrics = mon.section('metrics');
    if (metrics !== null) {
      metrics.unsupported();
      if (metrics.obj['cloudwatch'] !== undefined && metrics.obj['cloudwatch'] !== false) {
        throw new FurrowError('CONFIG_UNSUPPORTED', 'monitoring.metrics.cloudwatch: CloudWatch metrics are not supported; furrow exposes Prometheus metrics');
      }
      metrics.ignore('prometheus', 'stdout', 'cloudwatch');
      metrics.done();
    }
    const hp = mon.section('healthProbe');
    if (hp !== null) {
      metricsPort = hp.num('port', 8000, 0);
      hp.ignore('unhealthyLatency');
      hp.done();
    }
    mon.done();
  }
  let httpRequestTimeoutMs = 5000;
  const http = top.section('http');
  if (http !== null) {
    const client = http.section('client');
    if (client !== null) {
      httpRequestTimeoutMs = client.duration('requestTimeout', 5000);
      client.done();
    }
    http.done();
  }
  const assetsUpdatePeriodMs = top.duration('assetsUpdatePeriod', 7 * 86_400_000);
  const jsS = top.section('javascript');
  const javascript = {
    timeoutMs: jsS?.duration('timeout', 1000) ?? 1000,
    // The script process (a node of its own) needs ~50 MB before the script allocates anything.
    maxMemoryMb: Math.floor(jsS?.num('maxMemoryMb', 256, 64) ?? 256),
    exitOnCompileError: exitOnJsCompileError,
  };
  if (javascript.timeoutMs < 1) throw invalid('javascript.timeout', 'must be at least 1 millisecond', jsS?.obj['timeout']);
  jsS?.done();
  top.ignore('license', 'cpuParallelismFraction', 'sinkParallelismFraction', 'telemetry', 'iglu', 'jsAllowedJavaClasses', 'concurrency', 'blobStorage', 'experimental', 'gcpUserAgent');
  top.done();
  return deepFreeze({
    input,
    output: { good, bad, pii, failed },
    assetsUpdatePeriodMs,
    httpRequestTimeoutMs,
    validation: { acceptInvalid, atomicFieldsLimits: limits, maxJsonDepth },
    decompression,
    metricsPort,
    javascript,
    ignored,
  });
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !(o instanceof Date)) {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
