/**
 * Reading an enrichment config SDJ into typed values, once, at start, with the schema the enrichment declares
 * beside its factory (config/schema.ts, read by config/reader.ts). Every message names the offending key
 * (`<enrichment>: parameters.<key> …`) so an operator can fix the file; nothing here runs per event.
 */
import { FurrowError } from '../../common/errors.js';
import { compileReader, type ConfigReader as SchemaReader } from '../../config/reader.js';
import type { Schema, Static } from '../../config/schema.js';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { parseSchemaKey } from '../../formats/schema-key.js';

const readers = new WeakMap<object, SchemaReader<unknown>>();

/** `<enrichment>` of an enrichment config, and its `data` object. */
function sdj(config: SelfDescribingData): { name: string; data: Record<string, unknown> } {
  const name = parseSchemaKey(config.schema)?.name;
  if (name === undefined) throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `enrichment config schema "${config.schema}" is not an Iglu URI`);
  if (!isObject(config.data)) throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name}: data must be an object`);
  return { name, data: config.data };
}

function readWith<S extends Schema<unknown>>(name: string, schema: S, raw: unknown, path: string): Static<S> {
  let read = readers.get(schema as object);
  if (read === undefined) {
    read = compileReader(schema, { json: true }) as SchemaReader<unknown>;
    readers.set(schema as object, read);
  }
  try {
    return read(raw, { path }) as Static<S>;
  } catch (e) {
    if (!(e instanceof FurrowError)) throw e;
    // `parameters.x: must be …` → `parameters.x must be …`, as every enrichment message reads.
    const detail = e.message.slice(e.code.length + 2).replace(/^([A-Za-z0-9_$.[\]-]+): /, '$1 ');
    throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name}: ${detail}`, { cause: e });
  }
}

/**
 * An enrichment's `data.parameters`, read with the schema the enrichment declares beside its factory
 * (config/schema.ts, config/reader.ts: JSON as written, no coercion), frozen. Errors are
 * ENRICH_ENRICHMENT_CONFIG_INVALID naming `<enrichment>: parameters.<key>`. The resolver usually validated the
 * config against its Iglu schema already; this also covers a registry that does not know the schema.
 */
export function readParameters<S extends Schema<unknown>>(config: SelfDescribingData, schema: S, opts: { optional?: boolean } = {}): Static<S> {
  const { name, data } = sdj(config);
  const raw = data['parameters'];
  if ((raw === undefined || raw === null) && !opts.optional) throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name}: parameters is required`);
  return readWith(name, schema, raw ?? {}, 'parameters');
}

/**
 * The whole `data` of an enrichment config, for an enrichment with keys beside `parameters` (pii's `emitEvent`,
 * `anonymousOnly`); the schema then lists `vendor`, `name`, `enabled` and `parameters` too.
 */
export function readEnrichmentData<S extends Schema<unknown>>(config: SelfDescribingData, schema: S): Static<S> {
  const { name, data } = sdj(config);
  return readWith(name, schema, data, '');
}

/** A check the schema cannot say (cross-key rules, compiled JSONPaths): `<enrichment>: <key> <problem>`. */
export function configInvalid(config: SelfDescribingData, key: string, problem: string): FurrowError {
  const name = parseSchemaKey(config.schema)?.name ?? config.schema;
  return new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `${name}: ${key} ${problem}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
