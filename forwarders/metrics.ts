/**
 * Prometheus metrics of `furrow forward`, read from the forwarder's plain counters at scrape time (the hot path
 * only increments numbers):
 *
 *   furrow_forward_events_read_total                          lines read from the input
 *   furrow_forward_events_unparseable_total                   lines that are not enriched events (dead letter)
 *   furrow_forward_events_delivered_total{destination}        accepted by the destination
 *   furrow_forward_events_dead_lettered_total{destination}    written to the dead letter
 *   furrow_forward_events_filtered_total{destination}         left out by the filter / transformation
 *   furrow_forward_requests_total{destination}                requests sent (attempts)
 *   furrow_forward_retries_total{destination}                 batches retried after a failure
 *   furrow_forward_queue_events{destination}                  events waiting or in flight
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Forwarder } from './forwarder.js';

export function registerForwardMetrics(registry: Registry, fw: Forwarder): void {
  const registers = [registry];
  const perDest = (name: string, help: string, pick: (d: Forwarder['destinations'][number]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['destination'],
      registers,
      collect() {
        this.reset();
        for (const d of fw.destinations) this.inc({ destination: d.cfg.name }, pick(d));
      },
    });
  new Counter({
    name: 'furrow_forward_events_read_total',
    help: 'Lines read from the input',
    registers,
    collect() {
      this.reset();
      this.inc(fw.read);
    },
  });
  new Counter({
    name: 'furrow_forward_events_unparseable_total',
    help: 'Input lines that are not enriched events (dead-lettered)',
    registers,
    collect() {
      this.reset();
      this.inc(fw.unparseable);
    },
  });
  perDest('furrow_forward_events_delivered_total', 'Events accepted by the destination', (d) => d.queue.stats.delivered);
  perDest('furrow_forward_events_dead_lettered_total', 'Events written to the dead letter for the destination', (d) => d.queue.stats.deadLettered);
  perDest('furrow_forward_events_filtered_total', 'Events the destination filter or transformation left out', (d) => d.filtered);
  perDest('furrow_forward_requests_total', 'Requests (attempts) sent to the destination', (d) => d.queue.stats.requests);
  perDest('furrow_forward_retries_total', 'Batches retried after a failure', (d) => d.queue.stats.retries);
  new Gauge({
    name: 'furrow_forward_queue_events',
    help: 'Events waiting or in flight for the destination',
    labelNames: ['destination'],
    registers,
    collect() {
      for (const d of fw.destinations) this.set({ destination: d.cfg.name }, d.queue.stats.size);
    },
  });
}
