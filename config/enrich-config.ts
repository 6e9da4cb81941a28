/**
 * The enricher's configuration: Snowplow enrich-kinesis's HOCON file, every layout from 3.0 to 6.10 (3.x–5.x:
 * `type = "Kinesis"`, `output.pii`, `output.incomplete`, `featureFlags`, `concurrency`, top-level `maxJsonDepth`;
 * 5.4 "next": `output.enriched`; 6.x: config.kinesis.reference.hocon, `input.kinesis {}`), read once at start into a
 * frozen, typed object.
 *
 *   file ──readHoconFile (env substitution)──▶ plain object ──Section walker──▶ deepFreeze(EnrichConfig)
 *
 * Unknown keys stop start-up (CONFIG_UNKNOWN_KEY). Every key of Snowplow's Kinesis configs is accepted:
 * - implemented where furrow can have the effect (checkpointBackoff, output.incomplete/failed, maxJsonDepth,
 *   exitOnJsCompileError, iglu.maxRetry/maxWait, maxRecordSize, …);
 * - listed in `ignored` (logged once at info) where the key changes nothing in furrow's output (telemetry,
 *   parallelism, KCL tuning, HTTP pool sizes, license);
 * - listed in `warnings` (logged once each at warn, naming the key and what furrow does instead) where Snowplow would
 *   talk to something furrow has no integration for (Sentry, StatsD, CloudWatch, stdout metrics, identity, metadata,
 *   remote adapters, FanOut, the HTTP source, custom adapter schemas).
 * Values that would change the data and that furrow cannot honour (another transport, legacyEnrichmentOrder,
 * tryBase64Decoding) stop start-up with CONFIG_UNSUPPORTED naming the key.
 * furrow's own options: `input.leases` (default true), `javascript.timeout` and `javascript.maxMemoryMb` (the
 * JavaScript enrichment's script process, docs/security.md).
 */
import { FurrowError } from '../common/errors.js';
import { DEFAULT_MAX_JSON_DEPTH, MAX_ENRICHER_JSON_DEPTH } from '../common/json-depth.js';
import { DEFAULT_ATOMIC_FIELD_LIMITS } from '../formats/atomic-fields.js';
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
  /** Retries of a failed checkpoint write (5.x `checkpointBackoff`, 6.x `checkpointThrottledBackoffPolicy`). */
  readonly checkpointBackoff: BackoffConfig;
}

export interface BackoffConfig {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetries: number;
}

/** A key furrow accepts without the integration it names: logged once at start (warn). */
export interface ConfigWarning {
  readonly key: string;
  readonly message: string;
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
  /** Largest serialized record (6.x `maxRecordSize`); a larger enriched event becomes a size_violation bad row. */
  readonly maxRecordSize: number;
}

export interface ValidationConfig {
  readonly acceptInvalid: boolean;
  readonly atomicFieldsLimits: Readonly<Record<string, number>>;
  /** Deepest JSON accepted in events (6.x `validation.maxJsonDepth`, 5.x top-level `maxJsonDepth`). */
  readonly maxJsonDepth: number;
  /** false: a JavaScript enrichment that does not compile fails every event instead of stopping start-up. */
  readonly exitOnJsCompileError: boolean;
}

