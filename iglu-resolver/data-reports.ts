/**
 * Ajv errors → the data reports Snowplow's Iglu client writes into bad rows. The Iglu client validates with networknt
 * json-schema-validator 1.0.x (draft-04); its reports are reproduced here: message texts, `path` (legacy JSON path of
 * the object/value, `$.a[0].b`), `keyword` (networknt's validator type), `targets` (the message arguments), and order.
 *
 * networknt's order: at each schema node, `properties` first (in declaration order), then the other keywords in
 * alphabetical order; arrays item by item; a missing declared property reports all of the node's `required` failures
 * at that point. Ajv's errors are sorted into that order (stable), after these rewrites:
 *
 *   anyOf            the branches' errors, without a summary message
 *   oneOf, 0 valid   the branches' errors; `required` ones dropped if others exist, `additionalProperties` ones dropped
 *                    if others exist, then type/dateTime/uuid first, then by networknt error code
 *   oneOf, >1 valid  one message listing the branch schemas
 *   additionalItems  one `items` report per extra item
 */
import type { ErrorObject } from 'ajv';
import { PATTERN_FORMATS } from './formats.js';
import type { DataReport } from './types.js';

interface Raw {
  report: DataReport;
  /** the Ajv schema path (networknt reports the same message from different schema places separately) */
  at: string;
  key: Array<number | string>;
  /** networknt error code, for oneOf's ordering */
  code: string;
}

/** networknt ValidatorTypeCode error codes (for oneOf's tie-break). */
const CODES: Record<string, string> = {
  additionalProperties: '1001', allOf: '1002', anyOf: '1003', dependencies: '1007', enum: '1008', format: '1009', items: '1010',
  maximum: '1011', maxItems: '1012', maxLength: '1013', maxProperties: '1014', minimum: '1015', minItems: '1016', minLength: '1017',
  minProperties: '1018', multipleOf: '1019', not: '1020', oneOf: '1022', pattern: '1023', patternProperties: '1024', properties: '1025',
  $ref: '1026', required: '1028', type: '1029', unionType: '1030', uniqueItems: '1031', dateTime: '1034', uuid: '1035',
};
const ONE_OF_FIRST = ['type', 'dateTime', 'uuid'];

// ---------------------------------------------------------------------------------------------------------------
// Small Java/Jackson renderings used in networknt's messages

/** networknt's JsonType of a value: whole numbers are `integer` (Jackson cannot tell `1.0` apart after JSON.parse). */
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

/** Jackson's JsonNode.asText(): strings bare, scalars as written, containers empty. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  if (typeof v === 'object') return '';
  return typeof v === 'number' ? javaNumber(v) : String(v);
}

/** A JSON number as Jackson prints it: integers plain, other doubles like Java's Double.toString. */
function javaNumber(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e16 ? String(n) : javaDouble(n);
}

/** Java's Double.toString for finite values: `1.0`, `0.01`, `1.0E-4`, `1.5E10`. */
export function javaDouble(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : n < 0 ? '-Infinity' : 'NaN';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  if (abs >= 1e-3 && abs < 1e7) {
    const s = String(n);
    return s.includes('.') ? s : `${s}.0`;
  }
  const [mant, exp] = n.toExponential().split('e') as [string, string];
  return `${mant.includes('.') ? mant : `${mant}.0`}E${Number(exp)}`;
}

