/**
 * runKinesisLoader's exactly-once rule against the stored position, with a scripted source and an
 * in-memory loader: a shard whose lease moved to another loader (which loaded more) and came back must
 * be judged against the warehouse's current position, not one remembered from before.
 */
import t from 'tap';
import type { Source } from '../../streams/source.js';
import type { KinesisRecordBatch } from '../../streams/kinesis/kinesis-source.js';
import type { BatchLoader, BatchOutcome } from '../../loaders/loader.js';
import { runKinesisLoader } from '../../loaders/kinesis-input.js';
import { silentLogger } from '../../common/logger.js';

function batch(shardId: string, first: number, count: number): KinesisRecordBatch {
  const records = Array.from({ length: count }, (_, i) => Buffer.from(`event-${first + i}\n`));
  return {
    records, origin: shardId, position: null, shardId, millisBehindLatest: 0,
    firstSequenceNumber: String(first), lastSequenceNumber: String(first + count - 1),
    commit: async () => {},
  };
}

class MemoryLoader implements BatchLoader {
  readonly rows: string[] = [];
  readonly positions = new Map<string, string>();
  async start(): Promise<void> {}
  async position(stream: string): Promise<string | null> {
    return this.positions.get(stream) ?? null;
  }
  async load(lines: readonly string[], stream: string | null, position: string): Promise<BatchOutcome> {
    this.rows.push(...lines);
    if (stream !== null) this.positions.set(stream, position);
    return { loaded: lines.length, bad: 0 } as BatchOutcome;
  }
  async close(): Promise<void> {}
}

t.test('a shard that came back after another loader advanced it loads nothing twice', async (t) => {
  const loader = new MemoryLoader();
  const source: Source = {
    streamId: 'enriched',
    async run(onBatch) {
      await onBatch(batch('shard-0', 100, 10)); // we load 100..109
      // The lease moves away: another loader loads 110..119 and stores its position.
      loader.rows.push(...Array.from({ length: 10 }, (_, i) => `event-${110 + i}`));
      loader.positions.set('kinesis:s/shard-0', JSON.stringify({ first: '110', last: '119', count: 10 }));
      // The lease comes back before the other loader's checkpoint: we re-read from 110.
      await onBatch(batch('shard-0', 110, 15)); // 110..124: only 120..124 are new
    },
  };
  await runKinesisLoader(source, 's', loader, new AbortController().signal, silentLogger);
  const counts = new Map<string, number>();
  for (const r of loader.rows) counts.set(r, (counts.get(r) ?? 0) + 1);
  t.equal(loader.rows.length, 25, 'events 100..124 once each');
  t.same([...counts.values()].filter((n) => n > 1), [], 'no event loaded twice');
});