export interface EnrichConfig {
  readonly input: KinesisInputConfig | null;
  readonly output: {
    readonly good: KinesisOutputConfig | null;
    readonly bad: KinesisOutputConfig | null;
    readonly pii: KinesisOutputConfig | null;
    /** Failed events (6.x `failed`, 5.x `incomplete`): failing events as TSV with failure entities, besides their bad rows. */
    readonly failed: KinesisOutputConfig | null;
  };
  readonly assetsUpdatePeriodMs: number;
  readonly httpRequestTimeoutMs: number;
  readonly validation: ValidationConfig;
  readonly decompression: { readonly maxBytesSinglePayload: number; readonly maxBytesInBatch: number };
  /** `monitoring.healthProbe.port`: furrow serves /health and /metrics (Prometheus) there; null = off. */
  readonly metricsPort: number | null;
  /** `iglu.maxRetry` / `iglu.maxWait` (6.x): retries of a failed Iglu request and the longest wait between them. */
  readonly iglu: { readonly maxRetry: number; readonly maxWaitMs: number };
  /**
   * The JavaScript enrichment's script process (docs/security.md): furrow's own `javascript.timeout` (per event)
   * and `javascript.maxMemoryMb`. Snowplow's exitOnJsCompileError is `validation.exitOnJsCompileError`.
   */
  readonly javascript: { readonly timeoutMs: number; readonly maxMemoryMb: number };
  /** Accepted keys that have no effect in furrow (logged at start). */
  readonly ignored: readonly string[];
  /** Accepted keys naming an integration furrow does not have, with what furrow does instead (logged at start). */
  readonly warnings: readonly ConfigWarning[];
}

export const DEFAULT_ENRICH_CONFIG: EnrichConfig = deepFreeze({
  input: null,
  output: { good: null, bad: null, pii: null, failed: null },
  assetsUpdatePeriodMs: 7 * 86_400_000,
  httpRequestTimeoutMs: 5000,
  validation: { acceptInvalid: false, atomicFieldsLimits: { ...DEFAULT_ATOMIC_FIELD_LIMITS }, maxJsonDepth: DEFAULT_MAX_JSON_DEPTH, exitOnJsCompileError: true },
  decompression: { maxBytesSinglePayload: 10_000_000, maxBytesInBatch: 100_000_000 },
  metricsPort: null,
  iglu: { maxRetry: 2, maxWaitMs: 1000 },
  javascript: { timeoutMs: 1000, maxMemoryMb: 256 },
  ignored: [],
  warnings: [],
});

export async function readEnrichConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<EnrichConfig> {
  return parseEnrichConfig(await readHoconFile(path, env), path);
}

/** Integrations furrow does not have: the key is accepted and this says what furrow does instead. */
const INSTEAD: Readonly<Record<string, string>> = {
  'monitoring.sentry': 'Sentry is not supported: nothing is sent to Sentry; errors are logged as JSON lines on stderr',
  'monitoring.metrics.statsd': 'StatsD is not supported: nothing is sent to StatsD; furrow serves Prometheus metrics at /metrics on monitoring.healthProbe.port',
  'monitoring.metrics.cloudwatch': 'CloudWatch metrics are not supported: nothing is sent to CloudWatch; furrow serves Prometheus metrics at /metrics on monitoring.healthProbe.port',
  'monitoring.metrics.stdout': 'metrics on stdout are not supported: furrow logs progress every 10 s on stderr and serves Prometheus metrics at /metrics on monitoring.healthProbe.port',
  identity: 'the identity service is not supported: events are not sent to it and get no identity entity',
  metadata: 'metadata reporting is not supported: nothing is sent to the metadata endpoint',
  'experimental.metadata': 'metadata reporting is not supported: nothing is sent to the metadata endpoint',
  'remoteAdapters.configs': 'remote adapters are not supported: requests to their vendor/version paths become adapter_failures bad rows',
  adaptersSchemas: "custom webhook adapter schemas are not supported: furrow's webhook adapters use Snowplow's default schemas",
  'input.retrievalMode.type': 'enhanced fan-out (FanOut) is not supported: furrow polls the shards with GetRecords',
  'input.http': 'the HTTP source is not supported: furrow reads collector payloads from the Kinesis stream only',
};

