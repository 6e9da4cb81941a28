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
 */
import type { AdapterDeps } from './adapters/adapter.js';
import { AdapterRegistry } from './adapters/registry.js';
import { adapterFailure, collectorPayloadFormatViolation, sizeViolation, unexpectedFailure, type Processor } from './bad-rows.js';
import { formatTimestamp } from './converters.js';
import type { EnrichmentManager, EventResult } from './enrichment-manager.js';
import { loadThrift } from './loaders/thrift-loader.js';
import { isCompressedRecord, unframeRecord, type FramingLimits } from './loaders/record-framing.js';
import { toTsv } from './tsv.js';
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
}

export interface RecordOutput {
  good: string[];
  bad: string[];
  pii: string[];
  /** Failed-events lines (emitFailed): a copy of a failing event as TSV, besides its bad row. */
  failed: string[];
  /** Events that entered enrichment (after the adapter); payload-level failures count 1. */
  events: number;
  dropped: number;
  /** Good events kept despite an atomic field length violation (acceptInvalid). */
  invalid: number;
}

export class RecordProcessor {
  constructor(private readonly o: ProcessorOptions) {}

  /** Records worth processing at once (see Enrichment.concurrentEvents); 1 = one after the other. */
  get concurrentRecords(): number {
    return this.o.manager.concurrentEvents;
  }

  async process(record: Buffer, now: number = Date.now()): Promise<RecordOutput> {
    const out: RecordOutput = { good: [], bad: [], pii: [], failed: [], events: 0, dropped: 0, invalid: 0 };
    const etl = formatTimestamp(now);
    if (!isCompressedRecord(record)) {
      await this.processPayload(record, now, etl, out);
      return out;
    }
    let b64: string | null = null; // the whole record, carried by each framing bad row (once computed)
    // Payloads are processed as they are inflated: a compressed record is never held inflated whole.
    for await (const items of unframeRecord(record, this.o.framing)) {
      for (const item of items) {
        if (item.kind === 'payload') {
          await this.processPayload(item.bytes, now, etl, out);
          continue;
        }
        out.events++;
        // pushBad: a bad row that would itself be too big for the bad sink becomes a (truncated) size_violation,
        // so a huge hostile record can never make the sink refuse it and stop the enricher.
        if (item.kind === 'size') {
          this.pushBad(out, sizeViolation(this.o.processor, now, item.maximumAllowedSizeBytes, item.actualSizeBytes, item.expectation, b64 ??= record.toString('base64')), now);
        } else {
          this.pushBad(out, collectorPayloadFormatViolation(this.o.processor, now, record, { error: item.error }), now);
        }
      }
    }
    return out;
  }

  private async processPayload(bytes: Buffer, now: number, etl: string, out: RecordOutput): Promise<void> {
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
    for (const raw of outcome.events) {
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
