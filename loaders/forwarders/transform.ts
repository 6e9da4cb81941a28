/**
 * Destination transformations, compiled once at start. A transformation sits between the target's default
 * payload and the target's validation:
 *
 *   target.build(event) ──payload──> transformation ──payload'──> target.finalize
 *                                         └── SKIP: the event is filtered out for this destination (acknowledged)
 *                                         └── TransformFailure: dead letter (reason transform_failed)
 *
 * mapping: `fields { "event_properties.plan" = "contexts_com_acme_user_1.plan" }` sets each output path (dotted,
 *   nested objects are created) from a field path (forward-event.ts), a `{ path, default }` or a literal `{ value }`.
 *   mode merge (default) changes the target's payload; mode replace starts from an empty object. Unresolved paths
 *   without a default leave the key out.
 * js: the operator's script defines `function transform(event, payload)`; it runs in a node:vm context created
 *   once, with a time limit per call. `event` is the read-only JSON view of the enriched event, `payload` the
 *   target's default payload (its top level may be changed in place). Return the payload to send, or
 *   null/undefined/false to skip the event. A throw, or a timeout on two runs in a row, dead-letters the event. node:vm is isolation
 *   from mistakes, not a security boundary: the script is the operator's own code.
 */
import vm from 'node:vm';
import { FurrowError } from '../../common/errors.js';
import type { TransformConfig } from '../../config/forward-config.js';
import { compileFieldPath, type FieldPath, type ForwardEvent } from './forward-event.js';

export const SKIP: unique symbol = Symbol('skip');

export class TransformFailure {
  constructor(readonly reason: string) {}
}

export type TransformResult = unknown | typeof SKIP | TransformFailure;

/** One event at a time, or a batch (`many`: same results as calling one per event, in order, but cheaper). */
export interface Transformer {
  (payload: Record<string, unknown>, ev: ForwardEvent): TransformResult;
  many(payloads: ReadonlyArray<Record<string, unknown>>, evs: readonly ForwardEvent[]): TransformResult[];
}

function withMany(one: (payload: Record<string, unknown>, ev: ForwardEvent) => TransformResult): Transformer {
  const f = one as Transformer;
  f.many = (payloads, evs) => payloads.map((p, i) => one(p, evs[i]!));
  return f;
}

export function compileTransform(cfg: TransformConfig | null, where: string): Transformer | null {
  if (cfg === null) return null;
  return cfg.type === 'mapping' ? compileMapping(cfg, where) : compileJs(cfg);
}

interface MappingStep {
  readonly out: readonly string[];
  readonly read: FieldPath['read'] | null;
  readonly value: unknown;
}

function compileMapping(cfg: Extract<TransformConfig, { type: 'mapping' }>, where: string): Transformer {
  const steps: MappingStep[] = Object.entries(cfg.fields).map(([outKey, src]) => {
    const out = outKey.split('.');
    if (out.some((s) => s === '')) throw new FurrowError('CONFIG_INVALID_VALUE', `${where}.transform.fields: bad output key ${JSON.stringify(outKey)}`);
    if ('value' in src) return { out, read: null, value: src.value };
    const p = compileFieldPath(src.path);
    if (typeof p === 'string') throw new FurrowError('CONFIG_INVALID_VALUE', `${where}.transform.fields.${outKey}: ${p}`);
    return { out, read: p.read, value: src.default };
  });
  const replace = cfg.mode === 'replace';
  return withMany((payload, ev) => {
    const root: Record<string, unknown> = replace ? {} : { ...payload };
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      let v = s.read === null ? s.value : s.read(ev);
      if (v === undefined) v = s.value;
      if (v === undefined) continue;
      // Copy each nested object on the way down: the payload may share objects with the event's JSON view.
      let cur = root;
      for (let j = 0; j < s.out.length - 1; j++) {
        const k = s.out[j]!;
        const next = cur[k];
        const copy: Record<string, unknown> = next !== null && typeof next === 'object' && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
        cur[k] = copy;
        cur = copy;
      }
      cur[s.out[s.out.length - 1]!] = v;
    }
    return root;
  });
}

