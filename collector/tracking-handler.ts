/**
 * The hot path: tracking requests straight on node:http (no router), per spec §2.2.
 *
 *   req ─▶ request-target check (400) ─▶ /r/* while redirects are off (404) ─▶ OPTIONS (preflight)
 *       ─▶ GET|HEAD /i, /ice.png, /{vendor}/{version}; POST /{vendor}/{version}    else: not ours (false)
 *       ─▶ back-pressure bound (503 + Retry-After)
 *       ─▶ [POST] body: ≤ dropPayloadSize (413), within the process-wide body budget (503 + Retry-After),
 *          gzip/deflate/br inflated under both bounds (inflate-body.ts), charset-decoded, BOM dropped
 *       ─▶ nuid / ip / headers / cookies ─▶ CollectorPayload ─▶ split ─▶ good + bad sinks (same key)
 *       ─▶ response: pixel | ok | 302 bounce | 302/400 redirect    (durable mode: after the sinks took it)
 *
 * Everything that does not depend on the request (headers, the GIF, regexes, maps) is built in the
 * constructor; a disabled feature is null.
 */
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { COLLECTOR_PAYLOAD_SCHEMA, encodeCollectorPayloadTransient, type CollectorPayload, type HeaderPairs } from '../formats/collector-payload.js';
import type { Logger } from '../common/logger.js';
import type { WriteResult } from '../streams/sink.js';
import type { CollectorConfig } from './config.js';
import type { BodyBudget } from './body-budget.js';
import { parseContentType, type ContentType } from './content-type.js';
import { CookieRenderer, findCookie, isCookieValue, parseOrigin, sanitizeCookieHeader as sanitizeForPayload } from './cookies.js';
import { inflateBody, isSupportedEncoding } from './inflate-body.js';
import { ipFromForwardedFor, renderPeer } from './ip-address.js';
import type { CollectorMetrics, RouteLabel } from './metrics.js';
import { isValidOriginForm, queryParam, redirectTargetHost, withQueryParam } from './request-target.js';
import type { CollectorSink } from './sinks/sink.js';
import { splitAndSerialize, type SplitLimits, type SplitResult } from './split-batch.js';

/** Snowplow 3.x pixel (graphic-control byte 0x05), 43 bytes. */
export const PIXEL = Buffer.from('R0lGODlhAQABAPAAAP///wAAACH5BAUAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');
const OK_BODY = Buffer.from('ok');
const ANONYMOUS_NUID = '00000000-0000-0000-0000-000000000000';
const CACHE_CONTROL = 'no-cache, no-store, must-revalidate';
const TEXT_UTF8 = 'text/plain; charset=UTF-8';

export interface TrackingDeps {
  config: CollectorConfig;
  good: CollectorSink;
  bad: CollectorSink;
  metrics: CollectorMetrics;
  logger: Logger;
  /** Request-body memory across all requests of the process (collector.furrow.maxBodyBytesInFlight). */
  budget: BodyBudget;
  /** Injected for byte-exact tests. */
  clock?: () => number;
  uuid?: () => string;
}

/** What the header pass found in `req.rawHeaders`. */
interface HeaderScan {
  /** `[name, value, ...]` of the payload's headers (Cookie sanitised), written as `name: value`. */
  headers: string[];
  userAgent: string | undefined;
  referer: string | undefined;
  origin: string | undefined;
  xff: string | undefined;
  /** Cookie header values (empty: none). */
  cookies: string[];
  spAnonymous: boolean;
  /** Indexes in `headers` of the names of Cookie / X-Forwarded-For / X-Real-Ip pairs (dropped under SP-Anonymous). */
  private: number[];
  forwardedProto: string | undefined;
}