class Section {
  private readonly used = new Set<string>();
  constructor(readonly obj: Record<string, unknown>, readonly path: string, private readonly ignored: string[], private readonly warnings: ConfigWarning[]) {}

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
    return new Section(v as Record<string, unknown>, this.key(k), this.ignored, this.warnings);
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
  num(k: string, def: number, min = 0, max = Infinity): number {
    if (!this.has(k)) { this.used.add(k); return def; }
    const v = this.get(k);
    const n = typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
      throw invalid(this.key(k), max === Infinity ? `must be a number ≥ ${min}` : `must be a number from ${min} to ${max}`, v);
    }
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
  /** Accepts a key naming an integration furrow does not have: one warning (INSTEAD) when it is set. */
  warn(k: string, isSet: (v: unknown) => boolean = isConfigured): void {
    this.used.add(k);
    const key = this.key(k);
    if (!isSet(this.obj[k]) || this.warnings.some((w) => w.key === key)) return;
    this.warnings.push({ key, message: INSTEAD[key] ?? `${key} is not supported by furrow and has no effect` });
  }
  /** One warning for `key` with the message kept under `messageKey` in INSTEAD. */
  warnings_(key: string, messageKey: string): void {
    if (!this.warnings.some((w) => w.key === key)) this.warnings.push({ key, message: INSTEAD[messageKey]! });
  }
  /** Accepts every key of a section furrow does not read (whole subtree), listing the section as ignored. */
  ignoreAll(): void {
    if (Object.keys(this.obj).length > 0 && !this.ignored.includes(this.path)) this.ignored.push(this.path);
    for (const k of Object.keys(this.obj)) this.used.add(k);
  }
  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.used.has(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `unknown configuration key ${this.key(k)}`);
    }
  }
}

/** Set to something: not absent, null, false, an empty list or an empty object. */
function isConfigured(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 'false') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function invalid(key: string, what: string, v: unknown): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `${key} ${what} (got ${JSON.stringify(v)})`);
}

function initialPosition(s: Section | null): InitialPositionConfig {
  if (s === null) return 'TRIM_HORIZON';
  // Snowplow upper-cases the type before matching it.
  const type = s.str('type', 'TRIM_HORIZON')!.toUpperCase();
  let out: InitialPositionConfig;
  if (type === 'TRIM_HORIZON' || type === 'LATEST') {
    out = type;
    s.ignore('timestamp');
  } else if (type === 'AT_TIMESTAMP') {
    const ts = s.reqStr('timestamp');
    const d = new Date(ts);
    if (Number.isNaN(d.getTime())) throw invalid(`${s.path}.timestamp`, 'must be an ISO-8601 timestamp', ts);
    out = { timestamp: d };
  } else throw invalid(`${s.path}.type`, 'must be TRIM_HORIZON, LATEST or AT_TIMESTAMP', type);
  s.done();
  return out;
}

/** 3.x–5.x configs name the transport: only Kinesis is available. */
function kinesisType(s: Section): void {
  const type = s.str('type', 'Kinesis');
  if (type !== 'Kinesis') throw new FurrowError('CONFIG_UNSUPPORTED', `${s.path}.type: only Kinesis is supported (got ${type}); use --input/--output for files and stdin/stdout`);
}

/** `{ minBackoff, maxBackoff, maxRetries? }` (a bare number is milliseconds, as in Snowplow's 3.x examples). */
function backoff(s: Section, def: BackoffConfig): BackoffConfig {
  const out = {
    minBackoffMs: s.duration('minBackoff', def.minBackoffMs),
    maxBackoffMs: s.duration('maxBackoff', def.maxBackoffMs),
    maxRetries: s.num('maxRetries', def.maxRetries, 0),
  };
  if (out.maxBackoffMs < out.minBackoffMs) throw invalid(`${s.path}.maxBackoff`, 'must not be below minBackoff', out.maxBackoffMs);
  s.done();
  return out;
}

/** Snowplow 5.x's checkpointBackoff defaults (reference.conf). */
const CHECKPOINT_BACKOFF: BackoffConfig = { minBackoffMs: 100, maxBackoffMs: 10_000, maxRetries: 10 };

