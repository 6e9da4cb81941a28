/**
 * Recovery in furrow mini: the bad rows of one group (type + message, as the UI groups them), a fix (recovery
 * steps, docs/recovery.md), a preview on one row, and apply — the recovered records go to mini's raw stream, so the
 * enricher reads them like any other request and they appear as good events. The core is recovery/'s, the same as
 * `furrow recover`; the enricher's processor validates each fix in-process.
 *
 *   UI ──POST /micro/recovery/preview {type, message, steps}──▶ first row of the group ──▶ outcome, changes, new failure
 *   UI ──POST /micro/recovery/apply   {type, message, steps}──▶ every row of the group ──▶ raw stream ──▶ enricher ──▶ good
 *
 * A memory ledger keeps an applied row from being sent twice (a second apply skips it).
 */
import { FurrowError } from '../common/errors.js';
import { KINESIS_RECORD_MAX_BYTES } from '../streams/kinesis/kinesis-writer.js';
import type { Logger } from '../common/logger.js';
import type { Sink as RecordSink } from '../streams/sink.js';
import { loadCollectorPayload } from '../enricher/payloads/thrift-loader.js';
import { singleFlowConfig } from '../recovery/config.js';
import { Recoverer, validateWith, type RecordProcessorLike, type RowResult } from '../recovery/recoverer.js';
import { MemoryLedger } from '../recovery/run.js';

/** Rows of a group one apply handles at most (the store holds up to --max-events). */
export const MAX_APPLY_ROWS = 10_000;
/** Steps one request may carry. */
const MAX_STEPS = 50;

export interface PreviewAnswer {
  readonly rows: number;
  readonly id: string;
  readonly outcome: RowResult['outcome'];
  readonly reason: string | null;
  readonly changes: RowResult['changes'];
  readonly before: readonly unknown[];
  readonly after: readonly unknown[] | null;
  readonly records: number;
  readonly newFailure: unknown;
}

export interface ApplyAnswer {
  readonly read: number;
  readonly recovered: number;
  readonly failed: number;
  readonly skipped: number;
  readonly records: number;
  /** The first reasons of rows that were not recovered (at most 10). */
  readonly reasons: string[];
}

export class MiniRecovery {
  private processor: RecordProcessorLike | null = null;
  private raw: RecordSink | null = null;
  private readonly ledger = new MemoryLedger();

  constructor(private readonly log: Logger) {}

  /** Called once the enricher's processor exists (the resolver is ready). */
  ready(processor: RecordProcessorLike, raw: RecordSink): void {
    this.processor = processor;
    this.raw = raw;
  }

  get available(): boolean {
    return this.processor !== null;
  }

  private async recoverer(steps: unknown): Promise<Recoverer> {
    if (this.processor === null) throw new FurrowError('MINI_COMPONENT_MISSING', 'the enricher is still starting');
    if (!Array.isArray(steps) || steps.length > MAX_STEPS) throw new FurrowError('CONFIG_INVALID_VALUE', `steps must be a list of at most ${MAX_STEPS} recovery steps`);
    return Recoverer.create({ config: singleFlowConfig('mini', steps), loadCheck: loadCollectorPayload, validate: validateWith(this.processor), ledger: this.ledger, logger: this.log, maxRecordBytes: KINESIS_RECORD_MAX_BYTES });
  }

  async preview(lines: readonly string[], steps: unknown): Promise<PreviewAnswer | null> {
    if (lines.length === 0) return null;
    const r = await this.recoverer(steps);
    try {
      const [x] = await r.recover([lines[0]!]);
      let newFailure: unknown = null;
      if (x!.newFailure !== null) {
        try {
          newFailure = JSON.parse(x!.newFailure);
        } catch {
          newFailure = x!.newFailure;
        }
      }
      return { rows: lines.length, id: x!.id, outcome: x!.outcome, reason: x!.reason, changes: x!.changes, before: x!.before, after: x!.after, records: x!.records.length, newFailure };
    } finally {
      await r.close();
    }
  }

  async apply(lines: readonly string[], steps: unknown): Promise<ApplyAnswer> {
    const r = await this.recoverer(steps);
    try {
      const results = await r.recover(lines.slice(0, MAX_APPLY_ROWS));
      const records = results.flatMap((x) => (x.outcome === 'recovered' ? x.records : []));
      if (records.length > 0) {
        const w = await this.raw!.write(records);
        await this.raw!.flush();
        if (w.failed.length + (w.invalid?.length ?? 0) > 0) throw new FurrowError('RECOVER_OUTPUT_GAVE_UP', 'the raw stream did not take the recovered records');
        await this.ledger.add(results.filter((x) => x.outcome === 'recovered').map((x) => x.id));
      }
      const count = (o: RowResult['outcome']) => results.filter((x) => x.outcome === o).length;
      return {
        read: results.length, recovered: count('recovered'), failed: count('failed'), skipped: count('skipped'), records: records.length,
        reasons: results.filter((x) => x.reason !== null).slice(0, 10).map((x) => x.reason!),
      };
    } finally {
      await r.close();
    }
  }
}