export class TrackingHandler {
  private readonly c: CollectorConfig;
  private readonly good: CollectorSink;
  private readonly bad: CollectorSink;
  private readonly metrics: CollectorMetrics;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly uuid: () => string;
  private readonly collectorField: string;
  private readonly limits: SplitLimits;
  private readonly paths: ReadonlyMap<string, string>;
  private readonly hsts: readonly string[];
  private readonly cookies: CookieRenderer | null;
  private readonly cookieName: string;
  private readonly dnt: { name: string; re: RegExp } | null;
  private readonly bounce: CollectorConfig['cookieBounce'] | null;
  private readonly forwardedProtoLower: string | null;
  private readonly redirectDomains: ReadonlySet<string>;
  private readonly durable: boolean;
  private readonly maxPending: number;
  private readonly retryAfter: string;
  private readonly preflightMaxAge: string;
  private readonly maxLine: number;
  private readonly drop: number;
  private readonly decompress: boolean;
  private readonly budget: BodyBudget;
  private readonly useIpKey: boolean;
  /** The good sink copies records before enqueue() returns (stdout): it may get a view of the encoder's scratch. */
  private readonly transientOk: boolean;
  /** False when neither sink uses partition keys (stdout): no UUID is drawn per request. */
  private readonly keyed: boolean;
  private readonly onGoodStored: (r: WriteResult) => void;
  private readonly onBadStored: (r: WriteResult) => void;
  private lastPeer: string | undefined = undefined;
  private lastLossLog = 0;
  private lostSinceLog = 0;
  private lastPeerRendered = 'unknown';
  // One-entry caches for values a tracker repeats on every request (the same page's Origin, the same
  // Content-Type): parseOrigin (split + regex + objects) and parseContentType (split + 2-3 regexes) measured
  // ~0.5 µs each per POST tp2 in a --cpu-prof of bench/collector.ts; a string compare replaces them.
  // Both results are immutable, so sharing them between requests is safe.
  private lastOriginHeader: string | undefined = undefined;
  private lastAllowOrigin = '*';
  private lastCtHeader: string | undefined = undefined;
  private lastCt: ContentType | null = null;
  private readonly scan: HeaderScan = {
    headers: [], userAgent: undefined, referer: undefined, origin: undefined, xff: undefined,
    cookies: [], spAnonymous: false, private: [], forwardedProto: undefined,
  };
  /** Requests whose response waits on the sinks (durable mode) or a body. */
  inFlight = 0;

  constructor(d: TrackingDeps) {
    const c = d.config;
    this.c = c;
    this.good = d.good;
    this.bad = d.bad;
    this.metrics = d.metrics;
    this.log = d.logger;
    this.clock = d.clock ?? Date.now;
    this.uuid = d.uuid ?? randomUUID;
    this.collectorField = `ssc-${c.furrow.compatVersion}-${d.good.collectorName}`;
    this.limits = { maxBytes: d.good.maxBytes, maxPayloadSize: c.networking.maxPayloadSize, version: c.furrow.compatVersion };
    this.paths = new Map(Object.entries(c.paths));
    this.hsts = c.hsts.enable ? ['Strict-Transport-Security', `max-age=${c.hsts.maxAgeSec}; includeSubDomains`] : [];
    this.cookies = c.cookie.enabled ? new CookieRenderer(c.cookie) : null;
    this.cookieName = c.cookie.name;
    this.dnt = c.doNotTrackCookie.enabled ? { name: c.doNotTrackCookie.name, re: new RegExp(`^(?:${c.doNotTrackCookie.value})$`) } : null;
    this.bounce = c.cookieBounce.enabled ? c.cookieBounce : null;
    this.forwardedProtoLower = c.cookieBounce.forwardedProtocolHeader?.toLowerCase() ?? null;
    this.redirectDomains = new Set(c.redirectDomains);
    this.durable = c.furrow.acknowledge === 'durable';
    this.maxPending = c.furrow.maxPendingBytes;
    this.retryAfter = String(c.furrow.retryAfterSec);
    this.preflightMaxAge = String(c.cors.accessControlMaxAgeSec);
    this.maxLine = c.networking.maxRequestLineLength;
    this.drop = c.networking.dropPayloadSize;
    this.decompress = c.furrow.decompressBodies;
    this.budget = d.budget;
    this.useIpKey = c.streams.useIpAddressAsPartitionKey;
    this.keyed = d.good.usesPartitionKey || d.bad.usesPartitionKey;
    this.transientOk = d.good.consumesRecordsAtOnce === true;
    this.onGoodStored = (r) => this.stored(r, 'good');
    this.onBadStored = (r) => this.stored(r, 'bad');
  }

