/**
 * The collector's stream blocks (Snowplow collector 2.x–3.x HOCON, under `collector.streams`): which sink, and
 * its good/bad streams, read with the schema of the chosen sink.
 *
 *   3.x  streams { good { name, …Kinesis keys, buffer {} }, bad { … }, useIpAddressAsPartitionKey }
 *   2.x  streams { good = "name", bad = "name", sink { enabled, …Kinesis keys }, buffer {} }
 *
 * The sink is chosen first (chooseSink: --sink, collector.furrow.sink, 2.x sink.enabled, else a Kinesis key
 * present), then the block is read (readStreams). collector/config.ts calls both; the sinks beside this file
 * (kinesis-sink.ts, stdout-sink.ts, built by factory.ts) take the StreamConfig it returns.
 */
import { FurrowError } from '../../common/errors.js';
import { readConfig, type ConfigWarning } from '../../config/reader.js';
import { t, type Static } from '../../config/schema.js';

export type SinkType = 'stdout' | 'kinesis';

export interface BufferConfig {
  readonly byteLimit: number;
  readonly recordLimit: number;
  readonly timeLimitMs: number;
}

export interface BackoffConfig {
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly maxRetries: number;
}

export interface StdoutStreamConfig {
  readonly type: 'stdout';
  readonly name: string;
  readonly maxBytes: number;
}

export interface KinesisStreamConfig {
  readonly type: 'kinesis';
  readonly name: string;
  readonly region: string;
  readonly customEndpoint: string | null;
  readonly threadPoolSize: number;
  readonly backoff: BackoffConfig;
  readonly maxBytes: number;
  readonly startupCheckIntervalMs: number;
  readonly buffer: BufferConfig;
}

export type StreamConfig = StdoutStreamConfig | KinesisStreamConfig;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const DEFAULT_STDOUT_MAX_BYTES = 1_000_000_000;
const DEFAULT_KINESIS_MAX_BYTES = 1_000_000;
/** Kinesis' hard per-record limit (data + partition key). */
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;

const KINESIS_ONLY_KEYS = ['region', 'customEndpoint', 'threadPoolSize', 'backoffPolicy', 'startupCheckInterval', 'sqsGoodBuffer', 'sqsBadBuffer', 'sqsMaxBytes', 'aws'];
const OTHER_SINK_KEYS: Readonly<Record<string, string>> = {
  googleProjectId: 'Pub/Sub',
  brokers: 'Kafka',
  producerConf: 'Kafka',
  host: 'NSQ',
};

const SQS_INSTEAD = 'the SQS overflow buffer is not supported: furrow retries Kinesis with backoff and answers 503 (Retry-After) when its buffers are full (collector.furrow.maxPendingBytes); nothing goes to SQS';

const bool = (def: boolean) => t.boolean({ default: def, words: true });
const text = (def: string) => t.string({ minLength: 0, default: def });
const optText = () => t.optional(t.string({ minLength: 0 }));
const int = (def: number, minimum: number, maximum?: number) => t.integer({ default: def, minimum, ...(maximum !== undefined ? { maximum } : {}) });
const section = <P extends Parameters<typeof t.object>[0]>(props: P) => t.object(props, { default: {} });

const bufferSchema = section({ byteLimit: int(3_145_728, 1), recordLimit: int(500, 1), timeLimit: t.duration({ default: 5000 }) });

/** The Kinesis keys of a stream block (3.x) or of the shared `streams.sink` block (2.x). */
const kinesisKeys = {
  region: optText(),
  customEndpoint: t.optional(t.string({ pattern: '^https?://[^\\s/]+', expect: 'expected an http(s) URL' })),
  threadPoolSize: int(10, 1, 1000),
  backoffPolicy: section({ minBackoff: t.duration({ default: 500 }), maxBackoff: t.duration({ default: 1500 }), maxRetries: int(3, 0) }),
  maxBytes: t.optional(t.integer({ minimum: 1, maximum: KINESIS_MAX_RECORD_BYTES })),
  startupCheckInterval: t.duration({ default: 1000 }),
  sqsGoodBuffer: t.warn(SQS_INSTEAD),
  sqsBadBuffer: t.warn(SQS_INSTEAD),
  sqsMaxBytes: t.ignored(),
  aws: t.ignored(),
  enabled: t.ignored(),
};

