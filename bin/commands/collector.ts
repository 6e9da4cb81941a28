/**
 * `furrow collector --config FILE [--workers N] [--sink stdout|kinesis] [--log-level L]`: wiring only.
 */
import cluster from 'node:cluster';
import { FurrowError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { loadCollectorConfig, type SinkType } from '../../collector/config.js';
import { parseCommandArgs, str, usageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: furrow collector --config FILE [options]

Runs a Snowplow-compatible collector (Snowplow collector 3.x HOCON config files work unchanged).

Options:
  --config, -c FILE   collector HOCON config (required); \${VAR} / \${?VAR} come from the environment
  --workers N         serve the port from N processes (node:cluster); default 1
  --sink stdout|kinesis
                      override the sink chosen from the config (see docs/collector.md)
  --log-level LEVEL   pino level for the JSON logs on stderr (default info)
  --help, -h          this text

The stdout sink prints one base64 record per line on stdout, bad rows on stderr.
Metrics: GET /metrics (Prometheus). SIGTERM/SIGINT: graceful shutdown (buffers are flushed).`;

interface Flags {
  config: string;
  workers: number;
  sink: SinkType | undefined;
  logLevel: string;
}

const FLAGS: FlagTable = {
  config: { type: 'string', short: 'c' },
  workers: { type: 'string' },
  sink: { type: 'string' },
};

function parseFlags(argv: string[]): Flags {
  const args = parseCommandArgs(argv, FLAGS, USAGE);
  const config = str(args, 'config');
  if (config === undefined) throw usageError('--config FILE is required', USAGE);
  const w = str(args, 'workers') ?? '1';
  const workers = Number(w);
  if (!/^\d+$/.test(w) || workers < 1 || workers > 256) throw new FurrowError('CONFIG_CLI_USAGE', `--workers: expected an integer in [1, 256], got ${w}`);
  const sink = str(args, 'sink');
  if (sink !== undefined && sink !== 'stdout' && sink !== 'kinesis') throw new FurrowError('CONFIG_CLI_USAGE', `--sink: expected stdout or kinesis, got ${sink}`);
  return { config, workers, sink, logLevel: args.logLevel };
}

export const command: Command = {
  summary: 'Snowplow-compatible HTTP collector (tracker protocol in, CollectorPayload records to Kinesis or stdout)',
  usage: USAGE,
  async run(argv) {
    const f = parseFlags(argv);
    const log = createLogger('collector', f.logLevel);
    // Parse in the primary too, so a bad config fails once, before any fork.
    const config = await loadCollectorConfig(f.config, process.env, f.sink ? { sink: f.sink } : {});
    if (!cluster.isWorker) for (const w of config.warnings) log.warn({ key: w.key }, `${w.key}: ${w.message}`);
    const { createCollector } = await import('../../collector/collector.js');
    const { startCollectorServer } = await import('../../collector/server.js');
    const clusterMod = await import('../../collector/cluster.js');

    if (f.workers > 1 && cluster.isPrimary) {
      log.info({ sink: config.streams.sink, reason: config.streams.sinkReason, workers: f.workers }, 'starting collector workers');
      return clusterMod.runPrimary(f.workers, log);
    }
    const worker = cluster.isWorker;
    if (!worker) log.info({ sink: config.streams.sink, reason: config.streams.sinkReason, acknowledge: config.furrow.acknowledge }, 'collector sink');
    const collector = createCollector(config, {
      logger: log,
      ...(worker && config.streams.sink === 'stdout' ? { stdout: clusterMod.primaryStream(1), stderr: clusterMod.primaryStream(2) } : {}),
      ...(worker ? { metricsText: clusterMod.clusterMetricsText() } : {}),
    });
    if (worker) clusterMod.registerWorkerRegistry(collector.metrics.registry);
    const running = await startCollectorServer(collector, { logger: log });
    if (worker) clusterMod.announceListening(running.port);
    else log.info({ port: running.port, interface: config.interface }, 'collector listening');

    // Progress: one line a minute with totals and the sinks' state.
    const progress = setInterval(() => {
      log.info({ ...collector.metrics.snapshot(), goodPendingBytes: collector.good.pendingBytes(), badPendingBytes: collector.bad.pendingBytes(), sinksHealthy: collector.good.isHealthy() && collector.bad.isHealthy() }, 'collector progress');
    }, 60_000);
    progress.unref();

    return new Promise<number>((resolve) => {
      const stop = (signal: string): void => {
        clearInterval(progress);
        log.info({ signal }, 'collector stopping');
        running.shutdown().then(
          () => {
            log.info({ served: collector.metrics.served }, 'collector stopped');
            resolve(0);
            // A worker's IPC channel would keep it alive; everything is flushed by now.
            if (worker) cluster.worker?.disconnect();
          },
          (e: unknown) => {
            log.error({ err: e }, 'collector shutdown failed');
            resolve(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};
