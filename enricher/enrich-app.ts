/**
 * The running enricher: a source, the record processor and the good/bad/pii sinks.
 *
 *   source --batch--> process every record --> good / bad / pii lines --(every ~16 MB and at the end)--> sinks
 *          <--commit-- after every sink acknowledged the batch (nothing is checkpointed past an unwritten line)
 *
 * A good line the good sink can never take (WriteResult.invalid, e.g. over Kinesis' record limit) becomes a
 * size_violation bad row. A sink that gives up on records stops the run with an error before the commit,
 * so the batch is read again after a restart (duplicates, never loss).
 */
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { Batch, Source } from '../streams/source.js';
import type { Sink } from '../streams/sink.js';
import { sizeViolation, type Processor } from './bad-rows.js';
import type { RecordOutput, RecordProcessor } from './processor.js';

/**
 * UTF-8 encodes output lines into shared slabs: each line is a subarray of the current slab, which is never
 * rewritten (a sink may keep a record for a retry), only replaced when full. `Buffer.from(line)` measured the line
 * twice (byteLength, then write) and cut Node's 8 KiB pool every ~4 TSV lines (5.6 % of the bench profile);
 * one write into a slab measured 1.9 µs instead of 3.8 µs CPU per ~1.1 KB bench TSV line.
 */
const SLAB_BYTES = 256 * 1024;

/** Lines of a batch waiting to be written are flushed to the sinks past this many characters (~16 MB). */
export const FLUSH_CHARS = 16 * 1024 * 1024;

class LineEncoder {
  private slab: Buffer = Buffer.allocUnsafe(0);
  private used = 0;

  encode(line: string): Buffer {
    // A UTF-16 code unit takes at most 3 UTF-8 bytes (a surrogate pair 4 for 2 units), so this always fits.
    const worst = line.length * 3;
    if (worst > this.slab.length - this.used) {
      this.slab = Buffer.allocUnsafe(Math.max(SLAB_BYTES, worst));
      this.used = 0;
    }
    const start = this.used;
    this.used += this.slab.write(line, start, 'utf8');
    return this.slab.subarray(start, this.used);
  }
}

export interface EnrichCounts {
  records: number;
  events: number;
  good: number;
  bad: number;
  pii: number;
  failed: number;
  dropped: number;
  invalid: number;
}

export interface EnrichAppOptions {
  source: Source;
  processor: RecordProcessor;
  good: Sink;
  bad: Sink;
  pii: Sink | null;
  /** Failed-events sink (Snowplow 6.x `output.failed`); null = not emitted. */
  failed?: Sink | null;
  processorInfo: Processor;
  logger: Logger;
  /** prom-client registry for furrow_enrich_* counters; null = no metrics. */
  registry: Registry | null;
  /** Log a progress line this often (ms); 0 = never. */
  progressIntervalMs?: number;
  /** Write a batch's lines to the sinks whenever this many characters wait (default FLUSH_CHARS). */
  flushChars?: number;
}

