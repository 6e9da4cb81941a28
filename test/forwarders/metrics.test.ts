import { Registry } from 'prom-client';
import t from 'tap';
import { registerForwardMetrics } from '../../forwarders/metrics.js';
import { FAST_RETRY, runForward, startServer } from './helpers.js';
import { generateLines } from './tsv-generator.js';

t.test('Prometheus metrics reflect the run: read, delivered, dead-lettered, filtered, requests, retries', async (t) => {
  let n = 0;
  const ok = await startServer();
  const flaky = await startServer(() => (++n <= 2 ? { status: 500 } : { status: 400, body: 'no' }));
  t.teardown(() => Promise.all([ok.close(), flaky.close()]));
  const registry = new Registry();
  await runForward(
    {
      destinations: [
        { name: 'ok', filter: { app_ids: ['shop'] }, target: { type: 'http', url: ok.url }, batch: { max_events: 100 } },
        { name: 'flaky', target: { type: 'http', url: flaky.url }, retry: FAST_RETRY, batch: { max_events: 100 } },
      ],
    },
    [...generateLines(30), 'junk'],
    { onStart: (fw) => registerForwardMetrics(registry, fw) },
  );
  const text = await registry.metrics();
  t.match(text, /furrow_forward_events_read_total 31/);
  t.match(text, /furrow_forward_events_unparseable_total 1/);
  t.match(text, /furrow_forward_events_delivered_total\{destination="ok"\} 20/);
  t.match(text, /furrow_forward_events_filtered_total\{destination="ok"\} 10/);
  t.match(text, /furrow_forward_events_dead_lettered_total\{destination="flaky"\} 30/);
  t.match(text, /furrow_forward_requests_total\{destination="flaky"\} 3/);
  t.match(text, /furrow_forward_retries_total\{destination="flaky"\} 2/);
  t.match(text, /furrow_forward_queue_events\{destination="flaky"\} 0/);
});