function compileJs(cfg: Extract<TransformConfig, { type: 'js' }>): Transformer {
  const sandbox: Record<string, unknown> = Object.create(null);
  const ctx = vm.createContext(sandbox, { name: cfg.origin, codeGeneration: { strings: false, wasm: false }, microtaskMode: 'afterEvaluate' });
  try {
    new vm.Script(cfg.script, { filename: cfg.origin }).runInContext(ctx, { timeout: Math.max(cfg.timeoutMs, 1000) });
  } catch (e) {
    throw new FurrowError('FORWARD_TRANSFORM_COMPILE', `${cfg.origin}: ${(e as Error).message}`);
  }
  if (typeof sandbox.transform !== 'function') throw new FurrowError('FORWARD_TRANSFORM_COMPILE', `${cfg.origin}: the script must define function transform(event, payload)`);
  const one = new vm.Script('__furrow_out = transform(__furrow_event, __furrow_payload);', { filename: 'furrow-transform-call' });
  // The batch call pushes each result as it goes, so after an interruption the results so far are known.
  const batch = new vm.Script(
    'for (let i = __furrow_outs.length; i < __furrow_events.length; i++) __furrow_outs.push(transform(__furrow_events[i], __furrow_payloads[i]));',
    { filename: 'furrow-transform-batch' },
  );
  const opts = { timeout: cfg.timeoutMs };

  const prepare = (payload: Record<string, unknown>, ev: ForwardEvent): [Record<string, unknown>, Record<string, unknown>] => {
    const frozen = ev.frozenJson();
    // The HTTP and Kinesis (json) targets' default payload is the JSON view itself: give the script its own top level.
    return [frozen, payload === frozen ? { ...payload } : payload];
  };

  const finish = (out: unknown): TransformResult => {
    if (out === null || out === undefined || out === false) return SKIP;
    if (typeof (out as { then?: unknown }).then === 'function') return new TransformFailure('js transformation returned a Promise; transform must be synchronous');
    return out;
  };

  const failure = (e: unknown, timedOutTwice: boolean): TransformFailure =>
    new TransformFailure(`js transformation failed: ${timedOutTwice ? `timed out after ${cfg.timeoutMs} ms (twice)` : String((e as Error)?.message ?? e)}`);

  const isTimeout = (e: unknown) => (e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';

  // One event. The limit is wall-clock time (node:vm's watchdog): a process descheduled on a busy host can overrun
  // it on a trivial call. A timeout therefore fails the event only if a second run times out too; a runaway script
  // costs two time limits, a scheduling blip costs nothing. (transform must be a function of its arguments.)
  const single = (payload: Record<string, unknown>, ev: ForwardEvent): TransformResult => {
    const [event, p] = prepare(payload, ev);
    sandbox.__furrow_event = event;
    sandbox.__furrow_payload = p;
    sandbox.__furrow_out = undefined;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          one.runInContext(ctx, opts);
          return finish(sandbox.__furrow_out);
        } catch (e) {
          if (isTimeout(e) && attempt === 1) continue;
          return failure(e, isTimeout(e));
        }
      }
    } finally {
      sandbox.__furrow_event = sandbox.__furrow_payload = sandbox.__furrow_out = undefined;
    }
  };

  const f = single as Transformer;
  // A batch: one vm call (one watchdog) for as many events as fit in the time limit — a per-call watchdog costs
  // ~30 µs, more than a typical transform. When the call stops at event k (a throw or the limit), results before k
  // stand, event k is run alone (so a throw or a runaway is pinned on k, with the two-run rule), and the batch
  // resumes at k + 1. Each event is still bounded by the limit; fast events share one.
  f.many = (payloads, evs) => {
    const events: unknown[] = new Array(evs.length);
    const ps: unknown[] = new Array(evs.length);
    for (let i = 0; i < evs.length; i++) [events[i], ps[i]] = prepare(payloads[i]!, evs[i]!) as [unknown, unknown];
    const results: TransformResult[] = [];
    const outs: unknown[] = [];
    sandbox.__furrow_events = events;
    sandbox.__furrow_payloads = ps;
    sandbox.__furrow_outs = outs;
    try {
      while (results.length < evs.length) {
        try {
          batch.runInContext(ctx, opts);
        } catch {
          // stopped at event outs.length: handled below
        }
        const done = outs.length;
        for (let i = results.length; i < done; i++) results.push(finish(outs[i]));
        if (done === evs.length) break;
        results.push(single(payloads[done]!, evs[done]!));
        outs.push(undefined); // keep outs aligned with events: resume at done + 1
      }
    } finally {
      sandbox.__furrow_events = sandbox.__furrow_payloads = sandbox.__furrow_outs = undefined;
    }
    return results;
  };
  return f;
}