function kinesisInput(outer: Section): KinesisInputConfig {
  kinesisType(outer);
  // 6.10: `input { kinesis { … }, http { … } }` (common-streams' Kinesis+HTTP source); older: the Kinesis keys in `input`.
  const nested = outer.section('kinesis');
  const s = nested ?? outer;
  const outerAppName = nested !== null ? outer.str('appName', 'snowplow-enrich')! : 'snowplow-enrich';
  outer.warn('http');
  const streamName = s.reqStr('streamName');
  const appName = s.str('appName', outerAppName)!;
  const pos = initialPosition(s.section('initialPosition'));
  let maxRecords = 1000;
  let idleTimeBetweenReadsMs: number | null = null;
  const retrieval = s.section('retrievalMode');
  if (retrieval !== null) {
    const type = retrieval.str('type', 'Polling')!;
    if (type.toUpperCase() === 'FANOUT') {
      // Same records, read another way: furrow polls (one warning names the key).
      outer.warnings_(`${retrieval.path}.type`, 'input.retrievalMode.type');
    } else if (type.toUpperCase() !== 'POLLING') throw invalid(`${retrieval.path}.type`, 'must be Polling or FanOut', type);
    maxRecords = retrieval.num('maxRecords', 1000, 1);
    if (retrieval.has('idleTimeBetweenReads')) idleTimeBetweenReadsMs = retrieval.duration('idleTimeBetweenReads', 0);
    retrieval.done();
  }
  const leaseDurationMs = s.duration('leaseDuration', 10_000);
  const cb5 = s.section('checkpointBackoff');
  const cb6 = s.section('checkpointThrottledBackoffPolicy');
  if (cb5 !== null && cb6 !== null) throw new FurrowError('CONFIG_INVALID_VALUE', `${s.path}.checkpointBackoff and ${s.path}.checkpointThrottledBackoffPolicy are the same setting; give one`);
  const checkpointBackoff = cb5 !== null ? backoff(cb5, CHECKPOINT_BACKOFF) : cb6 !== null ? backoff(cb6, { minBackoffMs: 100, maxBackoffMs: 1000, maxRetries: CHECKPOINT_BACKOFF.maxRetries }) : CHECKPOINT_BACKOFF;
  const out: KinesisInputConfig = {
    streamName,
    appName,
    initialPosition: pos,
    maxRecords,
    idleTimeBetweenReadsMs,
    leaseDurationMs,
    region: s.str('region', null) ?? (nested !== null ? outer.str('region', null) : null),
    customEndpoint: s.str('customEndpoint', null),
    dynamodbCustomEndpoint: s.str('dynamodbCustomEndpoint', null),
    leases: outer.bool('leases', true),
    workerIdentifier: s.str('workerIdentifier', null),
    checkpointBackoff,
  };
  // KCL tuning and client settings with no effect on which records are read or written.
  s.ignore('maxLeasesToStealAtOneTimeFactor', 'debounceCheckpoints', 'cloudwatchCustomEndpoint', 'bufferSize', 'maxRetries', 'apiCallAttemptTimeout');
  if (nested !== null) nested.done();
  outer.done();
  return out;
}

/** Snowplow 6.x's default maxRecordSize of the Kinesis sinks. */
const MAX_RECORD_SIZE = 1_000_000;

