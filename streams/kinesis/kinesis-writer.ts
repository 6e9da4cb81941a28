/**
 * A buffered Kinesis PutRecords writer, shared by the collector, the enricher and the forwarders.
 *
 * API
 *   const w = new KinesisWriter({ client, streamName, byteLimit, recordLimit, timeLimitMs, backoff, ... });
 *   w.startHealthCheck(1000);                  // optional: DescribeStreamSummary until ACTIVE (healthy)
 *   const r = await w.write(records, key?);   // resolves once every record was PutRecords'ed, or given up on
 *   await w.write(records, key, { awaited: true });   // someone waits on it (durable acknowledgement): below
 *        r.sent      records Kinesis accepted
 *        r.failed    records given up on after `giveUpAfterAttempts` (never, by default: retried forever)
 *        r.invalid   records Kinesis can never take (data + partition key > maxRecordBytes)
 *   w.pendingBytes / w.pendingRecords          // buffered + in flight (for back-pressure)
 *   w.isHealthy()                             // false until the stream is ACTIVE or a put succeeded;
 *                                             // false again after `backoff.maxRetries` failed attempts
 *   await w.flush();  await w.close();         // close flushes, then stops timers; bounded by closeTimeoutMs
 *
 * Life of a record
 *
 *   write() ──▶ buffer ──(adding would pass recordLimit|byteLimit, or timeLimitMs since the first
 *                          buffered record, or flush())──▶ batch ──split ≤500 records / ≤5 MiB──▶ call
 *   call ──PutRecords──▶ per-entry result: ok ⇒ settled; ErrorCode (e.g. ProvisionedThroughputExceeded)
 *        or a thrown error (whole call) ⇒ only the failed subset is sent again after
 *        backoff = max(minBackoff + rand·(maxBackoff − minBackoff), previous·2/3)
 *
 * At most `maxInFlight` PutRecords calls run at once; further batches wait in order. The partition key of
 * a record is the one passed to write(), else `partitionKey(record)` (default: a random UUID per record).
 * With `callTimeoutMs`, a call not answered in time is aborted: a failed attempt that also marks the stream
 * unhealthy at once (a hung endpoint; other failures do after `backoff.maxRetries` attempts).
 *
 * Awaited writes (a caller answers its own client once they settle: the collector's durable mode)
 *
 *   flushed on demand instead of after timeLimitMs: at the end of the event-loop turn when no call is in flight
 *     (or AWAITED_BATCH records wait), else when a call finishes: waiting writes ride together (group commit)
 *   given up (reported failed) after `backoff.maxRetries` attempts, or after any failed attempt once whole
 *     calls keep failing (below): never retried forever
 *   while whole calls keep failing (a timeout, or maxRetries error answers; not throttled records, not the
 *     unchecked state at start): failed at once, except one probe write at a time (at most one per
 *     minBackoffMs) whose success makes the stream healthy again
 */
import { randomUUID } from 'node:crypto';
import { DescribeStreamSummaryCommand, PutRecordsCommand, type PutRecordsCommandOutput, type DescribeStreamSummaryCommandOutput } from '@aws-sdk/client-kinesis';
import type { Logger } from '../../common/logger.js';
import { silentLogger } from '../../common/logger.js';
import type { Sink, WriteResult } from '../sink.js';

