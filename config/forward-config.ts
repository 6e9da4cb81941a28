/**
 * `furrow forward --config FILE`: the forwarder configuration, parsed once at start into a frozen, typed object.
 * Every section reads its keys through a KeyReader, which knows which keys it was asked for: any other key
 * in the file stops start-up with CONFIG_UNKNOWN_KEY naming its full path (`destinations[1].target.api_kye`).
 * Secrets are never in the file: the file names an environment variable (`api_key_env = "AMPLITUDE_API_KEY"`)
 * and the value is read here, once, into a Secret (which prints as `[redacted]`).
 *
 * Reference with every key and default: docs/forwarders.md; examples: config/examples/forward*.
 */
import { FurrowError } from '../common/errors.js';
import { parseDurationMs, readHoconFile } from './hocon.js';
import { Secret } from '../common/secret.js';

// ---------------------------------------------------------------- types

export type InputConfig =
  | { readonly type: 'stdin'; readonly batchSize: number; readonly lingerMs: number }
  | { readonly type: 'file'; readonly path: string; readonly batchSize: number; readonly lingerMs: number }
  | {
      readonly type: 'kinesis';
      readonly streamName: string;
      readonly appName: string;
      readonly region: string | null;
      readonly endpoint: string | null;
      readonly dynamodbEndpoint: string | null;
      readonly initialPosition: 'TRIM_HORIZON' | 'LATEST';
      readonly maxRecords: number;
    };

export type DeadLetterConfig =
  | { readonly type: 'file'; readonly path: string }
  | { readonly type: 'kinesis'; readonly streamName: string; readonly region: string | null; readonly endpoint: string | null };

export interface FieldCondition {
  readonly path: string;
  readonly equals: ReadonlyArray<string | number | boolean> | null;
  readonly regex: string | null;
  readonly exists: boolean | null;
  readonly negate: boolean;
}

export interface FilterConfig {
  /** `page_view` (event_name) or `com.acme/checkout` (event_vendor/event_name). */
  readonly eventNames: readonly string[] | null;
  readonly eventVendors: readonly string[] | null;
  readonly appIds: readonly string[] | null;
  readonly platforms: readonly string[] | null;
  readonly fields: readonly FieldCondition[];
  readonly match: 'all' | 'any';
}

export type MappingValue = { readonly path: string; readonly default: unknown } | { readonly value: unknown };

export type TransformConfig =
  | { readonly type: 'mapping'; readonly fields: Readonly<Record<string, MappingValue>>; readonly mode: 'merge' | 'replace' }
  | { readonly type: 'js'; readonly script: string; readonly origin: string; readonly timeoutMs: number; readonly maxMemoryMb: number };

export type HttpAuth =
  | null
  | { readonly type: 'basic'; readonly username: string; readonly password: Secret }
  | { readonly type: 'bearer'; readonly token: Secret };

export interface HttpTargetConfig {
  readonly type: 'http';
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'PATCH';
  readonly headers: Readonly<Record<string, string | Secret>>;
  readonly auth: HttpAuth;
  /** json_array: `[e1,e2]`; ndjson: one per line; single: one event per request; template: `body_template` with `{{events}}`. */
  readonly bodyFormat: 'json_array' | 'ndjson' | 'single' | 'template';
  readonly bodyTemplate: string | null;
  readonly contentType: string;
}

export interface VendorCommon {
  readonly baseUrl: string;
  /** Snowplow event_name (or vendor/name) → the vendor's event name. */
  readonly eventNames: Readonly<Record<string, string>>;
}

export interface Ga4TargetConfig extends VendorCommon {
  readonly type: 'ga4';
  readonly measurementId: string;
  readonly apiSecret: Secret;
  readonly clientIdFields: readonly string[];
  readonly userIdFields: readonly string[];
  readonly validationEndpoint: boolean;
}

export interface AmplitudeTargetConfig extends VendorCommon {
  readonly type: 'amplitude';
  readonly apiKey: Secret;
  readonly userIdFields: readonly string[];
  readonly deviceIdFields: readonly string[];
  readonly minIdLength: number | null;
  readonly includeIp: boolean;
}