  /**
   * Serves tracking routes, CORS preflights, disabled redirects and invalid request-targets.
   * Returns false when the request is none of those (the caller's router serves it).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    let from = 0;
    let hostname: string | undefined;
    let authority: string | undefined;
    if (url.charCodeAt(0) !== 47) {
      // absolute-form request-target (`GET http://host/i HTTP/1.1`): the only case with a hostname.
      const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(url);
      if (m === null) return this.badRequest(res);
      authority = m[1]!;
      const at = authority.lastIndexOf('@');
      const hostPort = at === -1 ? authority : authority.slice(at + 1);
      hostname = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.split(':')[0]!;
      from = m[0].length;
    }
    if (url.length > this.maxLine) return this.badRequest(res);
    const q = url.indexOf('?', from);
    if (!isValidOriginForm(url, from)) return this.badRequest(res);
    let path = q === -1 ? (from === 0 ? url : url.slice(from)) : url.slice(from, q);
    if (path === '') path = '/';
    const method = req.method;

    // R0: /r/<one segment> while default redirects are off.
    if (!this.c.enableDefaultRedirect && path.startsWith('/r/') && path.indexOf('/', 3) === -1) {
      this.send(res, 404, [...this.hsts, 'Content-Type', TEXT_UTF8], 'redirects disabled', 'redirects_disabled');
      return true;
    }
    if (method === 'OPTIONS') {
      this.preflight(req, res);
      return true;
    }
    const query = q === -1 ? '' : url.slice(q + 1);
    if (path === '/i' || path === '/ice.png') {
      if (method !== 'GET' && method !== 'HEAD') return false;
      this.track(req, res, path, path, query, hostname, authority, true);
      return true;
    }
    const slash = path.indexOf('/', 1);
    if (slash === -1 || path.indexOf('/', slash + 1) !== -1) return false;
    const isPost = method === 'POST';
    if (!isPost && method !== 'GET' && method !== 'HEAD') return false;
    let decoded = path;
    if (path.indexOf('%') !== -1) {
      try {
        decoded = `/${decodeURIComponent(path.slice(1, slash))}/${decodeURIComponent(path.slice(slash + 1))}`;
      } catch {
        return this.badRequest(res);
      }
    }
    this.track(req, res, path, this.paths.size === 0 ? decoded : (this.paths.get(decoded) ?? decoded), query, hostname, authority, !isPost);
    return true;
  }

  // -------------------------------------------------------------------------------------------------

  private send(res: ServerResponse, status: number, headers: string[], body: Buffer | string, route: RouteLabel): void {
    const b = typeof body === 'string' ? Buffer.from(body) : body;
    headers.push('Content-Length', String(b.length));
    res.writeHead(status, headers);
    res.end(b);
    this.metrics.request(route, status);
  }

  private badRequest(res: ServerResponse): true {
    res.writeHead(400, [...this.hsts, 'Connection', 'close', 'Content-Length', '0']);
    res.end();
    this.metrics.request('bad_request', 400);
    return true;
  }

  private tooLarge(req: IncomingMessage, res: ServerResponse): void {
    if (res.headersSent) return;
    res.writeHead(413, [...this.hsts, 'Connection', 'close', 'Content-Length', '0']);
    res.end();
    this.metrics.request('too_large', 413);
    req.resume();
  }

  /**
   * The process-wide body budget is spent: 503 + Retry-After, and the connection closes once the answer is
   * out. The rest of the body is not read (reading it to throw it away would allocate what the budget is there
   * to bound).
   */
  private overBudget(req: IncomingMessage, res: ServerResponse): void {
    if (res.headersSent) return;
    req.pause();
    this.send(res, 503, [...this.hsts, 'Retry-After', this.retryAfter, 'Connection', 'close', 'Content-Type', TEXT_UTF8], 'Service Unavailable', 'unavailable');
  }

