/**
 * javascript_script_config (iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-*): the
 * operator's own `function process(event, params, headers)`, run in an operator script sandbox
 * (common/script-sandbox.ts: a `node:vm` context in a separate, locked-down `node` process).
 *
 *   start:  base64 script → compiled once in the script process with SETUP below (the bean prototype, `params` =
 *           the 1-0-1 `config` object ({} without one), parsed in the context); a compile error, a throw or a
 *           timeout in the top level, or no `process` function → start-up fails (Snowplow's exitOnJsCompileError;
 *           with it off, the enricher starts and every event fails with the start-up error instead)
 *   event:  host ──JSON text {fields, headers}──► context: an event object with Snowplow's bean API
 *              getApp_id()/setApp_id(v) … for every atomic field, getContexts()/setContexts(json),
 *              getUnstruct_event()/setUnstruct_event(json), getDerived_contexts(), eraseDerived_contexts(), drop();
 *              `headers` = the collector's headers as an array of "Name: value" strings (Enrich 5.1.1+)
 *           process(...) → the context's own code turns the outcome (or the thrown value) into JSON text ──► host,
 *           which checks its shape as untrusted input
 *   Only strings cross the boundary, in both directions, and the host reads nothing else: no host object reaches
 *   the script, and no value of the script runs code in the host. Each event runs under a time limit (default
 *   1000 ms, microtasks included) and the script process under a memory limit (default 256 MB); a throw, a
 *   timeout, the memory limit or a bad return value → failure "Error during execution of JavaScript function:
 *   [...]" (identifier `Javascript enrichment`). After a timeout or the memory limit the script process is
 *   replaced: the script's global state starts afresh. drop() discards the event.
 * Int/float/byte columns are numbers in the getters, as the Java bean's types were; the rest are strings or null.
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { ScriptSandbox, SandboxStartError } from '../../common/script-sandbox.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { FurrowError } from '../../common/errors.js';
import { isObject, readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { exceedsDepth, parseJson } from '../json.js';
import { toSdj, type Entity } from '../self-describing.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
export const DEFAULT_JS_TIMEOUT_MS = 1000;
export const DEFAULT_JS_MAX_MEMORY_MB = 256;
const MAX_JSON_DEPTH = 50;
/** Largest answer of one call (characters): the event's changed fields plus the returned contexts. */
const MAX_RESULT_CHARS = 16 * 1024 * 1024;

const INT_FIELDS = [
  'txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min',
  'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight', 'doc_width', 'doc_height',
  'br_features_pdf', 'br_features_flash', 'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'dvce_ismobile',
];
const FLOAT_FIELDS = ['geo_latitude', 'geo_longitude'];

/**
 * Runs in the context after the script; its completion value is the call function: JSON text in, JSON text out
 * (`{changed, dropped, erased, result}` or `{error}`). Every read of what the script returns or throws happens here,
 * inside the script process, under the time limit.
 */
function setup(paramsText: string | null): string {
  return `'use strict';
(function (g) {
  var FIELDS = ${JSON.stringify(ENRICHED_FIELDS)};
  var INTS = ${JSON.stringify(INT_FIELDS)};
  var FLOATS = ${JSON.stringify(FLOAT_FIELDS)};
  var parse = JSON.parse, stringify = JSON.stringify, isArray = Array.isArray;
  var proc = g.process;
  if (typeof proc !== 'function') throw new Error('must define function process(event, params, headers)');
  function Ev(v) { this.__v = v; this.__changed = {}; this.__dropped = false; this.__erased = false; }
  FIELDS.forEach(function (f) {
    var cap = f.charAt(0).toUpperCase() + f.slice(1);
    var num = INTS.indexOf(f) >= 0 ? 'int' : FLOATS.indexOf(f) >= 0 ? 'float' : null;
    Ev.prototype['get' + cap] = function () {
      var x = this.__v[f];
      if (x === null || x === undefined) return null;
      return num === 'int' ? parseInt(x, 10) : num === 'float' ? parseFloat(x) : x;
    };
    Ev.prototype['set' + cap] = function (x) {
      this.__v[f] = x === null || x === undefined ? null : typeof x === 'object' ? stringify(x) : String(x);
      this.__changed[f] = true;
    };
  });
  Ev.prototype.drop = function () { this.__dropped = true; };
  Ev.prototype.eraseDerived_contexts = function () { this.__erased = true; this.__v.derived_contexts = null; };
  var params = ${paramsText === null ? '{}' : `parse(${JSON.stringify(paramsText)})`};
  function message(e) {
    try { return e !== null && typeof e === 'object' && 'message' in e ? String(e.message) : String(e); }
    catch (x) { return 'the thrown value cannot be printed'; }
  }
  return function (text) {
    try {
      var st = parse(text);
      var ev = new Ev(st.fields);
      var result = proc(ev, params, st.headers);
      var changed = [];
      for (var k in ev.__changed) changed.push([k, ev.__v[k]]);
      if (result !== null && result !== undefined && !isArray(result)) {
        return stringify({ error: 'process() must return an array of self-describing JSONs or null, got ' + typeof result });
      }
      var resultText = result === null || result === undefined ? null : stringify(result);
      return stringify({ changed: changed, dropped: ev.__dropped === true, erased: ev.__erased === true, result: resultText === undefined ? null : resultText });
    } catch (e) {
      return stringify({ error: message(e) });
    }
  };
})(globalThis)
`;
}

