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
import { parseDurationMs, readHoconFile } from './hocon.js';

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
// A small schema walker: every key read is remembered; whatever is left is an unknown key.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

class Section {
  private readonly seen = new Set<string>();
  constructor(readonly path: string, readonly obj: Obj) {}

  key(k: string): string {
    return this.path === '' ? k : `${this.path}.${k}`;
  }
  has(k: string): boolean {
    return this.obj[k] !== undefined;
  }
  raw(k: string): unknown {
    this.seen.add(k);
    return this.obj[k];
  }
  ignore(...keys: string[]): void {
    for (const k of keys) this.seen.add(k);
  }
  bad(k: string, what: string, v: unknown): never {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${this.key(k)}: ${what}, got ${JSON.stringify(v)}`);
  }
  str(k: string, def: string): string {
    const v = this.raw(k);
    if (v === undefined) return def;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return this.bad(k, 'expected a string', v);
  }
  optStr(k: string): string | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return this.bad(k, 'expected a string', v);
  }
  requiredStr(k: string): string {
    const v = this.optStr(k);
    if (v === null) throw new FurrowError('CONFIG_MISSING_KEY', `${this.key(k)} is required`);
    return v;
  }
  bool(k: string, def: boolean): boolean {
    const v = this.raw(k);
    if (v === undefined) return def;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string') {
      const s = v.trim().toLowerCase();
      if (s === 'true' || s === 'yes' || s === 'on' || s === '1') return true;
      if (s === 'false' || s === 'no' || s === 'off' || s === '0') return false;
    }
    return this.bad(k, 'expected a boolean', v);
  }
  int(k: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(k);
    if (v === undefined) return def;
    const n = typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return this.bad(k, 'expected an integer', v);
    if (n < min || n > max) return this.bad(k, `expected an integer in [${min}, ${max}]`, v);
    return n;
  }
  durationMs(k: string, defMs: number): number {
    const v = this.raw(k);
    if (v === undefined) return defMs;
    return parseDurationMs(v, this.key(k));
  }
  strList(k: string, def: readonly string[]): string[] {
    const v = this.raw(k);
    if (v === undefined) return [...def];
    if (!Array.isArray(v)) return this.bad(k, 'expected a list of strings', v);
    return v.map((x, i) => {
      if (typeof x !== 'string') return this.bad(`${k}[${i}]`, 'expected a string', x);
      return x;
    });
  }
  strMap(k: string): Record<string, string> {
    const v = this.raw(k);
    if (v === undefined) return {};
    if (!isObj(v)) return this.bad(k, 'expected an object of strings', v);
    const out: Record<string, string> = {};
    for (const [name, val] of Object.entries(v)) {
      if (typeof val !== 'string' && typeof val !== 'number') return this.bad(`${k}.${name}`, 'expected a string', val);
      out[name] = String(val);
    }
    return out;
  }
  section(k: string): Section {
    const v = this.raw(k);
    if (v === undefined || v === null) return new Section(this.key(k), {});
    if (!isObj(v)) return this.bad(k, 'expected an object', v);
    return new Section(this.key(k), v);
  }
  /** Accepts the key; when it is set (not absent or "off"), one warning saying what furrow does instead. */
  warnIfSet(k: string, instead: string, warnings: { key: string; message: string }[]): void {
    const v = this.raw(k);
    if (v === undefined || v === null || v === false || v === 'false' || v === '' || (Array.isArray(v) && v.length === 0)) return;
    const key = this.key(k);
    if (!warnings.some((w) => w.key === key)) warnings.push({ key, message: instead });
  }
  /** Accepts the key only when it is absent or "off"; otherwise furrow cannot honour it. */
  unsupportedIfSet(k: string, why: string): void {
    const v = this.raw(k);
    if (v === undefined || v === null || v === false || (Array.isArray(v) && v.length === 0)) return;
    throw new FurrowError('CONFIG_UNSUPPORTED', `${this.key(k)}: ${why}`);
  }
  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `unknown configuration key ${this.key(k)}`);
    }
  }
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------

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

function readBuffer(s: Section, def: BufferConfig): BufferConfig {
  const b = {
    byteLimit: s.int('byteLimit', def.byteLimit, 1),
    recordLimit: s.int('recordLimit', def.recordLimit, 1),
    timeLimitMs: s.durationMs('timeLimit', def.timeLimitMs),
  };
  s.done();
  return b;
}

function readBackoff(s: Section): BackoffConfig {
  const b = {
    minBackoffMs: s.durationMs('minBackoff', 500),
    maxBackoffMs: s.durationMs('maxBackoff', 1500),
    maxRetries: s.int('maxRetries', 3, 0),
  };
  if (b.maxBackoffMs < b.minBackoffMs) s.bad('maxBackoff', 'must be >= minBackoff', b.maxBackoffMs);
  s.done();
  return b;
}

const DEFAULT_BUFFER: BufferConfig = { byteLimit: 3_145_728, recordLimit: 500, timeLimitMs: 5000 };

/** One `streams.good` / `streams.bad` block (3.x style); `shared` carries 2.x `streams.sink`/`streams.buffer`. */
const SQS_INSTEAD = 'the SQS overflow buffer is not supported: furrow retries Kinesis with backoff and answers 503 (Retry-After) when its buffers are full (collector.furrow.maxPendingBytes); nothing goes to SQS';

function readStream(type: SinkType, s: Section, defaultName: string, legacy: { sink: Section | null; buffer: Section | null; name: string | null }, warnings: { key: string; message: string }[]): StreamConfig {
  for (const [k, what] of Object.entries(OTHER_SINK_KEYS)) {
    if (s.has(k)) throw new FurrowError('CONFIG_UNSUPPORTED', `${s.key(k)}: the ${what} sink is not supported by furrow (stdout and kinesis are)`);
  }
  const name = legacy.name ?? s.str('name', defaultName);
  // In 2.x files the sink-specific keys live in `streams.sink`, shared by good and bad.
  const src = legacy.sink ?? s;
  if (type === 'stdout') {
    const maxBytes = src.int('maxBytes', DEFAULT_STDOUT_MAX_BYTES, 1);
    if (legacy.sink === null) {
      // A stdout block may still carry a buffer (ignored, as Snowplow's printing sink does).
      s.ignore('buffer');
    }
    // A 2.x stdout sink block may carry the Kinesis keys of the template it came from: nothing to do with them.
    if (legacy.sink !== null) legacy.sink.ignore(...KINESIS_ONLY_KEYS);
    return { type, name, maxBytes };
  }
  const region = src.optStr('region');
  if (region === null) throw new FurrowError('CONFIG_MISSING_KEY', `${src.key('region')} is required for the kinesis sink`);
  let customEndpoint = src.optStr('customEndpoint');
  if (customEndpoint === null && (region === 'cn-north-1' || region === 'cn-northwest-1')) customEndpoint = `https://kinesis.${region}.amazonaws.com.cn`;
  if (customEndpoint !== null && !/^https?:\/\/[^\s/]+/.test(customEndpoint)) src.bad('customEndpoint', 'expected an http(s) URL', customEndpoint);
  const threadPoolSize = src.int('threadPoolSize', 10, 1, 1000);
  const backoff = readBackoff(src.section('backoffPolicy'));
  const maxBytes = src.int('maxBytes', DEFAULT_KINESIS_MAX_BYTES, 1, KINESIS_MAX_RECORD_BYTES);
  const startupCheckIntervalMs = src.durationMs('startupCheckInterval', 1000);
  src.warnIfSet('sqsGoodBuffer', SQS_INSTEAD, warnings);
  src.warnIfSet('sqsBadBuffer', SQS_INSTEAD, warnings);
  src.ignore('sqsMaxBytes', 'aws', 'enabled');
  const buffer = readBuffer(legacy.buffer ?? s.section('buffer'), DEFAULT_BUFFER);
  return { type, name, region, customEndpoint, threadPoolSize, backoff, maxBytes, startupCheckIntervalMs, buffer };
}

function chooseSink(streams: Section, furrowSink: string | null, override: SinkType | undefined): { sink: SinkType; reason: string } {
  if (override) return { sink: override, reason: 'chosen on the command line (--sink)' };
  if (furrowSink !== null) {
    if (furrowSink !== 'stdout' && furrowSink !== 'kinesis') {
      throw new FurrowError('CONFIG_INVALID_VALUE', `collector.furrow.sink: expected "stdout" or "kinesis", got ${JSON.stringify(furrowSink)}`);
    }
    return { sink: furrowSink, reason: 'collector.furrow.sink' };
  }
  const legacySink = streams.obj.sink;
  if (isObj(legacySink) && legacySink.enabled !== undefined) {
    const e = String(legacySink.enabled).toLowerCase();
    if (e === 'kinesis' || e === 'stdout') return { sink: e, reason: 'collector.streams.sink.enabled' };
    throw new FurrowError('CONFIG_UNSUPPORTED', `collector.streams.sink.enabled: the ${e} sink is not supported by furrow (stdout and kinesis are)`);
  }
  if (isObj(legacySink)) {
    // 2.9+ Kinesis artifacts know their sink: `sink { region = … }` without `enabled`.
    const k = KINESIS_ONLY_KEYS.find((key) => legacySink[key] !== undefined);
    if (k) return { sink: 'kinesis', reason: `collector.streams.sink.${k} is set (a Kinesis collector config)` };
  }
  for (const which of ['good', 'bad']) {
    const block = streams.obj[which];
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

/** Validates a parsed HOCON document (whole file) into a frozen CollectorConfig. */
export function parseCollectorConfig(doc: Record<string, unknown>, opts: ParseOptions = {}): CollectorConfig {
  const warnings: { key: string; message: string }[] = [];
  const top = new Section('', doc);
  let c: Section;
  if (doc.collector !== undefined) {
    c = top.section('collector');
    // Snowplow 2.x files carry an `akka {}` block beside `collector {}`: accepted and ignored.
    top.ignore('akka');
    top.done();
  } else {
    c = new Section('collector', doc);
  }

  // Accepted, not required (furrow is open source); still type-checked.
  const license = c.section('license');
  license.bool('accept', false);
  license.done();

  const iface = c.str('interface', '0.0.0.0');
  const port = c.int('port', 8080, 0, 65535);

  const paths = c.strMap('paths');
  for (const [from, to] of Object.entries(paths)) {
    if (!/^\/[^/]+\/[^/]*$/.test(from)) throw new FurrowError('CONFIG_INVALID_VALUE', `collector.paths."${from}": a custom path must be /vendor/version`);
    if (!/^\/[^/]+\/[^/]*$/.test(to)) throw new FurrowError('CONFIG_INVALID_VALUE', `collector.paths."${from}": target ${JSON.stringify(to)} must be /vendor/version`);
  }

  c.ignore('p3p', 'redirectMacro', 'preTerminationUnhealthy', 'terminationDeadline', 'experimental', 'prometheusMetrics', 'enableStartMessage');

  const cd = c.section('crossDomain');
  const crossDomain = { enabled: cd.bool('enabled', false), domains: cd.strList('domains', ['*']), secure: cd.bool('secure', true) };
  cd.done();

  const ck = c.section('cookie');
  let sameSite: SameSite | null = 'None';
  if (ck.has('sameSite') || 'sameSite' in ck.obj) {
    const v = ck.raw('sameSite');
    if (v === null) sameSite = null;
    else if (typeof v === 'string' && /^(none|strict|lax)$/i.test(v)) sameSite = (v[0]!.toUpperCase() + v.slice(1).toLowerCase()) as SameSite;
    else ck.bad('sameSite', 'expected None, Strict, Lax or null', v);
  }
  const cookie: CookieConfig = {
    enabled: ck.bool('enabled', true),
    expirationMs: ck.durationMs('expiration', 365 * 86_400_000),
    name: ck.str('name', 'sp'),
    domains: ck.strList('domains', []),
    fallbackDomain: ck.optStr('fallbackDomain'),
    secure: ck.bool('secure', true),
    httpOnly: ck.bool('httpOnly', true),
    sameSite,
    clientCookieName: ck.optStr('clientCookieName'),
  };
  // 2.x had a `domain` (single) key; it maps to fallbackDomain.
  const legacyDomain = ck.optStr('domain');
  ck.done();
  if (legacyDomain !== null && cookie.fallbackDomain === null) (cookie as { fallbackDomain: string | null }).fallbackDomain = legacyDomain;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie.name)) throw new FurrowError('CONFIG_INVALID_VALUE', `collector.cookie.name: not a valid cookie name: ${JSON.stringify(cookie.name)}`);
  if (cookie.clientCookieName !== null && !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(cookie.clientCookieName)) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `collector.cookie.clientCookieName: not a valid cookie name: ${JSON.stringify(cookie.clientCookieName)}`);
  }

  const dnt = c.section('doNotTrackCookie');
  const doNotTrackCookie = { enabled: dnt.bool('enabled', false), name: dnt.str('name', ''), value: dnt.str('value', '') };
  dnt.done();
  if (doNotTrackCookie.enabled) {
    try {
      new RegExp(`^(?:${doNotTrackCookie.value})$`);
    } catch (e) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `collector.doNotTrackCookie.value: not a valid regular expression: ${(e as Error).message}`);
    }
  }

  const cb = c.section('cookieBounce');
  const cookieBounce = {
    enabled: cb.bool('enabled', false),
    name: cb.str('name', 'n3pc'),
    fallbackNetworkUserId: cb.str('fallbackNetworkUserId', '00000000-0000-4000-A000-000000000000'),
    forwardedProtocolHeader: cb.optStr('forwardedProtocolHeader'),
  };
  cb.done();

  const rr = c.section('rootResponse');
  const rootResponse = { enabled: rr.bool('enabled', false), statusCode: rr.int('statusCode', 302, 100, 599), headers: rr.strMap('headers'), body: rr.str('body', '') };
  rr.done();

  const cors = c.section('cors');
  const accessControlMaxAgeSec = Math.floor(cors.durationMs('accessControlMaxAge', 3_600_000) / 1000);
  cors.done();

  const enableDefaultRedirect = c.bool('enableDefaultRedirect', false);
  const redirectDomains = c.strList('redirectDomains', []);

  const tel = c.section('telemetry');
  tel.ignore(...Object.keys(tel.obj)); // furrow sends no telemetry; keys accepted for compatibility
  tel.done();

  const mon = c.section('monitoring');
  const monMetrics = mon.section('metrics');
  const statsd = monMetrics.section('statsd');
  statsd.warnIfSet('enabled', 'StatsD is not supported: nothing is sent to StatsD; furrow serves Prometheus metrics at GET /metrics', warnings);
  statsd.ignore('hostname', 'port', 'period', 'prefix', 'tags');
  statsd.done();
  monMetrics.done();
  mon.done();

  const ssl = c.section('ssl');
  ssl.warnIfSet('enable', 'TLS is not supported: furrow serves plain HTTP on collector.port only (nothing on ssl.port); terminate TLS at a load balancer or proxy in front', warnings);
  ssl.ignore('redirect', 'port');
  ssl.done();

  const hs = c.section('hsts');
  const hsts = { enable: hs.bool('enable', false), maxAgeSec: Math.floor(hs.durationMs('maxAge', 365 * 86_400_000) / 1000) };
  hs.done();

  const net = c.section('networking');
  const networking = {
    maxConnections: net.int('maxConnections', 1024, 1),
    idleTimeoutMs: net.durationMs('idleTimeout', 610_000),
    responseHeaderTimeoutMs: net.durationMs('responseHeaderTimeout', 30_000),
    maxRequestLineLength: net.int('maxRequestLineLength', 20480, 64),
    maxHeadersLength: net.int('maxHeadersLength', 40960, 256),
    maxPayloadSize: net.int('maxPayloadSize', 1_048_576, 1),
    dropPayloadSize: net.int('dropPayloadSize', 2_097_152, 1),
  };
  net.ignore('bodyReadTimeout'); // 3.x newer releases; node's requestTimeout covers it
  net.done();

  const preTerminationPeriodMs = c.durationMs('preTerminationPeriod', 10_000);

  // Snowplow 3.6 defaults: enabled = false, type = zstd, gzip level 6, zstd level 9.
  const comp = c.section('compression');
  const compType = comp.str('type', 'zstd').toLowerCase();
  if (compType !== 'gzip' && compType !== 'zstd') comp.bad('type', 'expected "gzip" or "zstd"', compType);
  const compression: CompressionConfig = {
    enabled: comp.bool('enabled', false),
    type: compType as 'gzip' | 'zstd',
    gzipCompressionLevel: comp.int('gzipCompressionLevel', 6, 1, 9),
    zstdCompressionLevel: comp.int('zstdCompressionLevel', 9, 1, 22),
  };
  comp.done();
  if (compression.enabled && compression.type === 'zstd') {
    // Node 20's zlib has no zstd encoder; a WASM one measured 140-410 ms per 600 kB batch at level 9 on the
    // event-loop thread (it would stall every request). A Snowplow file with `compression { enabled = true }`
    // (type defaults to zstd) must still start: records are written gzip, which every enricher that reads
    // compressed records (Snowplow enrich 6.1+, furrow) tells apart by its magic bytes.
    warnings.push({ key: comp.key('type'), message: 'zstd is not written by furrow\'s collector: records are compressed with gzip (gzipCompressionLevel) instead; enrichers that read compressed records read both' });
  }

  const fu = c.section('furrow');
  const ack = fu.str('acknowledge', 'buffered');
  if (ack !== 'buffered' && ack !== 'durable') fu.bad('acknowledge', 'expected "buffered" or "durable"', ack);
  const furrowSink = fu.optStr('sink');
  const furrow = {
    acknowledge: ack as AckMode,
    maxPendingBytes: fu.int('maxPendingBytes', 256 * 1024 * 1024, 1),
    maxBodyBytesInFlight: fu.int('maxBodyBytesInFlight', 64 * 1024 * 1024, 1),
    retryAfterSec: Math.max(1, Math.ceil(fu.durationMs('retryAfter', 5000) / 1000)),
    kinesisCallTimeoutMs: fu.durationMs('kinesisCallTimeout', 3000),
    headersTimeoutMs: fu.durationMs('headersTimeout', 10_000),
    decompressBodies: fu.bool('decompressBodies', true),
    compatVersion: fu.str('compatVersion', '3.4.0'),
  };
  fu.done();

  // --- streams
  const st = c.section('streams');
  const chosen = chooseSink(st, furrowSink, opts.sink);
  const useIpAddressAsPartitionKey = st.bool('useIpAddressAsPartitionKey', false);
  let good: StreamConfig;
  let bad: StreamConfig;
  const goodRaw = st.obj.good;
  if (typeof goodRaw === 'string' || typeof st.obj.bad === 'string' || st.has('sink')) {
    // 2.x layout: good = "name", bad = "name", sink { ... }, buffer { ... }
    const sinkSec = st.section('sink');
    sinkSec.ignore('enabled');
    const bufSec = st.section('buffer');
    const goodName = st.str('good', 'good');
    const badName = st.str('bad', 'bad');
    good = readStream(chosen.sink, new Section(st.key('good'), {}), 'good', { sink: sinkSec, buffer: bufSec, name: goodName }, warnings);
    bad = readStream(chosen.sink, new Section(st.key('bad'), {}), 'bad', { sink: sinkSec, buffer: new Section(bufSec.path, bufSec.obj), name: badName }, warnings);
    sinkSec.done();
    if (chosen.sink === 'kinesis') bufSec.done();
    else bufSec.ignore(...Object.keys(bufSec.obj));
  } else {
    const g = st.section('good');
    const b = st.section('bad');
    good = readStream(chosen.sink, g, 'good', { sink: null, buffer: null, name: null }, warnings);
    bad = readStream(chosen.sink, b, 'bad', { sink: null, buffer: null, name: null }, warnings);
    g.done();
    b.done();
  }
  st.done();

  c.done();

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
    interface: iface,
    port,
    paths,
    crossDomain,
    cookie,
    doNotTrackCookie,
    cookieBounce,
    rootResponse,
    cors: { accessControlMaxAgeSec },
    enableDefaultRedirect,
    redirectDomains,
    streams: { sink: chosen.sink, sinkReason: chosen.reason, useIpAddressAsPartitionKey, good, bad },
    hsts,
    networking,
    preTerminationPeriodMs,
    compression,
    warnings,
    furrow,
  });
}

/** Reads and validates a collector HOCON file (env substitution from `env`). */
export async function loadCollectorConfig(path: string, env: NodeJS.ProcessEnv = process.env, opts: ParseOptions = {}): Promise<CollectorConfig> {
  return parseCollectorConfig(await readHoconFile(path, env), opts);
}
