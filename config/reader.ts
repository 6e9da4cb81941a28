/**
 * The one config reader: a JSON Schema (built with config/schema.ts) compiled by ajv once at start, then
 * applied to a parsed HOCON/JSON object.
 *
 *   raw object ──clone, drop null keys──▶ ajv (defaults, "5" → 5 / "true" → true, durations → ms, URLs)
 *              ──first error──▶ FurrowError naming the key (CONFIG_UNKNOWN_KEY | CONFIG_MISSING_KEY | CONFIG_INVALID_VALUE)
 *              ──ok──▶ deep-frozen value of type Static<schema>
 *
 * Strings from `${ENV}` substitutions arrive as text, so numbers and booleans are coerced from their text
 * (ajv `coerceTypes`); `null` means "not set" (HOCON `key = null`), as the hand-written readers before it did.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { FurrowError } from '../common/errors.js';
import { parseDurationMs } from './hocon.js';
import type { Schema, Static } from './schema.js';

export interface ReadOptions {
  /** Where the value sits in its file (`destinations[1].target`); '' = the whole file. */
  readonly path?: string;
  /** The message of CONFIG_UNKNOWN_KEY for a key's full path (default: `<key> is not a known key`). */
  readonly unknownKey?: (key: string) => string;
  /** Receives one warning per `t.warn` key the file sets (in schema order; a key already there is not added again). */
  readonly warnings?: ConfigWarning[];
  /** Receives the path of every `t.ignored` key the file has. */
  readonly ignored?: string[];
}

/** A key furrow accepts without the integration it names (logged once at start). */
export interface ConfigWarning {
  readonly key: string;
  readonly message: string;
}

export type ConfigReader<T> = (raw: unknown, opts?: ReadOptions) => T;