function kinesisOutput(s: Section): KinesisOutputConfig {
  kinesisType(s);
  const throttled = s.section('throttledBackoffPolicy');
  const general = s.section('backoffPolicy');
  // One backoff in furrow's writer: delays from the throttling policy (6.x), retries from backoffPolicy (3.x–5.x).
  const backoffS = throttled ?? general;
  const minBackoffMs = backoffS?.duration('minBackoff', 100) ?? 100;
  const maxBackoffMs = backoffS?.duration('maxBackoff', 1000) ?? 1000;
  const policyRetries = general?.num('maxRetries', 10, 0) ?? throttled?.num('maxRetries', 10, 0);
  if (throttled !== null && general !== null) general.ignore('minBackoff', 'maxBackoff');
  throttled?.done();
  general?.done();
  // 3.0–3.1 (KPL): collection.maxCount / maxSize are the PutRecords request limits.
  const collection = s.section('collection');
  const kplRecords = collection?.num('maxCount', 500, 1);
  const kplBytes = collection?.num('maxSize', 5_242_880, 1);
  collection?.done();
  const out: KinesisOutputConfig = {
    streamName: s.reqStr('streamName'),
    region: s.str('region', null),
    customEndpoint: s.str('customEndpoint', null),
    recordLimit: Math.min(500, s.num('recordLimit', kplRecords ?? 500, 1)),
    byteLimit: Math.min(5_242_880, s.num('byteLimit', kplBytes ?? 5_242_880, 1)),
    partitionKey: s.str('partitionKey', null),
    maxRetries: s.num('maxRetries', policyRetries ?? 10, 0),
    minBackoffMs,
    maxBackoffMs,
    maxRecordSize: s.num('maxRecordSize', MAX_RECORD_SIZE, 1),
  };
  // KPL-era (3.0–3.1) client tuning and 6.x PubSub/Kafka attributes: no effect on a Kinesis record.
  s.ignore('attributes', 'cloudwatchCustomEndpoint', 'maxBufferedTime', 'recordTtl', 'aggregation', 'maxConnections', 'logLevel', 'customPort', 'cloudwatchEndpoint', 'cloudwatchPort');
  s.done();
  return out;
}

