/**
 * Snowplow Micro's REST API (../shared/spec/ecosystem.md §1.2) over mini's store, plus what Micro's users
 * ask for (§1.4, §7): lookup by event_id, a wait call instead of polling loops, server-side paging.
 *
 *   GET|POST /micro/all                     {"total","good","bad"}
 *   GET|POST /micro/good                    [GoodEvent]   POST body {event_type?, schema?, contexts?[], limit?}
 *   GET|POST /micro/bad                     [BadEvent]    POST body {vendor?, version?, limit?}
 *   GET|POST /micro/reset                   {"total":0,"good":0,"bad":0}; "Reset completed" (text) when the client prefers text
 *   GET      /micro/iglu/{v}/{n}/jsonschema/{M-R-A}   the schema (200) or Micro's {"value":{repo:{errors,attempts,lastAttempt}}} (404)
 *   POST     /micro/events                  {filters[{column, value|values[]}], validEvents?, timeRange?, sorting?, page, pageSize}
 *                                           → {events[], totalPages, totalItems}
 *   GET      /micro/events                  Micro 3.0's answer: [good event as flat JSON], newest first
 *   GET      /micro/events?event_id=…&valid=…&page=…&pageSize=…     the paged answer of POST, from the query string
 *   GET      /micro/events/{event_id}       {event_id, records:[{valid, event(GoodEvent|BadEvent), row}]} or 404
 *   GET|POST /micro/wait                    count?, good?, bad?, event_id? (repeatable / comma list), timeout? ms
 *                                           → 200 {ok:true,…} when met, 408 {ok:false, missing,…} on timeout
 *   GET      /micro/columns, /micro/schemas, /micro/bad-groups, /micro/timeline, /micro/status  (UI support)
 *   POST     /micro/recovery/preview|apply  {type, message, steps[]}: recover a bad-row group (recovery.ts)
 *   GET      /micro/stream                  Server-Sent Events: `summary` on every change (≤ 5/s), `events` stored since
 *   GET      /micro/ui/…                    the web UI (static files)
 * Every /micro route: the Host and cross-site checks (network-policy.ts), CORS for pages on localhost without
 * credentials (Micro 1.2.0 #50 asked for CORS; credentials would let any page act as its visitor), `nosniff`,
 * a Content-Security-Policy with `frame-ancestors 'none'`. `--auth` guards all of it (see auth.ts).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ENRICHED_FIELDS } from '../formats/enriched-event.js';
import type { ClientError, IgluResolver } from '../iglu-resolver/types.js';
import { createAuthMiddleware, type AuthConfig } from './auth.js';
import { createNetworkGuard, NetworkPolicy } from './network-policy.js';
import type { MiniStore, StoredRecord, WaitCondition } from './store.js';
import { MAX_APPLY_ROWS, type MiniRecovery } from './recovery.js';
import { FurrowError } from '../common/errors.js';
import { parseJsonWithin } from '../common/json-depth.js';

export interface MicroApiOptions {
  store: MiniStore;
  /** Resolver behind /micro/iglu; null answers 503 (not configured). */
  resolver: IgluResolver | null;
  auth?: AuthConfig;
  /** Facts about the running pipeline for /micro/status and the UI header. */
  status?: () => Record<string, unknown>;
  /** Longest wait a client may ask for (ms). */
  maxWaitMs?: number;
  /** Which Host names and page origins may use the API; default: loopback names only. */
  network?: NetworkPolicy;
  /** Bad-row recovery behind /micro/recovery/*; absent answers 404. */
  recovery?: MiniRecovery;
}

const NOT_FOUND_TEXT = 'Path for micro has to be one of: /events /all /good /bad /reset /iglu /wait /ui';
const IGLU_FORMAT_TEXT = 'Schema lookup should be in format iglu/{vendor}/{schemaName}/jsonschema/{model}-{revision}-{addition}';
const SCHEMAVER = /^[1-9]\d*-\d+-\d+$|^0-\d+-\d+$/;

/**
 * Headers on every /micro answer. The UI loads only its own files (no inline script or style, nothing from
 * elsewhere) and may not be framed (clickjacking the Reset button); API answers are data, never a document.
 */
