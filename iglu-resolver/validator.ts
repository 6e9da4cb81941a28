/**
 * Compiling Iglu schemas (JSON Schema draft-04 + Iglu's `self` keyword and self-describing meta-schema) and turning
 * Ajv's errors into the data reports Snowplow's Iglu client puts in bad rows (networknt json-schema-validator 1.0.x
 * message texts, enrich.md §5/§6.6):
 *
 *   {"message":"$.latitude: is missing but it is required","path":"$","keyword":"required","targets":["latitude"]}
 *
 * One Ajv instance per resolver. Compiled functions are kept by the resolver's cache, so each compiled schema is
 * removed from Ajv's own cache right after compilation (otherwise TTL re-fetches would grow it without bound).
 */
import AjvDraft04 from 'ajv-draft-04';
import type { ValidateFunction } from 'ajv';
import { toDataReports } from './data-reports.js';
import { registerIgluFormats } from './formats.js';

// ajv-draft-04 and ajv-formats are CommonJS modules whose `default` is the export (NodeNext sees module.exports).
const Ajv = AjvDraft04.default;
type AjvInstance = InstanceType<typeof AjvDraft04.default>;

export const SELF_DESC_META_URI = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0';

/**
 * The self-describing meta-schema (iglu:com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0): draft-04 plus a
 * required `self` object. Facts restated from Iglu Central; registered so that `$schema` pointing at it resolves
 * (schemas themselves are checked against draft-04, as the Iglu client does).
 */
const SELF_DESC_META = {
  id: SELF_DESC_META_URI + '#',
  $schema: 'http://json-schema.org/draft-04/schema#',
  allOf: [
    {
      properties: {
        self: {
          type: 'object',
          properties: {
            vendor: { type: 'string', pattern: '^[a-zA-Z0-9-_.]+$' },
            name: { type: 'string', pattern: '^[a-zA-Z0-9-_]+$' },
            format: { type: 'string', pattern: '^[a-zA-Z0-9-_]+$' },
            version: { type: 'string', pattern: '^[0-9]+-[0-9]+-[0-9]+$' },
          },
          required: ['vendor', 'name', 'format', 'version'],
          additionalProperties: false,
        },
      },
      required: ['self'],
    },
    { $ref: 'http://json-schema.org/draft-04/schema#' },
  ],
};

export type CompileResult =
  | { ok: true; validate: ValidateFunction }
  | { ok: false; schemaIssues: Array<{ path: string; message: string }> };

export interface SchemaCompiler {
  /** Compiles an Iglu schema; never throws. */
  compile(schema: unknown): CompileResult;
  /** The Ajv instance (the benchmark calls compiled functions directly as its floor). */
  readonly ajv: AjvInstance;
}

/** Remote `$ref`s that networknt (as configured by the Iglu client) resolves to the empty schema. */
const MAX_REMOTE_REFS = 32;

export function createSchemaCompiler(): SchemaCompiler {
  const ajv = new Ajv({
    allErrors: true,
    strict: false,
    logger: false,
    validateSchema: false, // checked explicitly below to report schemaIssues
    inlineRefs: true,
    verbose: true, // errors carry the failing schema value (type, enum lists) for the reports
  });
  registerIgluFormats(ajv);
  ajv.addKeyword({ keyword: 'self', schemaType: 'object' });
  ajv.addKeyword({ keyword: '$supersededBy', schemaType: 'string' });
  ajv.addMetaSchema(SELF_DESC_META);
  const draft04 = ajv.getSchema('http://json-schema.org/draft-04/schema#')!;

  function compile(schema: unknown): CompileResult {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      return { ok: false, schemaIssues: [{ path: '$', message: 'Schema is not a JSON object' }] };
    }
    const s = schema as Record<string, unknown>;
    // Like the Iglu client, check every schema against the draft-04 meta-schema (not the self-desc one: a schema
    // without `self` still validates data; `furrow iglu lint` reports it).
    const meta = draft04;
    let metaOk: boolean;
    try {
      metaOk = meta(schema) as boolean;
    } catch (e) {
      return { ok: false, schemaIssues: [{ path: '$', message: `Schema could not be checked: ${(e as Error).message}` }] };
    }
    if (!metaOk) {
      return { ok: false, schemaIssues: toDataReports(meta.errors, schema, meta.schema).map((r) => ({ path: r.path, message: r.message })) };
    }
    // A schema with an id already compiled once must not clash with itself on a re-fetch.
    const id = typeof s.id === 'string' ? s.id : typeof s.$id === 'string' ? s.$id : null;
    const target = neutralizeRemoteRefs(schema, (base) => ajv.getSchema(base) !== undefined);
    for (let i = 0; i <= MAX_REMOTE_REFS; i++) {
      try {
        if (id) ajv.removeSchema(id);
        const fn = ajv.compile(target as object);
        ajv.removeSchema(target as object);
        return { ok: true, validate: fn };
      } catch (e) {
        const missing = (e as { missingSchema?: string }).missingSchema;
        if (missing && i < MAX_REMOTE_REFS && !ajv.getSchema(missing)) {
          ajv.addSchema({}, missing);
          continue;
        }
        return { ok: false, schemaIssues: [{ path: '$', message: `Schema could not be compiled: ${(e as Error).message}` }] };
      }
    }
    return { ok: false, schemaIssues: [{ path: '$', message: 'Schema has too many remote references' }] };
  }

  return { compile, ajv };
}

/** Keys whose values are data, not schemas (never rewritten). */
const DATA_KEYS = new Set(['enum', 'default', 'const', 'examples', 'self']);

/**
 * `$ref`s into documents Ajv does not know (absolute URLs other than the registered meta-schemas) resolve to the
 * empty schema, as the Iglu client configures networknt. Returns the schema itself when it has none (the usual case),
 * else a copy with those subschemas replaced by `{}`.
 */
function neutralizeRemoteRefs(schema: unknown, known: (base: string) => boolean): unknown {
  let changed = false;
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 256 || v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) {
      let out: unknown[] | null = null;
      v.forEach((x, i) => {
        const y = walk(x, depth + 1);
        if (y !== x) (out ??= [...v])[i] = y;
      });
      return out ?? v;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.$ref === 'string') {
      const base = o.$ref.split('#')[0]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(base) && !known(base)) {
        changed = true;
        return {};
      }
    }
    let out: Record<string, unknown> | null = null;
    for (const [k, x] of Object.entries(o)) {
      if (DATA_KEYS.has(k)) continue;
      const y = walk(x, depth + 1);
      if (y !== x) (out ??= { ...o })[k] = y;
    }
    return out ?? o;
  };
  const result = walk(schema, 0);
  return changed ? result : schema;
}

export { toDataReports } from './data-reports.js';
