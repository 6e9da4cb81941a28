/**
 * The enricher's configuration: Snowplow enrich-kinesis's HOCON file, every layout from 3.0 to 6.10 (3.x–5.x:
 * `type = "Kinesis"`, `output.pii`, `output.incomplete`, `featureFlags`, `concurrency`, top-level `maxJsonDepth`;
 * 5.4 "next": `output.enriched`; 6.x: config.kinesis.reference.hocon, `input.kinesis {}`), read once at start into a
 * frozen, typed object.
 *
 *   file ──readHoconFile (env substitution)──▶ plain object ──config/reader.ts + the schema below──▶ frozen EnrichConfig
 *   (the Kinesis output blocks are read with the Kinesis sink's schema, streams/sinks/kinesis-output-config.ts)
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
import { readHoconFile } from '../config/hocon.js';
import { compileReader, deepFreeze, type ConfigWarning } from '../config/reader.js';
import { t, type Static } from '../config/schema.js';
import { kinesisOutput, kinesisOutputSchema, type KinesisOutputConfig } from '../streams/sinks/kinesis-output-config.js';
import { kinesisInput, type BackoffConfig, type InitialPositionConfig, type KinesisInputConfig } from '../streams/kinesis/kinesis-input-config.js';

export type { BackoffConfig, InitialPositionConfig, KinesisInputConfig, KinesisOutputConfig };

export type { ConfigWarning };

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

// ---------------------------------------------------------------------------------------------------
// The file's schema (config/schema.ts). Warnings (t.warn) say what furrow does instead; t.ignored keys are listed.

const SENTRY = 'Sentry is not supported: nothing is sent to Sentry; errors are logged as JSON lines on stderr';
const STATSD = 'StatsD is not supported: nothing is sent to StatsD; furrow serves Prometheus metrics at /metrics on monitoring.healthProbe.port';
const CLOUDWATCH = 'CloudWatch metrics are not supported: nothing is sent to CloudWatch; furrow serves Prometheus metrics at /metrics on monitoring.healthProbe.port';
const STDOUT_METRICS = 'metrics on stdout are not supported: furrow logs progress every 10 s on stderr and serves Prometheus metrics at /metrics on monitoring.healthProbe.port';
const IDENTITY = 'the identity service is not supported: events are not sent to it and get no identity entity';
const METADATA = 'metadata reporting is not supported: nothing is sent to the metadata endpoint';
const REMOTE_ADAPTERS = 'remote adapters are not supported: requests to their vendor/version paths become adapter_failures bad rows';
const ADAPTER_SCHEMAS = "custom webhook adapter schemas are not supported: furrow's webhook adapters use Snowplow's default schemas";

const num = (def: number, minimum = 0, maximum?: number) => t.number({ default: def, minimum, ...(maximum !== undefined ? { maximum } : {}) });
const optNum = (minimum = 0) => t.optional(t.number({ minimum }));
const bool = (def: boolean) => t.boolean({ default: def });
const optStr = () => t.optional(t.string());

const atomicLimitKeys = Object.fromEntries(Object.keys(DEFAULT_ATOMIC_FIELD_LIMITS).map((k) => [k, optNum(1)])) as Record<string, ReturnType<typeof optNum>>;

const enrichSchema = t.object({
  // Read with inputFlat or inputNested (6.10) once the layout is known.
  input: t.optional(t.record(t.any())),
  output: t.optional(
    t.object({
      good: kinesisOutputSchema(false),
      enriched: kinesisOutputSchema(false), // 5.4's "next" preview named the good stream `enriched`
      bad: kinesisOutputSchema(false),
      // Snowplow drops a pii / incomplete / failed output whose streamName is empty (the examples leave it so).
      pii: kinesisOutputSchema(true),
      failed: kinesisOutputSchema(true),
      incomplete: kinesisOutputSchema(true), // 5.x name of the failed-events stream
    }),
  ),
  validation: t.optional(
    t.object({
      acceptInvalid: bool(false),
      maxJsonDepth: t.optional(t.number({ minimum: 1, maximum: MAX_ENRICHER_JSON_DEPTH })),
      exitOnJsCompileError: t.optional(t.boolean()),
      atomicFieldsLimits: t.optional(t.object(atomicLimitKeys)),
    }),
  ),
  maxJsonDepth: t.optional(t.number({ minimum: 1, maximum: MAX_ENRICHER_JSON_DEPTH })), // 5.x: top level
  featureFlags: t.optional(
    t.object({ acceptInvalid: bool(false), exitOnJsCompileError: t.optional(t.boolean()), legacyEnrichmentOrder: bool(false), tryBase64Decoding: bool(false) }),
  ),
  remoteAdapters: t.optional(t.object({ configs: t.warn(REMOTE_ADAPTERS), connectionTimeout: t.ignored(), readTimeout: t.ignored(), maxConnections: t.ignored() })),
  decompression: t.object({ maxBytesSinglePayload: num(10_000_000, 1), maxBytesInBatch: num(100_000_000, 1) }, { default: {} }),
  monitoring: t.optional(
    t.object({
      sentry: t.warn(SENTRY),
      metrics: t.optional(t.object({ statsd: t.warn(STATSD), stdout: t.warn(STDOUT_METRICS), cloudwatch: t.warn(CLOUDWATCH), prometheus: t.ignored() })),
      healthProbe: t.optional(t.object({ port: num(8000, 0), unhealthyLatency: t.ignored() })),
      webhook: t.ignored(),
    }),
  ),
  http: t.optional(t.object({ client: t.optional(t.object({ requestTimeout: t.duration({ default: 5000 }), maxConnectionsPerServer: t.ignored() })) })),
  iglu: t.object({ maxRetry: num(2, 0), maxWait: t.duration({ default: 1000 }) }, { default: {} }),
  experimental: t.optional(t.object({ metadata: t.warn(METADATA) })),
  identity: t.warn(IDENTITY),
  metadata: t.warn(METADATA),
  adaptersSchemas: t.warn(ADAPTER_SCHEMAS),
  telemetry: t.ignored(),
  blobStorage: t.ignored(),
  blobClients: t.ignored(),
  streams: t.ignored(),
  assetsUpdatePeriod: t.duration({ default: 7 * 86_400_000 }),
  // The script process (a node of its own) needs ~50 MB before the script allocates anything.
  javascript: t.object({ timeout: t.duration({ default: 1000, minimumMs: 1 }), maxMemoryMb: num(256, 64) }, { default: {} }),
  license: t.ignored(),
  cpuParallelismFraction: t.ignored(),
  sinkParallelismFraction: t.ignored(),
  jsAllowedJavaClasses: t.ignored(),
  concurrency: t.ignored(),
  gcpUserAgent: t.ignored(),
});

/** The enrich file as its schema describes it (defaults in, durations in ms). */
export type EnrichFile = Static<typeof enrichSchema>;

