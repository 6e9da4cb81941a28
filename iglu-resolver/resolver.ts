/**
 * The Iglu resolver: registries in Snowplow's lookup order → LRU cache (positive and negative) → compiled validators.
 *
 *   validateCached(uri) ──hit──▶ hot map: uri → compiled ajv function (+ frozen ok outcome)      (no I/O, no allocation)
 *        │ miss
 *   validate(uri) ─▶ lookupSchema ─▶ schema cache (LRU, cacheSize, cacheTtl) ─miss/stale─▶ registries in order
 *                                      │                                                    (one request per key at a time)
 *                                      └─ failures cached too; only retry-eligible repos are asked again (enrich.md §6.4)
 *
 * Lookup order (§6.2): repos whose vendorPrefixes match the vendor first, then the others; within each group embedded
 * before HTTP, then by `priority` ascending.
 */
import { LRUCache } from 'lru-cache';
import type { ClientError, DataReport, IgluResolver, LookupAttempt, LookupOutcome, ValidationOutcome } from './types.js';
import { CLASS_PRIORITY, type Registry, type RegistryError, type RegistryResult } from './registries/registry.js';
import { compareSchemaVer, isSchemaKey, parseSchemaUri, parseSchemaVer, schemaKeyToPath, schemaKeyToUri, type SchemaKey } from '../formats/schema-key.js';
import { toDataReports, type SchemaCompiler } from './validator.js';
import type { ValidateFunction } from 'ajv';
import { Counter, type Registry as PromRegistry } from 'prom-client';
import type { Logger } from '../common/logger.js';

export interface ResolverCoreOptions {
  registries: readonly Registry[];
  compiler: SchemaCompiler;
  /** LRU bound of each cache; ≤ 0 disables caching (every lookup asks the registries). */
  cacheSize: number;
  /** Seconds a cached entry stays fresh; null = forever. 0 disables caching (Snowplow semantics). */
  cacheTtl: number | null;
  /** Clock in ms (tests inject one to expire entries). */
  clock?: () => number;
  /** Rejects data nested deeper than this before validation (null = no check; the enricher checks at parse time). */
  maxJsonDepth?: number | null;
  /** Registry failures and outage fallbacks are logged here (warn). */
  logger?: Logger;
  /** Prometheus counters of registry requests and cache use are registered here. */
  metricsRegistry?: PromRegistry;
}

interface RepoHistory {
  errors: RegistryError[];
  attempts: number;
  lastAttempt: number;
}

type SchemaEntry =
  | { ok: true; schema: Record<string, unknown>; repo: string; storedAt: number }
  | { ok: false; history: Map<string, RepoHistory>; storedAt: number };

interface ListEntry {
  uris: string[];
  storedAt: number;
}

/** A ready validator for one URI (possibly validating against its superseding schema). */
interface HotEntry {
  readonly fn: ValidateFunction | null;
  /** Returned as-is on success (frozen; no allocation per event). */
  readonly okOutcome: ValidationOutcome;
  /** Returned as-is when the schema itself is invalid (schemaIssues). */
  readonly invalidOutcome: ValidationOutcome | null;
  readonly supersededBy: string | null;
  readonly expiresAt: number;
}

/** Snowplow's retry backoff for a repo that failed `n` times (ms). */
export function retryBackoffMs(n: number): number {
  const ms = n <= 8 ? 500 + 4 ** n : n <= 12 ? 500 + 3 ** n : n <= 20 ? 500 + 2 ** n + 5000 : 60000;
  return Math.min(60000, ms);
}

/**
 * A clock for the hot path's TTL check: one unref'd timer shared by all resolvers refreshes a number every 250 ms, so
 * validateCached reads a variable instead of calling Date.now() (measured ~25 ns, about 10 % of validating a small
 * context). TTLs are whole seconds, so 250 ms of slack is harmless.
 */
let coarseNow = Date.now();
let coarseTicker: NodeJS.Timeout | null = null;
function coarseClock(): number {
  return coarseNow;
}
function startCoarseClock(): void {
  if (coarseTicker !== null) return;
  coarseNow = Date.now();
  coarseTicker = setInterval(() => {
    coarseNow = Date.now();
  }, 250);
  coarseTicker.unref();
}

