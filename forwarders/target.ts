/**
 * What every forwarder target implements (one file per target in ./targets/, built by ./targets/registry.ts).
 *
 *   event ──build──> vendor payload (plain object) ──transformation (optional)──> ──finalize──> PreparedItem
 *   PreparedItem[] (one batch, same `group`) ──send──> SendOutcome
 *
 * build/finalize are pure and run on the reading path (once per event and destination); a string result means
 * the event cannot be sent to this target (missing identity, over a vendor limit) and it goes to the dead
 * letter at once, without retries. send does the I/O and never throws: it returns an outcome that the delivery
 * engine turns into acknowledge / retry / dead-letter.
 */
import type { ForwardEvent } from './forward-event.js';

export interface PreparedItem {
  /** The item serialized once (JSON text for HTTP targets; the record for Kinesis). */
  readonly body: string;
  /** UTF-8 byte length of body. */
  readonly bytes: number;
  /** Items of one request share a group (GA4: client_id; Braze: events vs purchases). '' when any mix is fine. */
  readonly group: string;
  /** Kinesis partition key; '' for HTTP targets. */
  readonly key: string;
}

export type SendOutcome =
  /** Every item accepted. */
  | { readonly kind: 'accepted'; readonly status: number }
  /** Nothing (known to be) accepted; worth retrying: network error, timeout, 408, 429, 5xx. */
  | { readonly kind: 'retry'; readonly status: number | null; readonly body: string; readonly retryAfterMs: number | null }
  /** The request was refused for good (4xx other than 408/429): every item goes to the dead letter. */
  | { readonly kind: 'rejected'; readonly status: number; readonly body: string }
  /**
   * Some items were refused (by index in the batch, with a reason): they go to the dead letter. The others were
   * accepted (`resendRest` false, e.g. Mixpanel strict import, Braze 201 with errors) or must be sent again
   * without the refused ones (`resendRest` true, e.g. Amplitude 400 lists the invalid events of a refused batch),
   * or must be retried (`retryRest`, Kinesis PutRecords throttled records).
   */
  | {
      readonly kind: 'partial';
      readonly status: number;
      readonly body: string;
      readonly rejected: ReadonlyMap<number, string>;
      readonly rest: 'accepted' | 'resend' | 'retry';
      /** With rest = 'retry': only these indexes are retried; the others (not refused) were accepted. Absent: retry all the rest. */
      readonly retryOnly?: ReadonlySet<number>;
    };

export interface ForwardTarget {
  readonly type: string;
  /** Hard per-request limits of the vendor (batch settings are already capped to them). */
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** The default vendor payload of one event (before the destination's transformation), or why it cannot be built. */
  build(ev: ForwardEvent): Record<string, unknown> | string;
  /**
   * Optional fast path for destinations without a transformation: the same item as finalize(build(ev)), made
   * without building the payload object (the HTTP target writes the JSON view's text straight from the columns).
   */
  direct?(ev: ForwardEvent): PreparedItem | string;
  /** Validates the (possibly transformed) payload against the vendor's rules and serializes it once. */
  finalize(payload: unknown, ev: ForwardEvent): PreparedItem | string;
  /** Sends one batch (items of one group, within maxEvents/maxBytes). Never throws. */
  send(items: readonly PreparedItem[], timeoutMs: number): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Builds a PreparedItem from a JSON-able payload. */
export function jsonItem(payload: unknown, group = '', key = ''): PreparedItem {
  const body = JSON.stringify(payload);
  return { body, bytes: Buffer.byteLength(body), group, key };
}
