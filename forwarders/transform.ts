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
 * js: the operator's script defines `function transform(event, payload)`; it runs in an operator script sandbox
 *   (common/script-sandbox.ts: a `node:vm` context in a separate, locked-down `node` process) started once, with
 *   a time limit per event and a memory limit. Per event the sandbox gets JSON text — the event's JSON view and the
 *   target's default payload — and gives JSON text back: `event` is a deep-frozen copy of the JSON view, `payload`
 *   a copy of the default payload that may be changed in place. Return the payload to send, or null/undefined/false
 *   to skip the event. A throw, the memory limit, or a timeout on two runs in a row dead-letters the event. The
 *   events of one input batch go to the sandbox in one message and come back one answer each.
 */
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { SCRIPT_HELPERS, ScriptSandbox, SandboxStartError } from '../common/script-sandbox.js';
import type { TransformConfig } from './config.js';
import { exceedsDepth } from '../common/json-depth.js';
import { compileFieldPath, type FieldPath, type ForwardEvent } from './forward-event.js';

export const SKIP: unique symbol = Symbol('skip');

export class TransformFailure {
  constructor(readonly reason: string) {}
}

export type TransformResult = unknown | typeof SKIP | TransformFailure;

/** A batch of events in, one result per event out, in order (a JS transformation answers asynchronously). */
export interface Transformer {
  many(payloads: ReadonlyArray<Record<string, unknown>>, evs: readonly ForwardEvent[]): TransformResult[] | Promise<TransformResult[]>;
  close(): Promise<void>;
}

/** `transform.max_memory_mb` when a config built in code leaves it out (the parser's default is the same). */
const DEFAULT_MAX_MEMORY_MB = 256;
/** Largest transformation output (characters of JSON) and its nesting; larger or deeper → dead letter. */
const MAX_RESULT_CHARS = 16 * 1024 * 1024;
const MAX_RESULT_DEPTH = 128;
/** A thrown message longer than this is cut (it goes into the dead letter). */
const MAX_MESSAGE_CHARS = 2000;

export async function compileTransform(cfg: TransformConfig | null, where: string, log: Logger | null = null): Promise<Transformer | null> {
  if (cfg === null) return null;
  return cfg.type === 'mapping' ? compileMapping(cfg, where) : compileJs(cfg, log);
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
  const one = (payload: Record<string, unknown>, ev: ForwardEvent): TransformResult => {
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
  };
  return { many: (payloads, evs) => payloads.map((p, i) => one(p, evs[i]!)), close: async () => {} };
}

/**
 * Runs in the script's context after the script; its completion value is the call function. Input: the event's
 * JSON text, "\n", the payload's JSON text (empty: the payload is the JSON view itself). Output: "S" (skip),
 * "P" (a Promise), "E" + message (a throw), or "O" + the result as JSON text. Every read of what the script returns
 * or throws happens here, under the time limit.
 */
const SETUP = `'use strict';
(function (g) {
  var transform = g.transform;
  if (typeof transform !== 'function') throw new Error('the script must define function transform(event, payload)');
${SCRIPT_HELPERS}
  return function (text) {
    try {
      var nl = text.indexOf('\\n');
      var eventText = text.slice(0, nl), payloadText = text.slice(nl + 1);
      var out = transform(deepFreeze(parse(eventText)), parse(payloadText === '' ? eventText : payloadText));
      if (out === null || out === undefined || out === false) return 'S';
      if (typeof out.then === 'function') return 'P';
      var s = stringify(out);
      return typeof s === 'string' ? 'O' + s : 'Ethe returned value is not JSON (' + typeof out + ')';
    } catch (e) {
      return 'E' + message(e);
    }
  };
})(globalThis)
`;

async function compileJs(cfg: Extract<TransformConfig, { type: 'js' }>, log: Logger | null): Promise<Transformer> {
  let sandbox: ScriptSandbox;
  try {
    sandbox = await ScriptSandbox.start({
      script: cfg.script,
      filename: cfg.origin,
      setup: SETUP,
      startTimeoutMs: Math.max(cfg.timeoutMs, 1000),
      limits: { timeoutMs: cfg.timeoutMs, maxMemoryMb: cfg.maxMemoryMb ?? DEFAULT_MAX_MEMORY_MB },
      maxResultChars: MAX_RESULT_CHARS,
      // The limit is wall-clock time: a timeout fails the event only if a second run times out too.
      retryTimeout: true,
      logger: log,
    });
  } catch (e) {
    if (e instanceof SandboxStartError) throw new FurrowError('FORWARD_TRANSFORM_COMPILE', `${cfg.origin}: ${e.stage === 'timeout' ? `the top-level code ${e.message}` : e.message}`);
    throw e;
  }

  const answer = (a: Awaited<ReturnType<ScriptSandbox['run']>>[number]): TransformResult => {
    if (!a.ok) return new TransformFailure(`js transformation failed: ${a.error}`);
    const t = a.text;
    switch (t.charCodeAt(0)) {
      case 0x53 /* S */:
        return SKIP;
      case 0x50 /* P */:
        return new TransformFailure('js transformation returned a Promise; transform must be synchronous');
      case 0x45 /* E */:
        return new TransformFailure(`js transformation failed: ${t.length > MAX_MESSAGE_CHARS + 1 ? `${t.slice(1, MAX_MESSAGE_CHARS + 1)}…` : t.slice(1)}`);
      case 0x4f /* O */: {
        const json = t.slice(1);
        if (exceedsDepth(json, MAX_RESULT_DEPTH)) return new TransformFailure(`js transformation failed: the returned value is nested deeper than ${MAX_RESULT_DEPTH}`);
        try {
          return JSON.parse(json) as unknown;
        } catch {
          return new TransformFailure('js transformation failed: the returned value is not JSON');
        }
      }
      default:
        return new TransformFailure('js transformation failed: the script returned an unreadable result');
    }
  };

  return {
    async many(payloads, evs) {
      const texts: string[] = new Array(evs.length);
      for (let i = 0; i < evs.length; i++) {
        const ev = evs[i]!;
        const p = payloads[i]!;
        // The HTTP and Kinesis (json) targets' default payload is the JSON view itself: sent once.
        texts[i] = `${ev.jsonText()}\n${ev.isJsonView(p) ? '' : JSON.stringify(p)}`;
      }
      const answers = await sandbox.run(texts);
      return answers.map(answer);
    },
    close: () => sandbox.close(),
  };
}