export class Resolver implements IgluResolver {
  private readonly registries: readonly Registry[];
  private readonly compiler: SchemaCompiler;
  private readonly clock: () => number;
  /** The clock validateCached checks expiry with: the injected clock, else the coarse one. */
  private readonly hotClock: () => number;
  private readonly ttlMs: number | null;
  private readonly maxJsonDepth: number | null;
  private readonly schemas: LRUCache<string, SchemaEntry> | null;
  private readonly lists: LRUCache<string, ListEntry> | null;
  /** uri → compiled validator; entries leave with their schema's LRU entry. */
  private readonly hot = new Map<string, HotEntry>();
  private readonly inflight = new Map<string, Promise<SchemaEntry>>();
  private readonly inflightLists = new Map<string, Promise<string[]>>();
  private readonly inflightPrepare = new Map<string, Promise<HotEntry | { error: ClientError }>>();
  private readonly logger: Logger | null;
  private readonly requests: Counter<'repository' | 'result'> | null;
  private readonly lookups: Counter<'result'> | null;

  constructor(o: ResolverCoreOptions) {
    this.registries = o.registries;
    this.compiler = o.compiler;
    this.clock = o.clock ?? Date.now;
    if (o.clock) this.hotClock = o.clock;
    else {
      this.hotClock = coarseClock;
      if (o.cacheTtl !== null) startCoarseClock();
    }
    this.maxJsonDepth = o.maxJsonDepth ?? null;
    const enabled = o.cacheSize > 0 && o.cacheTtl !== 0;
    this.ttlMs = o.cacheTtl === null ? null : o.cacheTtl * 1000;
    const max = Math.max(1, Math.floor(o.cacheSize));
    this.schemas = enabled
      ? new LRUCache<string, SchemaEntry>({ max, dispose: (_v, k) => void this.hot.delete(k) })
      : null;
    this.lists = enabled ? new LRUCache<string, ListEntry>({ max }) : null;
    this.logger = o.logger ?? null;
    this.requests = o.metricsRegistry ? counter(o.metricsRegistry, 'furrow_iglu_registry_requests_total', 'Schema and list requests to Iglu registries, by repository and result', ['repository', 'result']) : null;
    this.lookups = o.metricsRegistry ? counter(o.metricsRegistry, 'furrow_iglu_lookups_total', 'Schema lookups by result: cached, fetched, failed, stale (outage fallback)', ['result']) : null;
  }

  /** Asks one registry; an unexpected exception is a ClientFailure, never a crash of the data path. */
  private async ask<T>(r: Registry, call: () => Promise<RegistryResult<T>>, what: string): Promise<RegistryResult<T>> {
    let res: RegistryResult<T>;
    try {
      res = await call();
    } catch (e) {
      res = { ok: false, error: { error: 'ClientFailure', message: (e as Error).message ?? String(e) } };
    }
    const result = res.ok ? 'ok' : res.error.error === 'NotFound' ? 'not_found' : res.error.error === 'RepoFailure' ? 'repo_failure' : 'client_failure';
    this.requests?.inc({ repository: r.name, result });
    // HTTP registries log their outages once (with backoff); per lookup that would be a line per event.
    if (!res.ok && res.error.error !== 'NotFound') {
      if (r.logsOutages === true) this.logger?.debug({ repository: r.name, schema: what, error: res.error }, 'Iglu registry lookup failed');
      else this.logger?.warn({ repository: r.name, schema: what, error: res.error }, 'Iglu registry lookup failed');
    }
    return res;
  }

  /** Repos in lookup order for `vendor`. */
  orderFor(vendor: string): Registry[] {
    const matched = (r: Registry): number => (r.vendorPrefixes.some((p) => vendor.startsWith(p)) ? 0 : 1);
    return this.registries
      .map((r, i) => ({ r, i }))
      .sort((a, b) => matched(a.r) - matched(b.r) || CLASS_PRIORITY[a.r.kind] - CLASS_PRIORITY[b.r.kind] || a.r.priority - b.r.priority || a.i - b.i)
      .map((x) => x.r);
  }