  private unavailable(res: ServerResponse): void {
    if (res.headersSent) return;
    this.send(res, 503, [...this.hsts, 'Retry-After', this.retryAfter, 'Content-Type', TEXT_UTF8], 'Service Unavailable', 'unavailable');
  }

  private allowOrigin(originHeader: string | undefined): string {
    if (originHeader === undefined) return '*';
    if (originHeader !== this.lastOriginHeader) {
      this.lastOriginHeader = originHeader;
      this.lastAllowOrigin = parseOrigin(originHeader)[0]?.rendered ?? '*';
    }
    return this.lastAllowOrigin;
  }

  private contentType(header: string): ContentType | null {
    if (header !== this.lastCtHeader) {
      this.lastCtHeader = header;
      this.lastCt = parseContentType(header);
    }
    return this.lastCt;
  }

  private firstHeader(req: IncomingMessage, lower: string): string | undefined {
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === lower) return raw[i + 1];
    return undefined;
  }

  private preflight(req: IncomingMessage, res: ServerResponse): void {
    const h = [
      ...this.hsts,
      'Access-Control-Allow-Origin', this.allowOrigin(this.firstHeader(req, 'origin')),
      'Access-Control-Allow-Credentials', 'true',
      'Access-Control-Allow-Headers', 'Content-Type, SP-Anonymous',
      'Access-Control-Max-Age', this.preflightMaxAge,
    ];
    this.send(res, 200, h, '', 'preflight');
  }

  private track(
    req: IncomingMessage, res: ServerResponse, rawPath: string, path: string, query: string,
    hostname: string | undefined, authority: string | undefined, pixelExpected: boolean,
  ): void {
    if (this.good.pendingBytes() + this.bad.pendingBytes() > this.maxPending) {
      req.resume();
      this.unavailable(res);
      return;
    }
    if (pixelExpected) {
      this.finish(req, res, rawPath, path, query, hostname, authority, true, undefined, null);
      return;
    }
    this.readBody(req, res, (body, ct) => {
      // Runs from a stream event, outside the listener's try/catch: a bug here must not kill the process.
      try {
        this.finish(req, res, rawPath, path, query, hostname, authority, false, body, ct);
      } catch (e) {
        this.log.error({ err: e }, 'unexpected error handling a request');
        if (!res.headersSent) {
          res.writeHead(500, ['Connection', 'close', 'Content-Length', '0']);
          res.end();
        } else res.destroy();
      }
    });
  }

  private readBody(req: IncomingMessage, res: ServerResponse, next: (body: string | Buffer, ct: ContentType | null) => void): void {
    const drop = this.drop;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > drop) {
      this.tooLarge(req, res);
      return;
    }
    const encodingHeader = req.headers['content-encoding'];
    let encoding: string | null = null;
    if (this.decompress && encodingHeader !== undefined) {
      const enc = encodingHeader.trim().toLowerCase();
      if (enc !== '' && enc !== 'identity') {
        if (!isSupportedEncoding(enc)) {
          req.resume();
          this.send(res, 415, [...this.hsts, 'Content-Type', TEXT_UTF8], `unsupported Content-Encoding: ${enc}`, 'unsupported_encoding');
          return;
        }
        encoding = enc;
      }
    }
    // Every received byte is charged to the process-wide body budget until the body became records (or the
    // request failed): see body-budget.ts.
    const budget = this.budget;
    this.inFlight++;
    const chunks: Buffer[] = [];
    let size = 0;
    let reading = true;
    const stopReading = (): void => {
      if (reading) {
        reading = false;
        this.inFlight--;
        budget.give(size);
        chunks.length = 0;
      }
    };
    req.on('data', (chunk: Buffer) => {
      if (!reading) return;
      if (size + chunk.length > drop) {
        stopReading();
        this.tooLarge(req, res);
        return;
      }
      if (!budget.take(chunk.length)) {
        stopReading();
        this.overBudget(req, res);
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    });
    req.on('error', stopReading);
    // A client gone mid-body: no 'end', only 'close' (and the deprecated 'aborted').
    req.on('close', stopReading);
    req.on('end', () => {
      if (!reading) return;
      // From here this function gives the budget back itself ('close' follows 'end' and must not).
      reading = false;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const ctHeader = req.headers['content-type'];
      const ct = ctHeader === undefined ? null : this.contentType(ctHeader);
      if (encoding === null) {
        try {
          next(decodeBody(buf, ct), ct);
        } finally {
          this.inFlight--;
          budget.give(size);
        }
        return;
      }
      inflateBody(buf, encoding, drop, budget, (o) => {
        // The compressed bytes were needed until the decoder finished.
        budget.give(size);
        this.inFlight--;
        if (res.headersSent || res.destroyed) {
          if (o.ok) budget.give(o.charged);
          return;
        }
        if (!o.ok) {
          if (o.status === 413) this.tooLarge(req, res);
          else if (o.status === 503) this.overBudget(req, res);
          else this.send(res, 400, [...this.hsts, 'Content-Type', TEXT_UTF8], 'invalid compressed body', 'bad_request');
          return;
        }
        try {
          next(decodeBody(o.body, ct), ct);
        } finally {
          budget.give(o.charged);
        }
      });
    });
  }

  /**
   * Fills the handler's one HeaderScan (its arrays keep their capacity from request to request). Its
   * contents are only read synchronously by finish(), before the next request can be scanned.
   */
  private scanHeaders(req: IncomingMessage): HeaderScan {
    const raw = req.rawHeaders;
    const s = this.scan;
    s.headers.length = 0;
    s.cookies.length = 0;
    s.private.length = 0;
    s.userAgent = undefined;
    s.referer = undefined;
    s.origin = undefined;
    s.xff = undefined;
    s.spAnonymous = false;
    s.forwardedProto = undefined;
    const fp = this.forwardedProtoLower;
    const fpLen = fp === null ? -1 : fp.length;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      // Only names with the length and first letter of one we look at are lower-cased (saves a string per header).
      const len = name.length;
      const first = name.charCodeAt(0) | 0x20;
      const lower = (len < 64 && (INTERESTING[len] === first || INTERESTING_2[len] === first)) || len === fpLen ? name.toLowerCase() : '';
      switch (lower) {
        case 'user-agent':
          if (s.userAgent === undefined) s.userAgent = value;
          break;
        case 'referer':
          if (s.referer === undefined) s.referer = value;
          break;
        case 'origin':
          if (s.origin === undefined) s.origin = value;
          break;
        case 'sp-anonymous':
          s.spAnonymous = true;
          break;
        case 'x-forwarded-for':
          if (s.xff === undefined) s.xff = value;
          s.private.push(s.headers.length);
          break;
        case 'x-real-ip':
          s.private.push(s.headers.length);
          break;
        case 'cookie': {
          s.cookies.push(value);
          const clean = sanitizeForPayload(value);
          if (clean !== null) {
            s.private.push(s.headers.length);
            s.headers.push('Cookie', clean);
          }
          continue;
        }
        default:
          if (fp !== null && lower === fp && s.forwardedProto === undefined) s.forwardedProto = value;
      }
      s.headers.push(name, value);
    }
    return s;
  }

  /**
   * One tracking request, its body read (or none expected): the request's identity (IP, cookies, network user
   * id) → the records to the sinks (unless do-not-track or a bounce) → the response (at once, or once the sinks
   * stored the records when acknowledgement is durable).
   */
  private finish(
    req: IncomingMessage, res: ServerResponse, rawPath: string, path: string, query: string,
    hostname: string | undefined, authority: string | undefined, pixelExpected: boolean,
    body: string | Buffer | undefined, ct: ContentType | null,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const now = this.clock();
    const h = this.scanHeaders(req);
    const spAnonymous = h.spAnonymous;
    const redirect = path.startsWith('/r/');

    const ip = spAnonymous ? null : this.clientIp(req, h.xff);
    const requestCookie = h.cookies.length === 0 ? null : findCookie(h.cookies, this.cookieName);
    const doNotTrack = this.doNotTrack(h.cookies);
    const bounce = this.bounce;
    const alreadyBouncing = bounce !== null && query.includes(bounce.name);
    const nuidOpt = spAnonymous ? ANONYMOUS_NUID : this.requestedNuid(query, requestCookie);
    const nuid = nuidOpt ?? (alreadyBouncing ? bounce!.fallbackNetworkUserId : this.uuid());
    const shouldBounce = bounce !== null && nuidOpt === null && !alreadyBouncing && pixelExpected && !redirect;

    const out: string[] = this.hsts.length === 0 ? [] : this.hsts.slice();
    if (this.cookies !== null && !doNotTrack) {
      if (!spAnonymous) this.cookies.push(out, nuid, now, h.origin);
      else if (requestCookie !== null || (h.cookies.length > 0 && hasCookieNamed(h.cookies, this.cookieName))) this.cookies.push(out, null, now, h.origin);
    }

    let pending: Promise<[WriteResult, WriteResult]> | null = null;
    if (doNotTrack || shouldBounce) this.metrics.notSunk(doNotTrack ? 'do_not_track' : 'bounce');
    else pending = this.sinkRecords(h, ip, nuid, now, path, query, hostname, body, ct);

    const route: RouteLabel = redirect ? 'redirect' : shouldBounce ? 'bounce' : pixelExpected ? 'pixel' : 'post';
    const status = this.responseHeaders(out, route, req.method, pixelExpected, query, h, rawPath, authority);
    const resBody = route === 'post' ? OK_BODY : route === 'pixel' && req.method !== 'HEAD' ? PIXEL : null;
    if (pending === null) {
      res.writeHead(status, out);
      res.end(resBody);
      this.metrics.request(route, status);
      return;
    }
    this.answerWhenStored(res, pending, status, out, resBody, route);
  }

  /** The client's IP: the first X-Forwarded-For address, else the peer (rendered once per connection). */
  private clientIp(req: IncomingMessage, xff: string | undefined): string {
    const remote = req.socket.remoteAddress;
    if (remote !== this.lastPeer) {
      this.lastPeer = remote;
      this.lastPeerRendered = renderPeer(remote);
    }
    const peer = this.lastPeerRendered;
    return xff === undefined ? peer : (ipFromForwardedFor(xff) ?? peer);
  }

  /** The do-not-track cookie is set and matches its configured value. */
  private doNotTrack(cookies: readonly string[]): boolean {
    if (this.dnt === null || cookies.length === 0) return false;
    const v = findCookie(cookies, this.dnt.name);
    return v !== null && this.dnt.re.test(v);
  }

  /** The network user id the request brings: the `nuid` parameter, else the collector's cookie (null: none). */
  private requestedNuid(query: string, requestCookie: string | null): string | null {
    const p = queryParam(query, 'nuid');
    // A nuid that could not be echoed in Set-Cookie safely is ignored (treated as absent).
    return p !== null && isCookieValue(p) ? p : requestCookie;
  }

  /**
   * Encodes the request as a CollectorPayload (split when over maxBytes, spec §5) and hands the records to the
   * sinks. Durable acknowledgement: returns the promise of both writes; otherwise the records are enqueued and
   * null is returned.
   */
  private sinkRecords(
    h: HeaderScan, ip: string | null, nuid: string, now: number, path: string, query: string,
    hostname: string | undefined, body: string | Buffer | undefined, ct: ContentType | null,
  ): Promise<[WriteResult, WriteResult]> | null {
    let pairs = h.headers;
    if (h.spAnonymous && h.private.length > 0) {
      const drop = new Set(h.private);
      pairs = [];
      for (let i = 0; i < h.headers.length; i += 2) if (!drop.has(i)) pairs.push(h.headers[i]!, h.headers[i + 1]!);
    }
    const withBody = body !== undefined && ct !== null;
    const headers: HeaderPairs = { pairs, lastLine: withBody ? ct.rendered : undefined };
    const payload: CollectorPayload = {
      schema: COLLECTOR_PAYLOAD_SCHEMA,
      ipAddress: ip ?? 'unknown',
      timestamp: now,
      encoding: 'UTF-8',
      collector: this.collectorField,
      userAgent: h.userAgent,
      refererUri: h.referer,
      path,
      querystring: query,
      // Valid UTF-8 bytes go into the record as they are (no decode/re-encode); text only when needed.
      body: typeof body === 'string' ? body : undefined,
      contentType: withBody ? ct.rendered : undefined,
      hostname,
      networkUserId: nuid,
    };
    const rawBody = body !== undefined && typeof body !== 'string' ? body : undefined;
    // The usual record (below maxBytes) goes to the sinks as it is; the view of the encoder's scratch
    // buffer is copied unless the sink consumes it on the spot. Larger ones are split (spec §5).
    const view = encodeCollectorPayloadTransient(payload, rawBody, headers);
    let split: SplitResult;
    if (view.length < this.limits.maxBytes) split = { good: [this.transientOk ? view : Buffer.from(view)], bad: NO_RECORDS };
    else {
      payload.headers = materialise(headers);
      if (rawBody !== undefined) payload.body = rawBody.toString('utf8');
      split = splitAndSerialize(payload, Buffer.from(view), this.limits, now);
    }
    const key = ip !== null && this.useIpKey ? ip : this.keyed ? this.uuid() : '';
    const m = this.metrics;
    let goodP: Promise<WriteResult> | null = null;
    let badP: Promise<WriteResult> | null = null;
    if (split.good.length > 0) {
      let n = 0;
      for (const r of split.good) n += r.length;
      m.records('good', split.good.length, n);
      if (this.durable) goodP = this.good.write(split.good, key);
      else this.good.enqueue(split.good, key, this.onGoodStored);
    }
    if (split.bad.length > 0) {
      let n = 0;
      for (const r of split.bad) n += r.length;
      m.records('bad', split.bad.length, n);
      if (this.durable) badP = this.bad.write(split.bad, key);
      else this.bad.enqueue(split.bad, key, this.onBadStored);
    }
    return this.durable ? Promise.all([goodP ?? EMPTY_RESULT, badP ?? EMPTY_RESULT]) : null;
  }

  /** Appends the response headers of `route` to `out` (after HSTS and Set-Cookie); returns the status. */
  private responseHeaders(
    out: string[], route: RouteLabel, method: string | undefined, pixelExpected: boolean, query: string,
    h: HeaderScan, rawPath: string, authority: string | undefined,
  ): number {
    const origin = this.allowOrigin(h.origin);
    switch (route) {
      case 'redirect': {
        const u = queryParam(query, 'u');
        const host = u === null ? null : redirectTargetHost(u);
        const allowed = host !== null && (this.redirectDomains.size === 0 || this.redirectDomains.has(host));
        if (pixelExpected) out.push('Cache-Control', CACHE_CONTROL);
        out.push('Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true');
        if (allowed) out.push('Location', u!);
        out.push('Content-Length', '0');
        return allowed ? 302 : 400;
      }
      case 'bounce':
        out.push('Cache-Control', CACHE_CONTROL, 'Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true');
        out.push('Location', this.bounceLocation(rawPath, query, authority, h.forwardedProto), 'Content-Length', '0');
        return 302;
      case 'pixel':
        out.push('Cache-Control', CACHE_CONTROL, 'Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true', 'Content-Type', 'image/gif');
        if (method !== 'HEAD') out.push('Content-Length', '43');
        return 200;
      default:
        out.push('Access-Control-Allow-Origin', origin, 'Access-Control-Allow-Credentials', 'true', 'Content-Type', 'text/plain', 'Content-Length', '2');
        return 200;
    }
  }

  /** Durable acknowledgement: answer once both sinks took the records; 503 if they reported failures, 408 on timeout. */
  private answerWhenStored(
    res: ServerResponse, pending: Promise<[WriteResult, WriteResult]>, status: number, out: string[],
    resBody: Buffer | null, route: RouteLabel,
  ): void {
    this.inFlight++;
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      this.send(res, 408, [...this.hsts, 'Content-Type', TEXT_UTF8], 'Response timed out', 'timeout');
    }, this.c.networking.responseHeaderTimeoutMs);
    pending.then(([g, b]) => {
      clearTimeout(timer);
      this.inFlight--;
      this.stored(g, 'good');
      this.stored(b, 'bad');
      if (res.headersSent || res.destroyed) return;
      if (g.failed.length > 0 || b.failed.length > 0 || (g.invalid?.length ?? 0) > 0) {
        this.unavailable(res);
        return;
      }
      res.writeHead(status, out);
      res.end(resBody);
      this.metrics.request(route, status);
    }).catch((e: unknown) => {
      this.log.error({ err: e }, 'unexpected error answering a durable request');
      if (!res.headersSent) res.destroy();
    });
  }

  private stored(r: WriteResult, stream: 'good' | 'bad'): void {
    const lost = r.failed.length + (r.invalid?.length ?? 0);
    if (lost > 0) {
      this.metrics.sinkFailures.inc({ stream }, lost);
      // At most one line a second: in durable mode during an outage every request fails (the counter has them all).
      this.lostSinceLog += lost;
      const now = Date.now();
      if (now - this.lastLossLog >= 1000) {
        this.log.error({ stream, failed: r.failed.length, invalid: r.invalid?.length ?? 0, recordsSinceLastLine: this.lostSinceLog }, 'sink could not write records');
        this.lastLossLog = now;
        this.lostSinceLog = 0;
      }
    }
  }

  private bounceLocation(rawPath: string, query: string, authority: string | undefined, forwardedProto: string | undefined): string {
    const rel = `${rawPath}?${withQueryParam(query, this.bounce!.name, 'true')}`;
    if (authority === undefined) return rel;
    if (forwardedProto === 'http' || forwardedProto === 'https') return `${forwardedProto}://${authority}${rel}`;
    return `//${authority}${rel}`;
  }
}