export interface MixpanelTargetConfig extends VendorCommon {
  readonly type: 'mixpanel';
  readonly projectToken: Secret | null;
  readonly serviceAccount: { readonly username: string; readonly secret: Secret } | null;
  readonly projectId: string | null;
  readonly distinctIdFields: readonly string[];
  readonly includeIp: boolean;
}

export interface BrazeTargetConfig extends VendorCommon {
  readonly type: 'braze';
  readonly apiKey: Secret;
  readonly appId: string | null;
  readonly externalIdFields: readonly string[];
  /** When no external id: send a user_alias {alias_name: <first of alias_fields>, alias_label}. null = require external id. */
  readonly aliasLabel: string | null;
  readonly aliasFields: readonly string[];
  readonly purchases: boolean;
  readonly defaultCurrency: string;
}

export interface KinesisTargetConfig {
  readonly type: 'kinesis';
  readonly streamName: string;
  readonly region: string | null;
  readonly endpoint: string | null;
  readonly partitionKeyField: string;
  readonly format: 'tsv' | 'json';
}

export type TargetConfig = HttpTargetConfig | Ga4TargetConfig | AmplitudeTargetConfig | MixpanelTargetConfig | BrazeTargetConfig | KinesisTargetConfig;

export interface RetryConfig {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
}

export interface DestinationConfig {
  readonly name: string;
  readonly filter: FilterConfig;
  readonly transform: TransformConfig | null;
  readonly target: TargetConfig;
  readonly batch: { readonly maxEvents: number; readonly maxBytes: number; readonly flushIntervalMs: number };
  readonly queue: { readonly maxEvents: number; readonly whenFull: 'pause' | 'dead_letter' };
  readonly concurrency: number;
  readonly rateLimit: { readonly requestsPerSecond: number | null; readonly eventsPerSecond: number | null };
  readonly retry: RetryConfig;
  readonly requestTimeoutMs: number;
}

export interface ForwardConfig {
  readonly input: InputConfig;
  readonly deadLetter: DeadLetterConfig;
  readonly destinations: readonly DestinationConfig[];
  readonly metricsPort: number | null;
  readonly progressIntervalMs: number;
  /** Every secret the config read (for redaction of logs and dead-letter bodies). */
  readonly secrets: readonly Secret[];
}

/** Vendor hard limits (events per request, bytes per request) from their public API docs; batch settings are capped to them. */
export const VENDOR_LIMITS: Readonly<Record<TargetConfig['type'], { readonly maxEvents: number; readonly maxBytes: number }>> = Object.freeze({
  http: { maxEvents: 10_000, maxBytes: 64 * 1024 * 1024 },
  ga4: { maxEvents: 25, maxBytes: 130 * 1024 }, // Measurement Protocol: 25 events, post body < 130 kB
  amplitude: { maxEvents: 2000, maxBytes: 1024 * 1024 }, // HTTP V2: < 2000 events and < 1 MB per request (413 otherwise)
  mixpanel: { maxEvents: 2000, maxBytes: 2 * 1024 * 1024 }, // /import: 2000 events; 2 MB uncompressed (older docs; newer say 10 MB)
  braze: { maxEvents: 75, maxBytes: 4 * 1024 * 1024 }, // /users/track: 75 events / 75 purchases / 75 attributes per request
  kinesis: { maxEvents: 500, maxBytes: 5 * 1024 * 1024 }, // PutRecords: 500 records, 5 MiB
});

const DEFAULT_BASE_URLS: Readonly<Record<string, string>> = {
  ga4: 'https://www.google-analytics.com',
  amplitude: 'https://api2.amplitude.com',
  mixpanel: 'https://api.mixpanel.com',
};

// ---------------------------------------------------------------- key reader

type Json = unknown;

/** Reads one object of the config; remembers which keys were read so `done()` can reject the others. */
class KeyReader {
  private readonly seen = new Set<string>();
  constructor(
    readonly obj: Record<string, Json>,
    readonly path: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly secrets: Secret[],
  ) {}

