/**
 * Compressed raw records (collector 3.6 layout) read by the enricher: payloads come out one by one while the
 * record is inflated, and a hostile record (a decompression bomb) costs bounded memory and time.
 */
import t from 'tap';
import { gzipSync } from 'node:zlib';
import { badSchema, column, qs, record, testEnricher } from './support.js';

function frame(payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 1])];
  for (const p of payloads) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(p.length);
    parts.push(len, p);
  }
  return Buffer.concat(parts);
}

function blockHeader(last: boolean, type: number, size: number): Buffer {
  const bh = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]);
}

/**
 * A zstd frame (window 128 KiB, content size not declared) holding `prefix` in a raw block, then `rleBlocks`
 * RLE blocks of 128 KiB of `byte` each: 4 input bytes per 128 KiB of output (the bomb).
 */
function zstdBomb(prefix: Buffer, rleBlocks: number, byte: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]), blockHeader(rleBlocks === 0, 0, prefix.length), prefix];
  const rle = Buffer.concat([blockHeader(false, 1, 128 * 1024), Buffer.from([byte])]);
  for (let i = 0; i < rleBlocks - 1; i++) parts.push(rle);
  if (rleBlocks > 0) parts.push(blockHeader(true, 1, 128 * 1024), Buffer.from([byte]));
  return Buffer.concat(parts);
}

const A = record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: 'one' }) });
const B = record({ querystring: qs({ e: 'pp', p: 'web', tv: 't', aid: 'two' }) });

t.test('zstd bomb: 16 GiB of RLE blocks in a 512 KiB record stops at maxBytesInBatch with one size_violation', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesInBatch: 4_000_000 } });
  // Framing header, one good payload, then the length of a 1 MB payload made of the RLE byte... repeated:
  // every "payload" is 0x01010101 = 16 843 009 bytes (over maxBytesSinglePayload) and is skipped unkept.
  const prefix = Buffer.concat([frame([A])]);
  const bomb = zstdBomb(prefix, 128 * 1024, 0x01);
  t.ok(bomb.length < 600_000, `bomb is ${bomb.length} bytes`);
  const heapBefore = process.memoryUsage().rss;
  const out = await processor.process(bomb);
  const grown = process.memoryUsage().rss - heapBefore;
  t.same(out.good.map((l) => column(l, 'app_id')), ['one'], 'the payload before the bomb is kept');
  const kinds = out.bad.map(badSchema);
  t.equal(kinds[kinds.length - 1], 'size_violation', 'the record ends with a size_violation');
  const last = JSON.parse(out.bad[out.bad.length - 1]!);
  t.equal(last.data.failure.maximumAllowedSizeBytes, 4_000_000);
  t.equal(out.events, 1 + out.bad.length, 'every item in is one good line or one bad row');
  t.ok(grown < 512 * 1024 * 1024, `memory stayed bounded (rss grew ${Math.round(grown / 1e6)} MB)`);
});

t.test('zstd frame declaring a 2 GiB window is refused before anything is allocated', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesInBatch: 4_000_000 } });
  const rec = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (30 - 10) << 3 | 7]), blockHeader(true, 0, 10), frame([]).subarray(0, 2), Buffer.alloc(8)]);
  const out = await processor.process(rec);
  t.equal(out.bad.length, 1);
  t.equal(badSchema(out.bad[0]!), 'size_violation');
});

t.test('gzip bomb with a valid header: stops at maxBytesInBatch; payloads before it are kept', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesInBatch: 1_000_000, maxBytesSinglePayload: 10_000_000 } });
  const header = frame([A]);
  const len = Buffer.alloc(4);
  len.writeInt32BE(9_000_000); // under maxBytesSinglePayload: the batch bound is what stops it
  const out = await processor.process(gzipSync(Buffer.concat([header, len, Buffer.alloc(9_000_000)])));
  t.same(out.good.map((l) => column(l, 'app_id')), ['one']);
  t.same(out.bad.map(badSchema), ['size_violation']);
  t.equal(JSON.parse(out.bad[0]!).data.failure.maximumAllowedSizeBytes, 1_000_000);
});

t.test('an oversized payload inside a batch is one size_violation; the payloads around it go on', async (t) => {
  const { processor } = await testEnricher({ decompression: { maxBytesSinglePayload: 5000 } });
  const big = record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', page: 'p'.repeat(6000) }) });
  const out = await processor.process(gzipSync(frame([A, big, B])));
  t.same(out.good.map((l) => column(l, 'app_id')), ['one', 'two']);
  t.same(out.bad.map(badSchema), ['size_violation']);
  t.equal(out.events, 3);
});

t.test('a cut-off or corrupt compressed record keeps the payloads read before the damage', async (t) => {
  const { processor } = await testEnricher();
  const whole = frame([A, B]);
  const cut = await processor.process(gzipSync(whole.subarray(0, whole.length - 5)));
  t.same(cut.good.map((l) => column(l, 'app_id')), ['one']);
  t.same(cut.bad.map(badSchema), ['collector_payload_format_violation']);
  const zero = await processor.process(gzipSync(Buffer.concat([frame([A]), Buffer.alloc(4_000)])));
  t.same(zero.good.map((l) => column(l, 'app_id')), ['one']);
  t.same(zero.bad.map(badSchema), ['collector_payload_format_violation'], 'a zero length ends the record: one bad row, not one per 4 zero bytes');
  const version = await processor.process(gzipSync(Buffer.from([1, 2, 0, 0, 0, 0])));
  t.match(JSON.parse(version.bad[0]!).data.failure.message.error, /unsupported versions/);
});

t.test('payloads arrive in order across inflater chunks (a payload larger than one chunk)', async (t) => {
  const { processor } = await testEnricher();
  const long = record({ querystring: qs({ e: 'pv', p: 'web', tv: 't', aid: 'long', page: 'x'.repeat(150_000) }) });
  const out = await processor.process(gzipSync(frame([A, long, B])));
  t.same(out.good.map((l) => column(l, 'app_id')), ['one', 'two']);
  // The 150 kB page fails validation: the payload itself was read whole (a cut one would be a format violation).
  t.same(out.bad.map(badSchema), ['schema_violations']);
  t.equal(out.events, 3);
});
