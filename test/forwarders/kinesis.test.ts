/**
 * Kinesis in and out, against kinesalite + dynalite in this process: the Kinesis target re-publishes filtered
 * events (retrying throttled records without duplicating accepted ones), and the leased Kinesis input feeds
 * the forwarder and checkpoints only what was delivered.
 */
import { join } from 'node:path';
import { PutRecordsCommand, type PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import t from 'tap';
import { silentLogger } from '../../common/logger.js';
import { parseForwardConfig } from '../../forwarders/config.js';
import { buildForwarder, createInput } from '../../forwarders/build.js';
import { createStream, putRecords, readAll, startLocalAws } from '../support/local-aws.js';
import { readDeadLetters, runForward, startServer, tempDir } from './helpers.js';
import { column, generateLines } from './tsv-generator.js';
import { waitFor } from '../support/wait-for.js';

t.test('Kinesis target: filtered TSV and JSON re-published; throttled records retried, accepted ones not duplicated', async (t) => {
  const aws = await startLocalAws();
  t.teardown(() => aws.close());
  await createStream(aws.kinesis, 'shop-tsv', 2);
  await createStream(aws.kinesis, 'all-json', 1);
  let calls = 0;
  // Fault injection around the real client: call 1 throws, call 2 marks every other record throttled.
  const flaky = {
    async send(cmd: unknown): Promise<unknown> {
      if (cmd instanceof PutRecordsCommand && cmd.input.StreamName === 'shop-tsv') {
        calls++;
        if (calls === 1) throw Object.assign(new Error('socket hang up'), { name: 'NetworkError' });
        if (calls === 2) {
          const keep = cmd.input.Records!.filter((_, i) => i % 2 === 0);
          const out = (await aws.kinesis.send(new PutRecordsCommand({ StreamName: 'shop-tsv', Records: keep }))) as PutRecordsCommandOutput;
          let k = 0;
          return {
            FailedRecordCount: cmd.input.Records!.length - keep.length,
            Records: cmd.input.Records!.map((_, i) => (i % 2 === 0 ? out.Records![k++] : { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' })),
          };
        }
      }
      return aws.kinesis.send(cmd as PutRecordsCommand);
    },
  };
  const lines = generateLines(300);
  const { summary, deadLetters } = await runForward(
    {
      destinations: [
        {
          name: 'shop',
          filter: { app_ids: ['shop'] },
          target: { type: 'kinesis', stream_name: 'shop-tsv', partition_key_field: 'domain_userid' },
          retry: { max_attempts: 5, initial_delay: '5 millis', max_delay: '20 millis' },
        },
        {
          name: 'json',
          target: { type: 'kinesis', stream_name: 'all-json', format: 'json', endpoint: aws.kinesisEndpoint, region: 'us-east-1' },
          transform: { type: 'mapping', mode: 'replace', fields: { id: 'event_id', plan: 'contexts_com_acme_user_1.plan' } },
        },
      ],
    },
    lines,
    { deps: { kinesisClient: (d) => (d.name === 'shop' ? flaky : aws.kinesis) } },
  );
  t.same(deadLetters, []);
  const shop = lines.filter((l) => column(l, 'app_id') === 'shop');
  const got = await readAll(aws.kinesis, 'shop-tsv');
  t.equal(got.length, shop.length, 'no duplicates after the partial failure');
  t.same([...got].sort(), [...shop].sort(), 'the enriched lines, unchanged');
  t.ok(summary.destinations.shop!.retries >= 2);
  const json = (await readAll(aws.kinesis, 'all-json')).map((s) => JSON.parse(s) as { id: string; plan: string });
  t.equal(json.length, 300);
  t.same(json.find((j) => j.id === column(lines[4]!, 'event_id')), { id: column(lines[4]!, 'event_id'), plan: 'pro' });
});

t.test('Kinesis input through leases: delivered, checkpointed, not read again by the next worker', async (t) => {
  const aws = await startLocalAws();
  const server = await startServer();
  t.teardown(async () => {
    await server.close();
    await aws.close();
  });
  await createStream(aws.kinesis, 'enriched', 2);
  const lines = generateLines(250);
  await putRecords(aws.kinesis, 'enriched', [...lines, 'garbage record']);
  const dir = tempDir();
  const raw = {
    input: { type: 'kinesis', stream_name: 'enriched', app_name: 'furrow-forward-test', endpoint: aws.kinesisEndpoint, dynamodb_endpoint: aws.dynamoEndpoint, region: 'us-east-1' },
    dead_letter: { type: 'file', path: join(dir, 'dlq.jsonl') },
    destinations: [{ name: 'h', target: { type: 'http', url: server.url }, batch: { max_events: 50, flush_interval: '10 millis' } }],
  };
  const delivered = () => server.accepted.reduce((n, r) => n + (JSON.parse(r.body) as unknown[]).length, 0);

  const runOnce = async (until: () => boolean) => {
    const cfg = await parseForwardConfig(raw, {});
    const built = await buildForwarder(cfg, { log: silentLogger });
    const source = await createInput(cfg.input, silentLogger);
    const running = built.forwarder.run(source);
    const ok = await waitFor('the expected deliveries', until, { timeoutMs: 30_000 });
    built.forwarder.stop();
    const summary = await running;
    await built.close();
    return { ok, summary };
  };

  const first = await runOnce(() => delivered() >= 250 && readDeadLetters(join(dir, 'dlq.jsonl')).length === 1);
  t.ok(first.ok, 'all 250 events delivered and the garbage record dead-lettered');
  t.equal(delivered(), 250);
  t.ok(first.summary.committedBatches > 0, 'batches checkpointed');
  const ids = server.accepted.flatMap((r) => (JSON.parse(r.body) as Array<{ event_id: string }>).map((e) => e.event_id));
  t.equal(new Set(ids).size, 250, 'each once');

  // A new worker with the same app name starts from the checkpoints: only records put since are delivered.
  const more = generateLines(20, { seed: 2 });
  await putRecords(aws.kinesis, 'enriched', more);
  const second = await runOnce(() => delivered() >= 270);
  t.ok(second.ok);
  t.equal(second.summary.read, 20, 'only the 20 new records read: the first 251 were checkpointed');
  t.equal(delivered(), 270);
});