/** 3.x: `streams { good { name, …Kinesis keys, buffer {} }, bad { … } }`; a stdout block may keep a buffer (unused). */
const streams3 = (sink: SinkType) => {
  const block = (name: string) =>
    sink === 'kinesis'
      ? section({ name: text(name), ...kinesisKeys, buffer: bufferSchema })
      : section({ name: text(name), maxBytes: t.optional(t.integer({ minimum: 1 })), buffer: t.ignored() });
  return t.object({ good: block('good'), bad: block('bad'), useIpAddressAsPartitionKey: bool(false) });
};

/** 2.x: `streams { good = "name", bad = "name", sink { enabled, … }, buffer {} }`. */
const streams2 = (sink: SinkType) => {
  const ignoredKinesis = Object.fromEntries(KINESIS_ONLY_KEYS.map((k) => [k, t.ignored()]));
  const sinkBlock =
    sink === 'kinesis' ? section(kinesisKeys) : section({ ...ignoredKinesis, enabled: t.ignored(), maxBytes: t.optional(t.integer({ minimum: 1 })) });
  return t.object({ good: text('good'), bad: text('bad'), sink: sinkBlock, buffer: sink === 'kinesis' ? bufferSchema : t.ignored(), useIpAddressAsPartitionKey: bool(false) });
};
const STREAMS = { 2: { stdout: streams2('stdout'), kinesis: streams2('kinesis') }, 3: { stdout: streams3('stdout'), kinesis: streams3('kinesis') } };

const unknownKey = (k: string): string => `unknown configuration key ${k}`;

type KinesisBlock = { readonly region?: string; readonly customEndpoint?: string; readonly threadPoolSize: number; readonly backoffPolicy: { readonly minBackoff: number; readonly maxBackoff: number; readonly maxRetries: number }; readonly maxBytes?: number; readonly startupCheckInterval: number };
type BufferBlock = { readonly byteLimit: number; readonly recordLimit: number; readonly timeLimit: number };

function kinesisStream(name: string, k: KinesisBlock, buffer: BufferBlock, path: string): KinesisStreamConfig {
  if (k.region === undefined) throw new FurrowError('CONFIG_MISSING_KEY', `${path}.region is required for the kinesis sink`);
  const b = k.backoffPolicy;
  if (b.maxBackoff < b.minBackoff) throw new FurrowError('CONFIG_INVALID_VALUE', `${path}.backoffPolicy.maxBackoff: must be >= minBackoff, got ${b.maxBackoff}`);
  const cn = k.region === 'cn-north-1' || k.region === 'cn-northwest-1';
  return {
    type: 'kinesis',
    name,
    region: k.region,
    customEndpoint: k.customEndpoint ?? (cn ? `https://kinesis.${k.region}.amazonaws.com.cn` : null),
    threadPoolSize: k.threadPoolSize,
    backoff: { minBackoffMs: b.minBackoff, maxBackoffMs: b.maxBackoff, maxRetries: b.maxRetries },
    maxBytes: k.maxBytes ?? DEFAULT_KINESIS_MAX_BYTES,
    startupCheckIntervalMs: k.startupCheckInterval,
    buffer: { byteLimit: buffer.byteLimit, recordLimit: buffer.recordLimit, timeLimitMs: buffer.timeLimit },
  };
}

