/**
 * KinesisWriter's awaited writes and call timeout (issue 15, item 8), against a KinesisSender whose calls the
 * test answers by hand: group commit (waiting writes ride together in the next free call instead of waiting
 * for timeLimitMs), the call timeout (abort, unhealthy at once), bounded attempts, fail-fast with one probe.
 * Buffered (not awaited) writes keep Snowplow's behaviour: retried until they land.
 */
import t from 'tap';
import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KinesisWriter, type KinesisSender } from '../../streams/kinesis/kinesis-writer.js';
import { waitFor } from '../support/wait-for.js';

interface PendingCall {
  records: string[];
  signal: AbortSignal | undefined;
  ok(): void;
  fail(e?: Error): void;
}

/** A sender whose PutRecords calls wait until the test settles them. */
function manualSender(): KinesisSender & { calls: PendingCall[] } {
  const calls: PendingCall[] = [];
  return {
    calls,
    send(cmd, options) {
      if (!(cmd instanceof PutRecordsCommand)) return Promise.resolve({ StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } });
      const entries = cmd.input.Records!;
      return new Promise((resolve, reject) => {
        calls.push({
          records: entries.map((e) => Buffer.from(e.Data!).toString()),
          signal: options?.abortSignal,
          ok: () => resolve({ FailedRecordCount: 0, Records: entries.map(() => ({ SequenceNumber: '1', ShardId: 's' })) } satisfies Partial<PutRecordsCommandOutput>),
          fail: (e = new Error('InternalFailure')) => reject(e),
        });
      });
    },
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

t.test('awaited writes are flushed on demand and ride together in the next free call', async (t) => {
  const s = manualSender();
  const w = new KinesisWriter({ client: s, streamName: 's', timeLimitMs: 3_600_000, maxInFlight: 1 });
  t.teardown(() => w.close());
  const a = w.write([Buffer.from('a')], 'k', { awaited: true });
  await waitFor('the first call', () => s.calls.length === 1, { timeoutMs: 5_000, everyMs: 2 });
  t.same(s.calls[0]!.records, ['a'], 'sent at the end of the turn, not after timeLimitMs');
  const b = w.write([Buffer.from('b')], 'k', { awaited: true });
  const c = w.write([Buffer.from('c1'), Buffer.from('c2')], 'k', { awaited: true });
  await tick();
  t.equal(s.calls.length, 1, 'the only slot is busy: b and c wait in the buffer');
  s.calls[0]!.ok();
  t.same(await a, { sent: 1, failed: [], invalid: [] });
  await waitFor('the second call', () => s.calls.length === 2, { timeoutMs: 5_000, everyMs: 2 });
  t.same(s.calls[1]!.records, ['b', 'c1', 'c2'], 'everything that waited goes in one call when the slot frees');
  s.calls[1]!.ok();
  t.equal((await b).sent, 1);
  t.equal((await c).sent, 2);
});

t.test('buffered writes are flushed by timeLimitMs', async (t) => {
  const s = manualSender();
  const w = new KinesisWriter({ client: s, streamName: 's', timeLimitMs: 30, maxInFlight: 1 });
  const p = w.write([Buffer.from('x')], 'k');
  await waitFor('the timed flush', () => s.calls.length === 1, { timeoutMs: 5_000, everyMs: 2 });
  s.calls[0]!.ok();
  t.equal((await p).sent, 1);
  await w.close();
});

t.test('a call unanswered within callTimeoutMs is aborted, the stream unhealthy at once; awaited writes fail', async (t) => {
  const s = manualSender();
  const w = new KinesisWriter({ client: s, streamName: 's', timeLimitMs: 3_600_000, callTimeoutMs: 50, backoff: { minBackoffMs: 10, maxBackoffMs: 20, maxRetries: 3 } });
  t.teardown(() => w.close());
  // Healthy first (a successful call).
  const first = w.write([Buffer.from('ok')], 'k', { awaited: true });
  await waitFor('a call', () => s.calls.length === 1, { timeoutMs: 5_000, everyMs: 2 });
  s.calls[0]!.ok();
  await first;
  t.equal(w.isHealthy(), true);
  const r = await w.write([Buffer.from('hung')], 'k', { awaited: true });
  t.same({ sent: r.sent, failed: r.failed.map(String) }, { sent: 0, failed: ['hung'] }, 'reported failed, not retried');
  t.equal(s.calls.length, 2, 'one attempt');
  t.equal(s.calls[1]!.signal?.aborted, true, 'the call was aborted');
  t.equal(w.isHealthy(), false, 'unhealthy after one hung call, not after maxRetries of them');
  t.equal(w.pendingBytes, 0);
});

t.test('awaited writes: given up after maxRetries failed attempts; then failed at once but one probe at a time', async (t) => {
  const s = manualSender();
  const w = new KinesisWriter({ client: s, streamName: 's', timeLimitMs: 3_600_000, backoff: { minBackoffMs: 5, maxBackoffMs: 10, maxRetries: 3 } });
  t.teardown(() => w.close());
  const p = w.write([Buffer.from('x')], 'k', { awaited: true });
  for (let attempt = 1; attempt <= 3; attempt++) {
    await waitFor(`attempt ${attempt}`, () => s.calls.length === attempt, { timeoutMs: 5_000, everyMs: 2 });
    s.calls[attempt - 1]!.fail();
  }
  const r = await p;
  t.equal(r.failed.length, 1, 'given up after 3 attempts');
  t.equal(s.calls.length, 3);
  t.equal(w.isHealthy(), false);
  t.equal(w.pendingBytes, 0);
  // Unhealthy: the first awaited write is the probe; another one meanwhile fails without a call.
  await new Promise((r2) => setTimeout(r2, 10)); // past minBackoffMs since the last probe
  const probe = w.write([Buffer.from('probe')], 'k', { awaited: true });
  const refused = await w.write([Buffer.from('refused')], 'k', { awaited: true });
  t.same(refused.failed.map(String), ['refused'], 'failed at once while the probe is out');
  await waitFor('the probe call', () => s.calls.length === 4, { timeoutMs: 5_000, everyMs: 2 });
  t.same(s.calls[3]!.records, ['probe']);
  s.calls[3]!.ok();
  t.equal((await probe).sent, 1);
  t.equal(w.isHealthy(), true, 'the probe made the stream healthy again');
  const after = w.write([Buffer.from('after')], 'k', { awaited: true });
  await waitFor('a normal call', () => s.calls.length === 5, { timeoutMs: 5_000, everyMs: 2 });
  s.calls[4]!.ok();
  t.equal((await after).sent, 1);
});

t.test('buffered writes are retried until they land, whatever the failures', async (t) => {
  const s = manualSender();
  const w = new KinesisWriter({ client: s, streamName: 's', timeLimitMs: 1, callTimeoutMs: 30, backoff: { minBackoffMs: 1, maxBackoffMs: 2, maxRetries: 2 } });
  t.teardown(() => w.close());
  const p = w.write([Buffer.from('keep')], 'k');
  for (let attempt = 1; attempt <= 4; attempt++) {
    await waitFor(`attempt ${attempt}`, () => s.calls.length === attempt, { timeoutMs: 5_000, everyMs: 2 });
    if (attempt === 2) continue; // left unanswered: the call timeout aborts it
    if (attempt < 4) s.calls[attempt - 1]!.fail();
  }
  s.calls[3]!.ok();
  t.same((await p).sent, 1, 'landed on the fourth attempt');
  t.equal(w.isHealthy(), true);
});
