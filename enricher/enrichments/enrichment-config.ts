/**
 * Reading an enrichment config SDJ into typed values, once, at start. Every reader names the offending key
 * (`<enrichment>.parameters.<key>`) so an operator can fix the file; nothing here runs per event.
 */
import { FurrowError } from '../../common/errors.js';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { parseSchemaKey, type SchemaKey } from '../../formats/schema-key.js';

/** A view over one enrichment config with readers that throw FurrowError naming the key. */
export class ConfigReader {
  readonly name: string;
  readonly schema: string;
  readonly key: SchemaKey;
  readonly data: Record<string, unknown>;

  constructor(config: SelfDescribingData) {
    const key = parseSchemaKey(config.schema);
    if (key === null) {
      throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `enrichment config schema "${config.schema}" is not an Iglu URI`);
    }
    this.key = key;
    this.schema = config.schema;
    this.name = key.name;
    if (!isObject(config.data)) this.fail('data', 'must be an object');
    this.data = config.data as Record<string, unknown>;
  }

  fail(path: string, problem: string): never {
    throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${this.name}: ${path} ${problem}`);
  }

  /** The `parameters` object ({} when absent and `optional`). */
  parameters(optional = false): ParamReader {
    const p = this.data['parameters'];
    if (p === undefined || p === null) {
      if (optional) return new ParamReader(this, 'parameters', {});
      this.fail('parameters', 'is required');
    }
    if (!isObject(p)) this.fail('parameters', 'must be an object');
    return new ParamReader(this, 'parameters', p as Record<string, unknown>);
  }

  /** A top-level boolean of `data` (e.g. pii `emitEvent`). */
  topBoolean(key: string, dflt: boolean): boolean {
    const v = this.data[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(key, 'must be a boolean');
    return v;
  }
}

export class ParamReader {
  constructor(
    readonly root: ConfigReader,
    readonly path: string,
    readonly obj: Record<string, unknown>,
  ) {}

  fail(key: string, problem: string): never {
    return this.root.fail(`${this.path}.${key}`, problem);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  /** Fails naming any key outside `allowed` (configs are schema-validated, but the resolver may not know the schema). */
  onlyKeys(allowed: readonly string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (!allowed.includes(k)) this.fail(k, `is not a known key (known: ${allowed.join(', ')})`);
    }
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') this.fail(key, v === undefined ? 'is required' : 'must be a string');
    return v;
  }

  optString(key: string): string | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string') this.fail(key, 'must be a string');
    return v;
  }

  integer(key: string, min: number, max: number): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(key, v === undefined ? 'is required' : 'must be an integer');
    if (v < min || v > max) this.fail(key, `must be between ${min} and ${max} (got ${v})`);
    return v;
  }

  optInteger(key: string, min: number, max: number): number | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    return this.integer(key, min, max);
  }

  number(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, v === undefined ? 'is required' : 'must be a number');
    return v;
  }

  optBoolean(key: string, dflt: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') this.fail(key, 'must be a boolean');
    return v;
  }

  stringArray(key: string, optional = false): string[] {
    const v = this.obj[key];
    if ((v === undefined || v === null) && optional) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      this.fail(key, v === undefined ? 'is required' : 'must be an array of strings');
    }
    return v as string[];
  }

  oneOf<T extends string>(key: string, values: readonly T[], dflt?: T): T {
    const v = this.obj[key];
    if ((v === undefined || v === null) && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${values.join(', ')}${v === undefined ? '' : ` (got ${JSON.stringify(v)})`}`);
    }
    return v as T;
  }

  object(key: string): ParamReader {
    const v = this.obj[key];
    if (!isObject(v)) this.fail(key, v === undefined ? 'is required' : 'must be an object');
    return new ParamReader(this.root, `${this.path}.${key}`, v as Record<string, unknown>);
  }

  optObject(key: string): ParamReader | null {
    const v = this.obj[key];
    if (v === undefined || v === null) return null;
    return this.object(key);
  }

  objectArray(key: string, optional = false): ParamReader[] {
    const v = this.obj[key];
    if ((v === undefined || v === null) && optional) return [];
    if (!Array.isArray(v)) this.fail(key, v === undefined ? 'is required' : 'must be an array');
    return v.map((item, i) => {
      if (!isObject(item)) this.fail(`${key}[${i}]`, 'must be an object');
      return new ParamReader(this.root, `${this.path}.${key}[${i}]`, item as Record<string, unknown>);
    });
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