  private fresh(storedAt: number, now: number): boolean {
    return this.ttlMs === null || now - storedAt < this.ttlMs;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Schema lookup with positive/negative caching

  private lookupEntry(key: SchemaKey): Promise<SchemaEntry> {
    const uri = schemaKeyToUri(key);
    const cached = this.schemas?.get(uri);
    if (cached?.ok && this.fresh(cached.storedAt, this.clock())) {
      this.lookups?.inc({ result: 'cached' });
      return Promise.resolve(cached);
    }
    const running = this.inflight.get(uri);
    if (running) return running;
    const p = this.fetchEntry(key, uri, cached).finally(() => this.inflight.delete(uri));
    this.inflight.set(uri, p);
    return p;
  }

  private async fetchEntry(key: SchemaKey, uri: string, cached: SchemaEntry | undefined): Promise<SchemaEntry> {
    const now = this.clock();
    let repos = this.orderFor(key.vendor);
    const history = new Map<string, RepoHistory>();
    if (cached && !cached.ok && this.fresh(cached.storedAt, now)) {
      // Negative cache: ask again only the repos that failed for a transient reason and whose backoff has passed.
      for (const [name, h] of cached.history) history.set(name, { errors: [...h.errors], attempts: h.attempts, lastAttempt: h.lastAttempt });
      repos = repos.filter((r) => {
        const h = history.get(r.name);
        if (!h) return true;
        if (r.kind === 'embedded' || h.errors.some((e) => e.error === 'NotFound')) return false;
        return now - h.lastAttempt > retryBackoffMs(h.attempts);
      });
      if (repos.length === 0) {
        this.lookups?.inc({ result: 'failed' });
        return cached;
      }
    }
    for (const r of repos) {
      const res = await this.ask(r, () => r.lookup(key), uri);
      const at = this.clock();
      if (res.ok) {
        if (res.value === null || typeof res.value !== 'object' || Array.isArray(res.value)) {
          addHistory(history, r.name, { error: 'RepoFailure', message: `Schema ${uri} is not a JSON object` }, attemptsOf(res), at);
          continue;
        }
        const entry: SchemaEntry = { ok: true, schema: res.value as Record<string, unknown>, repo: r.name, storedAt: at };
        this.schemas?.set(uri, entry);
        this.lookups?.inc({ result: 'fetched' });
        return entry;
      }
      addHistory(history, r.name, res.error, attemptsOf(res), at);
    }
    if (cached?.ok) {
      // A re-fetch of a stale success failed: keep serving the cached schema (timestamp bumped).
      cached.storedAt = this.clock();
      this.lookups?.inc({ result: 'stale' });
      this.logger?.warn({ schema: uri, repository: cached.repo }, 'Iglu re-fetch failed; serving the cached schema');
      return cached;
    }
    this.lookups?.inc({ result: 'failed' });
    const failed: SchemaEntry = { ok: false, history, storedAt: this.clock() };
    this.schemas?.set(uri, failed);
    return failed;
  }

  /**
   * The Iglu client keeps lookup histories in a map sorted by repository name, and prints instants as Java's
   * Instant.toString (`…:45Z`, `…:45.100Z`).
   */
  private resolutionError(history: Map<string, RepoHistory>): ClientError {
    const lookupHistory: LookupAttempt[] = [...history.keys()]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((name) => {
        const h = history.get(name)!;
        return { repository: name, errors: h.errors.map((e) => ({ ...e })), attempts: h.attempts, lastAttempt: javaInstant(h.lastAttempt) };
      });
    return { error: 'ResolutionError', lookupHistory };
  }

  async lookupSchema(uri: string): Promise<LookupOutcome> {
    const key = parseSchemaUri(uri);
    if (!isSchemaKey(key)) return { ok: false, error: invalidUriError(uri, key, this.clock()) };
    const entry = await this.lookupEntry(key);
    if (!entry.ok) return { ok: false, error: this.resolutionError(entry.history) };
    const sup = entry.schema.$supersededBy;
    if (sup === undefined) return { ok: true, schema: entry.schema, supersededBy: null };
    // $supersededBy: the data is validated against (and re-labelled with) a higher version of the same schema.
    const v = typeof sup === 'string' ? parseSchemaVer(sup) : null;
    const problem = !v
      ? `Error while trying to decode superseding version: ${JSON.stringify(sup)} is not a SchemaVer`
      : compareSchemaVer(v, key) <= 0
        ? `Superseding version ${sup as string} isn't greater than the version of schema ${schemaKeyToPath(key)}`
        : null;
    if (problem !== null || !v) {
      const h = new Map<string, RepoHistory>([[entry.repo, { errors: [{ error: 'ClientFailure', message: problem! }], attempts: 1, lastAttempt: entry.storedAt }]]);
      return { ok: false, error: this.resolutionError(h) };
    }
    const target = await this.lookupInRepo(entry.repo, { ...key, model: v.model, revision: v.revision, addition: v.addition });
    if (!target.ok) return { ok: false, error: this.resolutionError(target.history) };
    return { ok: true, schema: target.schema, supersededBy: sup as string };
  }

  /** The superseding schema comes from the repository that served the superseded one (as in the Iglu client). */
  private async lookupInRepo(repoName: string, key: SchemaKey): Promise<SchemaEntry> {
    const uri = schemaKeyToUri(key);
    const cached = this.schemas?.get(uri);
    const now = this.clock();
    if (cached?.ok && this.fresh(cached.storedAt, now)) return cached;
    const repo = this.registries.find((r) => r.name === repoName);
    if (!repo) return this.lookupEntry(key);
    const res = await this.ask(repo, () => repo.lookup(key), uri);
    const at = this.clock();
    if (res.ok && res.value !== null && typeof res.value === 'object' && !Array.isArray(res.value)) {
      const entry: SchemaEntry = { ok: true, schema: res.value as Record<string, unknown>, repo: repo.name, storedAt: at };
      this.schemas?.set(uri, entry);
      return entry;
    }
    if (cached?.ok) {
      cached.storedAt = at;
      return cached;
    }
    const history = new Map<string, RepoHistory>();
    addHistory(history, repo.name, res.ok ? { error: 'RepoFailure', message: `Schema ${uri} is not a JSON object` } : res.error, attemptsOf(res), at);
    return { ok: false, history, storedAt: at };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Validation

  validateCached(uri: string, data: unknown): ValidationOutcome | undefined {
    const h = this.hot.get(uri);
    if (h === undefined) return undefined;
    if (h.expiresAt !== Infinity && h.expiresAt <= this.hotClock()) return undefined;
    return this.run(h, data);
  }

  private run(h: HotEntry, data: unknown): ValidationOutcome {
    if (h.fn === null) return h.invalidOutcome!;
    if (this.maxJsonDepth !== null && exceedsDepth(data, this.maxJsonDepth)) {
      return failure([{ message: `$: the JSON is nested deeper than the maximum allowed depth of ${this.maxJsonDepth}`, path: '$', keyword: 'maxJsonDepth', targets: [String(this.maxJsonDepth)] }], h.supersededBy);
    }
    try {
      if (h.fn(data) === true) return h.okOutcome;
    } catch (e) {
      // Stack exhaustion on pathological data (recursive schema × deep instance) is a validation failure, not a crash.
      if (e instanceof RangeError) {
        return failure([{ message: '$: the JSON is too deeply nested to validate', path: '$', keyword: 'maxJsonDepth', targets: [] }], h.supersededBy);
      }
      throw e;
    }
    return failure(toDataReports(h.fn.errors, data, h.fn.schema), h.supersededBy);
  }

  async validate(uri: string, data: unknown): Promise<ValidationOutcome> {
    const cached = this.validateCached(uri, data);
    if (cached !== undefined) return cached;
    const prepared = await this.prepare(uri);
    if ('error' in prepared) return { ok: false, error: prepared.error };
    return this.run(prepared, data);
  }

  /** One preparation per URI at a time: concurrent first validations compile once. */
  private prepare(uri: string): Promise<HotEntry | { error: ClientError }> {
    const running = this.inflightPrepare.get(uri);
    if (running) return running;
    const p = this.compileFor(uri).finally(() => this.inflightPrepare.delete(uri));
    this.inflightPrepare.set(uri, p);
    return p;
  }

  /** Resolves and compiles the validator for `uri`, storing it in the hot map when caching is on. */
  private async compileFor(uri: string): Promise<HotEntry | { error: ClientError }> {
    const found = await this.lookupSchema(uri);
    if (!found.ok) return { error: found.error };
    const compiled = this.compiler.compile(found.schema);
    const now = this.clock();
    const expiresAt = this.ttlMs === null ? Infinity : now + this.ttlMs;
    const okOutcome: ValidationOutcome = Object.freeze({ ok: true, supersededBy: found.supersededBy });
    const entry: HotEntry = compiled.ok
      ? { fn: compiled.validate, okOutcome, invalidOutcome: null, supersededBy: found.supersededBy, expiresAt }
      : {
          fn: null,
          okOutcome,
          invalidOutcome: Object.freeze({ ok: false, error: { error: 'ValidationError', schemaIssues: compiled.schemaIssues } }) as ValidationOutcome,
          supersededBy: found.supersededBy,
          expiresAt,
        };
    // Keep the validator only while the schema entry itself is cached (its eviction removes it again).
    const key = parseSchemaUri(uri);
    if (this.schemas && isSchemaKey(key) && this.schemas.has(schemaKeyToUri(key))) this.hot.set(uri, entry);
    return entry;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Schema lists

  listSchemas(vendor: string, name: string, model: number): Promise<string[]> {
    const k = `${vendor}/${name}/jsonschema/${model}`;
    const cached = this.lists?.get(k);
    if (cached && this.fresh(cached.storedAt, this.clock())) return Promise.resolve([...cached.uris]);
    const running = this.inflightLists.get(k);
    if (running) return running.then((u) => [...u]);
    const p = (async () => {
      for (const r of this.orderFor(vendor)) {
        const res = await this.ask(r, () => r.list(vendor, name, model), k);
        if (res.ok) {
          this.lists?.set(k, { uris: res.value, storedAt: this.clock() });
          return res.value;
        }
      }
      if (cached) {
        cached.storedAt = this.clock();
        return cached.uris;
      }
      return [];
    })().finally(() => this.inflightLists.delete(k));
    this.inflightLists.set(k, p);
    return p.then((u) => [...u]);
  }
}

function counter<L extends string>(registry: PromRegistry, name: string, help: string, labelNames: L[]): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function attemptsOf(r: unknown): number {
  const o = r as { attempts?: number; ok?: boolean; error?: RegistryError };
  const a = o.attempts;
  // 0 only for a registry that was not asked (in its outage backoff); other answers count one attempt at least.
  if (a === 0 && o.ok === false && o.error !== undefined && o.error.error !== 'NotFound') return 0;
  return typeof a === 'number' && a > 0 ? a : 1;
}

function addHistory(history: Map<string, RepoHistory>, repo: string, error: RegistryError, attempts: number, at: number): void {
  const h = history.get(repo);
  if (!h) {
    history.set(repo, { errors: [error], attempts, lastAttempt: at });
    return;
  }
  const k = JSON.stringify(error);
  if (!h.errors.some((e) => JSON.stringify(e) === k)) h.errors.push(error);
  h.attempts += attempts;
  h.lastAttempt = Math.max(h.lastAttempt, at);
}

function failure(dataReports: DataReport[], supersededBy: string | null): ValidationOutcome {
  const error: ClientError = supersededBy === null ? { error: 'ValidationError', dataReports } : { error: 'ValidationError', dataReports, supersededBy };
  return { ok: false, error };
}

/** An unparseable URI never reaches a registry; it is reported as a client failure of the lookup itself. */
function invalidUriError(uri: string, code: string, now: number): ClientError {
  return {
    error: 'ResolutionError',
    lookupHistory: [{ repository: 'Iglu Client', errors: [{ error: 'ClientFailure', message: `${code}: ${JSON.stringify(uri)} is not a valid Iglu URI` }], attempts: 0, lastAttempt: javaInstant(now) }],
  };
}

/** Java's Instant.toString at millisecond precision: no fraction when the milliseconds are 0. */
export function javaInstant(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** Iterative depth check (no recursion, so it cannot itself overflow the stack). */
export function exceedsDepth(data: unknown, max: number): boolean {
  if (data === null || typeof data !== 'object') return false;
  const stack: Array<[unknown, number]> = [[data, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) return true;
    const children = Array.isArray(v) ? v : Object.values(v as object);
    for (const c of children) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}