interface RunOutcome {
  changed: Array<[string, string | null]>;
  dropped: boolean;
  erased: boolean;
  result: string | null;
}

/** The call function's answer, checked: it is produced in the script's context, so the script can shape it. */
function readOutcome(text: string): RunOutcome | { error: string } {
  let o: unknown;
  try {
    o = exceedsDepth(text, 4) ? null : JSON.parse(text);
  } catch {
    o = null;
  }
  if (!isObject(o)) return { error: 'the script returned an unreadable result' };
  if (typeof o['error'] === 'string') return { error: o['error'] };
  const changed = o['changed'];
  if (!Array.isArray(changed) || typeof o['dropped'] !== 'boolean' || typeof o['erased'] !== 'boolean' || (o['result'] !== null && typeof o['result'] !== 'string')) {
    return { error: 'the script returned an unreadable result' };
  }
  for (const c of changed) {
    if (!Array.isArray(c) || c.length !== 2 || typeof c[0] !== 'string' || (c[1] !== null && typeof c[1] !== 'string')) return { error: 'the script returned an unreadable result' };
  }
  return { changed: changed as Array<[string, string | null]>, dropped: o['dropped'], erased: o['erased'], result: o['result'] as string | null };
}

const FAIL_PREFIX = 'Error during execution of JavaScript function: ';
/** `"name":` per atomic field, for the event's JSON text (only the fields that are set are sent). */
const FIELD_KEYS: readonly string[] = ENRICHED_FIELDS.map((f) => `${JSON.stringify(f)}:`);
const DERIVED_WRAPPER = 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1';

export class JavascriptEnrichment implements Enrichment {
  readonly identifier = 'Javascript enrichment';
  /**
   * Events of a batch in flight at once: their calls go to the script process in one message. bench:enrich (one JS
   * enrichment) spent ~40 % less CPU per event with 16 than with 1; 128 was no better and cost the other
   * enrichments more garbage collection (more events' objects alive at once).
   */
  readonly concurrentEvents = 16;
  private readonly fieldNames = new Set<string>(ENRICHED_FIELDS);

  constructor(
    readonly schemaKey: string,
    /** null: the script did not start and exitOnJsCompileError is off; every event fails with `startError`. */
    private readonly sandbox: ScriptSandbox | null,
    private readonly startError: string,
  ) {}

  private failure(message: string): EnrichmentOutput {
    return { failures: [{ error: `${FAIL_PREFIX}[${message}]` }] };
  }