const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * Micro's 404 body for a schema it cannot resolve: circe's derived encoding of the Iglu client's
 * ResolutionError, `{"value": {repository: {errors, attempts, lastAttempt}}}`, repositories in sorted order.
 */
export function microResolutionError(err: ClientError): unknown {
  if (err.error !== 'ResolutionError') return err;
  const value: Record<string, unknown> = {};
  const sorted = [...err.lookupHistory].sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
  for (const h of sorted) value[h.repository] = { errors: h.errors, attempts: h.attempts, lastAttempt: h.lastAttempt };
  return { value };
}

/** Where the UI's static files are: beside this module (tsx), or in the source tree when running from dist/. */
export function resolveUiDir(): string {
  const candidates = [new URL('./ui/', import.meta.url), new URL('../../mini/ui/', import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p + 'index.html')) return p;
  }
  return fileURLToPath(candidates[0]!);
}

class BadRequest extends Error {}

/** Micro reads bodies as JSON whatever the content type; an empty body is no filter. */
function jsonBody(req: Request): Record<string, unknown> {
  const raw = req.body;
  if (raw === undefined || raw === null) return {};
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : null;
  if (text === null) return typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BadRequest(`The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadRequest('The request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function optString(body: Record<string, unknown>, key: string): string | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new BadRequest(`'${key}' must be a string`);
  return v;
}

function optInt(v: unknown, key: string, min = 0): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min) throw new BadRequest(`'${key}' must be an integer >= ${min}`);
  return n;
}

function optStringList(v: unknown, key: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new BadRequest(`'${key}' must be an array of strings`);
  return v as string[];
}

interface EventsQuery {
  filters: Array<{ column: string; values: string[] }>;
  validEvents: boolean | null;
  timeRange: { start: number | null; end: number | null } | null;
  sorting: { column: string; desc: boolean } | null;
  page: number;
  pageSize: number;
}

function parseEventsQuery(body: Record<string, unknown>): EventsQuery {
  const filters: EventsQuery['filters'] = [];
  if (body.filters !== undefined && body.filters !== null) {
    if (!Array.isArray(body.filters)) throw new BadRequest("'filters' must be an array");
    for (const f of body.filters as Array<Record<string, unknown>>) {
      if (!f || typeof f.column !== 'string') throw new BadRequest("each filter needs a 'column'");
      const values = Array.isArray(f.values) ? f.values.map(String) : f.value !== undefined && f.value !== null ? [String(f.value)] : [];
      if (values.length > 0) filters.push({ column: f.column, values: values.map((v) => v.toLowerCase()) });
    }
  }
  const vr = body.validEvents;
  if (vr !== undefined && vr !== null && typeof vr !== 'boolean') throw new BadRequest("'validEvents' must be true, false or null");
  let timeRange: EventsQuery['timeRange'] = null;
  if (body.timeRange && typeof body.timeRange === 'object') {
    const tr = body.timeRange as Record<string, unknown>;
    const t = (v: unknown, k: string) => {
      if (v === undefined || v === null) return null;
      const ms = Date.parse(String(v));
      if (Number.isNaN(ms)) throw new BadRequest(`'timeRange.${k}' must be an ISO 8601 timestamp`);
      return ms;
    };
    timeRange = { start: t(tr.start, 'start'), end: t(tr.end, 'end') };
  }
  let sorting: EventsQuery['sorting'] = null;
  if (body.sorting && typeof body.sorting === 'object') {
    const s = body.sorting as Record<string, unknown>;
    if (typeof s.column !== 'string') throw new BadRequest("'sorting.column' must be a string");
    sorting = { column: s.column, desc: s.desc === true };
  }
  const page = optInt(body.page, 'page', 1) ?? 1;
  const pageSize = optInt(body.pageSize, 'pageSize', 1) ?? 50;
  return { filters, validEvents: (vr as boolean | undefined) ?? null, timeRange, sorting, page, pageSize: Math.min(pageSize, 1000) };
}

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function compareCells(a: unknown, b: unknown): number {
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : -1;
  if (b === undefined || b === null) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return cellText(a).localeCompare(cellText(b));
}

/**
 * Writes a JSON array in chunks, yielding to the event loop between them and waiting for the socket to drain:
 * the collector shares this process, so a 100 000-event /micro/good must not stall tracker requests (nor the
 * enricher's lease renewals) while it is serialised.
 */
async function sendJsonArray<T>(res: Response, items: readonly T[], toJson: (item: T) => unknown): Promise<void> {
  res.status(200).type('application/json');
  const CHUNK = 200;
  let first = true;
  res.write('[');
  for (let i = 0; i < items.length; i += CHUNK) {
    let text = '';
    for (const item of items.slice(i, i + CHUNK)) {
      text += (first ? '' : ',') + JSON.stringify(toJson(item));
      first = false;
    }
    if (!res.write(text)) await new Promise<void>((r) => res.once('drain', () => r()));
    if (res.destroyed) return;
    await new Promise<void>((r) => setImmediate(r));
  }
  res.end(']');
}

export function createMicroRouter(opts: MicroApiOptions): Router {
  const { store, resolver } = opts;
  const maxWaitMs = opts.maxWaitMs ?? 300_000;
  const router = express.Router();
  const uiDir = resolveUiDir();

  const authOn = opts.auth !== undefined && (opts.auth.basic !== null || opts.auth.token !== null);
  const policy = opts.network ?? new NetworkPolicy({ host: '127.0.0.1' });
  router.use('/micro', (req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Content-Security-Policy', /^\/micro\/ui(?:[/?]|$)/.test(req.originalUrl) ? UI_CSP : API_CSP);
    next();
  });
  router.use('/micro', createNetworkGuard(policy, authOn));
  // CORS before auth, so even a 401 carries it and a preflight never needs credentials. Never
  // Access-Control-Allow-Credentials: the API must not act with a browser's cookies or cached logins for a page.
  // Auth off: pages on an allowed name only (the cross-site check refused the rest). Auth on: any page that
  // holds the token (the browser's own credentials are refused cross-site by auth.ts).
  router.use('/micro', (req, res, next) => {
    const origin = req.headers.origin;
    res.setHeader('Vary', 'Origin');
    if (authOn) res.setHeader('Access-Control-Allow-Origin', '*');
    else if (origin !== undefined && policy.originAllowed(origin, req.headers.host)) res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, GET, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
    if (req.method === 'OPTIONS') {
      res.status(200).end();
      return;
    }
    next();
  });
  const auth = opts.auth ? createAuthMiddleware(opts.auth) : null;
  if (auth) router.use('/micro', auth);
  router.use('/micro', express.raw({ type: () => true, limit: '1mb' }));

  const wrap =
    (fn: (req: Request, res: Response) => void | Promise<void>) =>
    async (req: Request, res: Response) => {
      try {
        await fn(req, res);
      } catch (e) {
        if (res.headersSent) res.destroy();
        else if (e instanceof BadRequest) res.status(400).type('text/plain').send(e.message);
        else res.status(500).type('text/plain').send(`Internal error: ${(e as Error).message}`);
      }
    };

  const summary = (_req: Request, res: Response) => {
    res.json(store.summary());
  };
  router.get('/micro/all', summary);
  router.post('/micro/all', summary);

  // Micro 1.x–3.0 answered the summary JSON, Micro 4.x the JSON string "Reset completed"; clients call
  // `.json()` on it either way (the tracker repos' helpers do). The summary parses for both; text only for a
  // client that prefers it (`Accept: text/plain`), as spec §1.2 words it. See docs/mini.md.
  const reset = (req: Request, res: Response) => {
    store.reset();
    if (req.accepts(['application/json', 'text/plain']) === 'text/plain') res.type('text/plain').send('Reset completed');
    else res.json(store.summary());
  };
  router.get('/micro/reset', reset);
  router.post('/micro/reset', reset);

  router.get(
    '/micro/good',
    wrap((_req, res) => sendJsonArray(res, store.filterGood(), (r) => store.goodEventJson(r))),
  );
  router.post(
    '/micro/good',
    wrap((req, res) => {
      const b = jsonBody(req);
      const filters = {
        event_type: optString(b, 'event_type'),
        schema: optString(b, 'schema'),
        contexts: optStringList(b.contexts, 'contexts'),
        limit: optInt(b.limit, 'limit') ?? null,
      };
      return sendJsonArray(res, store.filterGood(filters), (r) => store.goodEventJson(r));
    }),
  );

  router.get(
    '/micro/bad',
    wrap((_req, res) => sendJsonArray(res, store.filterBad(), (r) => store.badEventJson(r))),
  );
  router.post(
    '/micro/bad',
    wrap((req, res) => {
      const b = jsonBody(req);
      const filters = { vendor: optString(b, 'vendor'), version: optString(b, 'version'), limit: optInt(b.limit, 'limit') ?? null };
      return sendJsonArray(res, store.filterBad(filters), (r) => store.badEventJson(r));
    }),
  );

  router.get(
    '/micro/iglu/:vendor/:name/jsonschema/:version',
    wrap(async (req, res) => {
      const { vendor, name, version } = req.params as Record<string, string>;
      if (!SCHEMAVER.test(version!)) {
        res.status(404).type('text/plain').send(IGLU_FORMAT_TEXT);
        return;
      }
      if (!resolver) {
        res.status(503).type('text/plain').send('No Iglu resolver is configured');
        return;
      }
      const out = await resolver.lookupSchema(`iglu:${vendor}/${name}/jsonschema/${version}`);
      if (out.ok) res.json(out.schema);
      else res.status(404).json(microResolutionError(out.error));
    }),
  );
  router.get('/micro/iglu', (_req, res) => {
    res.status(404).type('text/plain').send(IGLU_FORMAT_TEXT);
  });
  router.get('/micro/iglu/*rest', (_req, res) => {
    res.status(404).type('text/plain').send(IGLU_FORMAT_TEXT);
  });

  const queryEvents = (q: EventsQuery) => {
    let recs: StoredRecord[] = store.all();
    if (q.validEvents !== null) recs = recs.filter((r) => r.valid === q.validEvents);
    if (q.timeRange) {
      const { start, end } = q.timeRange;
      recs = recs.filter((r) => {
        const t = Number.isFinite(r.collectorTstampMs) ? r.collectorTstampMs : r.receivedAt;
        return (start === null || t >= start) && (end === null || t < end);
      });
    }
    for (const f of q.filters) {
      recs = recs.filter((r) => {
        const cell = cellText(store.row(r)[f.column]).toLowerCase();
        return f.values.some((v) => cell.includes(v));
      });
    }
    if (q.sorting) {
      const { column, desc } = q.sorting;
      recs = recs
        .map((r, i) => ({ r, i, v: store.row(r)[column] }))
        .sort((a, b) => (desc ? -compareCells(a.v, b.v) : compareCells(a.v, b.v)) || a.i - b.i)
        .map((x) => x.r);
    }
    const totalItems = recs.length;
    const totalPages = Math.ceil(totalItems / q.pageSize);
    const events = recs.slice((q.page - 1) * q.pageSize, q.page * q.pageSize).map((r) => store.row(r));
    return { events, totalPages, totalItems };
  };

  router.post(
    '/micro/events',
    wrap((req, res) => {
      res.json(queryEvents(parseEventsQuery(jsonBody(req))));
    }),
  );
  router.get(
    '/micro/events',
    wrap(async (req, res) => {
      const q = req.query as Record<string, string | undefined>;
      // Micro 3.0's GET /micro/events (the only Micro that had one; 4.x has POST only): good events as the
      // Analytics SDK's flat JSON, newest first. With parameters: furrow's paged answer.
      if (Object.keys(q).length === 0) {
        await sendJsonArray(res, store.filterGood(), (r) => store.row(r));
        return;
      }
      const filters: Array<{ column: string; value: string }> = [];
      for (const [k, v] of Object.entries(q)) {
        if (typeof v !== 'string') continue;
        if (k === 'event_id' || k === 'app_id' || k === 'event_name' || k === 'platform' || k === 'user_id') filters.push({ column: k, value: v });
        else if (k.startsWith('filter.')) filters.push({ column: k.slice(7), value: v });
      }
      const body: Record<string, unknown> = { filters, page: q.page, pageSize: q.pageSize };
      if (q.valid === 'true' || q.valid === 'false') body.validEvents = q.valid === 'true';
      else if (q.valid !== undefined) throw new BadRequest("'valid' must be true or false");
      if (q.sort) body.sorting = { column: q.sort, desc: q.desc === 'true' };
      res.json(queryEvents(parseEventsQuery(body)));
    }),
  );

  const recordJson = (r: StoredRecord) => ({
    seq: r.seq,
    valid: r.valid,
    receivedAt: new Date(r.receivedAt).toISOString(),
    event: r.valid ? store.goodEventJson(r) : store.badEventJson(r),
    ...(r.valid ? {} : { type: r.bad.type, messages: r.bad.messages, badRow: r.bad.row }),
    row: store.row(r),
  });

  router.get('/micro/events/:eventId', (req, res) => {
    const id = (req.params as Record<string, string>).eventId!;
    const recs = /^\d+$/.test(id) && id.length < 16 ? [store.bySeq(Number(id))].filter((r): r is StoredRecord => !!r) : [];
    const found = recs.length > 0 ? recs : store.byId(id);
    if (found.length === 0) {
      res.status(404).json({ event_id: id, records: [] });
      return;
    }
    res.json({ event_id: found[0]!.eventId, records: found.map(recordJson) });
  });

  const wait = wrap(async (req, res) => {
    const b = req.method === 'POST' ? jsonBody(req) : {};
    const q = req.query as Record<string, string | string[] | undefined>;
    const pick = (k: string) => (b[k] !== undefined ? b[k] : q[k]);
    const ids: string[] = [];
    for (const k of ['event_id', 'eventId', 'event_ids', 'eventIds']) {
      const v = pick(k);
      const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [];
      for (const s of list) if (typeof s === 'string' && s.trim() !== '') ids.push(s.trim());
    }
    const cond: WaitCondition = {};
    const count = optInt(pick('count'), 'count');
    const good = optInt(pick('good'), 'good');
    const bad = optInt(pick('bad'), 'bad');
    if (count !== undefined) cond.count = count;
    if (good !== undefined) cond.good = good;
    if (bad !== undefined) cond.bad = bad;
    if (ids.length > 0) cond.eventIds = ids;
    if (Object.keys(cond).length === 0) throw new BadRequest('say what to wait for: count, good, bad and/or event_id');
    const timeout = Math.min(optInt(pick('timeout'), 'timeout') ?? 10_000, maxWaitMs);
    const started = Date.now();
    const closed = new AbortController();
    req.on('close', () => closed.abort());
    const r = await store.waitFor(cond, timeout);
    if (closed.signal.aborted && !res.writable) return;
    res.status(r.ok ? 200 : 408).json({
      ok: r.ok,
      ...r.summary,
      waitedMs: Date.now() - started,
      missing: r.missing,
      events: r.found.map(recordJson),
    });
  });
  router.get('/micro/wait', wait);
  router.post('/micro/wait', wait);

  router.get('/micro/columns', (_req, res) => {
    const cols = new Set<string>(ENRICHED_FIELDS.map((f) => (f === 'refr_dvce_tstamp' ? 'refr_device_tstamp' : f)));
    for (const r of store.all().slice(0, 1000)) for (const k of Object.keys(store.row(r))) cols.add(k);
    res.json([...cols]);
  });
  router.get('/micro/schemas', (_req, res) => {
    res.json(store.schemas());
  });
  router.get('/micro/bad-groups', (_req, res) => {
    res.json(store.groups());
  });
  const recovery = opts.recovery;
  if (recovery !== undefined) {
    const recoveryRoute = (what: 'preview' | 'apply') => async (req: Request, res: Response) => {
      const text = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      const parsed = parseJsonWithin(text, 64);
      const b = parsed.ok ? (parsed.value as { type?: unknown; message?: unknown; steps?: unknown }) : null;
      if (b === null || typeof b !== 'object' || typeof b.type !== 'string' || typeof b.message !== 'string') {
        res.status(400).json({ error: 'expected {"type": …, "message": …, "steps": [...]} (a bad-row group and recovery steps)' });
        return;
      }
      if (!recovery.available) {
        res.status(503).json({ error: 'the enricher is still starting' });
        return;
      }
      const lines = store.badLines(b.type, b.message, what === 'preview' ? 1 : MAX_APPLY_ROWS);
      try {
        if (what === 'preview') {
          const p = await recovery.preview(lines, b.steps ?? []);
          if (p === null) res.status(404).json({ error: 'no bad rows in that group' });
          else res.json({ ...p, rows: store.groups().find((g) => g.type === b.type && g.message === b.message)?.count ?? p.rows });
        } else res.json(await recovery.apply(lines, b.steps ?? []));
      } catch (e) {
        if (e instanceof FurrowError && (e.code.startsWith('CONFIG_') || e.code === 'RECOVER_SCRIPT_COMPILE')) res.status(400).json({ error: e.message });
        else res.status(500).json({ error: (e as Error).message });
      }
    };
    router.post('/micro/recovery/preview', recoveryRoute('preview'));
    router.post('/micro/recovery/apply', recoveryRoute('apply'));
  }
  router.get(
    '/micro/timeline',
    wrap((req, res) => {
      const q = req.query as Record<string, string | undefined>;
      const bucketMs = optInt(q.bucketMs, 'bucketMs', 100) ?? 5000;
      const buckets = Math.min(optInt(q.buckets, 'buckets', 1) ?? 60, 2000);
      res.json({ bucketMs, buckets: store.timeline(bucketMs, buckets) });
    }),
  );
  router.get('/micro/status', (_req, res) => {
    res.json({ ...store.summary(), evicted: store.evicted, maxEvents: store.maxEvents, generation: store.generation, ...(opts.status?.() ?? {}) });
  });

  router.get('/micro/stream', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    // `summary` on every change; `events`: what was stored since the last message (receipt notifications,
    // Micro #13), at most 500 per message, each {seq, valid, event_id, event, schema | type, message}.
    let lastSeq = store.lastSeq();
    let generation = store.generation;
    const send = () => {
      res.write(`event: summary\ndata: ${JSON.stringify({ ...store.summary(), generation: store.generation })}\n\n`);
      if (store.generation !== generation) {
        generation = store.generation;
        lastSeq = 0;
      }
      const fresh = store.since(lastSeq, 500);
      if (fresh.length === 0) return;
      lastSeq = fresh[fresh.length - 1]!.seq;
      const items = fresh.map((r) =>
        r.valid
          ? { seq: r.seq, valid: true, event_id: r.eventId, event: r.eventType, schema: r.schema }
          : { seq: r.seq, valid: false, event_id: r.eventId, type: r.bad.type, message: r.bad.message },
      );
      res.write(`event: events\ndata: ${JSON.stringify(items)}\n\n`);
    };
    res.write(`event: summary\ndata: ${JSON.stringify({ ...store.summary(), generation: store.generation })}\n\n`);
    const unwatch = store.watch(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    ping.unref();
    req.on('close', () => {
      unwatch();
      clearInterval(ping);
    });
  });

  router.get('/micro/ui', (req, res, next) => {
    // Relative asset URLs in index.html need the trailing slash.
    if (!req.originalUrl.split('?')[0]!.endsWith('/')) {
      const qs = req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?')) : '';
      res.redirect(302, '/micro/ui/' + qs);
      return;
    }
    next();
  });
  router.use('/micro/ui', express.static(uiDir, { index: 'index.html', fallthrough: true, maxAge: 0 }));

  router.use('/micro', (_req, res) => {
    res.status(404).type('text/plain').send(NOT_FOUND_TEXT);
  });
  // Body-parser and static-file errors: a short text answer, never a stack trace.
  router.use('/micro', (err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { status?: number; statusCode?: number; type?: string; message?: string };
    const status = e.status ?? e.statusCode ?? 500;
    const text =
      e.type === 'entity.too.large' ? 'The request body is larger than 1 MB' : status < 500 ? (e.message ?? 'Bad request') : 'Internal error';
    if (!res.headersSent) res.status(status).type('text/plain').send(text);
  });
  return router;
}
