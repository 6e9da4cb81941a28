/**
 * The enricher's output is bounded per payload and written in slices per batch. A tp2 batch's querystring is
 * copied into each of its events, so one ~1 MB tracker request (a 19 KB context in the querystring, 33,000 minimal
 * events in the body) expanded to ~650 MB of lines: 3.8 GB of RSS and a minute for one record, and four such
 * records in one batch made `furrow enrich` reach 5.9 GB and exit 1 with nothing written (found by
 * test/fuzz/hostile-input.test.ts). Now a payload whose lines pass the bound is one size_violation bad row, and a
 * batch's lines go to the sinks every ~16 MB instead of all at once.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeCollectorPayload } from '../../formats/collector-payload.js';
import { silentLogger } from '../../common/logger.js';
import type { Batch, Source } from '../../streams/source.js';
import type { Sink, WriteResult } from '../../streams/sink.js';
import { DEFAULT_ENRICH_CONFIG } from '../../enricher/config.js';
import { AdapterRegistry } from '../../enricher/adapters/registry.js';
import { runEnrich } from '../../enricher/enrich-app.js';
import { RecordProcessor, type RecordOutput } from '../../enricher/processor.js';
import { REPO_ROOT } from '../support/fixtures.js';
import { BASE_PAYLOAD, TEST_PROCESSOR, badSchema, qs, record, testEnricher, testResolver, tp2Body } from './support.js';

const TP2 = '/com.snowplowanalytics.snowplow/tp2';
/** A valid contexts parameter of about `size` characters (link_click's targetUrl has no maxLength). */
const bigContext = (size: number): string =>
  JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1', data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: `https://x.example/${'x'.repeat(size)}` } }] });
/** A tp2 batch of `events` minimal events, with `contextSize` characters of context in the querystring. */
const amplifier = (events: number, contextSize: number): Buffer =>
  record({ path: TP2, contentType: 'application/json', querystring: qs({ co: bigContext(contextSize) }), body: tp2Body(Array.from({ length: events }, () => ({ e: 'pv', p: 'web', tv: 't' }))) });

async function boundedProcessor(maxPayloadOutputChars: number): Promise<RecordProcessor> {
  const { manager } = await testEnricher();
  return new RecordProcessor({
    manager,
    adapters: new AdapterRegistry(),
    adapterDeps: { resolver: await testResolver(), maxJsonDepth: 50 },
    processor: TEST_PROCESSOR,
    framing: DEFAULT_ENRICH_CONFIG.decompression,
    maxRecordSize: null,
    maxPayloadOutputChars,
  });
}

function framed(payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 1])];
  for (const p of payloads) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(p.length);
    parts.push(len, p);
  }
  return gzipSync(Buffer.concat(parts));
}

t.test('a payload whose lines pass the bound is one size_violation; smaller payloads are untouched', async (t) => {
  const processor = await boundedProcessor(200_000);
  const big = amplifier(200, 5000); // ~200 × 6 KB of good lines
  const r = await processor.process(big, Date.UTC(2025, 0, 1));
  t.same(r.good, [], 'no good line of the payload is kept');
  t.equal(r.bad.length, 1);
  t.equal(r.events, 1, 'the payload counts as one event in (a payload-level failure)');
  t.equal(badSchema(r.bad[0]!), 'size_violation');
  const row = JSON.parse(r.bad[0]!) as { data: { failure: { maximumAllowedSizeBytes: number; actualSizeBytes: number; expectation: string }; payload: string } };
  t.equal(row.data.failure.maximumAllowedSizeBytes, 200_000);
  t.ok(row.data.failure.actualSizeBytes > 200_000);
  t.match(row.data.failure.expectation, /enriched output of one payload exceeds 200000 characters \(200 events\)/);
  t.ok(Buffer.from(row.data.payload, 'base64').equals(big), 'the bad row carries the whole payload, so it can be replayed');
  t.ok(r.chars < 300_000, `what the record holds is bounded (${r.chars} characters)`);

  const small = await processor.process(amplifier(20, 5000), Date.UTC(2025, 0, 1));
  t.equal(small.good.length, 20, 'a payload under the bound gives its 20 good lines');
  t.equal(small.events, 20);
  t.equal(small.chars, small.good.reduce((n, l) => n + l.length, 0), 'chars counts the lines');
});

