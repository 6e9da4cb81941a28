/**
 * The collector's configuration: a Snowplow collector 3.x HOCON file (or 2.x, legacy `streams.sink` style)
 * read once at start into a frozen, typed object.
 *
 *   file ──readHoconFile (env substitution)──▶ plain object
 *        ──`collector {}` block (or top level)──▶ config/reader.ts + collectorSchema (defaults, types, unknown keys ⇒ CONFIG_UNKNOWN_KEY)
 *        ──`streams {}` with the chosen sink's schema (sinks/stream-config.ts)
 *        ──▶ deepFreeze(CollectorConfig)
 *
 * Keys Snowplow 3.4.0 parses but ignores are accepted and ignored here too. StatsD, TLS (ssl.enable) and the SQS
 * overflow buffers are accepted with one warning each (`warnings`, logged at start) saying what furrow does
 * instead. Another transport (Pub/Sub, Kafka, NSQ) stops start-up with CONFIG_UNSUPPORTED naming the key. furrow's own options live in an optional `collector.furrow {}` block.
 */
import { FurrowError } from '../common/errors.js';
import { readHoconFile } from '../config/hocon.js';
import { compileReader, deepFreeze, type ConfigWarning } from '../config/reader.js';
import { t, type Static } from '../config/schema.js';
import { chooseSink, readStreams, type SinkType, type StreamConfig } from './sinks/stream-config.js';

export type { BackoffConfig, BufferConfig, KinesisStreamConfig, SinkType, StdoutStreamConfig, StreamConfig } from './sinks/stream-config.js';

export type SameSite = 'None' | 'Strict' | 'Lax';
export type AckMode = 'buffered' | 'durable';


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


const bool = (def: boolean) => t.boolean({ default: def, words: true });
const text = (def: string) => t.string({ minLength: 0, default: def });
const optText = () => t.optional(t.string({ minLength: 0 }));
const textList = (def: readonly string[]) => t.array(t.string({ minLength: 0 }), { default: [...def] });
const int = (def: number, minimum: number, maximum?: number) => t.integer({ default: def, minimum, ...(maximum !== undefined ? { maximum } : {}) });
const section = <P extends Parameters<typeof t.object>[0]>(props: P) => t.object(props, { default: {} });


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
  // Read with the chosen sink's schema (sinks/stream-config.ts) once the sink is known.
  streams: t.record(t.any(), { default: {} }),
});

/** The collector block as its schema describes it (defaults in, durations in ms). */
export type CollectorFile = Static<typeof collectorSchema>;

const readCollectorBlock = compileReader(collectorSchema);
const readWrapper = compileReader(t.object({ collector: t.record(t.any()), akka: t.ignored() }));

const unknownKey = (k: string): string => `unknown configuration key ${k}`;


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