const unknownKey = (k: string): string => (k.startsWith('validation.atomicFieldsLimits.') ? `${k} is not a string atomic field` : `unknown configuration key ${k}`);
const readEnrichFile = compileReader(enrichSchema);

function invalid(key: string, what: string, v: unknown): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `${key} ${what} (got ${JSON.stringify(v)})`);
}

/** Validates a parsed HOCON object (tests pass objects directly). */
export function parseEnrichConfig(root: Record<string, unknown>, origin = '<config>'): EnrichConfig {
  void origin;
  const ignored: string[] = [];
  const warnings: ConfigWarning[] = [];
  const opts = { unknownKey, warnings, ignored };
  // The input block's layout (flat or 6.10 nested) decides its schema: read it first, as Snowplow's keys go.
  const rawInput = root['input'];
  if (rawInput !== undefined && rawInput !== null && (typeof rawInput !== 'object' || Array.isArray(rawInput))) throw invalid('input', 'must be an object', rawInput);
  const input = rawInput === undefined || rawInput === null ? null : kinesisInput(rawInput as Record<string, unknown>, warnings, ignored, unknownKey);
  const f = readEnrichFile(root, opts);

  let good: KinesisOutputConfig | null = null;
  let bad: KinesisOutputConfig | null = null;
  let pii: KinesisOutputConfig | null = null;
  let failed: KinesisOutputConfig | null = null;
  const out = f.output;
  if (out !== undefined) {
    if (out.good !== undefined && out.enriched !== undefined) throw new FurrowError('CONFIG_INVALID_VALUE', 'output.good and output.enriched are the same stream; give one');
    if (out.failed !== undefined && out.incomplete !== undefined) throw new FurrowError('CONFIG_INVALID_VALUE', 'output.failed and output.incomplete are the same stream (6.x and 5.x names); give one');
    good = out.good !== undefined ? kinesisOutput(out.good, 'output.good') : out.enriched !== undefined ? kinesisOutput(out.enriched, 'output.enriched') : null;
    bad = out.bad === undefined ? null : kinesisOutput(out.bad, 'output.bad');
    pii = out.pii === undefined || out.pii.streamName === '' ? null : kinesisOutput(out.pii, 'output.pii');
    const fs = out.failed ?? out.incomplete;
    failed = fs === undefined || fs.streamName === '' ? null : kinesisOutput(fs, out.failed !== undefined ? 'output.failed' : 'output.incomplete');
  }

  const flags = f.featureFlags;
  if (flags?.legacyEnrichmentOrder) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.legacyEnrichmentOrder: only the current enrichment order is implemented');
  if (flags?.tryBase64Decoding) throw new FurrowError('CONFIG_UNSUPPORTED', 'featureFlags.tryBase64Decoding: base64-encoded input records are not supported');
  const v = f.validation;
  const limits: Record<string, number> = { ...DEFAULT_ATOMIC_FIELD_LIMITS, ...(v?.atomicFieldsLimits as Record<string, number> | undefined) };

  return deepFreeze({
    input,
    output: { good, bad, pii, failed },
    assetsUpdatePeriodMs: f.assetsUpdatePeriod,
    httpRequestTimeoutMs: f.http?.client?.requestTimeout ?? 5000,
    validation: {
      acceptInvalid: (v?.acceptInvalid ?? false) || (flags?.acceptInvalid ?? false),
      atomicFieldsLimits: limits,
      maxJsonDepth: v?.maxJsonDepth ?? f.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
      // 5.x: featureFlags.exitOnJsCompileError; 6.x: validation.exitOnJsCompileError.
      exitOnJsCompileError: flags?.exitOnJsCompileError ?? v?.exitOnJsCompileError ?? true,
    },
    decompression: f.decompression,
    metricsPort: f.monitoring?.healthProbe?.port ?? null,
    iglu: { maxRetry: f.iglu.maxRetry, maxWaitMs: f.iglu.maxWait },
    javascript: { timeoutMs: f.javascript.timeout, maxMemoryMb: Math.floor(f.javascript.maxMemoryMb) },
    ignored,
    warnings,
  });
}