/** HOCON files: values from `${ENV}` arrive as text, so numbers and booleans are coerced from it. */
const ajv = new Ajv({ useDefaults: true, coerceTypes: true, discriminator: true, allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
/** JSON documents (enrichment configs): types as written. */
const jsonAjv = new Ajv({ useDefaults: true, coerceTypes: false, discriminator: true, allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
// Annotations: the message of a failing value, the hint of a missing key, a union's tags.
for (const a of [ajv, jsonAjv]) for (const keyword of ['expect', 'missing', 'tags', 'ignored', 'warn']) a.addKeyword({ keyword });

for (const a of [ajv, jsonAjv]) a.addKeyword({
  keyword: 'duration',
  modifying: true,
  errors: true,
  schemaType: 'object',
  validate: function duration(spec: { min: number }, data: unknown, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }): boolean {
    let ms: number;
    try {
      ms = parseDurationMs(data, '');
    } catch {
      (duration as { errors?: Partial<ErrorObject>[] }).errors = [{ keyword: 'duration', message: 'not a duration', params: {} }];
      return false;
    }
    if (ms < spec.min) {
      (duration as { errors?: Partial<ErrorObject>[] }).errors = [{ keyword: 'duration', message: `must be at least ${spec.min} ms`, params: {} }];
      return false;
    }
    if (cxt) cxt.parentData[cxt.parentDataProperty] = ms;
    return true;
  },
});

for (const a of [ajv, jsonAjv]) a.addKeyword({
  keyword: 'httpUrl',
  type: 'string',
  modifying: true,
  errors: true,
  schemaType: 'boolean',
  validate: function httpUrl(_on: boolean, data: string, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }): boolean {
    let u: URL;
    const fail = (message: string): boolean => {
      (httpUrl as { errors?: Partial<ErrorObject>[] }).errors = [{ keyword: 'httpUrl', message, params: {} }];
      return false;
    };
    try {
      u = new URL(data);
    } catch {
      return fail('must be an absolute http(s) URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return fail('must be an http or https URL');
    if (cxt) cxt.parentData[cxt.parentDataProperty] = data.replace(/\/+$/, '');
    return true;
  },
});

for (const a of [ajv, jsonAjv]) a.addKeyword({
  keyword: 'boolWords',
  modifying: true,
  schemaType: 'boolean',
  before: 'type',
  validate(_on: boolean, data: unknown, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }): boolean {
    if (cxt && typeof data === 'string') {
      const w = data.trim().toLowerCase();
      if (w === 'yes' || w === 'on' || w === '1' || w === 'true') cxt.parentData[cxt.parentDataProperty] = true;
      else if (w === 'no' || w === 'off' || w === '0' || w === 'false') cxt.parentData[cxt.parentDataProperty] = false;
    }
    return true;
  },
} as never);

for (const a of [ajv, jsonAjv]) a.addKeyword({
  keyword: 'single',
  modifying: true,
  schemaType: 'boolean',
  // Runs before `type`: one bare value stands for a list of one.
  before: 'type',
  validate(_on: boolean, data: unknown, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }): boolean {
    if (cxt && data !== undefined && !Array.isArray(data)) cxt.parentData[cxt.parentDataProperty] = [data];
    return true;
  },
} as never);

/** Compiles `schema` now (start-up); the returned reader validates, defaults and freezes one value. */
export function compileReader<S extends Schema<unknown>>(schema: S, how: { json?: boolean } = {}): ConfigReader<Static<S>> {
  const validate = (how.json ? jsonAjv : ajv).compile(schema as object) as ValidateFunction;
  return (raw, opts = {}) => {
    const data = withoutNulls(raw, schema as Node);
    // ajv's modifying keywords write into a parent; a holder gives the top value one.
    const holder = { value: data };
    if (!validate(holder.value, { instancePath: '', parentData: holder, parentDataProperty: 'value', rootData: holder.value, dynamicAnchors: {} } as never)) {
      throw toFurrowError(validate.errors![0]!, opts);
    }
    if (opts.warnings || opts.ignored) annotations(schema as Node, holder.value, opts.path ?? '', opts);
    return deepFreeze(holder.value) as Static<S>;
  };
}

/** Reads one value with a schema compiled on first use (plug-ins call this from their factories at start). */
const compiled = new WeakMap<object, ConfigReader<unknown>>();
export function readConfig<S extends Schema<unknown>>(schema: S, raw: unknown, opts?: ReadOptions): Static<S> {
  let r = compiled.get(schema as object);
  if (r === undefined) {
    r = compileReader(schema) as ConfigReader<unknown>;
    compiled.set(schema as object, r);
  }
  return r(raw, opts) as Static<S>;
}

/**
 * Reads a block and builds from it, reporting a bad value (from the schema or from `build`, e.g. a secret whose
 * environment variable is unset) before an unknown key: the order in which an operator fixes a file.
 */
export function readConfigThen<S extends Schema<unknown>, R>(schema: S, raw: unknown, opts: ReadOptions, build: (value: Static<S>) => R): R {
  let value: Static<S>;
  try {
    value = readConfig(schema, raw, opts);
  } catch (e) {
    if (!(e instanceof FurrowError) || e.code !== 'CONFIG_UNKNOWN_KEY') throw e;
    // Unknown keys dropped: whatever else is wrong is said first.
    build(readConfig(openSchema(schema), raw, opts));
    throw e;
  }
  return build(value);
}

const opened = new WeakMap<object, Schema<unknown>>();
/** The same schema with every object open to other keys (cached per schema). */
function openSchema<S extends Schema<unknown>>(schema: S): S {
  let o = opened.get(schema as object);
  if (o === undefined) {
    const open = (n: unknown): unknown => {
      if (Array.isArray(n)) return n.map(open);
      if (n === null || typeof n !== 'object') return n;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(n)) out[k] = k === 'additionalProperties' && v === false ? true : open(v);
      return out;
    };
    o = open(schema) as Schema<unknown>;
    opened.set(schema as object, o);
  }
  return o as S;
}

/** `/destinations/0/target` under `base` → `base.destinations[0].target`. */
export function keyPath(base: string, pointer: string): string {
  let out = base;
  for (const seg of pointer.split('/').slice(1)) {
    const k = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out = /^\d+$/.test(k) ? `${out}[${k}]` : out === '' ? k : `${out}.${k}`;
  }
  return out;
}

function toFurrowError(e: ErrorObject, opts: ReadOptions): FurrowError {
  const path = keyPath(opts.path ?? '', e.instancePath);
  const child = (k: string): string => (path === '' ? k : `${path}.${k}`);
  const got = (): string => ` (got ${JSON.stringify(e.data)})`;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = child(String(e.params['additionalProperty']));
      return new FurrowError('CONFIG_UNKNOWN_KEY', opts.unknownKey ? opts.unknownKey(key) : `${key} is not a known key`);
    }
    case 'required': {
      const prop = String(e.params['missingProperty']);
      const hint = ((parent['properties'] as Record<string, Record<string, unknown>> | undefined)?.[prop]?.['missing'] as string | undefined) ?? null;
      return new FurrowError('CONFIG_MISSING_KEY', `${child(prop)} is required${hint ? ` (${hint})` : ''}`);
    }
    case 'discriminator': {
      const tag = String(e.params['tag']);
      if (e.params['error'] === 'tag' && (e.data as Record<string, unknown>)?.[tag] === undefined) return new FurrowError('CONFIG_MISSING_KEY', `${child(tag)} is required`);
      const tags = (parent['tags'] as string[]).join(', ');
      return new FurrowError('CONFIG_INVALID_VALUE', `${child(tag)}: must be one of ${tags} (got ${JSON.stringify(e.params['tagValue'] ?? (e.data as Record<string, unknown>)?.[tag])})`);
    }
    case 'duration':
      return new FurrowError('CONFIG_INVALID_VALUE', `${path}: ${e.message}: ${JSON.stringify(e.data)}`);
    default: {
      const expect = (parent['expect'] as string | undefined) ?? e.message ?? 'is not valid';
      return new FurrowError('CONFIG_INVALID_VALUE', `${path || '<root>'}: ${e.keyword === 'httpUrl' ? e.message : expect}${got()}`);
    }
  }
}

