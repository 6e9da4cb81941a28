/**
 * Recovery configuration: Snowplow event recovery's shape (`iglu:com.snowplowanalytics.snowplow/recoveries/
 * jsonschema/4-0-0`, plain JSON or base64 as Snowplow's jobs take it), so existing recovery configs work, plus
 * furrow's own steps. Parsed and checked once, at start; an unknown op or key stops start-up naming it.
 *
 *   {"schema": "iglu:com.snowplowanalytics.snowplow/recoveries/jsonschema/4-0-0",
 *    "data": {"<bad-row schema criterion, e.g. …badrows/schema_violations/jsonschema/2-0-*>": [
 *       {"name": "…", "conditions": [{"op": "Test", "path": "$.payload.raw.vendor", "value": {"regex": "…"}}],
 *        "steps": [{"op": "Replace", "path": "$.raw.parameters.aid", "match": "…", "value": "…"}]}]}}
 *
 * Per bad row, the flows listed for its schema are tried in order; the first whose conditions all hold is applied
 * (Snowplow's rule). Conditions see the bad row's `data` ($.processor, $.failure, $.payload); steps see the payload
 * document (recovery/bad-row.ts). Steps:
 *   Replace {path, match?, value}   Snowplow: set the value, or replace regex `match` in it ($1 groups)
 *   Remove  {path, match?}          Snowplow: delete the field / parameter (only where `match` matches)
 *   Cast    {path, from, to}        Snowplow: Numeric | String | Boolean | Array
 *   Set     {path, value}           furrow: set, creating the field or parameter when missing
 *   Rename  {path, to}              furrow: give the field / parameter another name
 *   SetSchema {from, to}            furrow: every self-describing `schema` matching `from` (URI or criterion like
 *                                   iglu:com.acme/x/jsonschema/1-*-*) becomes `to`, in ue_pr/ue_px/cx/co/body
 *   Script  {script | file}         furrow: `function recover(payload, badRow)` in the operator script sandbox
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FurrowError } from '../common/errors.js';
import { compilePath, PathError, type CompiledPath } from './json-path.js';

export const RECOVERIES_SCHEMA_PREFIX = 'iglu:com.snowplowanalytics.snowplow/recoveries/jsonschema/';

export type Matcher =
  | { kind: 'value'; value: unknown }
  | { kind: 'regex'; regex: RegExp }
  | { kind: 'size'; op: CompareOp; n: number }
  | { kind: 'compare'; op: CompareOp; n: number };
export type CompareOp = 'eq' | 'gt' | 'lt' | 'gte' | 'lte' | 'neq';

export interface Condition {
  readonly path: CompiledPath;
  readonly matcher: Matcher;
}

export type CastType = 'Numeric' | 'String' | 'Boolean' | 'Array';

export type StepSpec =
  | { op: 'Replace'; path: CompiledPath; match: RegExp | null; value: unknown }
  | { op: 'Remove'; path: CompiledPath; match: RegExp | null }
  | { op: 'Cast'; path: CompiledPath; from: CastType; to: CastType }
  | { op: 'Set'; path: CompiledPath; value: unknown }
  | { op: 'Rename'; path: CompiledPath; to: string }
  | { op: 'SetSchema'; from: SchemaPattern; to: string }
  | { op: 'Script'; script: string; origin: string };

export interface SchemaPattern {
  readonly text: string;
  readonly test: (uri: string) => boolean;
}

export interface FlowSpec {
  readonly name: string;
  readonly conditions: readonly Condition[];
  readonly steps: readonly StepSpec[];
}

export interface RecoveryConfig {
  /** Bad-row schema pattern → its flows, in config order. */
  readonly flows: ReadonlyArray<{ readonly badRows: SchemaPattern; readonly flows: readonly FlowSpec[] }>;
}

const IGLU_URI = /^iglu:([a-zA-Z0-9._-]+)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/(\d+|\*)-(\d+|\*)-(\d+|\*)$/;

/** An Iglu URI or criterion with `*` in the version (`1-0-*`, `*-*-*`). */
export function schemaPattern(text: unknown, where: string): SchemaPattern {
  if (typeof text !== 'string') throw bad(where, 'must be an Iglu URI string');
  const m = IGLU_URI.exec(text);
  if (m === null) throw bad(where, `${JSON.stringify(text)} is not an Iglu URI or criterion (iglu:vendor/name/format/M-R-A, * allowed in the version)`);
  const [, vendor, name, format, ...v] = m;
  const prefix = `iglu:${vendor}/${name}/${format}/`;
  return {
    text,
    test(uri: string): boolean {
      if (!uri.startsWith(prefix)) return false;
      const parts = uri.slice(prefix.length).split('-');
      if (parts.length !== 3) return false;
      for (let i = 0; i < 3; i++) if (v[i] !== '*' && v[i] !== parts[i]) return false;
      return true;
    },
  };
}

