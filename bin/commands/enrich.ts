/**
 * `furrow enrich`: wiring only. Snowplow enrich's flags (`--config`, `--iglu-config`, `--enrichments`) plus
 * furrow's file/stdin mode (`--input`, `--output`).
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { serveMetrics } from '../../common/metrics-server.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { FurrowError } from '../../common/errors.js';
import { createLogger, type Logger } from '../../common/logger.js';
import type { Source } from '../../streams/source.js';
import type { Sink } from '../../streams/sink.js';
import { DEFAULT_ENRICH_CONFIG, readEnrichConfig, type EnrichConfig } from '../../enricher/config.js';
import { createBuiltinResolver, createResolverFromFile } from '../../iglu-resolver/index.js';
import type { IgluResolver } from '../../iglu-resolver/types.js';
import { runEnrich } from '../../enricher/enrich-app.js';
import { createEnricher, PROCESSOR } from '../../enricher/enricher-factory.js';
import type { EnrichmentPipeline } from '../../enricher/enrichments/enrichment.js';
import { buildEnrichments, loadEnrichmentsDir } from '../../enricher/enrichments/registry.js';
import { createKinesisInput, createLineOutput, createPayloadLineInput, kinesisClientFor } from '../../streams/factory.js';
import { createKinesisSink } from '../../streams/sinks/kinesis-sink.js';
import { ENRICH_YOUNG_GENERATION_FLAG, hasYoungGenerationFlag, parseWorkerIndex, parseWorkers, superviseCommand } from '../../enricher/supervisor.js';
import { parseCommandArgs, str, type FlagTable } from '../args.js';
import type { Command } from '../command.js';

/** A supervised worker: unique worker id and metrics port per index. */
function withWorkerIndex(config: EnrichConfig, index: number | null): EnrichConfig {
  if (index === null) return config;
  return Object.freeze({
    ...config,
    input: config.input === null ? null : Object.freeze({ ...config.input, workerIdentifier: config.input.workerIdentifier === null ? null : `${config.input.workerIdentifier}-${index}` }),
    metricsPort: config.metricsPort === null || config.metricsPort === 0 ? config.metricsPort : config.metricsPort + index,
  });
}

const USAGE = `Usage: furrow enrich [options]

Turns collector records (Thrift CollectorPayload) into Snowplow enriched TSV and bad rows.
Snowplow enrich's config files work unchanged.

Options:
  --config FILE        enrich HOCON config (Snowplow enrich-kinesis layout): Kinesis input/outputs, validation
  --iglu-config FILE   Iglu resolver config (resolver.json); default: built-in schemas + Iglu Central
  --enrichments DIR    folder of enrichment config JSON files (Snowplow layout); default: none
  --input stdin|FILE   read base64 Thrift records, one per line, instead of the Kinesis input
  --output stdout|DIR  write enriched TSV to stdout, or DIR/good.tsv + DIR/bad.jsonl (+ DIR/pii.tsv),
                       instead of the Kinesis outputs
  --bad FILE|stderr    with --output stdout: where bad rows go (default stderr)
  --pii FILE           with --output stdout: write pii_transformation events there
  --failed FILE        also write failing events as TSV with failure entities (Snowplow 6.x failed events;
                       with Kinesis outputs: output.failed in --config)
  --assets-dir DIR     where enrichment assets are downloaded (default $TMPDIR/furrow-assets)
  --workers N|auto     run N worker processes sharing the Kinesis shards through the lease table
                       (Kinesis input and outputs only; auto = number of cores); workers are restarted on failure
  --offline            never contact Iglu Central (use only built-in and configured embedded registries)
  --log-level LEVEL    pino level for the JSON logs on stderr (default info)
  --help, -h           this text

Every input event ends as exactly one good line or one bad row. Progress is logged every 10 s;
with monitoring.healthProbe.port set, /health and /metrics (Prometheus) are served there.`;

interface Flags {
  config: string | null;
  igluConfig: string | null;
  enrichments: string | null;
  input: string | null;
  output: string | null;
  bad: string;
  pii: string | null;
  failed: string | null;
  assetsDir: string;
  offline: boolean;
  logLevel: string;
  workers: number | null;
  workerIndex: number | null;
}

