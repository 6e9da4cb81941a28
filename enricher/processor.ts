/**
 * One stream record in, good TSV lines / bad rows / pii lines out (../shared/spec/enrich.md §0).
 *
 *   record --unframe (gzip/zstd batches, streamed and bounded)--> Thrift payloads
 *          --loadThrift--> LoadedPayload            | collector_payload_format_violation
 *          --adapter--> RawEvent[]                  | adapter_failures / tracker_protocol_violations
 *          --EnrichmentManager--> enriched event    | schema_violations / enrichment_failures
 *          --toTsv (+ size check)--> good line      | size_violation
 *
 * Every event that enters leaves as exactly one good line or one bad row (a JS enrichment's drop()
 * is the only exception, counted as `dropped`); a payload that fails before events exist leaves as one bad row.
 *
 * Output is bounded per payload: a tp2 batch's querystring is copied into each of its events, so a 1 MB request
 * (20 KB of querystring, 33,000 three-field events) would expand to ~650 MB of lines (it took 3.8 GB of RSS and a
 * minute before this bound). A payload whose lines pass MAX_PAYLOAD_OUTPUT_CHARS becomes one size_violation bad
 * row instead (its lines so far are discarded, nothing was written). A framed record's payloads can be handed to
 * the caller one by one (`spill`), so a record of many payloads is never held whole either.
 */
import type { AdapterDeps } from './adapters/adapter.js';
import { AdapterRegistry } from './adapters/registry.js';
import { adapterFailure, collectorPayloadFormatViolation, sizeViolation, unexpectedFailure, type Processor } from './bad-rows.js';
import { formatTimestamp } from './converters.js';
import type { EnrichmentManager, EventResult } from './enrichment-manager.js';
import { loadThrift } from './payloads/thrift-loader.js';
import { isCompressedRecord, unframeRecord, type FramingLimits } from '../formats/record-framing.js';
import { toTsv } from '../formats/enriched-tsv.js';
import { isIgluSystemError } from './self-describing.js';
import { FurrowError } from '../common/errors.js';
import type { ClientError } from '../iglu-resolver/types.js';

export interface ProcessorOptions {
  manager: EnrichmentManager;
  adapters: AdapterRegistry;
  adapterDeps: AdapterDeps;
  processor: Processor;
  framing: FramingLimits;
  /** Largest good line / bad row the sinks accept (UTF-8 bytes); null = no limit (files, stdout). */
  maxRecordSize: number | null;
  /** Output of one payload above which it becomes one size_violation; default MAX_PAYLOAD_OUTPUT_CHARS. */
  maxPayloadOutputChars?: number;
}

export interface RecordOutput {
  good: string[];
  bad: string[];
  pii: string[];
  /** Failed-events lines (emitFailed): a copy of a failing event as TSV, besides its bad row. */
  failed: string[];
  /** Events that entered enrichment (after the adapter); payload-level failures count 1. */
  events: number;
  /** Length of all the lines above (UTF-16 code units; ~bytes for this mostly-ASCII output). */
  chars: number;
  dropped: number;
  /** Good events kept despite an atomic field length violation (acceptInvalid). */
  invalid: number;
}

/**
 * Output of one payload above which the payload becomes a single size_violation (64 Mi characters). Real payloads
 * are far below it: a 1 MB batch of events that all fail validation writes ~4 MB of bad rows.
 */
export const MAX_PAYLOAD_OUTPUT_CHARS = 64 * 1024 * 1024;

function emptyOutput(): RecordOutput {
  return { good: [], bad: [], pii: [], failed: [], events: 0, chars: 0, dropped: 0, invalid: 0 };
}

function lengthFrom(lines: readonly string[], from: number): number {
  let n = 0;
  for (let i = from; i < lines.length; i++) n += lines[i]!.length;
  return n;
}

export class RecordProcessor {
  private readonly maxOutput: number;
  private etlAt = Number.NaN;
  private etl = '';

  constructor(private readonly o: ProcessorOptions) {
    this.maxOutput = o.maxPayloadOutputChars ?? MAX_PAYLOAD_OUTPUT_CHARS;
  }