export function readStreams(raw: Obj, sink: SinkType, warnings: ConfigWarning[]): { useIpAddressAsPartitionKey: boolean; good: StreamConfig; bad: StreamConfig } {
  const path = 'collector.streams';
  if (typeof raw['good'] === 'string' || typeof raw['bad'] === 'string' || raw['sink'] !== undefined) {
    // 2.x layout: the sink-specific keys live in `streams.sink`, shared by good and bad.
    const s = readConfig(STREAMS[2][sink], raw, { path, unknownKey, warnings }) as Static<ReturnType<typeof streams2>>;
    const sk = s.sink as unknown as KinesisBlock & { maxBytes?: number };
    const stream = (name: string): StreamConfig =>
      sink === 'stdout' ? { type: 'stdout', name, maxBytes: sk.maxBytes ?? DEFAULT_STDOUT_MAX_BYTES } : kinesisStream(name, sk, s.buffer as BufferBlock, `${path}.sink`);
    return { useIpAddressAsPartitionKey: s.useIpAddressAsPartitionKey, good: stream(s.good), bad: stream(s.bad) };
  }
  for (const which of ['good', 'bad']) {
    const block = raw[which];
    if (!isObj(block)) continue;
    for (const [k, what] of Object.entries(OTHER_SINK_KEYS)) {
      if (block[k] !== undefined) throw new FurrowError('CONFIG_UNSUPPORTED', `${path}.${which}.${k}: the ${what} sink is not supported by furrow (stdout and kinesis are)`);
    }
  }
  const s = readConfig(STREAMS[3][sink], raw, { path, unknownKey, warnings }) as Static<ReturnType<typeof streams3>>;
  const stream = (which: 'good' | 'bad'): StreamConfig => {
    const b = s[which] as unknown as KinesisBlock & { name: string; buffer: BufferBlock };
    return sink === 'stdout' ? { type: 'stdout', name: b.name, maxBytes: b.maxBytes ?? DEFAULT_STDOUT_MAX_BYTES } : kinesisStream(b.name, b, b.buffer, `${path}.${which}`);
  };
  return { useIpAddressAsPartitionKey: s.useIpAddressAsPartitionKey, good: stream('good'), bad: stream('bad') };
}

export function chooseSink(streams: Obj, furrowSink: string | undefined, override: SinkType | undefined): { sink: SinkType; reason: string } {
  if (override) return { sink: override, reason: 'chosen on the command line (--sink)' };
  if (furrowSink !== undefined) {
    if (furrowSink !== 'stdout' && furrowSink !== 'kinesis') {
      throw new FurrowError('CONFIG_INVALID_VALUE', `collector.furrow.sink: expected "stdout" or "kinesis", got ${JSON.stringify(furrowSink)}`);
    }
    return { sink: furrowSink, reason: 'collector.furrow.sink' };
  }
  const legacySink = streams['sink'];
  if (isObj(legacySink) && legacySink['enabled'] !== undefined) {
    const e = String(legacySink['enabled']).toLowerCase();
    if (e === 'kinesis' || e === 'stdout') return { sink: e, reason: 'collector.streams.sink.enabled' };
    throw new FurrowError('CONFIG_UNSUPPORTED', `collector.streams.sink.enabled: the ${e} sink is not supported by furrow (stdout and kinesis are)`);
  }
  if (isObj(legacySink)) {
    // 2.9+ Kinesis artifacts know their sink: `sink { region = … }` without `enabled`.
    const k = KINESIS_ONLY_KEYS.find((key) => legacySink[key] !== undefined);
    if (k) return { sink: 'kinesis', reason: `collector.streams.sink.${k} is set (a Kinesis collector config)` };
  }
  for (const which of ['good', 'bad']) {
    const block = streams[which];
    if (isObj(block)) {
      const k = KINESIS_ONLY_KEYS.find((key) => block[key] !== undefined);
      if (k) return { sink: 'kinesis', reason: `collector.streams.${which}.${k} is set (a Kinesis collector config)` };
    }
  }
  return { sink: 'stdout', reason: 'no Kinesis keys (region, customEndpoint, ...) in collector.streams' };
}