  static of(value: Json, path: string, env: NodeJS.ProcessEnv, secrets: Secret[]): KeyReader {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${path || '<root>'}: must be an object`);
    }
    return new KeyReader(value as Record<string, Json>, path, env, secrets);
  }

  key(k: string): string {
    return this.path ? `${this.path}.${k}` : k;
  }

  has(k: string): boolean {
    return this.obj[k] !== undefined && this.obj[k] !== null;
  }

  raw(k: string): Json {
    this.seen.add(k);
    return this.obj[k];
  }

  private missing(k: string): never {
    throw new FurrowError('CONFIG_MISSING_KEY', `${this.key(k)} is required`);
  }

  private bad(k: string, what: string): never {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${this.key(k)}: ${what} (got ${JSON.stringify(this.obj[k])})`);
  }

  str(k: string, def?: string): string {
    const v = this.raw(k);
    if (v === undefined || v === null) return def !== undefined ? def : this.missing(k);
    if (typeof v !== 'string' || v.length === 0) this.bad(k, 'must be a non-empty string');
    return v;
  }

  optStr(k: string): string | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v.length === 0) this.bad(k, 'must be a non-empty string');
    return v;
  }

  oneOf<T extends string>(k: string, allowed: readonly T[], def?: T): T {
    const v = this.str(k, def);
    if (!(allowed as readonly string[]).includes(v)) this.bad(k, `must be one of ${allowed.join(', ')}`);
    return v as T;
  }

  int(k: string, def: number | undefined, min: number, max: number): number {
    const v = this.raw(k);
    if (v === undefined || v === null) return def !== undefined ? def : this.missing(k);
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) this.bad(k, `must be an integer from ${min} to ${max}`);
    return n;
  }

  optNumber(k: string, min: number): number | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < min) this.bad(k, `must be a number ≥ ${min}`);
    return n;
  }

  number(k: string, def: number, min: number): number {
    return this.optNumber(k, min) ?? def;
  }

  bool(k: string, def: boolean): boolean {
    const v = this.raw(k);
    if (v === undefined || v === null) return def;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.bad(k, 'must be true or false');
  }

  durationMs(k: string, def: number, min = 0): number {
    const v = this.raw(k);
    if (v === undefined || v === null) return def;
    const ms = parseDurationMs(v, this.key(k));
    if (ms < min) this.bad(k, `must be at least ${min} ms`);
    return ms;
  }

  strList(k: string): string[] | null {
    const v = this.raw(k);
    if (v === undefined || v === null) return null;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x.length === 0)) this.bad(k, 'must be a list of non-empty strings');
    return [...(list as string[])];
  }

  strMap(k: string): Record<string, string> {
    const v = this.raw(k);
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) this.bad(k, 'must be an object of strings');
    const out: Record<string, string> = {};
    for (const [kk, vv] of Object.entries(v as Record<string, Json>)) {
      if (typeof vv !== 'string') throw new FurrowError('CONFIG_INVALID_VALUE', `${this.key(k)}.${kk}: must be a string`);
      out[kk] = vv;
    }
    return out;
  }

  child(k: string, required = false): KeyReader | null {
    const v = this.raw(k);
    if (v === undefined || v === null) {
      if (required) this.missing(k);
      return null;
    }
    return KeyReader.of(v, this.key(k), this.env, this.secrets);
  }

  childOrEmpty(k: string): KeyReader {
    return this.child(k) ?? KeyReader.of({}, this.key(k), this.env, this.secrets);
  }

  list(k: string, required = false): Json[] {
    const v = this.raw(k);
    if (v === undefined || v === null) {
      if (required) this.missing(k);
      return [];
    }
    if (!Array.isArray(v)) this.bad(k, 'must be a list');
    return v as Json[];
  }

  at(value: Json, k: string): KeyReader {
    return KeyReader.of(value, this.key(k), this.env, this.secrets);
  }

  /** `<k>` names an environment variable; its value becomes a Secret. */
  secret(k: string, required: true): Secret;
  secret(k: string, required: false): Secret | null;
  secret(k: string, required: boolean): Secret | null {
    const name = required ? this.str(k) : this.optStr(k);
    if (name === null) return null;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.bad(k, 'must name an environment variable (letters, digits, _)');
    const value = this.env[name];
    if (value === undefined || value === '') {
      throw new FurrowError('CONFIG_MISSING_KEY', `${this.key(k)}: environment variable ${name} is not set`);
    }
    const s = new Secret(name, value);
    this.secrets.push(s);
    return s;
  }

  url(k: string, def?: string): string {
    const v = this.str(k, def);
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      this.bad(k, 'must be an absolute http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') this.bad(k, 'must be an http or https URL');
    return v.replace(/\/+$/, '');
  }

  done(): void {
    for (const k of Object.keys(this.obj)) {
      if (!this.seen.has(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `${this.key(k)} is not a known key`);
    }
  }
}