const FLAGS: FlagTable = {
  config: { type: 'string' },
  'iglu-config': { type: 'string' },
  resolver: { type: 'string' },
  enrichments: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  bad: { type: 'string' },
  pii: { type: 'string' },
  failed: { type: 'string' },
  'assets-dir': { type: 'string' },
  offline: { type: 'boolean' },
  workers: { type: 'string' },
  'worker-index': { type: 'string' },
};

function parseFlags(argv: string[]): Flags {
  const a = parseCommandArgs(argv, FLAGS, USAGE);
  const workers = str(a, 'workers');
  const workerIndex = str(a, 'worker-index');
  return {
    config: str(a, 'config') ?? null,
    igluConfig: str(a, 'iglu-config') ?? str(a, 'resolver') ?? null,
    enrichments: str(a, 'enrichments') ?? null,
    input: str(a, 'input') ?? null,
    output: str(a, 'output') ?? null,
    bad: str(a, 'bad') ?? 'stderr',
    pii: str(a, 'pii') ?? null,
    failed: str(a, 'failed') ?? null,
    assetsDir: str(a, 'assets-dir') ?? join(tmpdir(), 'furrow-assets'),
    offline: a.values['offline'] === true,
    logLevel: a.logLevel,
    workers: workers === undefined ? null : parseWorkers(workers),
    workerIndex: workerIndex === undefined ? null : parseWorkerIndex(workerIndex),
  };
}

function fileSink(path: string): Sink {
  return createLineOutput({ path });
}

interface Sinks { good: Sink; bad: Sink; pii: Sink | null; failed: Sink | null; maxRecordSize: number | null }

function buildSinks(f: Flags, config: EnrichConfig, log: Logger): Sinks {
  if (f.output === 'stdout' || f.output === '-') {
    return {
      good: createLineOutput('stdout'),
      bad: f.bad === 'stderr' ? createLineOutput('stderr') : fileSink(f.bad),
      pii: f.pii === null ? null : fileSink(f.pii),
      failed: f.failed === null ? null : fileSink(f.failed),
      maxRecordSize: null,
    };
  }
  if (f.output !== null) {
    mkdirSync(f.output, { recursive: true });
    return {
      good: fileSink(join(f.output, 'good.tsv')),
      bad: fileSink(join(f.output, 'bad.jsonl')),
      pii: fileSink(join(f.output, 'pii.tsv')),
      failed: f.failed === null ? null : fileSink(f.failed),
      maxRecordSize: null,
    };
  }
  const { good, bad, pii, failed } = config.output;
  if (good === null || bad === null) {
    throw new FurrowError('CONFIG_MISSING_KEY', 'output.good and output.bad are required in --config unless --output is given');
  }
  const client = (c: { region: string | null; customEndpoint: string | null }) => kinesisClientFor({ region: c.region, endpoint: c.customEndpoint });
  return {
    good: createKinesisSink(client(good), good, log, true),
    bad: createKinesisSink(client(bad), bad, log, false),
    pii: pii === null ? null : createKinesisSink(client(pii), pii, log, true),
    failed: failed === null ? null : createKinesisSink(client(failed), failed, log, true),
    // output.good.maxRecordSize (Snowplow 6.x; default 1 000 000).
    maxRecordSize: good.maxRecordSize,
  };
}

function buildSource(f: Flags, config: EnrichConfig, log: Logger, registry: Registry): Source {
  if (f.input !== null) {
    if (f.input !== 'stdin' && f.input !== '-') {
      try {
        accessSync(f.input, constants.R_OK);
      } catch (e) {
        throw new FurrowError('ENRICH_INPUT_UNREADABLE', `--input ${f.input}: ${(e as Error).message}`);
      }
    }
    return createPayloadLineInput(f.input);
  }
  const input = config.input;
  if (input === null) throw new FurrowError('CONFIG_MISSING_KEY', 'input.streamName is required in --config unless --input is given');
  return createKinesisInput({
    streamName: input.streamName,
    appName: input.appName,
    initialPosition: input.initialPosition,
    leaseDurationMs: input.leaseDurationMs,
    maxRecordsPerRead: input.maxRecords,
    ...(input.idleTimeBetweenReadsMs !== null ? { idleTimeBetweenReadsMs: input.idleTimeBetweenReadsMs } : {}),
    ...(input.workerIdentifier !== null ? { workerId: input.workerIdentifier } : {}),
    checkpointBackoff: input.checkpointBackoff,
    logger: log,
    registry,
  }, { region: input.region, endpoint: input.customEndpoint, dynamodbEndpoint: input.dynamodbCustomEndpoint, leases: input.leases });
}

