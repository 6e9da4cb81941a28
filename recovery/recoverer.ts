/**
 * The recovery core: bad-row lines in, one result per line out. No I/O but what is injected (the ledger, the
 * re-validation, the enricher's loader checks, the script sandbox), so `furrow recover` and furrow mini's UI use
 * the same code.
 *
 *   line ──readBadRow──▶ usable? ──ledger──▶ selection ──config flows for its schema──▶ first flow whose
 *        conditions hold ──steps on a copy of each payload document──▶ encode (Thrift, enricher loader checks)
 *        ──validate (optional: the enricher in-process)──▶ recovered { records }
 *
 * Every line gets exactly one outcome:
 *   skipped    already in the ledger (recovered by an earlier run), left out by the selection, or no flow is
 *              configured for its bad-row schema
 *   failed     unreadable or hostile, no payload to recover, no flow's conditions hold, a step failed, the fixed
 *              payload does not encode or load, or (with validation) the enricher still rejects it — `reason`
 *              says which, `newFailure` carries the enricher's new bad row
 *   recovered  `records` are the CollectorPayloads to write to the raw stream
 */
import type { Logger } from '../common/logger.js';
import { FURROW_VERSION } from '../common/version.js';
import { DEFAULT_BAD_ROW_LIMITS, readBadRow, type BadRowLimits, type BadRowRead, type RecoverableType } from './bad-row.js';
import type { RecoveryConfig, SchemaPattern, StepSpec } from './config.js';
import { diffDocuments, type FieldChange } from './diff.js';
import { encodeDocument, type LoadCheck } from './payloads.js';
import { applyStep, conditionsHold, DEFAULT_SCRIPT_LIMITS, startScript, StepFailure, type ScriptLimits, type ScriptRunner } from './steps.js';

export type Outcome = 'recovered' | 'failed' | 'skipped';

/** Which bad rows a run looks at (every field optional; all given ones must hold). */
export interface Selection {
  /** Bad-row types (schema_violations, …). */
  readonly types?: readonly string[] | null;
  /** Iglu URIs or criteria: a row is selected when its failure names a matching schema key. */
  readonly schemas?: readonly SchemaPattern[] | null;
  /** Regexes tested on the failure (as JSON text). */
  readonly errors?: readonly RegExp[] | null;
  /** failure.timestamp range, ms (inclusive since, exclusive until). */
  readonly since?: number | null;
  readonly until?: number | null;
}

export interface RowResult {
  readonly id: string;
  readonly type: string | null;
  readonly schema: string | null;
  readonly outcome: Outcome;
  /** Why it was skipped or is still failing (null when recovered). */
  readonly reason: string | null;
  /** The flow that was applied. */
  readonly flow: string | null;
  /** The payload documents before and after the fixes (after: null when no flow ran). */
  readonly before: readonly unknown[];
  readonly after: readonly unknown[] | null;
  /** What the fixes changed, field by field (bounded). */
  readonly changes: readonly FieldChange[];
  /** Recovered: the Thrift CollectorPayload records (one, or one per payload of a split size_violation). */
  readonly records: readonly Buffer[];
  /** With validation: the bad row the enricher produced for the fixed payload. */
  readonly newFailure: string | null;
  /** The line as read (for the still-failing output). */
  readonly line: string;
  /** Recoveries tried before this one (recovery_error.recoveries of a re-run). */
  readonly recoveries: number;
  /** The original bad row, parsed, when it was readable: {schema, data}. */
  readonly original: { schema: string; data: Record<string, unknown> } | null;
}

/** The enricher's verdict on one recovered record. */
export type Verdict = { ok: true } | { ok: false; badRow: string };

/** Re-runs records through enrichment in-process (one verdict per record). */
export type Validate = (records: readonly Buffer[]) => Promise<Verdict[]>;

