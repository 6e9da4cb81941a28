/**
 * A recovery run: source → recoverer → outputs, with a summary whose counts add up.
 *
 *   source ──lines──▶ Recoverer.recover ──recovered records──▶ output (raw stream / file of base64 Thrift lines)
 *                                       ──still failing──────▶ failed output (recovery_error bad rows), optional
 *                                       ──skipped────────────▶ counted only
 *          after both outputs acknowledged the batch: ledger.add(recovered ids)
 *
 * Idempotence: the ledger holds the id (sha256) of every recovered bad row; a re-run skips them. The ledger is
 * written after the outputs accepted the batch, so a crash between the two can repeat at most that batch — and a
 * repeated event carries the same event id (recovery/payloads.ts), which dedupes it downstream.
 * With `dryRun` nothing is written and the ledger is not touched.
 */
import { appendFile, readFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { FurrowError } from '../common/errors.js';
import { KinesisWriter } from '../streams/kinesis/kinesis-writer.js';
import type { Logger } from '../common/logger.js';
import type { Sink as RecordSink } from '../streams/sink.js';
import { LineSink } from '../streams/sinks/line-sink.js';
import { recoveryErrorRow, type Ledger, type Recoverer, type RowResult } from './recoverer.js';
import type { BadRowSource } from './sources.js';

export interface Summary {
  read: number;
  recovered: number;
  failed: number;
  skipped: number;
  /** CollectorPayload records written (a split size_violation gives several). */
  records: number;
  byType: Record<string, { recovered: number; failed: number; skipped: number }>;
  /** Most frequent reasons for failed and skipped rows (reason → count), the 20 most common. */
  reasons: Record<string, number>;
}

export interface RunOptions {
  readonly source: BadRowSource;
  readonly recoverer: Recoverer;
  /** Recovered CollectorPayloads (null with dryRun). */
  readonly output: RecordSink | null;
  /** Still-failing rows as recovery_error bad rows; null: counted and logged only. */
  readonly failed: RecordSink | null;
  readonly ledger: Ledger | null;
  readonly dryRun: boolean;
  readonly logger: Logger;
  /** Called for every row, in order (dry-run printing, progress). */
  readonly onResult?: (r: RowResult) => void;
}

function newSummary(): Summary {
  return { read: 0, recovered: 0, failed: 0, skipped: 0, records: 0, byType: {}, reasons: {} };
}

/** Reasons are grouped without their variable tail (a failure's JSON) so that the summary stays short. */
function reasonKey(reason: string): string {
  const cut = reason.search(/: [{[]/);
  return (cut === -1 ? reason : reason.slice(0, cut)).slice(0, 200);
}

async function writeAll(sink: RecordSink, records: Buffer[], what: string): Promise<void> {
  if (records.length === 0) return;
  const r = await sink.write(records);
  await sink.flush();
  const lost = r.failed.length + (r.invalid?.length ?? 0);
  if (lost > 0) throw new FurrowError('RECOVER_OUTPUT_GAVE_UP', `${lost} of ${records.length} ${what} could not be written`);
}

export async function runRecovery(o: RunOptions, signal: AbortSignal): Promise<Summary> {
  const s = newSummary();
  const reasons = new Map<string, number>();
  await o.source.run(async (lines) => {
    const results = await o.recoverer.recover(lines);
    const records: Buffer[] = [];
    const failedRows: Buffer[] = [];
    const recoveredIds: string[] = [];
    for (const r of results) {
      s.read++;
      s[r.outcome]++;
      const t = (s.byType[r.type ?? 'unreadable'] ??= { recovered: 0, failed: 0, skipped: 0 });
      t[r.outcome]++;
      if (r.outcome === 'recovered') {
        records.push(...r.records);
        recoveredIds.push(r.id);
      } else {
        const k = reasonKey(r.reason ?? '');
        reasons.set(k, (reasons.get(k) ?? 0) + 1);
        if (r.outcome === 'failed') failedRows.push(Buffer.from(recoveryErrorRow(r), 'utf8'));
      }
      o.onResult?.(r);
    }
    s.records += records.length;
    if (o.dryRun) return;
    if (o.output !== null) await writeAll(o.output, records, 'recovered records');
    if (o.failed !== null) await writeAll(o.failed, failedRows, 'still-failing rows');
    if (o.ledger !== null && recoveredIds.length > 0) await o.ledger.add(recoveredIds);
    o.logger.debug({ read: s.read, recovered: s.recovered, failed: s.failed, skipped: s.skipped }, 'batch done');
  }, signal);
  s.reasons = Object.fromEntries([...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20));
  return s;
}

/** A ledger kept in memory (furrow mini; tests). */
export class MemoryLedger implements Ledger {
  private readonly ids = new Set<string>();
  has(id: string): boolean {
    return this.ids.has(id);
  }
  async add(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.ids.add(id);
  }
  async close(): Promise<void> {}
}

/** A ledger file: one recovered row id per line, appended after each batch's outputs were acknowledged. */
export class FileLedger implements Ledger {
  private constructor(private readonly path: string, private readonly ids: Set<string>) {}

  static async open(path: string): Promise<FileLedger> {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FurrowError('CONFIG_FILE_UNREADABLE', `--ledger ${path}: ${(e as Error).message}`);
    }
    const ids = new Set<string>();
    for (const line of text.split('\n')) if (/^[0-9a-f]{32}$/.test(line)) ids.add(line);
    return new FileLedger(path, ids);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  async add(ids: readonly string[]): Promise<void> {
    const fresh = ids.filter((id) => !this.ids.has(id));
    if (fresh.length === 0) return;
    try {
      await appendFile(this.path, fresh.join('\n') + '\n');
    } catch (e) {
      throw new FurrowError('RECOVER_OUTPUT_GAVE_UP', `--ledger ${this.path}: ${(e as Error).message}`);
    }
    for (const id of fresh) this.ids.add(id);
  }

  get size(): number {
    return this.ids.size;
  }

  async close(): Promise<void> {}
}

/** Records as base64 lines (the format `furrow enrich --input` and the collector's stdout sink use). */
export class Base64LineSink implements RecordSink {
  constructor(private readonly inner: LineSink) {}
  write(records: readonly Buffer[]) {
    return this.inner.write(records.map((r) => Buffer.from(r.toString('base64'), 'latin1')));
  }
  flush(): Promise<void> {
    return this.inner.flush();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `-`/stdout or a file (appended): base64 Thrift lines for recovered records, JSON lines for failed rows. */
export function fileSink(dest: string, base64: boolean): RecordSink {
  const lines = dest === '-' || dest === 'stdout' ? new LineSink(process.stdout, false) : dest === 'stderr' ? new LineSink(process.stderr, false) : new LineSink(createWriteStream(dest, { flags: 'a' }), true);
  return base64 ? new Base64LineSink(lines) : lines;
}

export function kinesisSink(client: KinesisClient, streamName: string, logger: Logger): RecordSink {
  // Retries a failing record a bounded number of times, then reports it failed: the run stops (RECOVER_OUTPUT_GAVE_UP)
  // before the ledger records the batch, so a later run sends it again.
  return new KinesisWriter({ client, streamName, timeLimitMs: 200, giveUpAfterAttempts: 10, logger });
}