/** Validates a parsed HOCON object (tests pass objects directly). */
export function parseEnrichConfig(root: Record<string, unknown>, origin = '<config>'): EnrichConfig {
  void origin;
  const ignored: string[] = [];
  const warnings: ConfigWarning[] = [];
  const top = new Section(root, '', ignored, warnings);
  const inputS = top.section('input');
  const input = inputS === null ? null : kinesisInput(inputS);
  const outS = top.section('output');
  let good: KinesisOutputConfig | null = null;
  let bad: KinesisOutputConfig | null = null;
  let pii: KinesisOutputConfig | null = null;
  let failed: KinesisOutputConfig | null = null;
  if (outS !== null) {
    const g = outS.section('good');
    const enriched = outS.section('enriched'); // 5.4's "next" preview named the good stream `enriched`
    if (g !== null && enriched !== null) throw new FurrowError('CONFIG_INVALID_VALUE', 'output.good and output.enriched are the same stream; give one');
    const b = outS.section('bad');
    const p = outS.section('pii');
    const f = outS.section('failed');
    const inc = outS.section('incomplete'); // 5.x name of the failed-events stream
    if (f !== null && inc !== null) throw new FurrowError('CONFIG_INVALID_VALUE', 'output.failed and output.incomplete are the same stream (6.x and 5.x names); give one');
    good = g !== null ? kinesisOutput(g) : enriched !== null ? kinesisOutput(enriched) : null;
    bad = b === null ? null : kinesisOutput(b);
    // Snowplow drops a pii / incomplete output whose streamName is empty (the examples leave it so).
    pii = p === null || p.obj['streamName'] === '' ? null : kinesisOutput(p);
    const fs = f ?? inc;
    failed = fs === null || fs.obj['streamName'] === '' ? null : kinesisOutput(fs);
    outS.done();
  }
  const validationS = top.section('validation');
  const limits: Record<string, number> = { ...DEFAULT_ATOMIC_FIELD_LIMITS };
  let acceptInvalid = false;
  let maxJsonDepth = top.num('maxJsonDepth', DEFAULT_MAX_JSON_DEPTH, 1, MAX_ENRICHER_JSON_DEPTH); // 5.x: top level
  let exitOnJsCompileError = true;
  if (validationS !== null) {
    acceptInvalid = validationS.bool('acceptInvalid', false);
    if (validationS.has('maxJsonDepth')) maxJsonDepth = validationS.num('maxJsonDepth', DEFAULT_MAX_JSON_DEPTH, 1, MAX_ENRICHER_JSON_DEPTH);
    exitOnJsCompileError = validationS.bool('exitOnJsCompileError', true);
    const l = validationS.section('atomicFieldsLimits');
    if (l !== null) {
      for (const k of Object.keys(l.obj)) {
        if (!Object.hasOwn(DEFAULT_ATOMIC_FIELD_LIMITS, k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `validation.atomicFieldsLimits.${k} is not a string atomic field`);
        limits[k] = l.num(k, 0, 1);
      }
      l.done();
    }
    validationS.done();
  }
  const flags = top.section('featureFlags');
  if (flags !== null) {
    if (flags.bool('acceptInvalid', false)) acceptInvalid = true;
    if (flags.has('exitOnJsCompileError')) exitOnJsCompileError = flags.bool('exitOnJsCompileError', true); // 5.x
    if (flags.bool('legacyEnrichmentOrder', false)) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.legacyEnrichmentOrder: only the current enrichment order is implemented');
    if (flags.bool('tryBase64Decoding', false)) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.tryBase64Decoding: base64-encoded input records are not supported');
    flags.done();
  }
  const remote = top.section('remoteAdapters');
  if (remote !== null) {
    remote.warn('configs', (v) => Array.isArray(v) && v.length > 0);
    remote.ignore('connectionTimeout', 'readTimeout', 'maxConnections');
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
    mon.warn('sentry');
    const metrics = mon.section('metrics');
    if (metrics !== null) {
      metrics.warn('statsd');
      metrics.warn('stdout');
      metrics.warn('cloudwatch', (v) => v === true || v === 'true');
      metrics.ignore('prometheus');
      metrics.done();
    }
    const hp = mon.section('healthProbe');
    if (hp !== null) {
      metricsPort = hp.num('port', 8000, 0);
      hp.ignore('unhealthyLatency');
      hp.done();
    }
    mon.ignore('webhook');
    mon.done();
  }
  let httpRequestTimeoutMs = 5000;
  const http = top.section('http');
  if (http !== null) {
    const client = http.section('client');
    if (client !== null) {
      httpRequestTimeoutMs = client.duration('requestTimeout', 5000);
      client.ignore('maxConnectionsPerServer');
      client.done();
    }
    http.done();
  }
  const igluS = top.section('iglu');
  const iglu = { maxRetry: igluS?.num('maxRetry', 2, 0) ?? 2, maxWaitMs: igluS?.duration('maxWait', 1000) ?? 1000 };
  igluS?.done();
  const experimental = top.section('experimental');
  if (experimental !== null) {
    experimental.warn('metadata');
    experimental.done();
  }
  top.warn('identity');
  top.warn('metadata');
  top.warn('adaptersSchemas');
  for (const k of ['telemetry', 'blobStorage', 'blobClients', 'streams']) top.section(k)?.ignoreAll();
  const assetsUpdatePeriodMs = top.duration('assetsUpdatePeriod', 7 * 86_400_000);
  const jsS = top.section('javascript');
  const javascript = {
    timeoutMs: jsS?.duration('timeout', 1000) ?? 1000,
    // The script process (a node of its own) needs ~50 MB before the script allocates anything.
    maxMemoryMb: Math.floor(jsS?.num('maxMemoryMb', 256, 64) ?? 256),
  };
  if (javascript.timeoutMs < 1) throw invalid('javascript.timeout', 'must be at least 1 millisecond', jsS?.obj['timeout']);
  jsS?.done();
  top.ignore('license', 'cpuParallelismFraction', 'sinkParallelismFraction', 'jsAllowedJavaClasses', 'concurrency', 'gcpUserAgent');
  top.done();
  return deepFreeze({
    input,
    output: { good, bad, pii, failed },
    assetsUpdatePeriodMs,
    httpRequestTimeoutMs,
    validation: { acceptInvalid, atomicFieldsLimits: limits, maxJsonDepth, exitOnJsCompileError },
    decompression,
    metricsPort,
    iglu,
    javascript,
    ignored,
    warnings,
  });
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !(o instanceof Date)) {
    for (const v of Object.values(o as object)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