// ---------------------------------------------------------------- sections

function parseInput(r: KeyReader | null): InputConfig {
  if (r === null) return { type: 'stdin', batchSize: 500, lingerMs: 50 };
  const type = r.oneOf('type', ['stdin', 'file', 'kinesis'] as const, 'stdin');
  let out: InputConfig;
  if (type === 'kinesis') {
    out = {
      type,
      streamName: r.str('stream_name'),
      appName: r.str('app_name'),
      region: r.optStr('region'),
      endpoint: r.has('endpoint') ? r.url('endpoint') : (r.raw('endpoint'), null),
      dynamodbEndpoint: r.has('dynamodb_endpoint') ? r.url('dynamodb_endpoint') : (r.raw('dynamodb_endpoint'), null),
      initialPosition: r.oneOf('initial_position', ['TRIM_HORIZON', 'LATEST'] as const, 'TRIM_HORIZON'),
      maxRecords: r.int('max_records', 1000, 1, 10_000),
    };
  } else {
    const batchSize = r.int('batch_size', 500, 1, 100_000);
    const lingerMs = r.durationMs('linger', 50);
    out = type === 'file' ? { type, path: r.str('path'), batchSize, lingerMs } : { type, batchSize, lingerMs };
  }
  r.done();
  return out;
}

function parseDeadLetter(r: KeyReader | null): DeadLetterConfig {
  if (r === null) throw new FurrowError('CONFIG_MISSING_KEY', 'dead_letter is required (where events go when a destination gives up on them)');
  const type = r.oneOf('type', ['file', 'kinesis'] as const, 'file');
  const out: DeadLetterConfig =
    type === 'file'
      ? { type, path: r.str('path') }
      : { type, streamName: r.str('stream_name'), region: r.optStr('region'), endpoint: r.has('endpoint') ? r.url('endpoint') : (r.raw('endpoint'), null) };
  r.done();
  return out;
}

function parseFilter(r: KeyReader | null): FilterConfig {
  if (r === null) return { eventNames: null, eventVendors: null, appIds: null, platforms: null, fields: [], match: 'all' };
  const fields = r.list('fields').map((f, i) => {
    const fr = r.at(f, `fields[${i}]`);
    const path = fr.str('path');
    const eqRaw = fr.raw('equals');
    let equals: Array<string | number | boolean> | null = null;
    if (eqRaw !== undefined && eqRaw !== null) {
      const arr = Array.isArray(eqRaw) ? eqRaw : [eqRaw];
      if (arr.some((x) => !['string', 'number', 'boolean'].includes(typeof x))) {
        throw new FurrowError('CONFIG_INVALID_VALUE', `${fr.key('equals')}: must be a value or a list of strings, numbers or booleans`);
      }
      equals = arr as Array<string | number | boolean>;
    }
    const regex = fr.optStr('regex');
    const existsRaw = fr.raw('exists');
    const exists = existsRaw === undefined || existsRaw === null ? null : existsRaw === true || existsRaw === 'true';
    if (existsRaw !== undefined && existsRaw !== null && typeof existsRaw !== 'boolean' && existsRaw !== 'true' && existsRaw !== 'false') {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${fr.key('exists')}: must be true or false`);
    }
    const negate = fr.bool('negate', false);
    if ([equals, regex, exists].filter((x) => x !== null).length !== 1) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${fr.path}: give exactly one of equals, regex, exists`);
    }
    fr.done();
    return Object.freeze({ path, equals: equals && Object.freeze(equals), regex, exists, negate });
  });
  const out: FilterConfig = {
    eventNames: r.strList('event_names'),
    eventVendors: r.strList('event_vendors'),
    appIds: r.strList('app_ids'),
    platforms: r.strList('platforms'),
    fields,
    match: r.oneOf('match', ['all', 'any'] as const, 'all'),
  };
  r.done();
  return out;
}