function bad(where: string, msg: string): FurrowError {
  return new FurrowError('CONFIG_INVALID_VALUE', `recovery config ${where}: ${msg}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new FurrowError('CONFIG_UNKNOWN_KEY', `recovery config ${where}: unknown key '${k}' (expected ${allowed.join(', ')})`);
  }
}

function path(v: unknown, where: string): CompiledPath {
  try {
    return compilePath(v as string);
  } catch (e) {
    if (e instanceof PathError) throw bad(where, e.message);
    throw e;
  }
}

/** Snowplow's regexes are Java's; `(?U)` (Unicode classes) has no JS spelling and is dropped, 'u' is set instead. */
export function compileRegex(v: unknown, where: string): RegExp {
  if (typeof v !== 'string') throw bad(where, 'must be a regular expression string');
  const src = v.replace(/^\(\?U\)/, '');
  try {
    return new RegExp(src, 'u');
  } catch {
    try {
      return new RegExp(src);
    } catch (e) {
      throw bad(where, `bad regular expression: ${(e as Error).message}`);
    }
  }
}

const COMPARE_OPS: readonly CompareOp[] = ['eq', 'gt', 'lt', 'gte', 'lte', 'neq'];

function compareOf(v: unknown, where: string): { op: CompareOp; n: number } {
  if (!isRecord(v)) throw bad(where, 'must be {"eq"|"gt"|"lt"|"gte"|"lte"|"neq": number}');
  const keys = Object.keys(v);
  if (keys.length !== 1 || !(COMPARE_OPS as readonly string[]).includes(keys[0]!) || typeof v[keys[0]!] !== 'number') {
    throw bad(where, 'must be {"eq"|"gt"|"lt"|"gte"|"lte"|"neq": number}');
  }
  return { op: keys[0] as CompareOp, n: v[keys[0]!] as number };
}

function condition(c: unknown, where: string): Condition {
  if (!isRecord(c)) throw bad(where, 'must be an object');
  onlyKeys(c, ['op', 'path', 'value'], where);
  if (c.op !== 'Test') throw bad(`${where}.op`, `unknown condition op ${JSON.stringify(c.op)} (expected Test)`);
  const p = path(c.path, `${where}.path`);
  const v = c.value;
  let matcher: Matcher;
  if (isRecord(v) && Object.keys(v).length === 1 && 'regex' in v) matcher = { kind: 'regex', regex: compileRegex(v.regex, `${where}.value.regex`) };
  else if (isRecord(v) && Object.keys(v).length === 1 && 'size' in v) matcher = { kind: 'size', ...compareOf(v.size, `${where}.value.size`) };
  else if (isRecord(v) && Object.keys(v).length === 1 && 'compare' in v) matcher = { kind: 'compare', ...compareOf(v.compare, `${where}.value.compare`) };
  else if (isRecord(v) && Object.keys(v).length === 1 && 'value' in v) matcher = { kind: 'value', value: v.value };
  else matcher = { kind: 'value', value: v };
  return { path: p, matcher };
}

const CASTS: readonly CastType[] = ['Numeric', 'String', 'Boolean', 'Array'];

function castType(v: unknown, where: string): CastType {
  if (!(CASTS as readonly unknown[]).includes(v)) throw bad(where, `must be one of ${CASTS.join(', ')}`);
  return v as CastType;
}

function step(s: unknown, where: string, baseDir: string): StepSpec {
  if (!isRecord(s)) throw bad(where, 'must be an object');
  switch (s.op) {
    case 'Replace':
      onlyKeys(s, ['op', 'path', 'match', 'value'], where);
      if (!('value' in s)) throw new FurrowError('CONFIG_MISSING_KEY', `recovery config ${where}: Replace needs 'value'`);
      return { op: 'Replace', path: path(s.path, `${where}.path`), match: s.match === undefined ? null : compileRegex(s.match, `${where}.match`), value: s.value };
    case 'Remove':
      onlyKeys(s, ['op', 'path', 'match'], where);
      return { op: 'Remove', path: path(s.path, `${where}.path`), match: s.match === undefined ? null : compileRegex(s.match, `${where}.match`) };
    case 'Cast':
      onlyKeys(s, ['op', 'path', 'from', 'to'], where);
      return { op: 'Cast', path: path(s.path, `${where}.path`), from: castType(s.from, `${where}.from`), to: castType(s.to, `${where}.to`) };
    case 'Set':
      onlyKeys(s, ['op', 'path', 'value'], where);
      if (!('value' in s)) throw new FurrowError('CONFIG_MISSING_KEY', `recovery config ${where}: Set needs 'value'`);
      return { op: 'Set', path: path(s.path, `${where}.path`), value: s.value };
    case 'Rename':
      onlyKeys(s, ['op', 'path', 'to'], where);
      if (typeof s.to !== 'string' || s.to === '') throw bad(`${where}.to`, 'must be a non-empty name');
      return { op: 'Rename', path: path(s.path, `${where}.path`), to: s.to };
    case 'SetSchema': {
      onlyKeys(s, ['op', 'from', 'to'], where);
      const to = schemaPattern(s.to, `${where}.to`);
      if (to.text.includes('*')) throw bad(`${where}.to`, 'must be a full Iglu URI (no *)');
      return { op: 'SetSchema', from: schemaPattern(s.from, `${where}.from`), to: to.text };
    }
    case 'Script': {
      onlyKeys(s, ['op', 'script', 'file'], where);
      if (typeof s.script === 'string' && s.file === undefined) return { op: 'Script', script: s.script, origin: `${where}.script` };
      if (typeof s.file === 'string' && s.script === undefined) {
        const file = resolve(baseDir, s.file);
        try {
          return { op: 'Script', script: readFileSync(file, 'utf8'), origin: file };
        } catch (e) {
          throw new FurrowError('CONFIG_FILE_UNREADABLE', `recovery config ${where}.file: ${file}: ${(e as Error).message}`);
        }
      }
      throw bad(where, "Script needs exactly one of 'script' (the source) or 'file'");
    }
    default:
      throw bad(`${where}.op`, `unknown step op ${JSON.stringify(s.op)} (expected Replace, Remove, Cast, Set, Rename, SetSchema or Script)`);
  }
}

function flow(f: unknown, where: string, baseDir: string): FlowSpec {
  if (!isRecord(f)) throw bad(where, 'must be an object');
  onlyKeys(f, ['name', 'conditions', 'steps'], where);
  if (typeof f.name !== 'string') throw new FurrowError('CONFIG_MISSING_KEY', `recovery config ${where}: 'name' is required`);
  const conditions = f.conditions ?? [];
  const steps = f.steps ?? [];
  if (!Array.isArray(conditions)) throw bad(`${where}.conditions`, 'must be a list');
  if (!Array.isArray(steps)) throw bad(`${where}.steps`, 'must be a list');
  return Object.freeze({
    name: f.name,
    conditions: Object.freeze(conditions.map((c, i) => condition(c, `${where}.conditions[${i}]`))),
    steps: Object.freeze(steps.map((s, i) => step(s, `${where}.steps[${i}]`, baseDir))),
  });
}

/**
 * Parses a recovery config: the self-describing `recoveries` JSON (4-0-x), its bare `data` map, or either as
 * base64 text. `baseDir` resolves Script `file`s.
 */
export function parseRecoveryConfig(input: unknown, baseDir = process.cwd()): RecoveryConfig {
  let v = input;
  if (typeof v === 'string') {
    const text = v.trim();
    const json = text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
    try {
      v = JSON.parse(json) as unknown;
    } catch (e) {
      throw new FurrowError('CONFIG_PARSE', `recovery config: not JSON (nor base64 JSON): ${(e as Error).message}`);
    }
  }
  if (!isRecord(v)) throw bad('', 'must be a JSON object');
  let data: unknown = v;
  if (typeof v.schema === 'string') {
    if (!v.schema.startsWith(RECOVERIES_SCHEMA_PREFIX) || !/\/4-\d+-\d+$/.test(v.schema)) {
      throw new FurrowError('CONFIG_UNSUPPORTED', `recovery config: schema ${v.schema} is not supported (expected ${RECOVERIES_SCHEMA_PREFIX}4-0-0)`);
    }
    onlyKeys(v, ['schema', 'data'], '');
    data = v.data;
  }
  if (!isRecord(data)) throw bad('data', 'must map bad-row schemas to lists of flows');
  const flows: Array<{ badRows: SchemaPattern; flows: FlowSpec[] }> = [];
  for (const [key, list] of Object.entries(data)) {
    const badRows = schemaPattern(key, `data key ${key}`);
    if (!badRows.text.startsWith('iglu:com.snowplowanalytics.snowplow.badrows/')) throw bad(`data key ${key}`, 'must be a bad-row schema (iglu:com.snowplowanalytics.snowplow.badrows/…)');
    if (!Array.isArray(list)) throw bad(`data["${key}"]`, 'must be a list of flows');
    flows.push({ badRows, flows: list.map((f, i) => flow(f, `data["${key}"][${i}]`, baseDir)) });
  }
  return Object.freeze({ flows: Object.freeze(flows) });
}

export function readRecoveryConfig(file: string): RecoveryConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `recovery config ${file}: ${(e as Error).message}`);
  }
  return parseRecoveryConfig(text, dirname(resolve(file)));
}

/** Every bad-row schema. */
export const ANY_BAD_ROW: SchemaPattern = Object.freeze({ text: 'iglu:com.snowplowanalytics.snowplow.badrows/*', test: (uri: string) => uri.startsWith('iglu:com.snowplowanalytics.snowplow.badrows/') });

/** One flow applied to every recoverable bad-row type (the CLI's --set/--remove/… quick fixes, mini's fixes). */
export function singleFlowConfig(name: string, steps: readonly unknown[], baseDir = process.cwd()): RecoveryConfig {
  const f = flow({ name, conditions: [], steps: [...steps] }, `flow ${name}`, baseDir);
  return Object.freeze({ flows: Object.freeze([{ badRows: ANY_BAD_ROW, flows: [f] }]) });
}
