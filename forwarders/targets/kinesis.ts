/**
 * The Kinesis target: re-publishes the events a destination's filter kept to another stream, through the
 * shared PutRecords writer (streams/kinesis/kinesis-writer.ts), one attempt per send — the destination queue
 * owns retries, backoff and the dead letter, as for every other target.
 *
 *   format tsv:  the enriched TSV line, unchanged (a filtered enriched stream that any Snowplow loader reads)
 *   format json: the event's JSON view, or whatever the transformation made of it
 *   partition key: partition_key_field (default event_id; e.g. domain_userid keeps a user's events in order)
 *
 * PutRecords results per record: accepted ⇒ done; throttled / internal error ⇒ that record is retried;
 * larger than Kinesis' 1 MiB record limit ⇒ dead letter (invalid).
 */
import { randomUUID } from 'node:crypto';
import type { KinesisTargetConfig } from '../config.js';
import { FurrowError } from '../../common/errors.js';
import { KinesisWriter, type KinesisSender } from '../../streams/kinesis/kinesis-writer.js';
import { compileFieldPath, type FieldPath, type ForwardEvent } from '../forward-event.js';
import type { ForwardTarget, PreparedItem, SendOutcome } from '../target.js';

export class KinesisTarget implements ForwardTarget {
  readonly type = 'kinesis';
  readonly maxEvents = 500;
  readonly maxBytes = 5 * 1024 * 1024;
  private readonly writer: KinesisWriter;
  private readonly keyPath: FieldPath;
  private readonly keys = new WeakMap<Buffer, string>();

  constructor(
    private readonly cfg: KinesisTargetConfig,
    client: KinesisSender,
  ) {
    const p = compileFieldPath(cfg.partitionKeyField);
    if (typeof p === 'string') throw new FurrowError('CONFIG_INVALID_VALUE', `target.partition_key_field: ${p}`);
    this.keyPath = p;
    this.writer = new KinesisWriter({
      client,
      streamName: cfg.streamName,
      giveUpAfterAttempts: 1,
      timeLimitMs: 3600_000, // never time-flushed: send() flushes explicitly
      maxInFlight: 1,
      partitionKey: (data) => this.keys.get(data) ?? randomUUID(),
    });
  }

  build(ev: ForwardEvent): Record<string, unknown> {
    return this.cfg.format === 'tsv' ? { tsv: ev.line } : ev.toJson();
  }

  finalize(payload: unknown, ev: ForwardEvent): PreparedItem | string {
    const k = this.keyPath.read(ev);
    const key = typeof k === 'string' && k !== '' ? k.slice(0, 256) : typeof k === 'number' ? String(k) : (ev.fields.event_id ?? randomUUID());
    let body: string;
    if (this.cfg.format === 'tsv') {
      const p = payload as { tsv?: unknown } | null;
      if (p === null || typeof p !== 'object' || typeof p.tsv !== 'string') return 'format tsv: the payload must keep its tsv field (a string)';
      body = p.tsv;
    } else {
      if (payload === undefined) return 'transformation returned undefined';
      body = JSON.stringify(payload);
    }
    return { body, bytes: Buffer.byteLength(body) + Buffer.byteLength(key), group: '', key };
  }

  async send(items: readonly PreparedItem[]): Promise<SendOutcome> {
    const data = items.map((i) => {
      const b = Buffer.from(i.body, 'utf8');
      this.keys.set(b, i.key);
      return b;
    });
    const pending = this.writer.write(data);
    await this.writer.flush();
    const r = await pending;
    if (r.sent === items.length) return { kind: 'accepted', status: 200 };
    const index = new Map<Buffer, number>(data.map((b, i) => [b, i]));
    const rejected = new Map<number, string>();
    for (const b of r.invalid ?? []) rejected.set(index.get(b)!, 'record larger than the Kinesis limit (1 MiB with its partition key)');
    const retry = new Set<number>();
    for (const b of r.failed) retry.add(index.get(b)!);
    if (r.sent === 0 && rejected.size === 0) return { kind: 'retry', status: null, body: `PutRecords to ${this.cfg.streamName} failed`, retryAfterMs: null };
    return { kind: 'partial', status: 200, body: `PutRecords: ${r.sent} accepted, ${retry.size} to retry, ${rejected.size} too large`, rejected, rest: 'retry', retryOnly: retry };
  }

  async close(): Promise<void> {
    await this.writer.close();
  }
}
