/**
 * The collector's configuration: a Snowplow collector 3.x HOCON file (or 2.x, legacy `streams.sink` style)
 * read once at start into a frozen, typed object.
 *
 *   file ──readHoconFile (env substitution)──▶ plain object
 *        ──`collector {}` block (or top level)──▶ Section walker (defaults, types, unknown keys ⇒ CONFIG_UNKNOWN_KEY)
 *        ──▶ deepFreeze(CollectorConfig)
 *
 * Keys Snowplow 3.4.0 parses but ignores are accepted and ignored here too. StatsD, TLS (ssl.enable) and the SQS
 * overflow buffers are accepted with one warning each (`warnings`, logged at start) saying what furrow does
 * instead. Another transport (Pub/Sub, Kafka, NSQ) stops start-up with CONFIG_UNSUPPORTED naming the key. furrow's own options live in an optional `collector.furrow {}` block.
 */
import { FurrowError } from '../common/errors.js';
import { readHoconFile } from './hocon.js';
import { compileReader, deepFreeze, readConfig, type ConfigWarning } from './reader.js';
import { t, type Static } from './schema.js';

export type SameSite = 'None' | 'Strict' | 'Lax';
export type SinkType = 'stdout' | 'kinesis';
export type AckMode = 'buffered' | 'durable';

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

/**
 * Snowplow collector 3.6's `compression {}` block: good records become batches of payloads, gzip- or
 * zstd-compressed, in the layout Snowplow enrich 6.1+ (and furrow's enricher) reads. Off by default.
 */
export interface CompressionConfig {
  readonly enabled: boolean;
  readonly type: 'gzip' | 'zstd';
  readonly gzipCompressionLevel: number;
  readonly zstdCompressionLevel: number;
}

export interface CookieConfig {
  readonly enabled: boolean;
  readonly expirationMs: number;
  readonly name: string;
  readonly domains: readonly string[];
  readonly fallbackDomain: string | null;
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: SameSite | null;
  readonly clientCookieName: string | null;
}

export interface CollectorConfig {
  readonly interface: string;
  readonly port: number;
  readonly paths: Readonly<Record<string, string>>;
  readonly crossDomain: { readonly enabled: boolean; readonly domains: readonly string[]; readonly secure: boolean };
  readonly cookie: CookieConfig;
  readonly doNotTrackCookie: { readonly enabled: boolean; readonly name: string; readonly value: string };
  readonly cookieBounce: {
    readonly enabled: boolean;
    readonly name: string;
    readonly fallbackNetworkUserId: string;
    readonly forwardedProtocolHeader: string | null;
  };
  readonly rootResponse: {
    readonly enabled: boolean;
    readonly statusCode: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body: string;
  };
  readonly cors: { readonly accessControlMaxAgeSec: number };
  readonly enableDefaultRedirect: boolean;
  readonly redirectDomains: readonly string[];
  readonly streams: {
    readonly sink: SinkType;
    /** Why this sink was chosen (logged at start). */
    readonly sinkReason: string;
    readonly useIpAddressAsPartitionKey: boolean;
    readonly good: StreamConfig;
    readonly bad: StreamConfig;
  };
  readonly hsts: { readonly enable: boolean; readonly maxAgeSec: number };
  readonly networking: {
    readonly maxConnections: number;
    readonly idleTimeoutMs: number;
    readonly responseHeaderTimeoutMs: number;
    readonly maxRequestLineLength: number;
    readonly maxHeadersLength: number;
    readonly maxPayloadSize: number;
    readonly dropPayloadSize: number;
  };
  readonly preTerminationPeriodMs: number;
  readonly compression: CompressionConfig;
  /** Accepted keys naming something furrow does not do, with what it does instead (logged once each at start). */
  readonly warnings: readonly { readonly key: string; readonly message: string }[];
  /** furrow's additions (the optional `collector.furrow {}` block). */
  readonly furrow: {
    /** `buffered` (Snowplow: 200 once the record is in memory) or `durable` (200 once the sink accepted it). */
    readonly acknowledge: AckMode;
    /** Above this many bytes waiting in the sinks, tracking requests get 503 + Retry-After (nothing is taken in). */
    readonly maxPendingBytes: number;
    /**
     * Request-body bytes held across all open requests (received, inflated, decoder windows); a request that
     * would pass it gets 503 + Retry-After (collector/body-budget.ts).
     */
    readonly maxBodyBytesInFlight: number;
    readonly retryAfterSec: number;
    /**
     * A Kinesis PutRecords / DescribeStreamSummary call unanswered this long is aborted (a failed attempt) and
     * the stream reported unhealthy at once.
     */
    readonly kinesisCallTimeoutMs: number;
    /** A connection's request line and headers must be complete within this (node's headersTimeout ⇒ 408). */
    readonly headersTimeoutMs: number;
    /** Accept `Content-Encoding: gzip|deflate` request bodies. */
    readonly decompressBodies: boolean;
    /** Version written in `collector` (ssc-<v>-<sink>) and bad rows; Snowplow's 3.4.0 by default. */
    readonly compatVersion: string;
  };
}

