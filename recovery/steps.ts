/**
 * Applying a flow's conditions and steps (recovery/config.ts) — pure functions of the bad row and its document,
 * except Script steps, which run in the operator script sandbox (common/script-sandbox.ts, the same isolation as the
 * JavaScript enrichment: a `node:vm` context in a separate, locked-down `node` process with time and memory limits).
 *
 *   conditions(bad row data) ──all hold──▶ steps(document copy) ──▶ fixed document | StepFailure
 *
 * A step that reaches no field is not an error (Snowplow's rule: a flow may cover rows that lack a field); a step
 * whose value cannot be applied (a regex on a non-string, a cast that does not convert, a script that throws) fails
 * the row with that reason.
 */
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { SCRIPT_HELPERS, ScriptSandbox, SandboxStartError } from '../common/script-sandbox.js';
import { exceedsDepth } from '../common/json-depth.js';
import type { CastType, Condition, Matcher, SchemaPattern, StepSpec } from './config.js';
import { decodeEmbedded, edit, encodeEmbedded, locate, Rename, REMOVE } from './json-path.js';

export class StepFailure {
  constructor(readonly reason: string) {}
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function compare(op: string, x: number, n: number): boolean {
  switch (op) {
    case 'eq': return x === n;
    case 'neq': return x !== n;
    case 'gt': return x > n;
    case 'lt': return x < n;
    case 'gte': return x >= n;
    default: return x <= n;
  }
}

function matches(m: Matcher, v: unknown): boolean {
  switch (m.kind) {
    case 'value': return deepEqual(v, m.value);
    case 'regex': return typeof v === 'string' ? m.regex.test(v) : v !== null && v !== undefined && typeof v !== 'object' && m.regex.test(String(v));
    case 'size': {
      const n = typeof v === 'string' || Array.isArray(v) ? v.length : v !== null && typeof v === 'object' ? Object.keys(v).length : null;
      return n !== null && compare(m.op, n, m.n);
    }
    case 'compare': {
      const x = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(x) && compare(m.op, x, m.n);
    }
  }
}

/** A condition holds when some value its path reaches matches. */
export function conditionsHold(conditions: readonly Condition[], data: unknown): boolean {
  for (const c of conditions) {
    if (!locate(data, c.path).some((v) => matches(c.matcher, v))) return false;
  }
  return true;
}

function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function cast(v: unknown, from: CastType, to: CastType): unknown | StepFailure {
  const kindOf = (x: unknown): CastType | null =>
    typeof x === 'number' ? 'Numeric' : typeof x === 'string' ? 'String' : typeof x === 'boolean' ? 'Boolean' : Array.isArray(x) ? 'Array' : null;
  if (kindOf(v) !== from) return v; // only values of the `from` type are cast (others are left as they are)
  if (from === to) return v;
  switch (to) {
    case 'String': return Array.isArray(v) ? JSON.stringify(v) : String(v);
    case 'Array': return [v];
    case 'Numeric': {
      if (typeof v === 'boolean') return v ? 1 : 0;
      const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : new StepFailure(`Cast: ${JSON.stringify(v).slice(0, 100)} is not a number`);
    }
    case 'Boolean': {
      if (typeof v === 'number') return v !== 0;
      if (v === 'true') return true;
      if (v === 'false') return false;
      return new StepFailure(`Cast: ${JSON.stringify(v).slice(0, 100)} is not a boolean`);
    }
  }
}

/** Replaces `schema` URIs matching `from` in every self-describing JSON of the document (embedded ones too). */
export function setSchema(doc: unknown, from: SchemaPattern, to: string): { doc: unknown; count: number } {
  let count = 0;
  const visit = (v: unknown, depth: number): unknown => {
    if (depth > 64) return v;
    if (typeof v === 'string') {
      if (v.length < 10) return v;
      const d = decodeEmbedded(v);
      if (d === null) return v;
      const before = count;
      const out = visit(d.value, depth + 1);
      return count > before ? encodeEmbedded(out, d.encoding) : v;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = visit(v[i], depth + 1);
      return v;
    }
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        if (k === 'schema' && typeof o[k] === 'string' && from.test(o[k] as string)) {
          o[k] = to;
          count++;
        } else o[k] = visit(o[k], depth + 1);
      }
    }
    return v;
  };
  const out = visit(doc, 0);
  return { doc: out, count };
}