t.test('framed record: each payload is bounded on its own, and each is handed out before the next is enriched', async (t) => {
  const processor = await boundedProcessor(200_000);
  const spilled: RecordOutput[] = [];
  const last = await processor.process(framed([amplifier(200, 5000), amplifier(20, 5000), encodeCollectorPayload({ ...BASE_PAYLOAD, querystring: qs({ e: 'pv', p: 'web', tv: 't' }) })]), Date.UTC(2025, 0, 1), async (part) => {
    spilled.push(part);
  });
  t.same(spilled.map((p) => [p.good.length, p.bad.map(badSchema), p.events]), [[0, ['size_violation'], 1], [20, [], 20]], 'the first two payloads are spilled, the first as one size_violation');
  t.same([last.good.length, last.bad.length, last.events], [1, 0, 1], 'the last payload is returned');
});

/** A source of one batch; records when it was committed relative to the sink writes. */
class OneBatch implements Source {
  readonly streamId = null;
  constructor(private readonly records: Buffer[], private readonly log: string[]) {}
  async run(onBatch: (b: Batch) => Promise<void>): Promise<void> {
    await onBatch({ records: this.records, origin: 'test', position: null, commit: async () => { this.log.push('commit'); } });
  }
}

class RecordingSink implements Sink {
  readonly writes: number[] = [];
  constructor(private readonly name: string, private readonly log: string[]) {}
  async write(records: readonly Buffer[]): Promise<WriteResult> {
    const bytes = records.reduce((n, r) => n + r.length, 0);
    if (records.length > 0) {
      this.writes.push(bytes);
      this.log.push(`${this.name} ${records.length}`);
    }
    return { sent: records.length, failed: [] };
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

t.test('a batch is written to the sinks in slices, all before its commit', async (t) => {
  const { processor } = await testEnricher();
  const log: string[] = [];
  // 30 records of 10 events, each good line ~3.3 KB: ~1 MB of lines in one batch, flushed every 100,000 chars.
  const records = Array.from({ length: 30 }, () => record({ path: TP2, contentType: 'application/json', body: tp2Body(Array.from({ length: 10 }, () => ({ e: 'pv', p: 'web', tv: 't', url: `https://x.example/${'u'.repeat(2000)}` }))) }));
  const good = new RecordingSink('good', log);
  const bad = new RecordingSink('bad', log);
  const counts = await runEnrich({ source: new OneBatch(records, log), processor, good, bad, pii: null, processorInfo: TEST_PROCESSOR, logger: silentLogger, registry: null, progressIntervalMs: 0, flushChars: 100_000 }, new AbortController().signal);
  t.equal(counts.good, 300);
  t.equal(counts.events, 300);
  t.ok(good.writes.length >= 6, `the batch went out in ${good.writes.length} writes`);
  // All records are alike (ASCII lines): a write may pass the threshold by at most one record's lines.
  const oneRecord = good.writes.reduce((n, b) => n + b, 0) / records.length;
  t.ok(good.writes.every((b) => b < 100_000 + oneRecord), `no write holds more than the threshold plus one record (largest ${Math.max(...good.writes)} bytes, one record ${oneRecord})`);
  t.equal(log.at(-1), 'commit', 'the commit comes after the last write');
  t.equal(log.filter((l) => l === 'commit').length, 1);
});

t.test('furrow enrich (defaults): one ~0.5 MB amplifying request is one bad row, in bounded memory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-output-bound-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.b64');
  // 12,000 events × a 19 KB context: ~230 MB of good lines without the bound (old code: ~1 GB RSS).
  writeFileSync(input, `${amplifier(12_000, 19_000).toString('base64')}\n${record({ querystring: qs({ e: 'pv', p: 'web', tv: 't' }) }).toString('base64')}\n`);
  const rssFile = join(dir, 'rss');
  const out = join(dir, 'out');
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', join(REPO_ROOT, 'test/support/peak-rss.mjs'), 'bin/furrow.ts', 'enrich', '--input', input, '--output', out, '--offline'], {
    cwd: REPO_ROOT, env: { ...process.env, FURROW_PEAK_RSS_FILE: rssFile }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
  clearTimeout(guard);
  t.equal(code, 0, stderr.slice(-1000));
  const bad = readFileSync(join(out, 'bad.jsonl'), 'utf8').split('\n').filter(Boolean);
  const good = readFileSync(join(out, 'good.tsv'), 'utf8').split('\n').filter(Boolean);
  t.same(bad.map(badSchema), ['size_violation'], 'the amplifying payload is one size_violation');
  t.equal(good.length, 1, 'the next record is enriched as usual');
  t.match(stderr, /"records":2,"events":2,"good":1,"bad":1/, 'events in = good + bad out');
  const rssMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
  t.ok(rssMb < 400, `peak RSS ${rssMb.toFixed(0)} MiB < 400 MiB`);
});
