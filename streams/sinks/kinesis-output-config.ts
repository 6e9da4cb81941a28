/**
 * The enricher's Kinesis output block (`output.good`, `output.bad`, `output.pii`, `output.failed` of Snowplow
 * enrich 3.0–6.10's HOCON): its schema and the KinesisOutputConfig the Kinesis sink (kinesis-sink.ts) is built
 * from. enricher/config.ts reads the file with it.
 */
import { FurrowError } from '../../common/errors.js';
import { t, type Static } from '../../config/schema.js';

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

const optNum = (minimum = 0) => t.optional(t.number({ minimum }));
const num = (def: number, minimum = 0) => t.number({ default: def, minimum });
const optStr = () => t.optional(t.string());
/** 3.x–5.x configs name the transport; only Kinesis (checked in kinesisOutput). */
const transport = () => t.optional(t.string());
const backoffSchema = t.optional(t.object({ minBackoff: t.optional(t.duration()), maxBackoff: t.optional(t.duration()), maxRetries: optNum(0) }));

/** One output block; `allowEmptyName`: Snowplow drops a pii / failed output whose streamName is empty. */
export const kinesisOutputSchema = (allowEmptyName: boolean) =>
  t.optional(
    t.object({
      type: transport(),
      streamName: allowEmptyName ? t.string({ minLength: 0 }) : t.string(),
      region: optStr(),
      customEndpoint: optStr(),
      recordLimit: optNum(1),
      byteLimit: optNum(1),
      partitionKey: optStr(),
      maxRetries: optNum(0),
      maxRecordSize: num(1_000_000, 1),
      throttledBackoffPolicy: backoffSchema,
      backoffPolicy: backoffSchema,
      // 3.0–3.1 (KPL): collection.maxCount / maxSize are the PutRecords request limits.
      collection: t.optional(t.object({ maxCount: optNum(1), maxSize: optNum(1) })),
      // KPL-era (3.0–3.1) client tuning and 6.x PubSub/Kafka attributes: no effect on a Kinesis record.
      attributes: t.ignored(),
      cloudwatchCustomEndpoint: t.ignored(),
      maxBufferedTime: t.ignored(),
      recordTtl: t.ignored(),
      aggregation: t.ignored(),
      maxConnections: t.ignored(),
      logLevel: t.ignored(),
      customPort: t.ignored(),
      cloudwatchEndpoint: t.ignored(),
      cloudwatchPort: t.ignored(),
    }),
  );

export type KinesisOutputBlock = NonNullable<Static<ReturnType<typeof kinesisOutputSchema>>>;

export function kinesisOutput(o: KinesisOutputBlock, path: string): KinesisOutputConfig {
  checkTransport(o.type, path);
  // One backoff in furrow's writer: delays from the throttling policy (6.x), retries from backoffPolicy (3.x–5.x).
  const delays = o.throttledBackoffPolicy ?? o.backoffPolicy;
  const policyRetries = o.backoffPolicy?.maxRetries ?? o.throttledBackoffPolicy?.maxRetries;
  for (const [k, b] of [['throttledBackoffPolicy', o.throttledBackoffPolicy], ['backoffPolicy', o.backoffPolicy]] as const) {
    if (b?.minBackoff !== undefined && b.maxBackoff !== undefined && b.maxBackoff < b.minBackoff) throw invalid(`${path}.${k}.maxBackoff`, 'must not be below minBackoff', b.maxBackoff);
  }
  return {
    streamName: o.streamName,
    region: o.region ?? null,
    customEndpoint: o.customEndpoint ?? null,
    recordLimit: Math.min(500, o.recordLimit ?? o.collection?.maxCount ?? 500),
    byteLimit: Math.min(5_242_880, o.byteLimit ?? o.collection?.maxSize ?? 5_242_880),
    partitionKey: o.partitionKey ?? null,
    maxRetries: o.maxRetries ?? policyRetries ?? 10,
    minBackoffMs: delays?.minBackoff ?? 100,
    maxBackoffMs: delays?.maxBackoff ?? 1000,
    maxRecordSize: o.maxRecordSize,
  };
}

function checkTransport(type: string | undefined, path: string): void {
  if (type !== undefined && type !== 'Kinesis') throw new FurrowError('CONFIG_UNSUPPORTED', `${path}.type: only Kinesis is supported (got ${type}); use --input/--output for files and stdin/stdout`);
}

function invalid(key: string, what: string, v: unknown): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `${key} ${what} (got ${JSON.stringify(v)})`);
}
