/**
 * javascript_script_config (iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-*): the
 * operator's own `function process(event, params, headers)`, run in a `node:vm` context.
 *
 *   start:  base64 script + a prelude compiled into one fresh context (no require, no process, no timers);
 *           `params` = the 1-0-1 `config` object ({} without one), parsed inside the context;
 *           `headers` = the collector's headers as an array of "Name: value" strings (Enrich 5.1.1+)
 *   event:  host ──JSON text──► context: an in-context event object with Snowplow's bean API
 *              getApp_id()/setApp_id(v) … for every atomic field, getContexts()/setContexts(json),
 *              getUnstruct_event()/setUnstruct_event(json), getDerived_contexts(), eraseDerived_contexts(), drop()
 *           process(...) returns an array of self-describing JSONs (or null) ──JSON text──► host
 *   Only strings cross the boundary, so no host object (and no host Function constructor) reaches the script.
 *   Each call runs under a time limit (default 1000 ms, microtasks included); a throw, a timeout or a bad
 *   return value → failure "Error during execution of JavaScript function: [...]" (identifier
 *   `Javascript enrichment`). drop() discards the event.
 * Int/float/byte columns are numbers in the getters, as the Java bean's types were; the rest are strings or null.
 */
import { Script, createContext, type Context } from 'node:vm';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { ENRICHED_FIELDS } from '../event.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { ConfigReader, isObject } from './enrichment-config.js';
import { parseJson } from '../json.js';
import { toSdj, type Entity } from '../self-describing.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
const DEFAULT_TIMEOUT_MS = 1000;
const MAX_JSON_DEPTH = 50;

const INT_FIELDS = [
  'txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min',
  'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight', 'doc_width', 'doc_height',
  'br_features_pdf', 'br_features_flash', 'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'dvce_ismobile',
];
const FLOAT_FIELDS = ['geo_latitude', 'geo_longitude'];

/** Runs inside the context. Builds the bean prototype once; `__run` takes and returns JSON text only. */
const PRELUDE = `
'use strict';
(function (g) {
  var FIELDS = ${JSON.stringify(ENRICHED_FIELDS)};
  var INTS = ${JSON.stringify(INT_FIELDS)};
  var FLOATS = ${JSON.stringify(FLOAT_FIELDS)};
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
      this.__v[f] = x === null || x === undefined ? null : typeof x === 'object' ? JSON.stringify(x) : String(x);
      this.__changed[f] = true;
    };
  });
  Ev.prototype.drop = function () { this.__dropped = true; };
  Ev.prototype.eraseDerived_contexts = function () { this.__erased = true; this.__v.derived_contexts = null; };
  var params = g.__paramsText === null ? {} : JSON.parse(g.__paramsText);
  delete g.__paramsText;
  var proc = g.process;
  g.__run = function (text) {
    var st = JSON.parse(text);
    var ev = new Ev(st.fields);
    var result = proc(ev, params, st.headers);
    var changed = [];
    for (var k in ev.__changed) changed.push([k, ev.__v[k]]);
    var resultText;
    if (result === null || result === undefined) resultText = null;
    else if (!Array.isArray(result)) throw new Error('process() must return an array of self-describing JSONs or null, got ' + typeof result);
    else resultText = JSON.stringify(result);
    return JSON.stringify({ changed: changed, dropped: ev.__dropped, erased: ev.__erased, result: resultText });
  };
})(globalThis);
`;

interface RunOutcome {
  changed: Array<[string, string | null]>;
  dropped: boolean;
  erased: boolean;
  result: string | null;
}

const FAIL_PREFIX = 'Error during execution of JavaScript function: ';

export class JavascriptEnrichment implements Enrichment {
  readonly identifier = 'Javascript enrichment';
  private readonly call = new Script('__out = __run(__in)', { filename: 'furrow-js-enrichment-call' });
  private readonly fieldNames = new Set<string>(ENRICHED_FIELDS);

  constructor(
    readonly schemaKey: string,
    private readonly context: Context,
    private readonly timeoutMs: number,
  ) {}

  private failure(message: string): EnrichmentOutput {
    return { failures: [{ error: `${FAIL_PREFIX}[${message}]` }] };
  }

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event as unknown as Record<string, string | null>;
    const fields: Record<string, string | null> = {};
    for (const f of ENRICHED_FIELDS) fields[f] = ev[f] ?? null;
    const derived = input.derivedContexts ?? [];
    fields['derived_contexts'] = derived.length === 0 ? null : JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: derived });
    // Snowplow passes the collector's headers as an array of "Name: value" strings.
    const headers = input.raw.context.headers;
    const ctx = this.context as Record<string, unknown>;
    ctx['__in'] = JSON.stringify({ fields, headers });
    let outText: unknown;
    try {
      this.call.runInContext(this.context, { timeout: this.timeoutMs });
      outText = ctx['__out'];
    } catch (err) {
      const e = err as { code?: string; message?: unknown };
      if (e !== null && typeof e === 'object' && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return this.failure(`script timed out after ${this.timeoutMs} ms`);
      return this.failure(e !== null && typeof e === 'object' && 'message' in e ? String(e.message) : String(err));
    } finally {
      ctx['__in'] = null;
      ctx['__out'] = null;
    }
    if (typeof outText !== 'string') return this.failure('no result');
    const out = JSON.parse(outText) as RunOutcome;
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

export const javascriptScriptFactory: EnrichmentFactory = {
  name: 'javascript_script_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const r = new ConfigReader(config);
    const p = r.parameters();
    p.onlyKeys(['script', 'config']);
    const b64 = p.string('script');
    const source = Buffer.from(b64, 'base64').toString('utf8');
    if (source.trim() === '') r.fail('parameters.script', 'is empty after base64 decoding');
    const params = p.raw('config');
    if (params !== undefined && params !== null && !isObject(params)) r.fail('parameters.config', 'must be an object');
    const context = createContext(
      { __paramsText: params === undefined || params === null ? null : JSON.stringify(params), __in: null, __out: null },
      { name: 'furrow-js-enrichment', codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' },
    );
    const timeoutMs = deps.javascriptTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Start-up (top-level code + prelude) gets a generous bound of its own: it is not on the event path.
    const startTimeout = Math.max(timeoutMs * 10, 1000);
    let compileError: string | null = null;
    try {
      new Script(source, { filename: 'javascript_script_config' }).runInContext(context, { timeout: startTimeout });
      if (typeof (context as Record<string, unknown>)['process'] !== 'function') compileError = 'must define function process(event, params, headers)';
    } catch (err) {
      compileError = `does not run: ${(err as Error).message}`;
    }
    if (compileError !== null) {
      if (deps.exitOnJsCompileError !== false) r.fail('parameters.script', compileError);
      deps.logger.error({ enrichment: 'javascript_script_config', error: compileError }, 'the JavaScript enrichment does not compile; every event will fail it (validation.exitOnJsCompileError = false)');
      const failure: EnrichmentOutput = Object.freeze({ failures: [{ error: `Error compiling JavaScript function: [${compileError}]` }] });
      return { identifier: 'Javascript enrichment', schemaKey: config.schema, enrich: () => failure };
    }
    new Script(PRELUDE, { filename: 'furrow-js-enrichment-prelude' }).runInContext(context, { timeout: startTimeout });
    return new JavascriptEnrichment(config.schema, context, timeoutMs);
  },
};