export async function runEnrich(o: EnrichAppOptions, signal: AbortSignal): Promise<EnrichCounts> {
  const counts: EnrichCounts = { records: 0, events: 0, good: 0, bad: 0, pii: 0, failed: 0, dropped: 0, invalid: 0 };
  const failedSink = o.failed ?? null;
  const metric = (name: string, help: string): Counter | null =>
    o.registry === null ? null : new Counter({ name: `furrow_enrich_${name}_total`, help, registers: [o.registry] });
  const m = {
    records: metric('records', 'stream records read'),
    events: metric('events', 'events entering the enricher (payload-level failures count one)'),
    good: metric('good', 'enriched events written to the good sink'),
    bad: metric('bad', 'bad rows written to the bad sink'),
    pii: metric('pii', 'pii_transformation events written to the pii sink'),
    failed: metric('failed', 'failed events written to the failed-events sink'),
    dropped: metric('dropped', 'events dropped by a JavaScript enrichment'),
    invalid: metric('invalid', 'events kept despite an atomic field length violation (acceptInvalid)'),
  };
  const interval = o.progressIntervalMs ?? 10_000;
  let lastEvents = 0;
  let lastAt = Date.now();
  const progress = (): void => {
    const at = Date.now();
    const eventsPerSec = Math.round(((counts.events - lastEvents) * 1000) / Math.max(1, at - lastAt));
    lastEvents = counts.events;
    lastAt = at;
    o.logger.info({ ...counts, eventsPerSec }, 'enrich progress');
  };
  const timer = interval > 0 ? setInterval(progress, interval) : null;
  timer?.unref();

  const encoder = new LineEncoder();
  const flushChars = o.flushChars ?? FLUSH_CHARS;
  const onBatch = async (batch: Batch): Promise<void> => {
    // Lines waiting to be written, flushed every FLUSH_CHARS so that a batch of hostile records (each may expand
    // to MAX_PAYLOAD_OUTPUT_CHARS) is never held whole; the batch is committed only after its last flush.
    let good: Buffer[] = [];
    let bad: Buffer[] = [];
    let pii: Buffer[] = [];
    let failedLines: Buffer[] = [];
    let waiting = 0;
    // Totals of the batch, added to `counts` after the commit.
    let events = 0;
    let dropped = 0;
    let invalid = 0;
    let nGood = 0;
    let nBad = 0;
    let nPii = 0;
    let nFailed = 0;
    const now = Date.now();
    const flush = async (): Promise<void> => {
      const [g, p, fl] = await Promise.all([
        o.good.write(good),
        o.pii === null || pii.length === 0 ? null : o.pii.write(pii),
        failedSink === null || failedLines.length === 0 ? null : failedSink.write(failedLines),
      ]);
      if (g.invalid !== undefined && g.invalid.length > 0) {
        for (const rec of g.invalid) {
          bad.push(Buffer.from(sizeViolation(o.processorInfo, now, 1_000_000, rec.length, 'enriched event is larger than the good sink accepts', rec.toString('utf8', 0, 100_000)), 'utf8'));
        }
      }
      const b = await o.bad.write(bad);
      const failed = g.failed.length + b.failed.length + (p?.failed.length ?? 0) + (fl?.failed.length ?? 0);
      if (failed > 0 || (b.invalid?.length ?? 0) > 0) {
        throw new FurrowError('ENRICH_SINK_GAVE_UP', `sinks could not write ${failed + (b.invalid?.length ?? 0)} records of a batch from ${batch.origin}; stopping before the checkpoint`);
      }
      nGood += good.length - (g.invalid?.length ?? 0);
      nBad += bad.length;
      nPii += pii.length;
      nFailed += failedLines.length;
      good = [];
      bad = [];
      pii = [];
      failedLines = [];
      waiting = 0;
    };
    const take = async (r: RecordOutput): Promise<void> => {
      for (const l of r.good) good.push(encoder.encode(l));
      for (const l of r.bad) bad.push(encoder.encode(l));
      for (const l of r.pii) pii.push(encoder.encode(l));
      if (failedSink !== null) for (const l of r.failed) failedLines.push(encoder.encode(l));
      events += r.events;
      dropped += r.dropped;
      invalid += r.invalid;
      waiting += r.chars;
      if (waiting >= flushChars) await flush();
    };
    const size = o.processor.concurrentRecords;
    if (size === 1) for (const record of batch.records) await take(await o.processor.process(record, now, take));
    else {
      // An enrichment whose calls share a wait (the JavaScript enrichment's script process): `size` records at
      // once, waiting once together. Output keeps the record order (so no spill: each record's output is taken
      // whole, after the window).
      for (let w = 0; w < batch.records.length; w += size) {
        const outs = await Promise.all(batch.records.slice(w, w + size).map((record) => o.processor.process(record, now)));
        for (const r of outs) await take(r);
      }
    }
    await flush();
    await batch.commit();
    counts.records += batch.records.length;
    counts.events += events;
    counts.good += nGood;
    counts.bad += nBad;
    counts.pii += nPii;
    counts.failed += nFailed;
    counts.dropped += dropped;
    counts.invalid += invalid;
    m.records?.inc(batch.records.length);
    m.events?.inc(events);
    m.good?.inc(nGood);
    m.bad?.inc(nBad);
    m.pii?.inc(nPii);
    m.failed?.inc(nFailed);
    m.dropped?.inc(dropped);
    m.invalid?.inc(invalid);
  };
  try {
    await o.source.run(onBatch, signal);
  } finally {
    if (timer !== null) clearInterval(timer);
    await Promise.all([o.good.flush(), o.bad.flush(), o.pii?.flush(), failedSink?.flush()]);
  }
  o.logger.info({ ...counts }, 'enrich finished');
  return counts;
}