async function parseTransform(r: KeyReader | null, baseDir: string): Promise<TransformConfig | null> {
  if (r === null) return null;
  const type = r.oneOf('type', ['mapping', 'js'] as const);
  if (type === 'mapping') {
    const fr = r.child('fields', true)!;
    const fields: Record<string, MappingValue> = {};
    for (const k of Object.keys(fr.obj)) {
      const v = fr.raw(k);
      if (typeof v === 'string') fields[k] = { path: v, default: undefined };
      else {
        const vr = fr.at(v, k);
        if (vr.has('value')) fields[k] = { value: vr.raw('value') };
        else fields[k] = { path: vr.str('path'), default: vr.raw('default') };
        vr.done();
      }
    }
    fr.done();
    const mode = r.oneOf('mode', ['merge', 'replace'] as const, 'merge');
    r.done();
    return { type, fields: Object.freeze(fields), mode };
  }
  const file = r.optStr('file');
  const inline = r.optStr('script');
  if ((file === null) === (inline === null)) throw new FurrowError('CONFIG_INVALID_VALUE', `${r.path}: give exactly one of file, script`);
  const timeoutMs = r.durationMs('timeout', 100, 1);
  // The script process (a node of its own) needs ~50 MB before the script allocates anything.
  const maxMemoryMb = r.int('max_memory_mb', 256, 64, 65_536);
  r.done();
  let script = inline ?? '';
  let origin = `${r.path}.script`;
  if (file !== null) {
    const { readFile } = await import('node:fs/promises');
    const { resolve } = await import('node:path');
    const p = resolve(baseDir, file);
    try {
      script = await readFile(p, 'utf8');
    } catch (e) {
      throw new FurrowError('CONFIG_FILE_UNREADABLE', `${r.key('file')}: cannot read ${p}: ${(e as Error).message}`);
    }
    origin = p;
  }
  return { type, script, origin, timeoutMs, maxMemoryMb };
}

