/**
 * `furrow load postgres|redshift|s3`: wiring only — config → clients → source → loader → run.
 */
import { FurrowError } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import { createS3Client } from '../../streams/aws-clients.js';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Command } from '../command.js';
import { loadConfig, loaderFlagTable, loaderFlags, type LoaderConfig, type LoaderFlags } from '../../loaders/config.js';
import { parseCommandArgs } from '../args.js';
import { isLoaderTarget, LOADER_TARGETS, openBatchTarget } from '../../loaders/factory.js';
import type { BatchLoader } from '../../loaders/loader.js';
import type { LoaderMetrics } from '../../loaders/metrics.js';
import type { Registry } from 'prom-client';

const USAGE = `Usage: furrow load <postgres|redshift|s3> [options]

Loads enriched events (Snowplow enriched TSV, one per line) into a warehouse or the S3 data lake.

furrow load postgres --url postgres://user@host/db [--iglu-config resolver.json] [--input FILE|-|s3://bucket/prefix]
  Creates <schema>.events (Snowplow's DDL) and one table per schema model, COPYs each batch in one transaction
  together with the input position (exactly-once across crashes and restarts).
furrow load redshift --stage s3://bucket/prefix [--url …] [--iam-role ARN] [--dry-run]
  Shreds batches into gzipped TSV per table, stages them in S3, then COPYs them in one transaction with a
  manifest row (RDB Loader style). --dry-run prints the SQL instead of running it.
furrow load s3 --output s3://bucket/prefix [--purpose enriched|bad] [--roll-bytes N] [--roll-time 5m]
  Writes lines into gzipped objects under <prefix>/YYYY/MM/DD/HH/ (the lake; replay with --input s3://…).

Options (also keys of a HOCON/JSON --config FILE, in camelCase):
  --config FILE          read options from FILE (flags override); a 'kinesis { … }' block reads the
                         enriched Kinesis stream with leases (streamName, appName, initialPosition, region,
                         endpoint, dynamodbEndpoint, leases)
  --input SRC            '-' (stdin, default), a file (.gz ok), or s3://bucket/prefix
  --stream-name NAME     key of the stored input position (default: derived from the input; stdin is
                         resumable only with a name)
  --batch-size N         lines per batch (default postgres 2000, s3 1000, redshift 100000)
  --batch-max-delay D    hand out a partial batch after D without input (default 1 second)
  --bad FILE|-           bad rows (default '-' = stdout); for s3: s3://bucket/prefix for unparseable lines
  --url URL              postgres/redshift connection URL
  --schema NAME          target schema (default atomic)
  --iglu-config FILE     Iglu resolver config (default: built-in registry + Iglu Central)
  --retry-for D          keep retrying an unreachable database this long (default 10 minutes)
  --region R, --s3-endpoint URL   AWS region; S3 endpoint (MinIO, s3rver)
  --stage s3://…         (redshift) where shredded files are staged
  --iam-role ARN         (redshift) role for COPY … IAM_ROLE
  --max-error N          (redshift) COPY MAXERROR (default 1)
  --dry-run              (redshift) print the SQL, run nothing against the database
  --output s3://…        (s3) destination prefix
  --purpose enriched|bad (s3) what the input holds (default enriched)
  --roll-bytes N         (s3) roll a file at N uncompressed bytes (default 64 MiB)
  --roll-time D          (s3) roll a file after D (default 5 minutes)
  --metrics-port N       serve Prometheus /metrics and /health on N (0 = any free port; default off)
  --log-level L          pino level (default info)
`;

