/**
 * The enricher's Kinesis input block (`input` of Snowplow enrich 3.0–6.x, `input.kinesis` in 6.10): its schema and
 * the KinesisInputConfig the leased Kinesis source (kinesis-source.ts) is built from. enricher/config.ts reads the
 * file with it.
 */
import { FurrowError } from '../../common/errors.js';
import { readConfig, type ConfigWarning } from '../../config/reader.js';
import { t, type Static } from '../../config/schema.js';

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

const FAN_OUT = 'enhanced fan-out (FanOut) is not supported: furrow polls the shards with GetRecords';
const HTTP_SOURCE = 'the HTTP source is not supported: furrow reads collector payloads from the Kinesis stream only';

const num = (def: number, minimum = 0) => t.number({ default: def, minimum });
const optNum = (minimum = 0) => t.optional(t.number({ minimum }));
const bool = (def: boolean) => t.boolean({ default: def });
const optStr = () => t.optional(t.string());
/** 3.x–5.x configs name the transport; only Kinesis (checked in code: another one is CONFIG_UNSUPPORTED). */
const transport = () => t.optional(t.string());
const backoffSchema = t.optional(t.object({ minBackoff: t.optional(t.duration()), maxBackoff: t.optional(t.duration()), maxRetries: optNum(0) }));

/** The Kinesis source keys: in `input` (3.0–6.x) or in `input.kinesis` (6.10). */
const kinesisInputKeys = {
  streamName: t.string(),
  appName: optStr(),
  initialPosition: t.optional(t.object({ type: t.string({ default: 'TRIM_HORIZON' }), timestamp: optStr() })),
  retrievalMode: t.optional(t.object({ type: t.string({ default: 'Polling' }), maxRecords: num(1000, 1), idleTimeBetweenReads: t.optional(t.duration()) })),
  leaseDuration: t.duration({ default: 10_000 }),
  checkpointBackoff: backoffSchema,
  checkpointThrottledBackoffPolicy: backoffSchema,
  region: optStr(),
  customEndpoint: optStr(),
  dynamodbCustomEndpoint: optStr(),
  workerIdentifier: optStr(),
  // KCL tuning and client settings with no effect on which records are read or written.
  maxLeasesToStealAtOneTimeFactor: t.ignored(),
  debounceCheckpoints: t.ignored(),
  cloudwatchCustomEndpoint: t.ignored(),
  bufferSize: t.ignored(),
  maxRetries: t.ignored(),
  apiCallAttemptTimeout: t.ignored(),
};
const inputFlat = t.object({ type: transport(), http: t.warn(HTTP_SOURCE), leases: bool(true), ...kinesisInputKeys });
const inputNested = t.object({
  type: transport(),
  kinesis: t.object(kinesisInputKeys),
  http: t.warn(HTTP_SOURCE),
  appName: optStr(),
  region: optStr(),
  leases: bool(true),
});

function checkTransport(type: string | undefined, path: string): void {
  if (type !== undefined && type !== 'Kinesis') throw new FurrowError('CONFIG_UNSUPPORTED', `${path}.type: only Kinesis is supported (got ${type}); use --input/--output for files and stdin/stdout`);
}

type Backoff = Static<typeof backoffSchema>;

/** `{ minBackoff, maxBackoff, maxRetries? }` over defaults (a bare number is milliseconds, as in Snowplow's 3.x examples). */
function backoff(b: NonNullable<Backoff>, def: BackoffConfig, path: string): BackoffConfig {
  const out = { minBackoffMs: b.minBackoff ?? def.minBackoffMs, maxBackoffMs: b.maxBackoff ?? def.maxBackoffMs, maxRetries: b.maxRetries ?? def.maxRetries };
  if (out.maxBackoffMs < out.minBackoffMs) throw invalid(`${path}.maxBackoff`, 'must not be below minBackoff', out.maxBackoffMs);
  return out;
}

function invalid(key: string, what: string, v: unknown): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `${key} ${what} (got ${JSON.stringify(v)})`);
}