function parseTarget(r: KeyReader): TargetConfig {
  const type = r.oneOf('type', ['http', 'ga4', 'amplitude', 'mixpanel', 'braze', 'kinesis'] as const);
  let out: TargetConfig;
  const vendor = (): VendorCommon => ({
    baseUrl: r.url('base_url', DEFAULT_BASE_URLS[type]),
    eventNames: Object.freeze(r.strMap('event_names')),
  });
  const fieldList = (k: string, def: string[]): readonly string[] => Object.freeze(r.strList(k) ?? def);
  switch (type) {
    case 'http': {
      const headers: Record<string, string | Secret> = { ...r.strMap('headers') };
      const hs = r.child('header_secrets');
      if (hs) {
        for (const h of Object.keys(hs.obj)) headers[h] = hs.secret(h, true);
        hs.done();
      }
      let auth: HttpAuth = null;
      const ar = r.child('auth');
      if (ar) {
        const at = ar.oneOf('type', ['basic', 'bearer'] as const);
        auth = at === 'basic' ? { type: at, username: ar.str('username'), password: ar.secret('password_env', true) } : { type: at, token: ar.secret('token_env', true) };
        ar.done();
      }
      const bodyFormat = r.oneOf('body_format', ['json_array', 'ndjson', 'single', 'template'] as const, 'json_array');
      const bodyTemplate = r.optStr('body_template');
      if (bodyFormat === 'template' && (bodyTemplate === null || !bodyTemplate.includes('{{events}}'))) {
        throw new FurrowError('CONFIG_INVALID_VALUE', `${r.key('body_template')}: body_format "template" needs a body_template containing {{events}}`);
      }
      if (bodyFormat !== 'template' && bodyTemplate !== null) {
        throw new FurrowError('CONFIG_INVALID_VALUE', `${r.key('body_template')}: only used with body_format = "template"`);
      }
      out = {
        type,
        url: r.url('url'),
        method: r.oneOf('method', ['POST', 'PUT', 'PATCH'] as const, 'POST'),
        headers: Object.freeze(headers),
        auth,
        bodyFormat,
        bodyTemplate,
        contentType: r.str('content_type', bodyFormat === 'ndjson' ? 'application/x-ndjson' : 'application/json'),
      };
      break;
    }
    case 'ga4':
      out = {
        type,
        ...vendor(),
        measurementId: r.str('measurement_id'),
        apiSecret: r.secret('api_secret_env', true),
        clientIdFields: fieldList('client_id_fields', ['domain_userid', 'network_userid']),
        userIdFields: fieldList('user_id_fields', ['user_id']),
        validationEndpoint: r.bool('validation_endpoint', false),
      };
      break;
    case 'amplitude':
      out = {
        type,
        ...vendor(),
        apiKey: r.secret('api_key_env', true),
        userIdFields: fieldList('user_id_fields', ['user_id']),
        deviceIdFields: fieldList('device_id_fields', ['domain_userid', 'network_userid']),
        minIdLength: r.has('min_id_length') ? r.int('min_id_length', undefined, 1, 255) : (r.raw('min_id_length'), null),
        includeIp: r.bool('include_ip', true),
      };
      break;
    case 'mixpanel': {
      const projectToken = r.secret('project_token_env', false);
      const sr = r.child('service_account');
      const serviceAccount = sr ? { username: sr.str('username'), secret: sr.secret('secret_env', true) } : null;
      sr?.done();
      if ((projectToken === null) === (serviceAccount === null)) {
        throw new FurrowError('CONFIG_INVALID_VALUE', `${r.path}: give exactly one of project_token_env, service_account`);
      }
      const projectId = r.optStr('project_id');
      if (serviceAccount && projectId === null) throw new FurrowError('CONFIG_MISSING_KEY', `${r.key('project_id')} is required with a service account`);
      out = {
        type,
        ...vendor(),
        projectToken,
        serviceAccount,
        projectId,
        distinctIdFields: fieldList('distinct_id_fields', ['user_id', 'domain_userid', 'network_userid']),
        includeIp: r.bool('include_ip', true),
      };
      break;
    }
    case 'braze': {
      const aliasLabel = r.has('alias_label') ? r.str('alias_label') : (r.raw('alias_label'), 'snowplow_domain_userid');
      out = {
        type,
        baseUrl: r.url('base_url'), // the REST endpoint of your Braze instance, e.g. https://rest.iad-01.braze.com
        eventNames: Object.freeze(r.strMap('event_names')),
        apiKey: r.secret('api_key_env', true),
        appId: r.optStr('app_id'),
        externalIdFields: fieldList('external_id_fields', ['user_id']),
        aliasLabel: r.bool('use_alias', true) ? aliasLabel : null,
        aliasFields: fieldList('alias_fields', ['domain_userid', 'network_userid']),
        purchases: r.bool('purchases', true),
        defaultCurrency: r.str('default_currency', 'USD'),
      };
      break;
    }
    case 'kinesis':
      out = {
        type,
        streamName: r.str('stream_name'),
        region: r.optStr('region'),
        endpoint: r.has('endpoint') ? r.url('endpoint') : (r.raw('endpoint'), null),
        partitionKeyField: r.str('partition_key_field', 'event_id'),
        format: r.oneOf('format', ['tsv', 'json'] as const, 'tsv'),
      };
      break;
  }
  r.done();
  return out;
}

function parseRetry(r: KeyReader | null, def: RetryConfig): RetryConfig {
  if (r === null) return def;
  const out: RetryConfig = {
    maxAttempts: r.int('max_attempts', def.maxAttempts, 1, 1000),
    initialDelayMs: r.durationMs('initial_delay', def.initialDelayMs),
    maxDelayMs: r.durationMs('max_delay', def.maxDelayMs),
    multiplier: r.number('multiplier', def.multiplier, 1),
  };
  r.done();
  if (out.maxDelayMs < out.initialDelayMs) throw new FurrowError('CONFIG_INVALID_VALUE', `${r.key('max_delay')}: must be ≥ initial_delay`);
  return Object.freeze(out);
}

const DEFAULT_RETRY: RetryConfig = Object.freeze({ maxAttempts: 6, initialDelayMs: 1000, maxDelayMs: 60_000, multiplier: 2 });

