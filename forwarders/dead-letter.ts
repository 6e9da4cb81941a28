/**
 * The dead letter: where an event goes when a destination cannot take it (refused, invalid for the vendor,
 * retries used up, transformation failed, queue full with when_full = dead_letter) or when an input line is
 * not an enriched event. One JSON line per (event, destination):
 *
 *   {"schema":"furrow:forward_dead_letter/1-0-0","destination":"amp","target":"amplitude","reason":"retries_exhausted",
 *    "status":503,"response_body":"…","error":null,"attempts":6,"failed_at":"2026-…Z","event":"<enriched TSV line>"}
 *
 * `furrow forward replay FILE` reads these lines back. A write resolves only when the records are on disk
 * (fdatasync) or accepted by the stream, because the source is acknowledged right after; a write that fails
 * raises FORWARD_DEAD_LETTER_UNWRITABLE, which stops the forwarder without acknowledging.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { FurrowError } from '../common/errors.js';
import { DOWNSTREAM_MAX_JSON_DEPTH, parseJsonWithin } from '../common/json-depth.js';

export const DEAD_LETTER_SCHEMA = 'furrow:forward_dead_letter/1-0-0';

export type DeadLetterReason =
  | 'unparseable' // the input line is not a 131-column enriched event
  | 'invalid' // the target cannot represent the event (missing identity, vendor limit)
  | 'transform_failed' // the JS transformation threw or timed out
  | 'rejected' // the destination refused it (4xx other than 408/429, or named it in a partial failure)
  | 'retries_exhausted' // network errors / 5xx / 429 for the whole retry budget
  | 'queue_full'; // the destination's queue was full and its when_full is dead_letter

export interface DeadLetter {
  readonly destination: string | null;
  readonly target: string | null;
  readonly reason: DeadLetterReason;
  readonly status: number | null;
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly attempts: number;
  readonly event: string;
}

export interface DeadLetterRecord {
  schema: string;
  destination: string | null;
  target: string | null;
  reason: DeadLetterReason;
  status: number | null;
  response_body: string | null;
  error: string | null;
  attempts: number;
  failed_at: string;
  event: string;
}

export function toRecord(d: DeadLetter, redact: (s: string) => string, now = new Date()): DeadLetterRecord {
  return {
    schema: DEAD_LETTER_SCHEMA,
    destination: d.destination,
    target: d.target,
    reason: d.reason,
    status: d.status,
    response_body: d.responseBody === null ? null : redact(d.responseBody),
    error: d.error === null ? null : redact(d.error),
    attempts: d.attempts,
    failed_at: now.toISOString(),
    event: d.event,
  };
}

export interface DeadLetterSink {
  /** Resolves when the letters are durably written; throws FurrowError(FORWARD_DEAD_LETTER_UNWRITABLE) otherwise. */
  write(letters: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Appends JSON lines to a file, each write followed by fdatasync. Group commit: writes that arrive while one is
 * on its way to disk are appended and synced together next (one fdatasync for all of them), so a failing
 * destination dead-lettering many batches at once does not queue one disk sync per batch.
 */
export class FileDeadLetterSink implements DeadLetterSink {
  private handle: FileHandle | null = null;
  private waiting: Array<{ text: string; resolve: () => void; reject: (e: Error) => void }> = [];
  private writing: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly redact: (s: string) => string = (s) => s,
  ) {}

  async open(): Promise<this> {
    try {
      this.handle = await open(this.path, 'a');
    } catch (e) {
      throw new FurrowError('FORWARD_DEAD_LETTER_UNWRITABLE', `cannot open ${this.path}: ${(e as Error).message}`, { cause: e });
    }
    return this;
  }

  write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return Promise.resolve();
    const now = new Date();
    let text = '';
    for (const l of letters) text += JSON.stringify(toRecord(l, this.redact, now)) + '\n';
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ text, resolve, reject });
      if (this.writing === null) this.writing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      try {
        if (this.handle === null) throw new Error('not open');
        await this.handle.appendFile(group.length === 1 ? group[0]!.text : group.map((g) => g.text).join(''), 'utf8');
        await this.handle.datasync();
        for (const g of group) g.resolve();
      } catch (e) {
        const err = new FurrowError('FORWARD_DEAD_LETTER_UNWRITABLE', `cannot write ${this.path}: ${(e as Error).message}`, { cause: e });
        for (const g of group) g.reject(err);
      }
    }
    this.writing = null;
  }

  async close(): Promise<void> {
    if (this.writing) await this.writing;
    await this.handle?.close();
    this.handle = null;
  }
}

/** Parses one dead-letter line; returns a reason string when it is not one. */
export function parseDeadLetterLine(line: string): DeadLetterRecord | string {
  // A record is flat; the depth bound only keeps a hand-made line from reaching JSON.stringify when it is kept.
  const parsed = parseJsonWithin(line, DOWNSTREAM_MAX_JSON_DEPTH);
  if (!parsed.ok) return `not JSON: ${parsed.error}`;
  const r = parsed.value as Partial<DeadLetterRecord>;
  if (r === null || typeof r !== 'object' || r.schema !== DEAD_LETTER_SCHEMA) return `not a ${DEAD_LETTER_SCHEMA} record`;
  if (typeof r.event !== 'string') return 'record has no event';
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : v === null || v === undefined ? null : JSON.stringify(v));
  return {
    ...(r as DeadLetterRecord),
    destination: typeof r.destination === 'string' ? r.destination : null,
    target: typeof r.target === 'string' ? r.target : null,
    status: typeof r.status === 'number' ? r.status : null,
    response_body: text(r.response_body),
    error: text(r.error),
    attempts: typeof r.attempts === 'number' ? r.attempts : 0,
  };
}

/**
 * Dead letters to a Kinesis stream (one JSON record per letter, partition key = destination), through the
 * shared PutRecords writer. The writer retries throttling and errors; after `giveUpAfterAttempts` it reports
 * records failed and the write raises FORWARD_DEAD_LETTER_UNWRITABLE (the forwarder stops, acknowledging nothing more).
 */
export class KinesisDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly writer: { write(records: readonly Buffer[], key?: string): Promise<{ sent: number; failed: Buffer[]; invalid?: Buffer[] }>; flush(): Promise<void>; close(): Promise<void> },
    private readonly streamName: string,
    private readonly redact: (s: string) => string = (s) => s,
  ) {}

  async write(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const now = new Date();
    const records = letters.map((l) => Buffer.from(JSON.stringify(toRecord(l, this.redact, now)), 'utf8'));
    const p = this.writer.write(records);
    await this.writer.flush();
    const r = await p;
    if (r.failed.length > 0 || (r.invalid?.length ?? 0) > 0) {
      throw new FurrowError('FORWARD_DEAD_LETTER_UNWRITABLE', `${r.failed.length + (r.invalid?.length ?? 0)} dead letters could not be put to Kinesis stream ${this.streamName}`);
    }
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