// ---------------------------------------------------------------------------------------------------
// The file's schema (config/schema.ts): every key Snowplow's collector 2.x–3.x parses, furrow's `furrow {}` block.

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
const textList = (def: readonly string[]) => t.array(t.string({ minLength: 0 }), { default: [...def] });
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

const collectorSchema = t.object({
  // Accepted, not required (furrow is open source); still type-checked.
  license: section({ accept: bool(false) }),
  interface: text('0.0.0.0'),
  port: int(8080, 0, 65535),
  paths: t.record(t.string({ minLength: 0 }), { default: {} }),
  p3p: t.ignored(),
  redirectMacro: t.ignored(),
  preTerminationUnhealthy: t.ignored(),
  terminationDeadline: t.ignored(),
  experimental: t.ignored(),
  prometheusMetrics: t.ignored(),
  enableStartMessage: t.ignored(),
  crossDomain: section({ enabled: bool(false), domains: textList(['*']), secure: bool(true) }),
  cookie: section({
    enabled: bool(true),
    expiration: t.duration({ default: 365 * 86_400_000 }),
    name: t.string({ default: 'sp', pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$", expect: 'not a valid cookie name' }),
    domains: textList([]),
    fallbackDomain: optText(),
    // 2.x had a `domain` (single) key; it maps to fallbackDomain.
    domain: optText(),
    secure: bool(true),
    httpOnly: bool(true),
    // None | Strict | Lax (any case), or null for no SameSite attribute: read in parseCollectorConfig.
    sameSite: t.optional(t.any()),
    clientCookieName: t.optional(t.string({ pattern: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$", expect: 'not a valid cookie name' })),
  }),
  doNotTrackCookie: section({ enabled: bool(false), name: text(''), value: text('') }),
  cookieBounce: section({ enabled: bool(false), name: text('n3pc'), fallbackNetworkUserId: text('00000000-0000-4000-A000-000000000000'), forwardedProtocolHeader: optText() }),
  rootResponse: section({ enabled: bool(false), statusCode: int(302, 100, 599), headers: t.record(t.string({ minLength: 0 }), { default: {} }), body: text('') }),
  cors: section({ accessControlMaxAge: t.duration({ default: 3_600_000 }) }),
  enableDefaultRedirect: bool(false),
  redirectDomains: textList([]),
  // furrow sends no telemetry; keys accepted for compatibility
  telemetry: t.optional(t.record(t.any())),
  monitoring: section({
    metrics: section({
      statsd: section({
        enabled: t.warn('StatsD is not supported: nothing is sent to StatsD; furrow serves Prometheus metrics at GET /metrics'),
        hostname: t.ignored(),
        port: t.ignored(),
        period: t.ignored(),
        prefix: t.ignored(),
        tags: t.ignored(),
      }),
    }),
  }),
  ssl: section({
    enable: t.warn('TLS is not supported: furrow serves plain HTTP on collector.port only (nothing on ssl.port); terminate TLS at a load balancer or proxy in front'),
    redirect: t.ignored(),
    port: t.ignored(),
  }),
  hsts: section({ enable: bool(false), maxAge: t.duration({ default: 365 * 86_400_000 }) }),
  networking: section({
    maxConnections: int(1024, 1),
    idleTimeout: t.duration({ default: 610_000 }),
    responseHeaderTimeout: t.duration({ default: 30_000 }),
    maxRequestLineLength: int(20480, 64),
    maxHeadersLength: int(40960, 256),
    maxPayloadSize: int(1_048_576, 1),
    dropPayloadSize: int(2_097_152, 1),
    bodyReadTimeout: t.ignored(), // 3.x newer releases; node's requestTimeout covers it
  }),
  preTerminationPeriod: t.duration({ default: 10_000 }),
  // Snowplow 3.6 defaults: enabled = false, type = zstd, gzip level 6, zstd level 9.
  compression: section({
    enabled: bool(false),
    type: t.string({ default: 'zstd', pattern: '^([gG][zZ][iI][pP]|[zZ][sS][tT][dD])$', expect: 'expected "gzip" or "zstd"' }),
    gzipCompressionLevel: int(6, 1, 9),
    zstdCompressionLevel: int(9, 1, 22),
  }),
  furrow: section({
    acknowledge: t.enum(['buffered', 'durable'], { default: 'buffered' }),
    sink: t.optional(t.string({ minLength: 0 })),
    maxPendingBytes: int(256 * 1024 * 1024, 1),
    maxBodyBytesInFlight: int(64 * 1024 * 1024, 1),
    retryAfter: t.duration({ default: 5000 }),
    kinesisCallTimeout: t.duration({ default: 3000 }),
    headersTimeout: t.duration({ default: 10_000 }),
    decompressBodies: bool(true),
    compatVersion: text('3.4.0'),
  }),
  // Read with STREAMS once the sink is known.
  streams: t.record(t.any(), { default: {} }),
});

/** The collector block as its schema describes it (defaults in, durations in ms). */
export type CollectorFile = Static<typeof collectorSchema>;

const readCollectorBlock = compileReader(collectorSchema);
const readWrapper = compileReader(t.object({ collector: t.record(t.any()), akka: t.ignored() }));

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

function readStreams(raw: Obj, sink: SinkType, warnings: ConfigWarning[]): { useIpAddressAsPartitionKey: boolean; good: StreamConfig; bad: StreamConfig } {
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

function chooseSink(streams: Obj, furrowSink: string | undefined, override: SinkType | undefined): { sink: SinkType; reason: string } {
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

export interface ParseOptions {
  /** `--sink` on the command line wins over the file. */
  sink?: SinkType;
}

function sameSiteOf(v: unknown): SameSite | null {
  if (v === undefined) return 'None';
  if (v === null) return null;
  if (typeof v === 'string' && /^(none|strict|lax)$/i.test(v)) return (v[0]!.toUpperCase() + v.slice(1).toLowerCase()) as SameSite;
  throw new FurrowError('CONFIG_INVALID_VALUE', `collector.cookie.sameSite: expected None, Strict, Lax or null, got ${JSON.stringify(v)}`);
}

/** Validates a parsed HOCON document (whole file) into a frozen CollectorConfig. */
export function parseCollectorConfig(doc: Record<string, unknown>, opts: ParseOptions = {}): CollectorConfig {
  const warnings: ConfigWarning[] = [];
  // Snowplow 2.x files carry an `akka {}` block beside `collector {}`: accepted and ignored.
  const block = doc['collector'] !== undefined ? (readWrapper(doc, { unknownKey }).collector as Obj) : doc;
  const c = readCollectorBlock(block, { path: 'collector', unknownKey, warnings });

  for (const [from, to] of Object.entries(c.paths)) {
    if (!/^\/[^/]+\/[^/]*$/.test(from)) throw new FurrowError('CONFIG_INVALID_VALUE', `collector.paths."${from}": a custom path must be /vendor/version`);
    if (!/^\/[^/]+\/[^/]*$/.test(to)) throw new FurrowError('CONFIG_INVALID_VALUE', `collector.paths."${from}": target ${JSON.stringify(to)} must be /vendor/version`);
  }
  const ck = c.cookie;
  const cookie: CookieConfig = {
    enabled: ck.enabled,
    expirationMs: ck.expiration,
    name: ck.name,
    domains: ck.domains,
    fallbackDomain: ck.fallbackDomain ?? ck.domain ?? null,
    secure: ck.secure,
    httpOnly: ck.httpOnly,
    // null (no SameSite attribute) is a value here: read from the block as written.
    sameSite: sameSiteOf(isObj(block['cookie']) ? (block['cookie'] as Obj)['sameSite'] : undefined),
    clientCookieName: ck.clientCookieName ?? null,
  };
  if (c.doNotTrackCookie.enabled) {
    try {
      new RegExp(`^(?:${c.doNotTrackCookie.value})$`);
    } catch (e) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `collector.doNotTrackCookie.value: not a valid regular expression: ${(e as Error).message}`);
    }
  }
  // Node 20's zlib has no zstd encoder; a WASM one measured 140-410 ms per 600 kB batch at level 9 on the
  // event-loop thread (it would stall every request). A Snowplow file with `compression { enabled = true }`
  // (type defaults to zstd) must still start: records are written gzip, which every enricher that reads
  // compressed records (Snowplow enrich 6.1+, furrow) tells apart by its magic bytes.
  const compression: CompressionConfig = { ...c.compression, type: c.compression.type.toLowerCase() as 'gzip' | 'zstd' };
  if (compression.enabled && compression.type === 'zstd') {
    warnings.push({ key: 'collector.compression.type', message: 'zstd is not written by furrow\'s collector: records are compressed with gzip (gzipCompressionLevel) instead; enrichers that read compressed records read both' });
  }
  const fu = c.furrow;
  const furrow = {
    acknowledge: fu.acknowledge,
    maxPendingBytes: fu.maxPendingBytes,
    maxBodyBytesInFlight: fu.maxBodyBytesInFlight,
    retryAfterSec: Math.max(1, Math.ceil(fu.retryAfter / 1000)),
    kinesisCallTimeoutMs: fu.kinesisCallTimeout,
    headersTimeoutMs: fu.headersTimeout,
    decompressBodies: fu.decompressBodies,
    compatVersion: fu.compatVersion,
  };
  const net = c.networking;
  const networking = {
    maxConnections: net.maxConnections,
    idleTimeoutMs: net.idleTimeout,
    responseHeaderTimeoutMs: net.responseHeaderTimeout,
    maxRequestLineLength: net.maxRequestLineLength,
    maxHeadersLength: net.maxHeadersLength,
    maxPayloadSize: net.maxPayloadSize,
    dropPayloadSize: net.dropPayloadSize,
  };

  const chosen = chooseSink(c.streams as Obj, fu.sink, opts.sink);
  const streams = readStreams(c.streams as Obj, chosen.sink, warnings);

  if (networking.maxPayloadSize > networking.dropPayloadSize) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'collector.networking.maxPayloadSize must not exceed collector.networking.dropPayloadSize');
  }
  if (furrow.kinesisCallTimeoutMs <= 0) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'collector.furrow.kinesisCallTimeout must be positive');
  }
  if (furrow.headersTimeoutMs <= 0) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'collector.furrow.headersTimeout must be positive');
  }
  if (furrow.maxBodyBytesInFlight < networking.dropPayloadSize) {
    throw new FurrowError('CONFIG_INVALID_VALUE', 'collector.furrow.maxBodyBytesInFlight must be at least collector.networking.dropPayloadSize (else a body of the allowed size could never be taken in)');
  }

  return deepFreeze<CollectorConfig>({
    interface: c.interface,
    port: c.port,
    paths: { ...c.paths },
    crossDomain: c.crossDomain,
    cookie,
    doNotTrackCookie: c.doNotTrackCookie,
    cookieBounce: { ...c.cookieBounce, forwardedProtocolHeader: c.cookieBounce.forwardedProtocolHeader ?? null },
    rootResponse: c.rootResponse,
    cors: { accessControlMaxAgeSec: Math.floor(c.cors.accessControlMaxAge / 1000) },
    enableDefaultRedirect: c.enableDefaultRedirect,
    redirectDomains: c.redirectDomains,
    streams: { sink: chosen.sink, sinkReason: chosen.reason, ...streams },
    hsts: { enable: c.hsts.enable, maxAgeSec: Math.floor(c.hsts.maxAge / 1000) },
    networking,
    preTerminationPeriodMs: c.preTerminationPeriod,
    compression,
    warnings,
    furrow,
  });
}

/** Reads and validates a collector HOCON file (env substitution from `env`). */
export async function loadCollectorConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: ParseOptions = {}): Promise<CollectorConfig> {
  return parseCollectorConfig(await readHoconFile(path, env), opts);
}