  /** Records worth processing at once (see Enrichment.concurrentEvents); 1 = one after the other. */
  get concurrentRecords(): number {
    return this.o.manager.concurrentEvents;
  }

  /**
   * `spill`, when given, receives the output of each payload of a framed record but the last (which is returned),
   * so the caller can write it before the next payload is enriched.
   */
  async process(record: Buffer, now: number = Date.now(), spill?: (part: RecordOutput) => Promise<void>): Promise<RecordOutput> {
    let out = emptyOutput();
    // A batch's records share `now`: its etl_tstamp is formatted once.
    if (now !== this.etlAt) {
      this.etlAt = now;
      this.etl = formatTimestamp(now);
    }
    const etl = this.etl;
    if (!isCompressedRecord(record)) {
      await this.processPayload(record, now, etl, out);
      return out;
    }
    let b64: string | null = null; // the whole record, carried by each framing bad row (once computed)
    // Payloads are processed as they are inflated: a compressed record is never held inflated whole.
    for await (const items of unframeRecord(record, this.o.framing)) {
      for (const item of items) {
        if (spill !== undefined && out.chars > 0) {
          await spill(out);
          out = emptyOutput();
        }
        if (item.kind === 'payload') {
          await this.processPayload(item.bytes, now, etl, out);
          continue;
        }
        out.events++;
        const b0 = out.bad.length;
        // pushBad: a bad row that would itself be too big for the bad sink becomes a (truncated) size_violation,
        // so a huge hostile record can never make the sink refuse it and stop the enricher.
        if (item.kind === 'size') {
          this.pushBad(out, sizeViolation(this.o.processor, now, item.maximumAllowedSizeBytes, item.actualSizeBytes, item.expectation, b64 ??= record.toString('base64')), now);
        } else {
          this.pushBad(out, collectorPayloadFormatViolation(this.o.processor, now, record, { error: item.error }), now);
        }
        out.chars += lengthFrom(out.bad, b0);
      }
    }
    return out;
  }

  private async processPayload(bytes: Buffer, now: number, etl: string, out: RecordOutput): Promise<void> {
    const g0 = out.good.length;
    const b0 = out.bad.length;
    const p0 = out.pii.length;
    const f0 = out.failed.length;
    try {
      await this.payloadLines(bytes, now, etl, out);
    } finally {
      out.chars += lengthFrom(out.good, g0) + lengthFrom(out.bad, b0) + lengthFrom(out.pii, p0) + lengthFrom(out.failed, f0);
    }
  }

