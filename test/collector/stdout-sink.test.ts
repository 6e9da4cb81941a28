import t from 'tap';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { StdoutSink } from '../../collector/sinks/stdout-sink.js';
import type { WriteResult } from '../../streams/sink.js';

/** A stream that takes each chunk now and calls back later, reading the chunk only then (as a slow pipe would). */
function slowStream(delayMs: number): { out: Writable; text: () => string; writes: () => number } {
  const parts: string[] = [];
  let writes = 0;
  const out = new Writable({
    highWaterMark: 1 << 30,
    write(chunk: Buffer, _enc, cb) {
      writes++;
      setTimeout(() => {
        parts.push(chunk.toString('latin1'));
        cb();
      }, delayMs);
    },
  });
  return { out, text: () => parts.join(''), writes: () => writes };
}

const unpadded = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

t.test('every record comes out as one unpadded base64 line, in order, across slabs and turns', async (t) => {
  const s = slowStream(5);
  const sink = new StdoutSink({ out: s.out, maxBytes: 1_000_000 });
  const expected: string[] = [];
  const results: WriteResult[] = [];
  // Turns of 1..3 MB of lines (several 256 KiB slabs each), record sizes of every remainder mod 3, one record
  // larger than a slab; slabs come back to the free list between turns while earlier writes are still pending.
  for (let turn = 0; turn < 6; turn++) {
    for (let i = 0; i < 400 * (turn + 1); i++) {
      const r = randomBytes(1000 + ((i * 7 + turn) % 11));
      expected.push(unpadded(r));
      sink.enqueue([r], '', (res) => results.push(res));
    }
    if (turn === 2) {
      const huge = randomBytes(400_000);
      expected.push(unpadded(huge));
      sink.enqueue([huge], '', (res) => results.push(res));
    }
    await new Promise((r) => setImmediate(r));
  }
  await sink.flush();
  const lines = s.text().split('\n');
  t.equal(lines.pop(), '', 'output ends with a newline');
  t.equal(lines.length, expected.length);
  t.ok(lines.every((l, i) => l === expected[i]), 'each line is its record, in order');
  t.equal(results.reduce((n, r) => n + r.sent, 0), expected.length, 'every record reported sent');
  t.ok(results.every((r) => r.failed.length === 0));
  t.equal(sink.pendingBytes(), 0);
  t.ok(s.writes() > 6, 'regions of several slabs were written without concatenating them');
});

t.test('the record buffers may be reused by the caller as soon as enqueue returns', async (t) => {
  const s = slowStream(1);
  const sink = new StdoutSink({ out: s.out, maxBytes: 1_000_000 });
  const scratch = Buffer.alloc(30);
  const expected: string[] = [];
  for (let i = 0; i < 50; i++) {
    scratch.fill(i);
    expected.push(unpadded(scratch));
    sink.enqueue([scratch], '', () => {});
  }
  await sink.flush();
  t.same(s.text().split('\n').slice(0, -1), expected);
});

t.test('a failing stream reports the records of its turn failed, the sink turns unhealthy', async (t) => {
  const out = new Writable({
    write(_chunk, _enc, cb) {
      cb(new Error('EPIPE'));
    },
  });
  const sink = new StdoutSink({ out, maxBytes: 1_000_000 });
  const stored = sink.write([randomBytes(10), randomBytes(10)], '');
  const outcome = await Promise.race([stored, sleep(5000).then(() => null)]);
  t.ok(outcome, 'write() settled');
  t.equal(outcome!.sent, 0);
  t.equal(outcome!.failed.length, 2);
  t.notOk(sink.isHealthy());
});

t.test('the slab starts over once written, and lines still come out whole', async (t) => {
  const s = slowStream(2);
  const sink = new StdoutSink({ out: s.out, maxBytes: 1_000_000 });
  const expected: string[] = [];
  for (let turn = 0; turn < 20; turn++) {
    // Every other turn waits for the stream, so the next lines reuse the start of the slab; the others
    // add lines while the previous write is still pending.
    for (let i = 0; i < 30; i++) {
      const r = randomBytes(200 + turn + i);
      expected.push(unpadded(r));
      sink.enqueue([r], '', () => {});
    }
    if (turn % 2 === 0) await sink.flush();
    else await new Promise((r) => setImmediate(r));
  }
  await sink.flush();
  t.same(s.text().split('\n').slice(0, -1), expected);
});

t.test('lines converted while a write is pending are not lost when that write calls back', async (t) => {
  // The stream's callbacks are called by the test, at chosen moments (as a pipe's callbacks arrive
  // between requests); each chunk is read when its callback is called.
  const pending: Array<() => void> = [];
  const parts: string[] = [];
  const out = new Writable({
    highWaterMark: 1 << 30,
    write(chunk: Buffer, _enc, cb) {
      pending.push(() => {
        parts.push(chunk.toString('latin1'));
        cb();
      });
    },
  });
  const sink = new StdoutSink({ out, maxBytes: 1_000_000 });
  const expected: string[] = [];
  const add = (n: number, size: number): void => {
    for (let i = 0; i < n; i++) {
      const r = randomBytes(size + (i % 3));
      expected.push(unpadded(r));
      sink.enqueue([r], '', () => {});
    }
  };
  add(10, 100);
  await new Promise((r) => setImmediate(r)); // written out: one write pending
  t.equal(pending.length, 1);
  add(500, 300); // > 96 KiB of records: converted into the slab before the next write-out
  pending.shift()!(); // the first write calls back now
  await new Promise((r) => setImmediate(r));
  while (pending.length > 0) pending.shift()!();
  const flushed = sink.flush();
  while (pending.length > 0) pending.shift()!();
  await flushed;
  t.same(parts.join('').split('\n').slice(0, -1), expected);
});