/** Snowplow 5.x's checkpointBackoff defaults (reference.conf). */
const CHECKPOINT_BACKOFF: BackoffConfig = { minBackoffMs: 100, maxBackoffMs: 10_000, maxRetries: 10 };

export function kinesisInput(raw: Record<string, unknown>, warnings: ConfigWarning[], ignored: string[], unknownKey: (key: string) => string): KinesisInputConfig {
  // 6.10: `input { kinesis { … }, http { … } }` (common-streams' Kinesis+HTTP source); older: the Kinesis keys in `input`.
  const nested = raw['kinesis'] !== undefined && raw['kinesis'] !== null;
  const opts = { path: 'input', unknownKey, warnings, ignored };
  const outer = nested ? readConfig(inputNested, raw, opts) : readConfig(inputFlat, raw, opts);
  checkTransport(outer.type, 'input');
  const s = 'kinesis' in outer ? outer.kinesis : outer;
  const path = nested ? 'input.kinesis' : 'input';
  let initialPosition: InitialPositionConfig = 'TRIM_HORIZON';
  if (s.initialPosition !== undefined) {
    // Snowplow upper-cases the type before matching it.
    const type = s.initialPosition.type.toUpperCase();
    if (type === 'TRIM_HORIZON' || type === 'LATEST') initialPosition = type;
    else if (type === 'AT_TIMESTAMP') {
      const ts = s.initialPosition.timestamp;
      if (ts === undefined) throw new FurrowError('CONFIG_MISSING_KEY', `${path}.initialPosition.timestamp is required`);
      const d = new Date(ts);
      if (Number.isNaN(d.getTime())) throw invalid(`${path}.initialPosition.timestamp`, 'must be an ISO-8601 timestamp', ts);
      initialPosition = { timestamp: d };
    } else throw invalid(`${path}.initialPosition.type`, 'must be TRIM_HORIZON, LATEST or AT_TIMESTAMP', type);
  }
  const rm = s.retrievalMode;
  if (rm !== undefined) {
    const type = rm.type.toUpperCase();
    // Same records, read another way: furrow polls (one warning names the key).
    if (type === 'FANOUT') {
      const key = `${path}.retrievalMode.type`;
      if (!warnings.some((w) => w.key === key)) warnings.push({ key, message: FAN_OUT });
    } else if (type !== 'POLLING') throw invalid(`${path}.retrievalMode.type`, 'must be Polling or FanOut', rm.type);
  }
  const cb5 = s.checkpointBackoff;
  const cb6 = s.checkpointThrottledBackoffPolicy;
  if (cb5 !== undefined && cb6 !== undefined) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.checkpointBackoff and ${path}.checkpointThrottledBackoffPolicy are the same setting; give one`);
  const checkpointBackoff =
    cb5 !== undefined
      ? backoff(cb5, CHECKPOINT_BACKOFF, `${path}.checkpointBackoff`)
      : cb6 !== undefined
        ? backoff(cb6, { minBackoffMs: 100, maxBackoffMs: 1000, maxRetries: CHECKPOINT_BACKOFF.maxRetries }, `${path}.checkpointThrottledBackoffPolicy`)
        : CHECKPOINT_BACKOFF;
  return {
    streamName: s.streamName,
    appName: s.appName ?? ('kinesis' in outer ? outer.appName : undefined) ?? 'snowplow-enrich',
    initialPosition,
    maxRecords: rm?.maxRecords ?? 1000,
    idleTimeBetweenReadsMs: rm?.idleTimeBetweenReads ?? null,
    leaseDurationMs: s.leaseDuration,
    region: s.region ?? ('kinesis' in outer ? outer.region : undefined) ?? null,
    customEndpoint: s.customEndpoint ?? null,
    dynamodbCustomEndpoint: s.dynamodbCustomEndpoint ?? null,
    leases: outer.leases,
    workerIdentifier: s.workerIdentifier ?? null,
    checkpointBackoff,
  };
}
