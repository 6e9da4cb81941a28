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
    for (let i = 0; i <= MAX_REMOTE_REFS; i++) {
      try {
        if (id) ajv.removeSchema(id);
        const fn = ajv.compile(schema);
        ajv.removeSchema(schema as object);
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

export { toDataReports } from './data-reports.js';
