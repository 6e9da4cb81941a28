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
import type { ErrorObject, ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { DataReport } from './types.js';

// ajv-draft-04 and ajv-formats are CommonJS modules whose `default` is the export (NodeNext sees module.exports).
const Ajv = AjvDraft04.default;
const addFormats = addFormatsModule.default;
type AjvInstance = InstanceType<typeof AjvDraft04.default>;

export const SELF_DESC_META_URI = 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0';

/**
 * The self-describing meta-schema (iglu:com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0): draft-04 plus a
 * required `self` object. Facts restated from Iglu Central; registered so schemas declaring it as `$schema` compile
 * and are checked against it.
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
  addFormats(ajv);
  // networknt's uuid format is the bare 8-4-4-4-12 hex form; ajv-formats also accepts a `urn:uuid:` prefix.
  ajv.addFormat('uuid', /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
  ajv.addKeyword({ keyword: 'self', schemaType: 'object' });
  ajv.addKeyword({ keyword: '$supersededBy', schemaType: 'string' });
  ajv.addMetaSchema(SELF_DESC_META);

  function compile(schema: unknown): CompileResult {
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
      return { ok: false, schemaIssues: [{ path: '$', message: 'Schema is not a JSON object' }] };
    }
    const s = schema as Record<string, unknown>;
    // Check against the meta-schema the schema declares (self-desc or plain draft-04); an unknown $schema → draft-04.
    const metaUri = typeof s.$schema === 'string' && ajv.getSchema(s.$schema) ? s.$schema : 'http://json-schema.org/draft-04/schema#';
    const meta = ajv.getSchema(metaUri)!;
    let metaOk: boolean;
    try {
      metaOk = meta(schema) as boolean;
    } catch (e) {
      return { ok: false, schemaIssues: [{ path: '$', message: `Schema could not be checked: ${(e as Error).message}` }] };
    }
    if (!metaOk) {
      return { ok: false, schemaIssues: (meta.errors ?? []).map((e: ErrorObject) => ({ path: jsonPathOf(e.instancePath, schema), message: ajvMessage(e, schema) })) };
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

// ---------------------------------------------------------------------------------------------------------------
// Ajv errors → networknt-style data reports

/** networknt's JsonType names: integers (no fraction) are `integer`, other numbers `number`. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(v) ? 'integer' : 'number';
    case 'object':
      return 'object';
    default:
      return 'unknown';
  }
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Ajv's JSON pointer (`/a/0/b`) → networknt's legacy JSON path (`$.a[0].b`), walking the data to tell arrays apart. */
function jsonPathOf(pointer: string, data: unknown): string {
  if (pointer === '') return '$';
  let out = '$';
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = unescapePointer(raw);
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += `.${seg}`;
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function valueAt(pointer: string, data: unknown): unknown {
  if (pointer === '') return data;
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(unescapePointer(raw))] : (cur as Record<string, unknown>)[unescapePointer(raw)];
  }
  return cur;
}