async function parseDestination(r: KeyReader, defRetry: RetryConfig, baseDir: string, names: Set<string>): Promise<DestinationConfig> {
  const name = r.str('name');
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) throw new FurrowError('CONFIG_INVALID_VALUE', `${r.key('name')}: use letters, digits, . _ - (at most 64)`);
  if (names.has(name)) throw new FurrowError('CONFIG_INVALID_VALUE', `${r.key('name')}: destination name ${name} is used twice`);
  names.add(name);
  const filter = parseFilter(r.child('filter'));
  const transform = await parseTransform(r.child('transform'), baseDir);
  const target = parseTarget(r.child('target', true)!);
  const limits = VENDOR_LIMITS[target.type];
  const br = r.childOrEmpty('batch');
  const defaultEvents = target.type === 'http' ? (target.bodyFormat === 'single' ? 1 : 50) : limits.maxEvents;
  const batch = {
    maxEvents: br.int('max_events', defaultEvents, 1, limits.maxEvents),
    maxBytes: br.int('max_bytes', Math.min(limits.maxBytes, target.type === 'http' ? 1024 * 1024 : limits.maxBytes), 64, limits.maxBytes),
    flushIntervalMs: br.durationMs('flush_interval', 200),
  };
  br.done();
  if (target.type === 'http' && target.bodyFormat === 'single' && batch.maxEvents !== 1) {
    throw new FurrowError('CONFIG_INVALID_VALUE', `${br.key('max_events')}: body_format "single" sends one event per request (max_events = 1)`);
  }
  const qr = r.childOrEmpty('queue');
  const queue = { maxEvents: qr.int('max_events', 10_000, 1, 10_000_000), whenFull: qr.oneOf('when_full', ['pause', 'dead_letter'] as const, 'pause') };
  qr.done();
  const rr = r.childOrEmpty('rate_limit');
  const rateLimit = { requestsPerSecond: rr.optNumber('requests_per_second', 0.001), eventsPerSecond: rr.optNumber('events_per_second', 0.001) };
  rr.done();
  const out: DestinationConfig = {
    name,
    filter,
    transform,
    target,
    batch: Object.freeze(batch),
    queue: Object.freeze(queue),
    concurrency: r.int('concurrency', 4, 1, 256),
    rateLimit: Object.freeze(rateLimit),
    retry: parseRetry(r.child('retry'), defRetry),
    requestTimeoutMs: r.durationMs('request_timeout', 10_000, 1),
  };
  r.done();
  return out;
}

/** Parses an already-read config object. `baseDir` resolves relative file paths (JS transformations). */
export async function parseForwardConfig(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): Promise<ForwardConfig> {
  const secrets: Secret[] = [];
  const r = KeyReader.of(raw, '', env, secrets);
  const input = parseInput(r.child('input'));
  const deadLetter = parseDeadLetter(r.child('dead_letter'));
  const defRetry = parseRetry(r.child('retry'), DEFAULT_RETRY);
  const list = r.list('destinations', true);
  if (list.length === 0) throw new FurrowError('CONFIG_INVALID_VALUE', 'destinations: give at least one destination');
  const names = new Set<string>();
  const destinations: DestinationConfig[] = [];
  for (let i = 0; i < list.length; i++) destinations.push(deepFreeze(await parseDestination(r.at(list[i], `destinations[${i}]`), defRetry, baseDir, names)));
  const mr = r.child('metrics');
  const metricsPort = mr ? mr.int('port', undefined, 0, 65535) : null;
  mr?.done();
  const progressIntervalMs = r.durationMs('progress_interval', 10_000, 100);
  r.done();
  return Object.freeze({
    input: Object.freeze(input),
    deadLetter: Object.freeze(deadLetter),
    destinations: Object.freeze(destinations),
    metricsPort,
    progressIntervalMs,
    secrets: Object.freeze(secrets),
  });
}

/** Reads and parses a HOCON/JSON forwarder config file. */
export async function loadForwardConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ForwardConfig> {
  const { dirname, resolve } = await import('node:path');
  const raw = await readHoconFile(path, env);
  return parseForwardConfig(raw, env, dirname(resolve(path)));
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !(o instanceof Secret) && !Object.isFrozen(o)) {
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
