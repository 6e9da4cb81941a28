/**
 * Prometheus metrics of the lease coordinator and the leased Kinesis source. Registered once per registry:
 * several sources in one process (tests, or a loader reading two streams) share the same metric objects,
 * told apart by the `stream` and `app` labels.
 */
import { Counter, Gauge, register as globalRegistry, type Registry } from 'prom-client';

export interface LeaseMetrics {
  /** furrow_kinesis_millis_behind_latest{stream,shard}: MillisBehindLatest from the last GetRecords. */
  millisBehindLatest: Gauge<'stream' | 'shard'>;
  /** furrow_kinesis_records_read_total{stream,shard}: records delivered to the processor (rate() = records/s). */
  recordsRead: Counter<'stream' | 'shard'>;
  /** furrow_leases_held{app,worker}. */
  leasesHeld: Gauge<'app' | 'worker'>;
  /** furrow_lease_checkpoints_total{app,result}: result = ok | lost | error. */
  checkpoints: Counter<'app' | 'result'>;
  /** furrow_lease_acquired_total{app,how}: how = take | steal. */
  leasesAcquired: Counter<'app' | 'how'>;
  /** furrow_lease_lost_total{app}: leases this worker lost to another worker or to expiry. */
  leasesLost: Counter<'app'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function leaseMetrics(registry: Registry = globalRegistry): LeaseMetrics {
  const registers = [registry];
  return {
    millisBehindLatest: getOrCreate(registry, 'furrow_kinesis_millis_behind_latest', () =>
      new Gauge({ name: 'furrow_kinesis_millis_behind_latest', help: 'MillisBehindLatest of the last GetRecords per shard', labelNames: ['stream', 'shard'] as const, registers }),
    ),
    recordsRead: getOrCreate(registry, 'furrow_kinesis_records_read_total', () =>
      new Counter({ name: 'furrow_kinesis_records_read_total', help: 'Kinesis records delivered to the processor', labelNames: ['stream', 'shard'] as const, registers }),
    ),
    leasesHeld: getOrCreate(registry, 'furrow_leases_held', () =>
      new Gauge({ name: 'furrow_leases_held', help: 'Shard leases held by this worker', labelNames: ['app', 'worker'] as const, registers }),
    ),
    checkpoints: getOrCreate(registry, 'furrow_lease_checkpoints_total', () =>
      new Counter({ name: 'furrow_lease_checkpoints_total', help: 'Checkpoint writes by result (ok, lost, error)', labelNames: ['app', 'result'] as const, registers }),
    ),
    leasesAcquired: getOrCreate(registry, 'furrow_lease_acquired_total', () =>
      new Counter({ name: 'furrow_lease_acquired_total', help: 'Leases taken (unowned or expired) or stolen', labelNames: ['app', 'how'] as const, registers }),
    ),
    leasesLost: getOrCreate(registry, 'furrow_lease_lost_total', () =>
      new Counter({ name: 'furrow_lease_lost_total', help: 'Leases lost to another worker or to expiry', labelNames: ['app'] as const, registers }),
    ),
  };
}