function signalOnTermination(logger: Logger): AbortSignal {
  const ac = new AbortController();
  const stop = (sig: string) => {
    logger.info({ signal: sig }, 'stopping after the current batch');
    ac.abort();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return ac.signal;
}

function s3Factory(cfg: LoaderConfig): () => S3Client {
  let client: S3Client | undefined;
  return () => (client ??= createS3Client({ region: cfg.region ?? undefined, endpoint: cfg.s3Endpoint ?? undefined }));
}

async function createResolver(cfg: LoaderConfig) {
  const { createBuiltinResolver, createResolverFromFile } = await import('../../iglu-resolver/index.js');
  return cfg.igluConfig !== null ? createResolverFromFile(cfg.igluConfig) : createBuiltinResolver();
}

/** Starts /metrics when configured; returns the metrics sink (or null) and a stop function. */
async function startMetrics(cfg: LoaderConfig, logger: Logger): Promise<{ metrics: LoaderMetrics | null; registry: Registry | null; stop: () => Promise<void> }> {
  if (cfg.metricsPort === null) return { metrics: null, registry: null, stop: async () => {} };
  const { Registry, createLoaderMetrics, serveMetrics } = await import('../../loaders/metrics.js');
  const registry = new Registry();
  const metrics = createLoaderMetrics(registry, cfg.target);
  const server = await serveMetrics(cfg.metricsPort, registry, logger);
  return { metrics, registry, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Runs a BatchLoader over the configured input (lines or Kinesis); `encoding` is what the loader takes. */
async function feed(cfg: LoaderConfig, loader: BatchLoader, logger: Logger, s3: () => S3Client, encoding: 'utf8' | 'latin1'): Promise<void> {
  const signal = signalOnTermination(logger);
  const { metrics, registry, stop } = await startMetrics(cfg, logger);
  await loader.start();
  try {
    if (cfg.kinesis !== null) {
      const { createLoaderKinesisSource, runKinesisLoader } = await import('../../loaders/kinesis-input.js');
      const source = await createLoaderKinesisSource(cfg, logger, registry);
      const totals = await runKinesisLoader(source, cfg.kinesis.streamName, loader, signal, logger, metrics, encoding);
      logger.info(totals, 'stopped');
    } else {
      const { createLineInput } = await import('../../streams/factory.js');
      const { runLoader } = await import('../../loaders/loader.js');
      await runLoader(createLineInput(cfg, s3, encoding), loader, signal, logger, metrics);
    }
  } finally {
    await loader.close();
    await stop();
  }
}

/** postgres, redshift: the target's BatchLoader (loaders/factory.ts) fed by the configured input. */
async function runBatch(cfg: LoaderConfig, logger: Logger): Promise<number> {
  const { createBadRowOutput } = await import('../../loaders/bad-row-output.js');
  const s3 = s3Factory(cfg);
  const target = await openBatchTarget(cfg.target, cfg, { logger, resolver: () => createResolver(cfg), badRows: () => createBadRowOutput(cfg.bad), s3 });
  try {
    await feed(cfg, target.loader, logger, s3, target.encoding);
  } finally {
    await target.close();
  }
  return 0;
}

async function runS3(cfg: LoaderConfig, logger: Logger): Promise<number> {
  const { runLakeLoader } = await import('../../loaders/s3/lake-loader.js');
  const { metrics, registry, stop } = await startMetrics(cfg, logger);
  try {
    await runLakeLoader(cfg, s3Factory(cfg)(), logger, signalOnTermination(logger), metrics, registry);
  } finally {
    await stop();
  }
  return 0;
}


/** The command line of `furrow load <target>` (bin/args.ts: `--key value`, `--key=value`, boolean flags). */
export function parseLoadFlags(argv: readonly string[], target: LoaderConfig['target'], usage = `see furrow load ${target} --help`): LoaderFlags {
  const args = parseCommandArgs(argv, loaderFlagTable(target), usage);
  return loaderFlags(args.values, argv.some((a) => a === '--log-level' || a.startsWith('--log-level=')));
}

export const command: Command = {
  summary: 'load enriched events into PostgreSQL, Redshift or the S3 data lake',
  usage: USAGE,
  async run(argv) {
    const [target, ...rest] = argv;
    if (!isLoaderTarget(target)) {
      throw new FurrowError('CONFIG_CLI_USAGE', `expected ${LOADER_TARGETS.slice(0, -1).join(', ')} or ${LOADER_TARGETS.at(-1)} (got ${target ?? 'nothing'}); see furrow load --help`);
    }
    const cfg = await loadConfig(target, parseLoadFlags(rest, target));
    const logger = createLogger(`furrow-load-${target}`, cfg.logLevel);
    return target === 's3' ? runS3(cfg, logger) : runBatch(cfg, logger);
  },
};