  /** Fills `out` with the payload's lines; past maxPayloadOutputChars of them, replaces them with one size_violation. */
  private async payloadLines(bytes: Buffer, now: number, etl: string, out: RecordOutput): Promise<void> {
    const loaded = loadThrift(bytes);
    if (!loaded.ok) {
      out.events++;
      this.pushBad(out, collectorPayloadFormatViolation(this.o.processor, now, bytes, loaded.message), now);
      return;
    }
    const payload = loaded.payload;
    const adapter = this.o.adapters.lookup(payload.api.vendor, payload.api.version);
    if (adapter === undefined) {
      out.events++;
      this.pushBad(out, adapterFailure('adapter_failures', this.o.processor, now, payload, [
        { field: 'vendor/version', value: `${payload.api.vendor}/${payload.api.version}`, expectation: 'vendor/version combination is not supported' },
      ]), now);
      return;
    }
    let outcome;
    try {
      const r = adapter.toRawEvents(payload, this.o.adapterDeps);
      outcome = r instanceof Promise ? await r : r;
    } catch (e) {
      if (e instanceof FurrowError) throw e;
      // An adapter must return failures; a throw is a bug, but the payload still becomes a bad row.
      outcome = { ok: false as const, messages: [{ field: 'payload', value: null, expectation: `adapter error: ${(e as Error).message}` }] };
    }
    if (!outcome.ok) {
      if (this.o.manager.stopsOnIgluOutage) {
        for (const m of outcome.messages) {
          if ('schemaKey' in m && 'error' in m && isIgluSystemError(m.error as ClientError)) {
            throw new FurrowError('ENRICH_IGLU_UNAVAILABLE', `adapter ${adapter.vendor}/${adapter.version} could not resolve ${m.schemaKey}`);
          }
        }
      }
      out.events++;
      this.pushBad(out, adapterFailure(adapter.failureKind, this.o.processor, now, payload, outcome.messages), now);
      return;
    }
    const mark = { good: out.good.length, bad: out.bad.length, pii: out.pii.length, failed: out.failed.length, events: out.events, dropped: out.dropped, invalid: out.invalid };
    // This payload's output (chars), measured after each event (four indexes, no object per event).
    let used = 0;
    let sg = mark.good;
    let sb = mark.bad;
    let sp = mark.pii;
    let sf = mark.failed;
    for (const raw of outcome.events) {
      if (used > this.maxOutput) {
        // Discard this payload's lines (none was written yet): the payload is one bad row.
        out.good.length = mark.good;
        out.bad.length = mark.bad;
        out.pii.length = mark.pii;
        out.failed.length = mark.failed;
        out.events = mark.events + 1;
        out.dropped = mark.dropped;
        out.invalid = mark.invalid;
        this.pushBad(out, sizeViolation(this.o.processor, now, this.maxOutput, used,
          `enriched output of one payload exceeds ${this.maxOutput} characters (${outcome.events.length} events)`, bytes.toString('base64')), now);
        return;
      }
      out.events++;
      let r: EventResult;
      try {
        r = await this.o.manager.enrich(raw, now, etl);
      } catch (e) {
        if (e instanceof FurrowError) throw e;
        // A throw is a bug (or input that got past a bound), never a reason to stop: this event becomes a bad row
        // and the record's other events go on.
        this.pushBad(out, unexpectedFailure(this.o.processor, now, raw, e), now);
        continue;
      }
      if (r.kind === 'bad') {
        this.pushBad(out, r.row, now);
        if (r.failed !== undefined) {
          // A failed event is a copy; its bad row already carries the event, so an oversize copy is left out.
          const f = toTsv(r.failed);
          if (this.o.maxRecordSize === null || Buffer.byteLength(f, 'utf8') <= this.o.maxRecordSize) out.failed.push(f);
        }
      }
      else if (r.kind === 'dropped') out.dropped++;
      else {
        if (r.invalid) out.invalid++;
        const line = toTsv(r.event);
        const max = this.o.maxRecordSize;
        if (max !== null && Buffer.byteLength(line, 'utf8') > max) {
          const size = Buffer.byteLength(line, 'utf8');
          out.bad.push(sizeViolation(this.o.processor, now, max, size, `enriched event exceeds the maximum record size of the good sink`, line.slice(0, Math.floor(max / 10))));
        } else {
          out.good.push(line);
          if (r.pii !== null) {
            const p = toTsv(r.pii);
            if (max !== null && Buffer.byteLength(p, 'utf8') > max) {
              out.bad.push(sizeViolation(this.o.processor, now, max, Buffer.byteLength(p, 'utf8'), 'pii_transformation event exceeds the maximum record size of the pii sink', p.slice(0, Math.floor(max / 10))));
            } else out.pii.push(p);
          }
        }
      }
      used += lengthFrom(out.good, sg) + lengthFrom(out.bad, sb) + lengthFrom(out.pii, sp) + lengthFrom(out.failed, sf);
      sg = out.good.length;
      sb = out.bad.length;
      sp = out.pii.length;
      sf = out.failed.length;
    }
  }

  private pushBad(out: RecordOutput, row: string, now: number): void {
    const max = this.o.maxRecordSize;
    if (max !== null && row.length * 3 > max && Buffer.byteLength(row, 'utf8') > max) {
      out.bad.push(sizeViolation(this.o.processor, now, max, Buffer.byteLength(row, 'utf8'), 'bad row exceeds the maximum record size of the bad sink', row.slice(0, Math.floor(max / 10))));
      return;
    }
    out.bad.push(row);
  }
}