type Node = Record<string, unknown>;

/** t.any(): a value the schema does not look into. */
const isAny = (schema: Node | undefined): boolean => schema !== undefined && Object.keys(schema).every((k) => k === 'optional' || k === 'description' || k === 'ignored');

/**
 * A deep copy in which `key = null` is the same as no key (HOCON's way to unset a default), following the schema
 * so that a null inside a value the schema leaves open (t.any(): a mapping's `default = null`) is kept.
 */
function withoutNulls(v: unknown, schema: Node | undefined): unknown {
  if (isAny(schema)) return v;
  if (Array.isArray(v)) return v.map((x) => withoutNulls(x, schema?.['items'] as Node | undefined));
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    let node = schema;
    const branches = schema?.['oneOf'] as Node[] | undefined;
    const tag = (schema?.['discriminator'] as { propertyName: string } | undefined)?.propertyName;
    if (branches && tag) {
      const tagValue = (v as Node)[tag] ?? ((schema!['properties'] as Record<string, Node>)[tag]?.['default']);
      node = branches.find((b) => (b['properties'] as Record<string, Node>)[tag]?.['const'] === tagValue) ?? schema;
    }
    const props = node?.['properties'] as Record<string, Node> | undefined;
    const extra = node?.['additionalProperties'];
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const child = props?.[k] ?? (typeof extra === 'object' ? (extra as Node) : undefined);
      if (x === undefined || (x === null && !isAny(child))) continue;
      out[k] = withoutNulls(x, child);
    }
    return out;
  }
  return v;
}

/** Set to something: not absent, null, false, "", an empty list or an empty object. */
function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 'false' || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** The union branch a value takes (or the union itself when none matches). */
function branchOf(schema: Node, v: Node): Node {
  const branches = schema['oneOf'] as Node[] | undefined;
  const tag = (schema['discriminator'] as { propertyName: string } | undefined)?.propertyName;
  if (!branches || !tag) return schema;
  return branches.find((b) => (b['properties'] as Record<string, Node>)[tag]?.['const'] === v[tag]) ?? schema;
}

/** One walk of a validated value along its schema: `warn` keys that are set, `ignored` keys that are there. */
function annotations(schema: Node, v: unknown, path: string, opts: ReadOptions): void {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
  const node = branchOf(schema, v as Node);
  const props = node['properties'] as Record<string, Node> | undefined;
  if (!props) return;
  for (const [k, child] of Object.entries(props)) {
    if (!Object.hasOwn(v, k)) continue;
    const key = path === '' ? k : `${path}.${k}`;
    const x = (v as Node)[k];
    if (typeof child['warn'] === 'string') {
      if (isSet(x) && opts.warnings && !opts.warnings.some((w) => w.key === key)) opts.warnings.push({ key, message: child['warn'] });
    } else if (child['ignored'] === true) {
      if (opts.ignored && !opts.ignored.includes(key)) opts.ignored.push(key);
    } else annotations(child, x, key, opts);
  }
}

/** Freezes plain objects and arrays all the way down (Dates and class instances such as Secret are left alone). */
export function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) return o;
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