/** Applies one non-script step to `holder.doc` (changed in place); a StepFailure says why it cannot apply. */
export function applyStep(step: Exclude<StepSpec, { op: 'Script' }>, holder: { doc: unknown }): StepFailure | null {
  let failure: StepFailure | null = null;
  switch (step.op) {
    case 'Set':
      edit(holder, step.path, () => structuredClone(step.value), { create: true });
      return null;
    case 'Rename':
      edit(holder, step.path, () => new Rename(step.to));
      return null;
    case 'Remove':
      edit(holder, step.path, (v) => {
        if (step.match === null) return REMOVE;
        const t = scalarText(v) ?? JSON.stringify(v);
        return step.match.test(t) ? REMOVE : v;
      });
      return null;
    case 'Replace':
      edit(holder, step.path, (v) => {
        if (step.match === null) return structuredClone(step.value);
        const replacement = scalarText(step.value) ?? JSON.stringify(step.value);
        const t = scalarText(v);
        if (t !== null) {
          if (!step.match.test(t)) return v;
          const out = t.replace(new RegExp(step.match.source, step.match.flags.includes('g') ? step.match.flags : step.match.flags + 'g'), replacement);
          // A whole-value match with a non-string value sets that value (Snowplow: `"value": 1` on a number).
          if (typeof step.value !== 'string' && out === replacement) return structuredClone(step.value);
          return typeof v === 'string' ? out : out === t ? v : out;
        }
        // An object or array: the regex runs on its JSON text, which must still be JSON afterwards.
        const json = JSON.stringify(v);
        if (!step.match.test(json)) return v;
        const out = json.replace(new RegExp(step.match.source, step.match.flags.includes('g') ? step.match.flags : step.match.flags + 'g'), replacement);
        try {
          return JSON.parse(out) as unknown;
        } catch {
          failure = new StepFailure(`Replace at ${step.path.text}: the result is not JSON any more`);
          return v;
        }
      });
      return failure;
    case 'Cast':
      edit(holder, step.path, (v) => {
        const r = cast(v, step.from, step.to);
        if (r instanceof StepFailure) {
          failure = new StepFailure(`${r.reason} (at ${step.path.text})`);
          return v;
        }
        return r;
      });
      return failure;
    case 'SetSchema':
      holder.doc = setSchema(holder.doc, step.from, step.to).doc;
      return null;
  }
}

/** Runs a Script step's `recover(payload, badRow)` on many documents at once; one answer per document. */
export interface ScriptRunner {
  run(inputs: ReadonlyArray<{ doc: unknown; data: unknown }>): Promise<Array<unknown | StepFailure>>;
  close(): Promise<void>;
}

export interface ScriptLimits {
  readonly timeoutMs: number;
  readonly maxMemoryMb: number;
}

export const DEFAULT_SCRIPT_LIMITS: ScriptLimits = Object.freeze({ timeoutMs: 5000, maxMemoryMb: 256 });

/** Largest script answer (characters of JSON) and its nesting. */
const MAX_RESULT_CHARS = 16 * 1024 * 1024;
const MAX_RESULT_DEPTH = 128;
const MAX_MESSAGE_CHARS = 2000;

/**
 * Runs in the script's context after the script: the call function. Input: the payload's JSON text, "\n", the bad
 * row's data as JSON text. Output: "O" + JSON (the payload to send), "D" (declined: null or false returned),
 * "P" (a Promise), "E" + message (a throw).
 */
const SETUP = `'use strict';
(function (g) {
  var recover = g.recover;
  if (typeof recover !== 'function') throw new Error('the script must define function recover(payload, badRow)');
${SCRIPT_HELPERS}
  return function (text) {
    try {
      var nl = text.indexOf('\\n');
      var payload = parse(text.slice(0, nl));
      var out = recover(payload, deepFreeze(parse(text.slice(nl + 1))));
      if (out === null || out === false) return 'D';
      if (out === undefined) out = payload;
      if (typeof out.then === 'function') return 'P';
      var s = stringify(out);
      return typeof s === 'string' ? 'O' + s : 'Ethe returned value is not JSON (' + typeof out + ')';
    } catch (e) {
      return 'E' + message(e);
    }
  };
})(globalThis)
`;

export async function startScript(script: string, origin: string, limits: ScriptLimits, log: Logger | null): Promise<ScriptRunner> {
  let sandbox: ScriptSandbox;
  try {
    sandbox = await ScriptSandbox.start({
      script,
      filename: origin,
      setup: SETUP,
      startTimeoutMs: Math.max(limits.timeoutMs, 1000),
      limits,
      maxResultChars: MAX_RESULT_CHARS,
      retryTimeout: true,
      logger: log,
    });
  } catch (e) {
    if (e instanceof SandboxStartError) throw new FurrowError('RECOVER_SCRIPT_COMPILE', `${origin}: ${e.stage === 'timeout' ? `the top-level code ${e.message}` : e.message}`);
    throw e;
  }
  const answer = (a: Awaited<ReturnType<ScriptSandbox['run']>>[number]): unknown | StepFailure => {
    if (!a.ok) return new StepFailure(`Script failed: ${a.error}`);
    const t = a.text;
    switch (t.charCodeAt(0)) {
      case 0x44 /* D */: return new StepFailure('Script declined the row (recover returned null or false)');
      case 0x50 /* P */: return new StepFailure('Script returned a Promise; recover must be synchronous');
      case 0x45 /* E */: return new StepFailure(`Script failed: ${t.length > MAX_MESSAGE_CHARS + 1 ? `${t.slice(1, MAX_MESSAGE_CHARS + 1)}…` : t.slice(1)}`);
      case 0x4f /* O */: {
        const json = t.slice(1);
        if (exceedsDepth(json, MAX_RESULT_DEPTH)) return new StepFailure(`Script failed: the returned payload is nested deeper than ${MAX_RESULT_DEPTH}`);
        try {
          return JSON.parse(json) as unknown;
        } catch {
          return new StepFailure('Script failed: the returned payload is not JSON');
        }
      }
      default: return new StepFailure('Script failed: unreadable answer');
    }
  };
  return {
    async run(inputs) {
      const texts = inputs.map((x) => `${JSON.stringify(x.doc)}\n${JSON.stringify(x.data)}`);
      return (await sandbox.run(texts)).map(answer);
    },
    close: () => sandbox.close(),
  };
}