/** The part of KinesisClient the writer uses (a wrapper can inject failures in tests). */
export interface KinesisSender {
  send(command: PutRecordsCommand | DescribeStreamSummaryCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/** Options of one write() call. */
export interface WriteOptions {
  /**
   * A caller waits on the outcome to answer its own client (durable acknowledgement): flush on demand,
   * bounded attempts, fail fast while the stream is unhealthy (see the file comment).
   */
  awaited?: boolean;
}

/** A PutRecords / DescribeStreamSummary call not answered within callTimeoutMs. */
class CallTimeout extends Error {
  constructor(ms: number) {
    super(`no answer from Kinesis within ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

export type PartitionKeyStrategy = (record: Buffer) => string;

/**
 * While a call is in flight, awaited writes wait for it to finish unless this many records are waiting: fewer,
 * larger calls under load (the SDK costs ~1 ms of CPU per PutRecords call, ~5 µs per record), no added wait
 * when idle.
 */
const AWAITED_BATCH = 32;
export const randomPartitionKey: PartitionKeyStrategy = () => randomUUID();

/** Kinesis limits for one PutRecords call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** Kinesis' per-record limit (data + partition key). */
export const KINESIS_RECORD_MAX_BYTES = 1024 * 1024;

export interface KinesisWriterObserver {
  /** One PutRecords call finished: `ok` accepted, `failed` to retry (throttled = ProvisionedThroughputExceeded). */
  onPut?(ok: number, failed: number, throttled: number, error: unknown): void;
  onHealth?(healthy: boolean): void;
}

export interface KinesisWriterOptions {
  client: KinesisSender;
  streamName: string;
  /** Flush when adding a record would pass this many buffered bytes (data + keys). Default 3 MiB. */
  byteLimit?: number;
  /** Flush when adding a record would pass this many buffered records. Default 500. */
  recordLimit?: number;
  /** Flush this long after the first record entered an empty buffer. Default 5000 ms. */
  timeLimitMs?: number;
  backoff?: { minBackoffMs: number; maxBackoffMs: number; maxRetries: number };
  /** Give up (report `failed`) after this many attempts of a record; default Infinity (retry forever). */
  giveUpAfterAttempts?: number;
  partitionKey?: PartitionKeyStrategy;
  /** Concurrent PutRecords calls. Default 10 (Snowplow's threadPoolSize). */
  maxInFlight?: number;
  maxRecordBytes?: number;
  /** close() waits at most this long for retries; what is left is reported failed and logged. Default 10 s. */
  closeTimeoutMs?: number;
  /**
   * Abort a PutRecords (or DescribeStreamSummary) call not answered within this many ms: a failed attempt,
   * and the stream is unhealthy at once. Default none (the client's own timeouts apply).
   */
  callTimeoutMs?: number;
  logger?: Logger;
  observer?: KinesisWriterObserver;
}

/** One write() call waiting for its records. */
interface Ticket {
  remaining: number;
  sent: number;
  failed: Buffer[];
  invalid: Buffer[];
  resolve: (r: WriteResult) => void;
  awaited: boolean;
  /** This write is the one probe allowed while the stream is unhealthy. */
  probe: boolean;
}

interface Entry {
  data: Buffer;
  key: string;
  size: number;
  ticket: Ticket;
}

export class KinesisWriter implements Sink {
  private readonly client: KinesisSender;
  private readonly streamName: string;
  private readonly byteLimit: number;
  private readonly recordLimit: number;
  private readonly timeLimitMs: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRetries: number;
  private readonly giveUpAfterAttempts: number;
  private readonly keyOf: PartitionKeyStrategy;
  private readonly maxInFlight: number;
  private readonly maxRecordBytes: number;
  private readonly closeTimeoutMs: number;
  private readonly callTimeoutMs: number | null;
  private readonly log: Logger;
  private readonly observer: KinesisWriterObserver;

  private buffer: Entry[] = [];
  private bufferBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly waiting: Entry[][] = [];
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private healthy = false;
  private closing = false;
  private readonly abort = new AbortController();
  private healthTimer: NodeJS.Timeout | null = null;
  private _pendingBytes = 0;
  private _pendingRecords = 0;
  /** Awaited entries in `buffer` (they want a flush at the end of the turn, or when a slot frees). */
  private awaitedBuffered = 0;
  private flushScheduled = false;
  private probing = false;
  /**
   * Whole calls keep failing (an error answer or no answer: not merely unchecked at start, nor throttled
   * records): awaited writes fail fast. Cleared by any successful call.
   */
  private failing = false;
  private lastProbeAt = -Infinity;

  constructor(o: KinesisWriterOptions) {
    this.client = o.client;
    this.streamName = o.streamName;
    this.byteLimit = o.byteLimit ?? 3 * 1024 * 1024;
    this.recordLimit = o.recordLimit ?? 500;
    this.timeLimitMs = o.timeLimitMs ?? 5000;
    this.minBackoffMs = o.backoff?.minBackoffMs ?? 500;
    this.maxBackoffMs = o.backoff?.maxBackoffMs ?? 1500;
    this.maxRetries = o.backoff?.maxRetries ?? 3;
    this.giveUpAfterAttempts = o.giveUpAfterAttempts ?? Infinity;
    this.keyOf = o.partitionKey ?? randomPartitionKey;
    this.maxInFlight = Math.max(1, o.maxInFlight ?? 10);
    this.maxRecordBytes = o.maxRecordBytes ?? KINESIS_RECORD_MAX_BYTES;
    this.closeTimeoutMs = o.closeTimeoutMs ?? 10_000;
    this.callTimeoutMs = o.callTimeoutMs ?? null;
    this.log = o.logger ?? silentLogger;
    this.observer = o.observer ?? {};
  }

  get pendingBytes(): number {
    return this._pendingBytes;
  }
  get pendingRecords(): number {
    return this._pendingRecords;
  }
  isHealthy(): boolean {
    return this.healthy;
  }

  write(records: readonly Buffer[], partitionKey?: string, opts?: WriteOptions): Promise<WriteResult> {
    if (records.length === 0) return Promise.resolve({ sent: 0, failed: [], invalid: [] });
    const awaited = opts?.awaited === true;
    let probe = false;
    if (awaited && this.failing && !this.closing) {
      // Fail fast while unhealthy; one write at a time (at most one per minBackoff) goes through as a probe.
      const now = performance.now();
      if (this.probing || now - this.lastProbeAt < this.minBackoffMs) {
        return Promise.resolve({ sent: 0, failed: [...records], invalid: [] });
      }
      probe = true;
      this.probing = true;
      this.lastProbeAt = now;
    }
    return new Promise<WriteResult>((resolve) => {
      const ticket: Ticket = { remaining: records.length, sent: 0, failed: [], invalid: [], resolve, awaited, probe };
      for (const data of records) {
        let key = partitionKey ?? this.keyOf(data);
        if (key.length === 0 || key.length > 256) key = randomUUID();
        const size = data.length + Buffer.byteLength(key);
        const entry: Entry = { data, key, size, ticket };
        if (size > this.maxRecordBytes) {
          ticket.invalid.push(data);
          this.settle(entry, false);
          continue;
        }
        if (this.closing) {
          ticket.failed.push(data);
          this.settle(entry, false);
          continue;
        }
        if (this.buffer.length + 1 > this.recordLimit || this.bufferBytes + size > this.byteLimit) this.flushBuffer();
        this.buffer.push(entry);
        this.bufferBytes += size;
        this._pendingBytes += size;
        this._pendingRecords++;
        if (awaited) this.awaitedBuffered++;
        if (this.timer === null) this.timer = setTimeout(() => this.flushBuffer(), this.timeLimitMs);
      }
      if (this.buffer.length >= this.recordLimit || this.bufferBytes >= this.byteLimit) this.flushBuffer();
      else if (this.awaitedBuffered > 0 && !this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushForWaiters);
      }
    });
  }

  /**
   * Group commit for awaited writes: flush when nothing is in flight (or AWAITED_BATCH records wait) and no
   * batch is queued for a slot; otherwise the buffer keeps filling and pump() checks again as soon as a call
   * finishes.
   */
  private readonly flushForWaiters = (): void => {
    this.flushScheduled = false;
    if (this.waitersShouldGo()) this.flushBuffer();
  };

  private waitersShouldGo(): boolean {
    return this.awaitedBuffered > 0 && this.waiting.length === 0 && this.inFlight < this.maxInFlight && (this.inFlight === 0 || this.awaitedBuffered >= AWAITED_BATCH);
  }

  /** Sends everything buffered and resolves when no PutRecords call is left running. */
  async flush(): Promise<void> {
    this.flushBuffer();
    if (this.inFlight === 0 && this.waiting.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    if (this.healthTimer) clearTimeout(this.healthTimer);
    this.healthTimer = null;
    const deadline = setTimeout(() => this.abort.abort(), this.closeTimeoutMs);
    try {
      await this.flush();
    } finally {
      clearTimeout(deadline);
      this.closing = true;
    }
  }

  /** Polls DescribeStreamSummary every `intervalMs` until the stream is ACTIVE (then healthy). */
  startHealthCheck(intervalMs: number): void {
    const check = async (): Promise<void> => {
      this.healthTimer = null;
      if (this.healthy || this.closing) return;
      try {
        const out = (await this.send(new DescribeStreamSummaryCommand({ StreamName: this.streamName }))) as DescribeStreamSummaryCommandOutput;
        const status = out.StreamDescriptionSummary?.StreamStatus;
        if (status === 'ACTIVE' || status === 'UPDATING') {
          this.setHealthy(true);
          return;
        }
        this.log.warn({ stream: this.streamName, status }, 'kinesis stream not active yet');
      } catch (e) {
        this.log.warn({ stream: this.streamName, err: (e as Error).message }, 'kinesis stream check failed');
      }
      if (!this.closing) {
        this.healthTimer = setTimeout(() => void check(), intervalMs);
        this.healthTimer.unref();
      }
    };
    void check();
  }

  // -------------------------------------------------------------------------------------------------

  private setHealthy(h: boolean): void {
    if (h) this.failing = false;
    if (h === this.healthy) return;
    this.healthy = h;
    this.log.info({ stream: this.streamName, healthy: h }, h ? 'kinesis stream healthy' : 'kinesis stream unhealthy');
    this.observer.onHealth?.(h);
  }

  private settle(e: Entry, counted: boolean): void {
    if (counted) {
      this._pendingBytes -= e.size;
      this._pendingRecords--;
    }
    const t = e.ticket;
    if (--t.remaining === 0) {
      if (t.probe) this.probing = false;
      t.resolve({ sent: t.sent, failed: t.failed, invalid: t.invalid });
    }
  }

  /** client.send, aborted after callTimeoutMs (rejecting with CallTimeout) when that is set. */
  private send(cmd: PutRecordsCommand | DescribeStreamSummaryCommand): Promise<unknown> {
    const ms = this.callTimeoutMs;
    if (ms === null) return this.client.send(cmd);
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(new CallTimeout(ms));
      }, ms);
    });
    // The race settles with whichever comes first; a send rejected later by the abort is handled by race.
    return Promise.race([this.client.send(cmd, { abortSignal: ac.signal }), timedOut]).finally(() => clearTimeout(timer));
  }

  private flushBuffer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    this.bufferBytes = 0;
    this.awaitedBuffered = 0;
    // Split into calls within Kinesis' PutRecords limits.
    let call: Entry[] = [];
    let callBytes = 0;
    for (const e of batch) {
      if (call.length > 0 && (call.length + 1 > PUT_RECORDS_MAX_RECORDS || callBytes + e.size > PUT_RECORDS_MAX_BYTES)) {
        this.waiting.push(call);
        call = [];
        callBytes = 0;
      }
      call.push(e);
      callBytes += e.size;
    }
    this.waiting.push(call);
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const call = this.waiting.shift()!;
      this.inFlight++;
      void this.putWithRetry(call).finally(() => {
        this.inFlight--;
        this.pump();
        // A slot is free: awaited writes buffered meanwhile go now.
        if (this.waitersShouldGo()) this.flushBuffer();
        if (this.inFlight === 0 && this.waiting.length === 0) {
          const ws = this.idleWaiters.splice(0);
          for (const w of ws) w();
        }
      });
    }
  }

  private async putWithRetry(initial: Entry[]): Promise<void> {
    let entries = initial;
    if (this.failing) {
      // The stream went unhealthy while these waited for a slot: awaited records (but a probe's) fail now.
      entries = this.giveUpAwaited(initial, 0, true);
      if (entries.length === 0) return;
    }
    let attempt = 0;
    let backoff = 0;
    for (;;) {
      attempt++;
      const retry: Entry[] = [];
      let error: unknown = null;
      let throttled = 0;
      try {
        const out = (await this.send(
          new PutRecordsCommand({ StreamName: this.streamName, Records: entries.map((e) => ({ Data: e.data, PartitionKey: e.key })) }),
        )) as PutRecordsCommandOutput;
        const results = out.Records ?? [];
        for (let i = 0; i < entries.length; i++) {
          const r = results[i];
          const e = entries[i]!;
          // A missing result entry is treated as failed: never assume a record landed.
          if (r === undefined || r.ErrorCode) {
            if (r?.ErrorCode === 'ProvisionedThroughputExceededException') throttled++;
            retry.push(e);
          } else {
            e.ticket.sent++;
            this.settle(e, true);
          }
        }
        if (retry.length < entries.length) this.setHealthy(true);
      } catch (e) {
        error = e;
        for (const x of entries) retry.push(x);
        // A hung endpoint: unhealthy now, not after maxRetries × the timeout.
        if (e instanceof CallTimeout) {
          this.setHealthy(false);
          this.failing = true;
        }
      }
      this.observer.onPut?.(entries.length - retry.length, retry.length, throttled, error);
      if (retry.length === 0) return;
      if (attempt >= this.maxRetries) {
        this.setHealthy(false);
        // Whole calls failing (errors, not per-record throttling): awaited writes fail fast from now on.
        if (error !== null) this.failing = true;
        if (attempt === this.maxRetries) {
          this.log.error({ stream: this.streamName, records: retry.length, attempts: attempt, err: error ? (error as Error).message : undefined }, 'kinesis PutRecords keeps failing; still retrying');
        }
      } else {
        this.log.warn({ stream: this.streamName, records: retry.length, attempt, err: error ? (error as Error).message : undefined }, 'kinesis PutRecords failed for some records; retrying them');
      }
      if (attempt >= this.giveUpAfterAttempts || this.abort.signal.aborted) {
        this.giveUp(retry, attempt);
        return;
      }
      // Awaited records are not retried past maxRetries attempts, nor once the stream is unhealthy: their
      // caller answers now (503) and its client retries.
      let next = retry;
      if (this.failing || attempt >= this.maxRetries) {
        next = this.giveUpAwaited(retry, attempt, false);
        if (next.length === 0) return;
      }
      backoff = attempt > this.maxRetries
        ? this.maxBackoffMs
        : Math.max(this.minBackoffMs + Math.random() * (this.maxBackoffMs - this.minBackoffMs), (backoff / 3) * 2);
      if (!(await this.sleep(backoff))) {
        this.giveUp(next, attempt);
        return;
      }
      entries = next;
    }
  }

  /** Gives up the awaited entries of `entries` (but a probe's when `spareProbes`); returns the others. */
  private giveUpAwaited(entries: Entry[], attempts: number, spareProbes: boolean): Entry[] {
    const keep: Entry[] = [];
    const drop: Entry[] = [];
    for (const e of entries) {
      if (e.ticket.awaited && !(spareProbes && e.ticket.probe)) drop.push(e);
      else keep.push(e);
    }
    if (drop.length > 0) this.giveUp(drop, attempts);
    return keep;
  }

  private giveUp(entries: Entry[], attempts: number): void {
    this.log.error({ stream: this.streamName, records: entries.length, attempts }, 'kinesis records not written (given up)');
    for (const e of entries) {
      e.ticket.failed.push(e.data);
      this.settle(e, true);
    }
  }

  /** Resolves true after `ms`, or false at once when close()'s deadline passed. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = (): void => {
        clearTimeout(t);
        resolve(false);
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