/**
 * First letters of the header names scanHeaders looks at, by name length (origin and cookie share length 6,
 * hence two tables): `Connection` (10, like user-agent) or `Accept-Language` (15, like x-forwarded-for) are
 * not lower-cased.
 */
const INTERESTING = new Uint8Array(64);
const INTERESTING_2 = new Uint8Array(64);
for (const n of ['user-agent', 'referer', 'origin', 'cookie', 'sp-anonymous', 'x-forwarded-for', 'x-real-ip']) {
  if (INTERESTING[n.length] === 0) INTERESTING[n.length] = n.charCodeAt(0);
  else INTERESTING_2[n.length] = n.charCodeAt(0);
}

const NO_RECORDS: Buffer[] = [];

/** Header pairs as the `name: value` lines of CollectorPayload.headers (for the rare split path). */
function materialise(h: HeaderPairs): string[] {
  const lines: string[] = [];
  for (let i = 0; i < h.pairs.length; i += 2) lines.push(`${h.pairs[i]!}: ${h.pairs[i + 1]!}`);
  if (h.lastLine !== undefined) lines.push(h.lastLine);
  return lines;
}

const EMPTY_RESULT: Promise<WriteResult> = Promise.resolve({ sent: 0, failed: [] });

function hasCookieNamed(values: readonly string[], name: string): boolean {
  for (const v of values) {
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq).trim() === name) return true;
    }
  }
  return false;
}

const UTF8_DECODERS = new Map<string, TextDecoder>();

/**
 * Body bytes → what goes in the record: UTF-8 by default (BOM dropped, malformed bytes → U+FFFD), else the
 * declared charset. Valid UTF-8 comes back as the bytes themselves (nothing to replace: the record takes
 * them as they are); everything else as text.
 */
export function decodeBody(buf: Buffer, ct: ContentType | null): string | Buffer {
  const cs = ct?.charset ?? null;
  if (cs === null || cs === 'utf-8') {
    const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    const bytes = start === 0 ? buf : buf.subarray(start);
    return isUtf8(bytes) ? bytes : bytes.toString('utf8');
  }
  let d = UTF8_DECODERS.get(cs);
  if (d === undefined) {
    try {
      d = new TextDecoder(cs);
    } catch {
      d = new TextDecoder('utf-8');
    }
    UTF8_DECODERS.set(cs, d);
  }
  return d.decode(buf);
}