/** Java's JsonNode.asText() for an enum member: strings bare, numbers/booleans/null as written, containers as JSON. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function report(message: string, path: string, keyword: string, targets: string[]): DataReport {
  return { message, path, keyword, targets };
}

function toReport(e: ErrorObject, data: unknown): DataReport {
  const path = jsonPathOf(e.instancePath, data);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const prop = String(p.missingProperty);
      return report(`${path}.${prop}: is missing but it is required`, path, 'required', [prop]);
    }
    case 'additionalProperties': {
      const prop = String(p.additionalProperty);
      return report(`${path}.${prop}: is not defined in the schema and the schema does not allow additional properties`, path, 'additionalProperties', [prop]);
    }
    case 'type': {
      const found = jsonType(valueAt(e.instancePath, data));
      if (Array.isArray(e.schema)) {
        const expected = `[${(e.schema as unknown[]).map(String).join(', ')}]`;
        return report(`${path}: ${found} found, but ${expected} is required`, path, 'type', [found, expected]);
      }
      const expected = String(e.schema);
      return report(`${path}: ${found} found, ${expected} expected`, path, 'type', [found, expected]);
    }
    case 'enum': {
      const list = `[${(Array.isArray(e.schema) ? e.schema : []).map(asText).join(', ')}]`;
      return report(`${path}: does not have a value in the enumeration ${list}`, path, 'enum', [list]);
    }
    case 'maxLength':
      return report(`${path}: may only be ${p.limit} characters long`, path, 'maxLength', [String(p.limit)]);
    case 'minLength':
      return report(`${path}: must be at least ${p.limit} characters long`, path, 'minLength', [String(p.limit)]);
    case 'maximum':
      return p.comparison === '<'
        ? report(`${path}: must have an exclusive maximum value of ${p.limit}`, path, 'maximum', [String(p.limit)])
        : report(`${path}: must have a maximum value of ${p.limit}`, path, 'maximum', [String(p.limit)]);
    case 'minimum':
      return p.comparison === '>'
        ? report(`${path}: must have an exclusive minimum value of ${p.limit}`, path, 'minimum', [String(p.limit)])
        : report(`${path}: must have a minimum value of ${p.limit}`, path, 'minimum', [String(p.limit)]);
    case 'pattern':
      return report(`${path}: does not match the regex pattern ${p.pattern}`, path, 'pattern', [String(p.pattern)]);
    case 'format': {
      const format = String(p.format);
      const value = valueAt(e.instancePath, data);
      if (format === 'date-time' || format === 'date' || format === 'time' || format === 'uuid') {
        return report(`${path}: ${asText(value)} is an invalid ${format}`, path, 'format', [asText(value), format]);
      }
      return report(`${path}: does not match the ${format} pattern`, path, 'format', [format]);
    }
    case 'maxItems':
      return report(`${path}: there must be a maximum of ${p.limit} items in the array`, path, 'maxItems', [String(p.limit)]);
    case 'minItems':
      return report(`${path}: there must be a minimum of ${p.limit} items in the array`, path, 'minItems', [String(p.limit)]);
    case 'uniqueItems':
      return report(`${path}: the items in the array must be unique`, path, 'uniqueItems', []);
    case 'multipleOf':
      return report(`${path}: must be multiple of ${p.multipleOf}`, path, 'multipleOf', [String(p.multipleOf)]);
    case 'maxProperties':
      return report(`${path}: may only have a maximum of ${p.limit} properties`, path, 'maxProperties', [String(p.limit)]);
    case 'minProperties':
      return report(`${path}: should have a minimum of ${p.limit} properties`, path, 'minProperties', [String(p.limit)]);
    case 'not':
      return report(`${path}: should not be valid to the schema ${JSON.stringify(e.schema)}`, path, 'not', [JSON.stringify(e.schema)]);
    case 'anyOf':
      return report(`${path}: should be valid to any of the schemas ${JSON.stringify(e.schema)}`, path, 'anyOf', [JSON.stringify(e.schema)]);
    case 'oneOf': {
      const passing = p.passingSchemas;
      const n = Array.isArray(passing) ? passing.length : 0;
      return report(`${path}: should be valid to one and only one schema, but ${n} are valid`, path, 'oneOf', [String(n)]);
    }
    case 'dependencies': {
      const missing = String(p.missingProperty);
      return report(`${path}: has an error with dependencies ${missing}`, path, 'dependencies', [missing]);
    }
    case 'additionalItems':
      return report(`${path}[${p.limit}]: no validator found at this index`, path, 'additionalItems', [String(p.limit)]);
    default:
      return report(`${path}: ${e.message ?? e.keyword}`, path, e.keyword, []);
  }
}

/** Ajv's errors → data reports, in Ajv's order, without duplicates. */
export function toDataReports(errors: readonly ErrorObject[] | null | undefined, data: unknown): DataReport[] {
  const out: DataReport[] = [];
  const seen = new Set<string>();
  for (const e of errors ?? []) {
    // `if`/`then` and `$ref` wrappers are not draft-04 keywords of their own; their inner errors are reported.
    if (e.keyword === 'if' || e.keyword === 'false schema') continue;
    const r = toReport(e, data);
    const k = `${r.keyword}\u0000${r.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

function ajvMessage(e: ErrorObject, data: unknown): string {
  return toReport(e, data).message;
}