/** Java's String.hashCode (for HashMap iteration order). */
function javaHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** Keys in the order a java.util.HashMap with default capacity iterates them. */
function hashMapOrder(keys: string[]): string[] {
  let cap = 16;
  while (keys.length > cap * 0.75) cap *= 2;
  const bucket = (k: string): number => {
    const h = javaHash(k);
    return (h ^ (h >>> 16)) & (cap - 1);
  };
  return keys.map((k, i) => ({ k, i, b: bucket(k) })).sort((a, b) => a.b - b.b || a.i - b.i).map((x) => x.k);
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

function segments(pointer: string): string[] {
  if (pointer === '' || pointer === '#') return [];
  return pointer.replace(/^#/, '').slice(1).split('/').map(unescapePointer);
}

/** Ajv's JSON pointer → networknt's legacy JSON path, walking the data to tell array indices from keys. */
export function jsonPathOf(pointer: string, data: unknown): string {
  let out = '$';
  let cur: unknown = data;
  for (const seg of segments(pointer)) {
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

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function has(o: Record<string, unknown>, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/**
 * Sort key of an error in networknt's traversal order: per schema level `[0, '', i]` for the i-th declared property,
 * `[1, keyword, index?]` otherwise (index = array item / data key position / branch number).
 */
function orderKey(schemaPath: string, instancePath: string, root: unknown, data: unknown, lastOverride?: string): Array<number | string> {
  const segs = segments(schemaPath);
  const inst = segments(instancePath);
  const key: Array<number | string> = [];
  let schema: unknown = root;
  let d: unknown = data;
  let ii = 0;
  const nextData = (): void => {
    const seg = inst[ii++];
    d = seg === undefined ? undefined : Array.isArray(d) ? d[Number(seg)] : isObject(d) ? d[seg] : undefined;
  };
  const dataKeyIndex = (k: string | undefined): number => (isObject(d) && k !== undefined ? Object.keys(d).indexOf(k) : -1);
  for (let i = 0; i < segs.length; i++) {
    const kw = segs[i]!;
    const s = isObject(schema) ? schema : {};
    if (i === segs.length - 1) {
      const last = lastOverride ?? kw;
      if (last === 'required' && isObject(s.properties) && isObject(d)) {
        const obj = d;
        const k = Object.keys(s.properties).findIndex((p) => !has(obj, p));
        if (k >= 0) {
          key.push(0, '', k);
          break;
        }
      }
      key.push(1, last);
      break;
    }
    switch (kw) {
      case 'properties': {
        const name = segs[++i]!;
        key.push(0, '', isObject(s.properties) ? Object.keys(s.properties).indexOf(name) : -1);
        schema = isObject(s.properties) ? s.properties[name] : undefined;
        nextData();
        break;
      }
      case 'patternProperties': {
        const pattern = segs[++i]!;
        const patterns = isObject(s.patternProperties) ? Object.keys(s.patternProperties) : [];
        key.push(1, kw, dataKeyIndex(inst[ii]), patterns.indexOf(pattern));
        schema = isObject(s.patternProperties) ? s.patternProperties[pattern] : undefined;
        nextData();
        break;
      }
      case 'additionalProperties':
        key.push(1, kw, dataKeyIndex(inst[ii]));
        schema = s.additionalProperties;
        nextData();
        break;
      case 'items':
        if (Array.isArray(s.items)) {
          const n = Number(segs[++i]);
          key.push(1, 'items', n);
          schema = s.items[n];
        } else {
          key.push(1, 'items', Number(inst[ii]));
          schema = s.items;
        }
        nextData();
        break;
      case 'additionalItems':
        key.push(1, 'items', Number(inst[ii]));
        schema = s.additionalItems;
        nextData();
        break;
      case 'allOf':
      case 'anyOf':
      case 'oneOf': {
        const n = Number(segs[++i]);
        key.push(1, kw, n);
        schema = Array.isArray(s[kw]) ? (s[kw] as unknown[])[n] : undefined;
        break;
      }
      case 'dependencies': {
        const name = segs[++i]!;
        key.push(1, kw, dataKeyIndex(name));
        schema = isObject(s.dependencies) ? s.dependencies[name] : undefined;
        break;
      }
      default:
        key.push(1, kw);
        schema = s[kw];
    }
  }
  return key;
}

function compareKeys(a: Array<number | string>, b: Array<number | string>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------------------------
// One ajv error → networknt report(s)

function report(message: string, path: string, keyword: string, targets: string[]): DataReport {
  return { message, path, keyword, targets };
}

function translate(e: ErrorObject, data: unknown): DataReport[] {
  const path = jsonPathOf(e.instancePath, data);
  const p = e.params as Record<string, unknown>;
  const value = e.data;
  switch (e.keyword) {
    case 'required': {
      const prop = String(p.missingProperty);
      return [report(`${path}.${prop}: is missing but it is required`, path, 'required', [prop])];
    }
    case 'additionalProperties': {
      const prop = String(p.additionalProperty);
      return [report(`${path}.${prop}: is not defined in the schema and the schema does not allow additional properties`, path, 'additionalProperties', [prop])];
    }
    case 'type': {
      const found = jsonType(value);
      if (Array.isArray(e.schema)) {
        const expected = `[${(e.schema as unknown[]).map(String).join(', ')}]`;
        return [report(`${path}: ${found} found, but ${expected} is required`, path, 'unionType', [found, expected])];
      }
      const expected = String(e.schema);
      return [report(`${path}: ${found} found, ${expected} expected`, path, 'type', [found, expected])];
    }
    case 'enum': {
      const list = `[${(Array.isArray(e.schema) ? e.schema : []).map(asText).join(', ')}]`;
      return [report(`${path}: does not have a value in the enumeration ${list}`, path, 'enum', [list])];
    }
    case 'maxLength':
      return [report(`${path}: may only be ${p.limit} characters long`, path, 'maxLength', [String(p.limit)])];
    case 'minLength':
      return [report(`${path}: must be at least ${p.limit} characters long`, path, 'minLength', [String(p.limit)])];
    case 'maximum':
    case 'minimum': {
      // draft-04: exclusiveMaximum/Minimum only change the comparison; the message is the plain one
      const limit = javaNumber(Number(p.limit));
      return [report(`${path}: must have a ${e.keyword} value of ${limit}`, path, e.keyword, [limit])];
    }
    case 'pattern':
      return [report(`${path}: does not match the regex pattern ${p.pattern}`, path, 'pattern', [String(p.pattern)])];
    case 'format': {
      const format = String(p.format);
      const text = asText(value);
      if (format === 'date-time' || format === 'date') return [report(`${path}: ${text} is an invalid ${format}`, path, 'dateTime', [text, format])];
      if (format === 'uuid') return [report(`${path}: ${text} is an invalid uuid`, path, 'uuid', [text, format])];
      if (format === 'email') return [report(`${path}: does not match the ${text} pattern ${format}`, path, 'format', [text, format])];
      const regex = PATTERN_FORMATS[format] ?? '';
      return [report(`${path}: does not match the ${format} pattern ${regex}`, path, 'format', [format, regex])];
    }
    case 'maxItems':
      return [report(`${path}: there must be a maximum of ${p.limit} items in the array`, path, 'maxItems', [String(p.limit)])];
    case 'minItems':
      return [report(`${path}: there must be a minimum of ${p.limit} items in the array`, path, 'minItems', [String(p.limit)])];
    case 'uniqueItems':
      return [report(`${path}: the items in the array must be unique`, path, 'uniqueItems', [])];
    case 'multipleOf': {
      const divisor = javaDouble(Number(p.multipleOf));
      return [report(`${path}: must be multiple of ${divisor}`, path, 'multipleOf', [divisor])];
    }
    case 'maxProperties':
      return [report(`${path}: may only have a maximum of ${p.limit} properties`, path, 'maxProperties', [String(p.limit)])];
    case 'minProperties':
      return [report(`${path}: should have a minimum of ${p.limit} properties`, path, 'minProperties', [String(p.limit)])];
    case 'not': {
      const schema = `"not" : ${JSON.stringify(e.schema)}`;
      return [report(`${path}: should not be valid to the schema ${schema}`, path, 'not', [schema])];
    }
    case 'dependencies': {
      const deps = isObject(e.schema) ? e.schema : {};
      const arrays = Object.keys(deps).filter((k) => Array.isArray(deps[k]));
      const rendered = `{${hashMapOrder(arrays)
        .map((k) => `${k}=[${(deps[k] as unknown[]).map(asText).join(', ')}]`)
        .join(', ')}}`;
      return [report(`${path}: has an error with dependencies ${rendered}`, path, 'dependencies', [rendered])];
    }
    case 'additionalItems': {
      const out: DataReport[] = [];
      const n = Array.isArray(value) ? value.length : Number(p.limit) + 1;
      for (let i = Number(p.limit); i < n; i++) out.push(report(`${path}[${i}]: no validator found at this index`, path, 'items', [String(i)]));
      return out;
    }
    default:
      return [report(`${path}: ${e.message ?? e.keyword}`, path, e.keyword, [])];
  }
}

// ---------------------------------------------------------------------------------------------------------------

function isUnder(e: ErrorObject, parent: ErrorObject): boolean {
  return e !== parent && e.schemaPath.startsWith(parent.schemaPath + '/') && (e.instancePath === parent.instancePath || e.instancePath.startsWith(parent.instancePath + '/'));
}

/** Ajv's errors (allErrors, verbose) → networknt-style data reports in networknt's order, without duplicates. */
export function toDataReports(errors: readonly ErrorObject[] | null | undefined, data: unknown, rootSchema?: unknown): DataReport[] {
  const list = [...(errors ?? [])];
  const dropped = new Set<ErrorObject>();
  const replaced = new Map<ErrorObject, Raw[]>();

  // Combinators, innermost first.
  const combinators = list.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  for (const c of combinators) {
    dropped.add(c);
    const children = list.filter((e) => !dropped.has(e) && isUnder(e, c));
    if (c.keyword === 'anyOf') continue; // the branches' errors stand for it
    const passing = (c.params as { passingSchemas?: number[] | null }).passingSchemas;
    const path = jsonPathOf(c.instancePath, data);
    if (Array.isArray(passing) && passing.length > 1) {
      for (const ch of children) dropped.add(ch);
      const all = (Array.isArray(c.schema) ? c.schema : []).map((s) => JSON.stringify(s)).join('');
      replaced.set(c, [
        { report: report(`${path}: should be valid to one and only one of schema, but more than one are valid: ${all}`, path, 'oneOf', [all]), at: c.schemaPath, key: orderKey(c.schemaPath, c.instancePath, rootSchema, data), code: CODES.oneOf! },
      ]);
      continue;
    }
    // no branch valid: networknt keeps the branches' errors, filtered and re-ordered
    let raws: Raw[] = [];
    const quiet = quietPropertyBranches(c);
    for (const ch of children) {
      dropped.add(ch);
      if (quiet.some((prefix) => ch.schemaPath.startsWith(prefix))) continue;
      for (const r of replaced.get(ch) ?? rawsOf(ch, data, rootSchema)) raws.push(r);
      replaced.delete(ch);
    }
    raws.sort((a, b) => compareKeys(a.key, b.key));
    const notRequired = raws.filter((r) => r.report.keyword !== 'required');
    if (notRequired.length > 0) raws = notRequired;
    if (raws.length > 1) {
      const notAdditional = raws.filter((r) => r.report.keyword !== 'additionalProperties');
      if (notAdditional.length > 0) {
        const rank = (r: Raw): number => {
          const i = ONE_OF_FIRST.indexOf(r.report.keyword);
          return i >= 0 ? i : ONE_OF_FIRST.length;
        };
        raws = notAdditional.sort((a, b) => rank(a) - rank(b) || (rank(a) === ONE_OF_FIRST.length ? (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) : 0));
      }
    }
    // they keep the oneOf's place in the overall order
    const at = orderKey(c.schemaPath, c.instancePath, rootSchema, data);
    replaced.set(
      c,
      raws.map((r) => ({ ...r, key: at })),
    );
  }

  const raws: Raw[] = [];
  for (const e of list) {
    const r = replaced.get(e);
    if (r) raws.push(...r);
    else if (!dropped.has(e)) raws.push(...rawsOf(e, data, rootSchema));
  }
  // stable: ties keep Ajv's order (which follows the data)
  raws.sort((a, b) => compareKeys(a.key, b.key));
  const out: DataReport[] = [];
  const seen = new Set<string>();
  for (const { report: r, at } of raws) {
    const k = `${at}\u0000${r.message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/**
 * Inside oneOf, networknt's `properties` validator of a branch returns nothing at all when the object misses a
 * declared property while the branch's `required` fails (its "complex validator" mode). Returns the schema-path
 * prefixes of those branches' `properties` errors.
 */
function quietPropertyBranches(c: ErrorObject): string[] {
  const branches = Array.isArray(c.schema) ? (c.schema as unknown[]) : [];
  const d = c.data;
  if (!isObject(d)) return [];
  const out: string[] = [];
  branches.forEach((b, i) => {
    if (!isObject(b) || !isObject(b.properties) || !Array.isArray(b.required)) return;
    const missesDeclared = Object.keys(b.properties).some((k) => !has(d, k));
    const missesRequired = (b.required as unknown[]).some((k) => typeof k === 'string' && !has(d, k));
    if (missesDeclared && missesRequired) out.push(`${c.schemaPath}/${i}/properties/`);
  });
  return out;
}

function rawsOf(e: ErrorObject, data: unknown, rootSchema: unknown): Raw[] {
  if (e.keyword === 'if' || e.keyword === 'false schema' || e.keyword === '$ref') return [];
  const key = orderKey(e.schemaPath, e.instancePath, rootSchema, data);
  return translate(e, data).map((report, i) => ({
    report,
    at: e.schemaPath,
    key: e.keyword === 'additionalItems' ? [...key.slice(0, -2), 1, 'items', Number((e.params as { limit: number }).limit) + i] : key,
    code: CODES[report.keyword] ?? '9999',
  }));
}