  async enrich(input: EnrichmentInput): Promise<EnrichmentOutput> {
    // Snowplow's wording for a script that does not compile.
    if (this.sandbox === null) return { failures: [{ error: `Error compiling JavaScript function: [${this.startError}]` }] };
    const ev = input.event as unknown as Record<string, string | null>;
    const derived = input.derivedContexts ?? [];
    // {"fields":{…the fields that are set…},"headers":[…]}, built as text: most of the 131 fields are null, and the
    // context's getters answer null for a missing one. Snowplow passes the headers as "Name: value" strings.
    let text = '{"fields":{';
    let first = true;
    for (let i = 0; i < ENRICHED_FIELDS.length; i++) {
      const name = ENRICHED_FIELDS[i]!;
      const v = name === 'derived_contexts' ? (derived.length === 0 ? null : JSON.stringify({ schema: DERIVED_WRAPPER, data: derived })) : ev[name];
      if (v === null || v === undefined) continue;
      text += (first ? '' : ',') + FIELD_KEYS[i]! + JSON.stringify(v);
      first = false;
    }
    text += `},"headers":${JSON.stringify(input.raw.context.headers)}}`;
    const [answer] = await this.sandbox.run([text]);
    if (answer === undefined) return this.failure('no result');
    if (!answer.ok) return this.failure(answer.reason === 'timeout' || answer.reason === 'memory' ? `script ${answer.error}` : answer.error);
    const out = readOutcome(answer.text);
    if ('error' in out) return this.failure(out.error);
    if (out.dropped) return { drop: true };
    if (out.erased) derived.length = 0;
    for (const [name, value] of out.changed) {
      if (!this.fieldNames.has(name) || name === 'derived_contexts') continue;
      ev[name] = value;
      if (name === 'contexts') {
        const entities = parseContexts(value);
        if (entities !== null) input.contexts.splice(0, input.contexts.length, ...entities);
      } else if (name === 'unstruct_event') {
        const e = parseUnstruct(value);
        if (e !== undefined) input.unstructEvent = e;
      }
    }
    if (out.result === null) return NO_OUTPUT;
    const parsed = parseJson(out.result, MAX_JSON_DEPTH);
    if (!parsed.ok || !Array.isArray(parsed.value)) return this.failure('the returned value is not a JSON array');
    const contexts: SelfDescribingData[] = [];
    for (let i = 0; i < parsed.value.length; i++) {
      const s = toSdj(parsed.value[i], Array.isArray(parsed.shadow) ? parsed.shadow[i] : undefined);
      if (!s.ok) return this.failure(`returned item ${i} is not a self-describing JSON (${s.error})`);
      contexts.push(s.entity);
    }
    return contexts.length === 0 ? NO_OUTPUT : { derivedContexts: contexts };
  }

  async close(): Promise<void> {
    await this.sandbox?.close();
  }
}

/** contexts wrapper text → entities, or null when it is not a valid wrapper (phase 3 then reports it). */
function parseContexts(text: string | null): Entity[] | null {
  if (text === null) return [];
  const p = parseJson(text, MAX_JSON_DEPTH);
  if (!p.ok || !isObject(p.value) || !Array.isArray(p.value['data'])) return null;
  const shadowData = isObject(p.shadow) ? p.shadow['data'] : undefined;
  const out: Entity[] = [];
  const items = p.value['data'] as unknown[];
  for (let i = 0; i < items.length; i++) {
    const s = toSdj(items[i], Array.isArray(shadowData) ? shadowData[i] : undefined);
    if (!s.ok) return null;
    out.push(s.entity);
  }
  return out;
}

/** unstruct_event wrapper text → inner entity; null for null text; undefined when malformed. */
function parseUnstruct(text: string | null): Entity | null | undefined {
  if (text === null) return null;
  const p = parseJson(text, MAX_JSON_DEPTH);
  if (!p.ok || !isObject(p.value)) return undefined;
  const s = toSdj(p.value['data'], isObject(p.shadow) ? p.shadow['data'] : undefined);
  return s.ok ? s.entity : undefined;
}

/** `javascript_script_config` `parameters`: the script (base64) and an optional object handed to it. */
const javascriptParameters = t.object({ script: t.string({ minLength: 0 }), config: t.optional(t.record(t.any())) });

const fail = (problem: string): never => {
  throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `javascript_script_config: parameters.script ${problem}`);
};

export const javascriptScriptFactory: EnrichmentFactory = {
  name: 'javascript_script_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, javascriptParameters);
    const source = Buffer.from(p.script, 'base64').toString('utf8');
    if (source.trim() === '') fail('is empty after base64 decoding');
    const params = p.config;
    const timeoutMs = deps.javascriptTimeoutMs ?? DEFAULT_JS_TIMEOUT_MS;
    const maxMemoryMb = deps.javascriptMaxMemoryMb ?? DEFAULT_JS_MAX_MEMORY_MB;
    try {
      const sandbox = await ScriptSandbox.start({
        script: source,
        filename: 'javascript_script_config',
        setup: setup(params === undefined || params === null ? null : JSON.stringify(params)),
        // Start-up (top-level code + setup) gets a generous bound of its own: it is not on the event path.
        startTimeoutMs: Math.max(timeoutMs * 10, 1000),
        limits: { timeoutMs, maxMemoryMb },
        maxResultChars: MAX_RESULT_CHARS,
        logger: deps.logger,
      });
      return new JavascriptEnrichment(config.schema, sandbox, '');
    } catch (err) {
      if (!(err instanceof SandboxStartError)) throw err;
      const message = err.stage === 'setup' ? err.message : `does not run: ${err.message}`;
      if (deps.exitOnJsCompileError === false) {
        deps.logger.error({ enrichment: 'javascript_script_config', err: message }, 'JavaScript enrichment script does not start; exitOnJsCompileError is false, so every event will fail');
        return new JavascriptEnrichment(config.schema, null, message);
      }
      return fail(message);
    }
  },
};