/** Which rows were recovered already (idempotent re-runs). */
export interface Ledger {
  has(id: string): boolean;
  add(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface RecovererOptions {
  readonly config: RecoveryConfig;
  /** The enricher's loader checks (enricher/payloads/thrift-loader.ts `loadCollectorPayload`), injected. */
  readonly loadCheck: LoadCheck;
  readonly selection?: Selection;
  readonly limits?: BadRowLimits;
  readonly scriptLimits?: ScriptLimits;
  /** null: only the encoding and the enricher's loader checks. */
  readonly validate?: Validate | null;
  readonly ledger?: Ledger | null;
  readonly logger?: Logger | null;
  /** Largest record the output takes (Kinesis: 1 MiB); a larger recovered record is still failing. null: no limit. */
  readonly maxRecordBytes?: number | null;
}

export const RECOVERY_ERROR_SCHEMA = 'iglu:com.snowplowanalytics.snowplow.badrows/recovery_error/jsonschema/1-0-1';
export const RECOVERY_PROCESSOR = Object.freeze({ artifact: 'furrow-recover', version: FURROW_VERSION });

/** Longest reason kept (an enricher failure can be long). */
const MAX_REASON_CHARS = 2000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Every `schemaKey` string in a failure (bounded walk). */
function schemaKeysOf(failure: unknown): string[] {
  const out: string[] = [];
  const stack: Array<{ v: unknown; d: number }> = [{ v: failure, d: 0 }];
  let visited = 0;
  while (stack.length > 0 && visited++ < 10_000) {
    const { v, d } = stack.pop()!;
    if (d > 16 || v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) for (const c of v) stack.push({ v: c, d: d + 1 });
    else {
      for (const [k, c] of Object.entries(v)) {
        if ((k === 'schemaKey' || k === 'schema') && typeof c === 'string') out.push(c);
        else stack.push({ v: c, d: d + 1 });
      }
    }
  }
  return out;
}

function clip(s: string): string {
  return s.length > MAX_REASON_CHARS ? `${s.slice(0, MAX_REASON_CHARS)}…` : s;
}

/** A short account of a bad row's failure: `<type>: <failure JSON, clipped>`. */
export function describeFailure(badRow: string): string {
  try {
    const r = JSON.parse(badRow) as { schema?: unknown; data?: { failure?: unknown } };
    const type = typeof r.schema === 'string' ? (/badrows\/([a-z_]+)\//.exec(r.schema)?.[1] ?? r.schema) : 'bad row';
    return clip(`${type}: ${JSON.stringify(r.data?.failure ?? null)}`);
  } catch {
    return clip(badRow);
  }
}

export class Recoverer {
  private constructor(
    private readonly o: RecovererOptions,
    private readonly scripts: Map<StepSpec, ScriptRunner>,
  ) {}

  /** Compiles the config: starts one script sandbox per Script step (a compile error fails here). */
  static async create(o: RecovererOptions): Promise<Recoverer> {
    const scripts = new Map<StepSpec, ScriptRunner>();
    try {
      for (const entry of o.config.flows) {
        for (const f of entry.flows) {
          for (const s of f.steps) {
            if (s.op === 'Script') scripts.set(s, await startScript(s.script, s.origin, o.scriptLimits ?? DEFAULT_SCRIPT_LIMITS, o.logger ?? null));
          }
        }
      }
    } catch (e) {
      await Promise.allSettled([...scripts.values()].map((r) => r.close()));
      throw e;
    }
    return new Recoverer(o, scripts);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.scripts.values()].map((r) => r.close()));
  }

  /** One result per line, in order. Never throws for a line's content. */
  async recover(lines: readonly string[]): Promise<RowResult[]> {
    const results: RowResult[] = [];
    const toValidate: Array<{ at: number; records: Buffer[] }> = [];
    for (const line of lines) {
      const r = await this.one(line);
      if (r.outcome === 'recovered' && this.o.validate) toValidate.push({ at: results.length, records: r.records as Buffer[] });
      results.push(r);
    }
    if (toValidate.length > 0) {
      const all = toValidate.flatMap((x) => x.records);
      const verdicts = await this.o.validate!(all);
      let k = 0;
      for (const { at, records } of toValidate) {
        const mine = verdicts.slice(k, k + records.length);
        k += records.length;
        const bad = mine.find((v): v is { ok: false; badRow: string } => !v.ok);
        if (bad !== undefined) {
          const r = results[at]!;
          results[at] = { ...r, outcome: 'failed', reason: `still failing after the fixes: ${describeFailure(bad.badRow)}`, records: [], newFailure: bad.badRow };
        }
      }
    }
    // The same bad row twice in one call (a stream re-delivery, a failed output appended twice) is recovered once.
    const seen = new Set<string>();
    for (let i = 0; i < results.length; i++) {
      const r = results[i]!;
      if (r.outcome !== 'recovered') continue;
      if (seen.has(r.id)) results[i] = { ...r, outcome: 'skipped', reason: 'the same bad row was recovered just before', records: [] };
      seen.add(r.id);
    }
    return results;
  }

  private selected(read: BadRowRead): string | null {
    const s = this.o.selection;
    if (s === undefined) return null;
    if (s.types && s.types.length > 0 && (read.type === null || !s.types.includes(read.type))) return `type ${read.type ?? 'unknown'} not selected`;
    const failure = read.data?.failure;
    if (s.schemas && s.schemas.length > 0) {
      const keys = schemaKeysOf(failure);
      if (!keys.some((k) => s.schemas!.some((p) => p.test(k)))) return 'no selected schema in its failure';
    }
    if (s.errors && s.errors.length > 0) {
      const text = JSON.stringify(failure ?? null) ?? '';
      if (!s.errors.every((re) => re.test(text))) return 'error message not selected';
    }
    if ((s.since ?? null) !== null || (s.until ?? null) !== null) {
      if (read.failedAt === null) return 'no failure timestamp to select by time';
      if (s.since != null && read.failedAt < s.since) return 'failed before --since';
      if (s.until != null && read.failedAt >= s.until) return 'failed at or after --until';
    }
    return null;
  }

  private async one(line: string): Promise<RowResult> {
    const read = readBadRow(line, this.o.limits ?? DEFAULT_BAD_ROW_LIMITS);
    const original = read.data !== null && read.schema !== null ? { schema: read.schema, data: read.data } : null;
    const base = { id: read.id, type: read.type, schema: read.schema, line, recoveries: read.recoveries, original, flow: null, before: read.usable ? read.documents : [], after: null, changes: [], records: [], newFailure: null };
    const skip = (reason: string): RowResult => ({ ...base, outcome: 'skipped', reason });
    const fail = (reason: string, more: Partial<RowResult> = {}): RowResult => ({ ...base, ...more, outcome: 'failed', reason: clip(reason) });

    if (this.o.ledger?.has(read.id)) return skip('already recovered by an earlier run');
    if (read.data === null) return fail(read.usable ? 'unreadable' : read.reason);
    const excluded = this.selected(read);
    if (excluded !== null) return skip(excluded);
    const entry = this.o.config.flows.find((e) => e.badRows.test(read.schema!));
    if (entry === undefined) return skip(`no flows configured for ${read.schema}`);
    if (!read.usable) return fail(read.reason);
    const flow = entry.flows.find((f) => conditionsHold(f.conditions, read.data));
    if (flow === undefined) return fail(`no flow's conditions hold for this ${read.type} row`);

    const after: unknown[] = [];
    for (const doc of read.documents) {
      const holder = { doc: structuredClone(doc) };
      for (const s of flow.steps) {
        let failure: StepFailure | null;
        if (s.op === 'Script') {
          const [answer] = await this.scripts.get(s)!.run([{ doc: holder.doc, data: read.data }]);
          if (answer instanceof StepFailure) failure = answer;
          else {
            holder.doc = answer;
            failure = null;
          }
        } else failure = applyStep(s, holder);
        if (failure !== null) return fail(`flow "${flow.name}": ${failure.reason}`, { flow: flow.name });
      }
      after.push(holder.doc);
    }
    const changes = after.flatMap((d, i) => diffDocuments(read.documents[i], d, read.documents.length > 1 ? `$[${i}]` : '$'));
    const records: Buffer[] = [];
    for (const d of after) {
      const enc = encodeDocument(read.shape, d, this.o.loadCheck);
      if (!enc.ok) return fail(`flow "${flow.name}": ${enc.error}`, { flow: flow.name, after, changes });
      const max = this.o.maxRecordBytes ?? null;
      if (max !== null && enc.record.length > max) return fail(`flow "${flow.name}": the fixed record is ${enc.record.length} bytes, more than the output takes (${max})`, { flow: flow.name, after, changes });
      records.push(enc.record);
    }
    return { ...base, outcome: 'recovered', reason: null, flow: flow.name, after, changes, records };
  }
}

/**
 * The still-failing output line of a result: a Snowplow `recovery_error` bad row (1-0-1) holding the original bad
 * row, the reason and the flow, so a later run (with a better config) can read it back.
 */
export function recoveryErrorRow(r: RowResult): string {
  const payload = r.original ?? { schema: '', data: { processor: {}, failure: r.reason, payload: r.line.slice(0, 100_000) } };
  return JSON.stringify({
    schema: RECOVERY_ERROR_SCHEMA,
    data: {
      processor: RECOVERY_PROCESSOR,
      failure: { error: r.reason ?? 'unknown', configName: r.flow },
      payload,
      recoveries: r.recoveries + 1,
    },
  });
}

export type { RecoverableType };

/** The minimum a validator needs from the enricher: `RecordProcessor.process` (enricher/processor.ts). */
export interface RecordProcessorLike {
  process(record: Buffer): Promise<{ bad: string[] }>;
}

/**
 * Validation by the enricher itself, in-process: each record goes through the same loader, adapters, Iglu
 * validation and enrichments as in `furrow enrich`; a bad row out means the fix is not enough.
 * (Enrichments with outside effects — API and SQL lookups — run once here and once more in the real enricher.)
 */
export function validateWith(processor: RecordProcessorLike): Validate {
  return async (records) => {
    const out: Verdict[] = [];
    for (const r of records) {
      const o = await processor.process(r);
      out.push(o.bad.length > 0 ? { ok: false, badRow: o.bad[0]! } : { ok: true });
    }
    return out;
  };
}