export const command: Command = {
  summary: 'Snowplow-compatible enricher (CollectorPayload records in, enriched TSV + bad rows out)',
  usage: USAGE,
  async run(argv) {
    const f = parseFlags(argv);
    const log = createLogger('enrich', f.logLevel);
    const config = withWorkerIndex(f.config === null ? DEFAULT_ENRICH_CONFIG : await readEnrichConfig(f.config), f.workerIndex);
    if (f.workers !== null) {
      // Checked here, once, so a bad setup fails before any worker starts (config errors were thrown above).
      if (f.input !== null || f.output !== null || config.input === null || config.output.good === null || config.output.bad === null) {
        throw new FurrowError('CONFIG_CLI_USAGE', '--workers needs the Kinesis input and outputs of --config (several processes cannot share a file or stdin)');
      }
      if (!config.input.leases) {
        throw new FurrowError('CONFIG_CLI_USAGE', '--workers needs input.leases = true (without leases every worker would read every shard)');
      }
      return superviseCommand('enrich', argv, f.workers, log);
    }
    if (!hasYoungGenerationFlag()) {
      // Workers get the flag from the supervisor; a single process can only be given it by whoever starts node.
      log.info({ flag: ENRICH_YOUNG_GENERATION_FLAG }, `Node runs with its default young generation: start node with ${ENRICH_YOUNG_GENERATION_FLAG} (or NODE_OPTIONS=${ENRICH_YOUNG_GENERATION_FLAG}, or use --workers) for ~15 % more events/s (docs/performance.md)`);
    }
    if (config.ignored.length > 0) log.info({ keys: config.ignored }, 'configuration keys accepted but without effect in furrow');
    for (const w of config.warnings) log.warn({ key: w.key }, `${w.key}: ${w.message}`);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // Registry failures are logged (once per outage, see iglu-resolver/registries/http-registry.ts).
    const resolverOptions = {
      offline: f.offline, logger: log, metricsRegistry: registry,
      httpRetries: config.iglu.maxRetry, httpRetryMaxWaitMs: config.iglu.maxWaitMs, httpTimeoutMs: config.httpRequestTimeoutMs,
    };
    const resolver: IgluResolver = f.igluConfig === null
      ? await createBuiltinResolver(resolverOptions)
      : await createResolverFromFile(f.igluConfig, resolverOptions);
    let pipeline: EnrichmentPipeline | null = null;
    if (f.enrichments !== null) {
      mkdirSync(f.assetsDir, { recursive: true });
      pipeline = await buildEnrichments(await loadEnrichmentsDir(f.enrichments), {
        resolver, logger: log, assetsDir: f.assetsDir, fetch: globalThis.fetch, assetsUpdatePeriodMs: config.assetsUpdatePeriodMs,
        exitOnJsCompileError: config.validation.exitOnJsCompileError,
        javascriptTimeoutMs: config.javascript.timeoutMs,
        javascriptMaxMemoryMb: config.javascript.maxMemoryMb,
      });
    }
    const sinks = buildSinks(f, config, log);
    const source = buildSource(f, config, log, registry);
    // Streaming from Kinesis, an Iglu outage stops the enricher before the checkpoint (Snowplow 6.5+): the events
    // are read again after a restart. Reading a file or stdin, there is no checkpoint to go back to: bad rows.
    const { processor } = createEnricher(config, resolver, pipeline, {
      maxRecordSize: sinks.maxRecordSize,
      emitFailed: sinks.failed !== null,
      onIgluOutage: f.input === null ? 'stop' : 'bad-row',
    });
    const server = config.metricsPort === null ? null : await serveMetrics(config.metricsPort, registry, log, { healthBody: 'OK' });
    const abort = new AbortController();
    const stop = (): void => {
      log.info('shutting down: finishing the current batch');
      abort.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await runEnrich({ source, processor, good: sinks.good, bad: sinks.bad, pii: sinks.pii, failed: sinks.failed, processorInfo: PROCESSOR, logger: log, registry }, abort.signal);
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await Promise.allSettled([sinks.good.close(), sinks.bad.close(), sinks.pii?.close(), sinks.failed?.close(), pipeline?.close()]);
      server?.close();
      await new Promise<void>((r) => log.flush(() => r()));
    }
  },
};
