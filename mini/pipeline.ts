/**
 * furrow mini: the whole pipeline in one process, wired from the real parts.
 *
 *   tracker ──HTTP :9090──▶ collector ──Thrift──▶ [raw]  (kinesalite)  ──┐      also: RawTap (raw events by eid)
 *   /micro/*, /metrics ──▶ checks ──▶ Micro API + UI     [raw-bad]──────┼─────────────────────────────┐
 *                                                                        ▼                             │
 *                  enricher: Kinesis source + lease coordinator (dynalite lease table `furrow-mini-enrich`)
 *                            → RecordProcessor (adapters, Iglu validation, enrichments)
 *                            → [enriched] / [enriched-bad] / [pii]   (KinesisWriter)
 *                                       │              │                                            │
 *                  store readers ◀──────┴──────────────┴────────────────────────────────────────────┘
 *                  (Kinesis sources) → MiniStore (good: parsed TSV, bad: bad rows) → API, UI, /micro/wait
 *                  optional: Postgres loader (--postgres), forwarders (--forward) on [enriched]
 *
 * Start-up, in two phases: (1) embedded AWS → streams → store → collector + API listening: events are accepted
 * from here on and wait in the raw stream; (2) the enricher's modules load, then resolver → enrichments →
 * enricher → store readers → optional loaders. startMini resolves when both are done. A failure anywhere stops
 * what already started and reports which part failed. Shutdown follows STOP_ORDER.
 */
import { sleep } from '../common/timing.js';
import { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { Gauge, Registry } from 'prom-client';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { createCollector, type Collector } from '../collector/collector.js';
import { createCollectorHttpServer } from '../collector/server.js';
import { createSinks } from '../collector/sinks/factory.js';
import type { CollectorSink } from '../collector/sinks/sink.js';
import { parseCollectorConfig } from '../collector/config.js';
import { readHoconFile } from '../config/hocon.js';
import type { EnrichmentPipeline } from '../enricher/enrichments/enrichment.js';
import type { IgluResolver } from '../iglu-resolver/types.js';
import { createAuthMiddleware, type AuthConfig } from './auth.js';
import { startLocalAws, type LocalAws } from './local-aws.js';
import { FURROW_VERSION } from '../common/version.js';
import { MiniRecovery } from './recovery.js';
import { createMicroRouter } from './micro-api.js';
import { createNetworkGuard, isLoopbackHost, NetworkPolicy } from './network-policy.js';
import { RawTap } from './raw-tap.js';
import { MiniStore, type RestoredRecord } from './store.js';
import { openStoreJournal, type StoreJournal } from './store-journal.js';
import { DEFAULT_ENRICHMENTS } from './default-enrichments.js';


export interface MiniOptions {
  /** Port of the collector, API and UI (9090 like Snowplow Micro; 0 = any free port). */
  port: number;
  /** Interface to listen on (the CLI's default is 127.0.0.1; a wildcard such as 0.0.0.0 opens mini to the network). */
  host: string;
  /** Extra Host names the Micro API, UI and /metrics answer to (`--allow-host`), e.g. 10.0.2.2 for an Android emulator. */
  allowHosts?: string[];
  /** `--iglu DIR`: the user's schemas, searched before the built-in registry. */
  igluDirs: string[];
  /** `--config FILE`: a Snowplow collector HOCON (Micro's `--config`); mini overrides interface, port and streams. */
  collectorConfigFile?: string | null;
  /** `--iglu FILE.json`: a Snowplow resolver config (as Micro's `--iglu`); its repositories come after the built-in registry. */
  igluResolverFile?: string | null;
  /** Leave Iglu Central out of the resolver (no network). */
  offline: boolean;
  /** `--enrichments DIR`, or null for mini's default set. */
  enrichmentsDir: string | null;
  postgresUrl: string | null;
  forwardConfig: string | null;
  auth: AuthConfig;
  maxEvents: number;
  /** `--data DIR`: keep the store's events in DIR (store-journal.ts) so they survive a restart; null: memory only. */
  dataDir?: string | null;
  logger: Logger;
  /** Shards of the raw and enriched streams (1 is plenty on one machine). */
  shards?: number;
}

export interface RunningMini {
  readonly url: string;
  readonly port: number;
  readonly store: MiniStore;
  readonly resolver: IgluResolver;
  readonly info: MiniInfo;
  /** Resolves when a component fails after start-up (the CLI then stops everything and exits non-zero). */
  readonly failed: Promise<Error>;
  stop(): Promise<void>;
}

export interface MiniInfo {
  /** The address listened on. */
  host: string;
  /** Bound to a wildcard address: reachable from the network and no Host check. */
  open: boolean;
  /** Reachable from other machines (open, or bound to a non-loopback address). */
  exposed: boolean;
  collector: string;
  ui: string;
  api: string;
  kinesis: string;
  dynamodb: string;
  streams: Record<string, string>;
  enrichments: string[];
  iglu: string[];
  postgres: string | null;
  forward: string | null;
  /** `--data` directory and how many events were restored from it at start, or null (memory only). */
  data: { dir: string; restored: number } | null;
  /** From the call to the collector accepting events (ms). */
  acceptingMs: number;
  /** From the call to everything running (ms). */
  startupMs: number;
}

/** `processor` of bad rows and v_etl (`furrow-enrich-<version>`), the same as `furrow enrich` writes. */
const PROCESSOR = Object.freeze({ artifact: 'furrow-enrich', version: FURROW_VERSION });

const STREAMS = { raw: 'raw', rawBad: 'raw-bad', enriched: 'enriched', enrichedBad: 'enriched-bad', pii: 'pii' } as const;
/** Small buffers and short polls: mini is about latency, not throughput. */
const WRITER_TIME_LIMIT_MS = 20;
const READ_IDLE_MS = 50;

type Stopper = { name: string; stop: () => Promise<void> };
type CreateKinesisInput = typeof import('../streams/factory.js').createKinesisInput;

/**
 * Shutdown order: stop taking requests, flush the collector into the raw stream, drain the loaders and
 * forwarders, let the enricher finish its batch and release its leases (readers stop), then flush the
 * enricher's writers, close enrichments, store, the --data journal (fsync, unlock), and last the embedded
 * Kinesis/DynamoDB they all talk to.
 */
const STOP_ORDER = ['http server', 'collector', 'Postgres loader', 'forwarders', 'stream readers', 'enricher writers', 'enrichments', 'store', 'data directory', 'embedded AWS'];

/**
 * The collector's config for mini: the user's collector HOCON (`--config`, as Micro's) or an empty one, with
 * mini's parts forced: interface and port from the command line, Kinesis sinks to kinesalite flushed after
 * ≤ 20 ms. Unless the file sets them: the network cookie and no pre-termination wait. The cookie follows the
 * collector's rules (SameSite=None; Secure) on a loopback address, where browsers accept Secure cookies over
 * plain http and a page on another site (127.0.0.1 vs localhost) then gets its `sp` cookie; on any other address
 * over plain http a Secure cookie would be dropped, so there it is SameSite=Lax without Secure (pages on the
 * same host). Every other key is the collector's own, validated by its parser (unknown keys stop start-up
 * naming the key).
 */
function collectorConfig(o: MiniOptions, userDoc: Record<string, unknown> | null, kinesisEndpoint: string, warn = false) {
  const stream = (name: string) => ({
    name,
    region: 'us-east-1',
    customEndpoint: kinesisEndpoint,
    buffer: { byteLimit: 1_000_000, recordLimit: 500, timeLimit: WRITER_TIME_LIMIT_MS },
  });
  const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  const doc: Record<string, unknown> = userDoc === null ? {} : structuredClone(userDoc);
  const hasBlock = isObj(doc.collector);
  const c: Record<string, unknown> = hasBlock ? (doc.collector as Record<string, unknown>) : doc;
  if (c.streams !== undefined && warn) o.logger.warn('mini: collector.streams in --config is ignored; mini writes to its embedded Kinesis');
  if (isObj(c.furrow)) delete c.furrow.sink;
  c.interface = o.host;
  c.port = o.port;
  c.streams = { good: stream(STREAMS.raw), bad: stream(STREAMS.rawBad) };
  c.cookie ??= isLoopbackHost(o.host)
    ? { enabled: true, secure: true, sameSite: 'None', httpOnly: true }
    : { enabled: true, secure: false, sameSite: 'Lax', httpOnly: true };
  c.preTerminationPeriod ??= 0;
  return parseCollectorConfig(hasBlock ? doc : { collector: c });
}

/**
 * The collector's good sink, with every record it is given also shown to the tap. A Proxy rather than a
 * hand-written wrapper: every other member of the sink interface passes through unchanged.
 */
function tappedSink(inner: CollectorSink, tap: RawTap, log: Logger): CollectorSink {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'write' || prop === 'enqueue') {
        const fn = Reflect.get(target, prop, receiver) as (records: readonly Buffer[], ...rest: unknown[]) => unknown;
        return (records: readonly Buffer[], ...rest: unknown[]) => {
          // Off the request path: decoding and parsing POST bodies happens after the response is on its way
          // (the enriched event comes back through two Kinesis streams, long after this runs).
          // An exception here would be uncaught (it runs in its own turn) and end the whole process: the tap is a
          // convenience for the API, so a record it cannot read is logged and the pipeline goes on.
          setImmediate(() => {
            try {
              tap.recordsWritten(records);
            } catch (e) {
              log.warn({ err: String(e) }, 'mini: raw-event tap could not read a collector record (the event is still enriched)');
            }
          });
          return fn.call(target, records, ...rest);
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

export async function startMini(o: MiniOptions): Promise<RunningMini> {
  const t0 = performance.now();
  const log = o.logger;
  const stoppers: Stopper[] = [];
  const shards = o.shards ?? 1;
  let failRun: (e: Error) => void = () => {};
  const failed = new Promise<Error>((r) => (failRun = r));
  const abort = new AbortController();
  const runs: Array<Promise<void>> = [];
  let stopping = false;

  // Stopped in `order`, whatever the order they started in (see STOP_ORDER).
  const stopAll = async () => {
    stopping = true;
    const list = stoppers.splice(0).sort((a, b) => STOP_ORDER.indexOf(a.name) - STOP_ORDER.indexOf(b.name));
    for (const s of list) {
      try {
        await s.stop();
      } catch (e) {
        log.warn({ component: s.name, err: String(e) }, 'mini: error while stopping');
      }
    }
    abort.abort();
    await Promise.allSettled(runs);
  };

  /** Runs a long-lived component; if it ends with an error while mini is up, mini fails loudly. */
  const supervise = (name: string, p: Promise<unknown>): Promise<void> => {
    const watched = p.then(
      () => {
        if (!stopping) failRun(new FurrowError('MINI_COMPONENT_FAILED', `${name} stopped unexpectedly`));
      },
      (e: unknown) => {
        if (!stopping) failRun(new FurrowError('MINI_COMPONENT_FAILED', `${name} failed: ${(e as Error).message}`, { cause: e }));
        else log.warn({ component: name, err: String(e) }, 'mini: component ended with an error while stopping');
      },
    );
    runs.push(watched);
    return watched;
  };

  try {
    // ================= phase 1: accept events as early as possible =================
    // Fail fast on a bad --config or a taken port, before starting anything.
    const userCollectorDoc = o.collectorConfigFile ? await readHoconFile(o.collectorConfigFile) : null;
    collectorConfig(o, userCollectorDoc, 'http://127.0.0.1:1', true);
    const policy = new NetworkPolicy({ host: o.host, allowHosts: o.allowHosts ?? [] });
    if (o.port !== 0) await checkPortFree(o.host, o.port);
    // --data: locked and read before anything starts (a used or damaged directory stops start-up here).
    let journal: StoreJournal | null = null;
    let restored: RestoredRecord[] = [];
    if (o.dataDir != null) {
      const opened = openStoreJournal({
        dir: o.dataDir, maxEvents: o.maxEvents, logger: log,
        onError: (e) => {
          log.error({ err: e.message }, 'mini: cannot write the --data directory; stopping');
          failRun(e);
        },
      });
      const j = opened.journal;
      journal = j;
      restored = opened.records;
      stoppers.push({ name: 'data directory', stop: async () => j.close() });
    }

    // ---- embedded Kinesis and DynamoDB, and the streams
    const aws: LocalAws = await startLocalAws();
    stoppers.push({ name: 'embedded AWS', stop: () => aws.close() });
    await Promise.all(Object.values(STREAMS).map((s) => aws.createStream(s, shards)));
    log.debug({ kinesis: aws.kinesisEndpoint, dynamodb: aws.dynamoEndpoint }, 'mini: embedded Kinesis and DynamoDB up');

    // ---- the store (the readers that fill it start in phase 2)
    const tap = new RawTap(Math.max(1000, o.maxEvents));
    const store = new MiniStore({ maxEvents: o.maxEvents, tap, persistence: journal });
    store.restore(restored);
    stoppers.push({ name: 'store', stop: async () => store.close() });
    const data = o.dataDir != null ? { dir: o.dataDir, restored: restored.length } : null;
    restored = [];
    if (data !== null) log.info(data, 'mini: events restored from the --data directory');

    // ---- collector + Micro API + UI on one port. The resolver arrives in phase 2; /micro/iglu waits for it.
    let resolveResolver: (r: IgluResolver) => void = () => {};
    let rejectResolver: (e: unknown) => void = () => {};
    const resolverReady = new Promise<IgluResolver>((res, rej) => {
      resolveResolver = res;
      rejectResolver = rej;
    });
    resolverReady.catch(() => undefined);
    const lateResolver: IgluResolver = {
      lookupSchema: async (uri) => (await resolverReady).lookupSchema(uri),
      validate: async (uri, data) => (await resolverReady).validate(uri, data),
      validateCached: () => undefined,
      listSchemas: async (v, n, m) => (await resolverReady).listSchemas(v, n, m),
    };
    const config = collectorConfig(o, userCollectorDoc, aws.kinesisEndpoint);
    const sinks = createSinks(config, { logger: log.child({ component: 'collector' }), kinesisClient: aws.kinesis });
    // One /metrics for the whole process: collector, enricher (leases, records), store.
    const registry = new Registry();
    const storeRegistry = new Registry();
    new Gauge({
      name: 'furrow_mini_events', help: 'Events in the mini store', labelNames: ['kind'], registers: [storeRegistry],
      collect() {
        const sum = store.summary();
        this.set({ kind: 'good' }, sum.good);
        this.set({ kind: 'bad' }, sum.bad);
      },
    });
    new Gauge({
      name: 'furrow_mini_evicted_events', help: 'Events dropped from the mini store by --max-events since the last reset', registers: [storeRegistry],
      collect() {
        this.set(store.evicted);
      },
    });
    let collector: Collector | null = null;
    const metricsText = async () =>
      [await (collector?.metrics.registry.metrics() ?? ''), await registry.metrics(), await storeRegistry.metrics()].join('\n');
    collector = createCollector(config, {
      logger: log.child({ component: 'collector' }),
      sinks: { good: tappedSink(sinks.good, tap, log), bad: sinks.bad },
      defaultMetrics: true,
      metricsText,
    });
    const running: Collector = collector;
    stoppers.push({ name: 'collector', stop: () => running.close() });
    const resolverFile = o.igluResolverFile ?? null;
    const info: MiniInfo = {
      host: o.host, open: policy.open, exposed: !isLoopbackHost(o.host),
      collector: '', ui: '', api: '', kinesis: aws.kinesisEndpoint, dynamodb: aws.dynamoEndpoint,
      streams: { ...STREAMS }, enrichments: [],
      iglu: [...o.igluDirs, 'built-in registry (schemas/)', ...(resolverFile !== null ? [`resolver config ${resolverFile}`] : o.offline ? [] : ['Iglu Central (http)'])],
      postgres: null, forward: null, data, acceptingMs: 0, startupMs: 0,
    };
    let loaderBadRows: (() => number) | null = null;
    // mini's own surfaces: the Micro API and UI, and /metrics (the collector's route, here behind the same Host
    // check and --auth: it names streams, paths and counts).
    const micro = express();
    micro.disable('x-powered-by');
    const authOn = o.auth.basic !== null || o.auth.token !== null;
    const metricsAuth = createAuthMiddleware(o.auth);
    micro.all(
      '/metrics',
      createNetworkGuard(policy, authOn),
      ...(metricsAuth ? [metricsAuth] : []),
      (req: IncomingMessage, res: ServerResponse) => running.listener(req, res),
    );
    const recovery = new MiniRecovery(log.child({ component: 'recovery' }));
    micro.use(
      createMicroRouter({
        store, resolver: lateResolver, auth: o.auth, network: policy, recovery,
        status: () => ({ ...info, uptimeSec: Math.round(process.uptime()), ...(loaderBadRows !== null ? { postgresBadRows: loaderBadRows() } : {}) }),
      }),
    );
    // The collector's own server: its limits, connection guard and request-head timeout hold for mini too.
    const server: Server = createCollectorHttpServer(running, (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      if (url === '/micro' || url.startsWith('/micro/') || url.startsWith('/micro?') || url === '/metrics' || url.startsWith('/metrics?')) micro(req, res);
      else if (url === '/' && req.method === 'GET') {
        res.writeHead(302, { Location: '/micro/ui/' });
        res.end();
      } else running.listener(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'EADDRINUSE'
            ? portInUse(o.host, o.port)
            : new FurrowError('MINI_COMPONENT_FAILED', `cannot listen on ${o.host}:${o.port}: ${e.message}`, { cause: e }),
        ),
      );
      server.listen(o.port, o.host, () => resolve());
    });
    stoppers.push({
      name: 'http server',
      stop: async () => {
        store.releaseWaiters();
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        const deadline = Date.now() + 2000;
        while (running.tracking.inFlight > 0 && Date.now() < deadline) await sleep(20);
        server.closeAllConnections();
        await closed;
      },
    });
    const port = (server.address() as AddressInfo).port;
    const shownHost = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : o.host;
    const url = `http://${shownHost}:${port}`;
    info.collector = url;
    info.ui = `${url}/micro/ui/`;
    info.api = `${url}/micro/`;
    info.acceptingMs = Math.round(performance.now() - t0);
    log.debug({ url, ms: info.acceptingMs }, 'mini: collector accepting events (the enricher picks them up from the raw stream once it runs)');

    // ================= phase 2: everything behind the raw stream =================
    // Loaded only now, so the collector starts taking events while these modules load. Events sent meanwhile
    // wait in the raw stream; the enricher reads it from the start (TRIM_HORIZON).
    const [
      { createBuiltinResolver, createResolverFromFile },
      { buildEnrichments, loadEnrichmentsDir },
      { runEnrich },
      { AdapterRegistry },
      { EnrichmentManager },
      { RecordProcessor },
      { DEFAULT_ENRICH_CONFIG },
      { createKinesisInput, createKinesisOutput },
    ] = await Promise.all([
      import('../iglu-resolver/index.js'),
      import('../enricher/enrichments/registry.js'),
      import('../enricher/enrich-app.js'),
      import('../enricher/adapters/registry.js'),
      import('../enricher/enrichment-manager.js'),
      import('../enricher/processor.js'),
      import('../enricher/config.js'),
      import('../streams/factory.js'),
    ]);

    // ---- Iglu resolver and enrichments
    let resolver: IgluResolver;
    try {
      resolver =
        resolverFile !== null
          ? await createResolverFromFile(resolverFile, { extraEmbeddedDirs: o.igluDirs, offline: o.offline })
          : await createBuiltinResolver({ extraEmbeddedDirs: o.igluDirs, offline: o.offline });
    } catch (e) {
      rejectResolver(e);
      throw e;
    }
    resolveResolver(resolver);
    const enrichmentConfigs = o.enrichmentsDir !== null ? await loadEnrichmentsDir(o.enrichmentsDir) : DEFAULT_ENRICHMENTS;
    const assetsDir = join(tmpdir(), 'furrow-mini-assets');
    await mkdir(assetsDir, { recursive: true });
    const pipeline: EnrichmentPipeline = await buildEnrichments([...enrichmentConfigs], { resolver, logger: log.child({ component: 'enrichments' }), assetsDir, fetch });
    stoppers.push({ name: 'enrichments', stop: async () => pipeline.close?.() });
    info.enrichments = [...pipeline.enrichments].map((e) => e.identifier);

    // ---- enricher: raw stream (leased) → processor → enriched / enriched-bad / pii, with the enricher's own
    //      run loop (the same code `furrow enrich` runs)
    const c = DEFAULT_ENRICH_CONFIG;
    const manager = new EnrichmentManager({
      resolver, pipeline, processor: PROCESSOR, maxJsonDepth: c.validation.maxJsonDepth,
      atomicFieldsLimits: c.validation.atomicFieldsLimits, acceptInvalid: c.validation.acceptInvalid,
    });
    const processor = new RecordProcessor({
      manager, adapters: new AdapterRegistry(), adapterDeps: { resolver, maxJsonDepth: c.validation.maxJsonDepth }, processor: PROCESSOR, framing: c.decompression, maxRecordSize: 1_000_000,
    });
    const writer = (streamName: string) =>
      createKinesisOutput({ streamName, timeLimitMs: WRITER_TIME_LIMIT_MS }, aws.kinesis, log.child({ stream: streamName }));
    const goodOut = writer(STREAMS.enriched);
    const badOut = writer(STREAMS.enrichedBad);
    const piiOut = writer(STREAMS.pii);
    // Recovered bad rows go to the raw stream, like the collector's records (mini/recovery.ts).
    const recoveredOut = writer(STREAMS.raw);
    recovery.ready(processor, recoveredOut);
    stoppers.push({ name: 'enricher writers', stop: async () => void (await Promise.all([goodOut.close(), badOut.close(), piiOut.close(), recoveredOut.close()])) });
    const enrichSource = createKinesisInput({
      streamName: STREAMS.raw, appName: 'furrow-mini-enrich',
      initialPosition: 'TRIM_HORIZON', leaseDurationMs: 10_000, takerIntervalMs: 200, renewIntervalMs: 3000, shardSyncIntervalMs: 60_000,
      idleTimeBetweenReadsMs: READ_IDLE_MS, minReadIntervalMs: READ_IDLE_MS, progressLogIntervalMs: 0, registry, logger: log.child({ component: 'enricher' }),
    }, aws);
    supervise(
      'enricher',
      runEnrich(
        { source: enrichSource, processor, good: goodOut, bad: badOut, pii: piiOut, processorInfo: PROCESSOR, logger: log.child({ component: 'enricher' }), registry, progressIntervalMs: 0 },
        abort.signal,
      ),
    );

    // ---- store readers (no lease table needed: one reader each, in-memory checkpoints like the store)
    const reader = (streamName: string, onLine: (line: string) => void) => {
      const src = createKinesisInput({
        streamName, initialPosition: 'TRIM_HORIZON',
        idleTimeBetweenReadsMs: READ_IDLE_MS, minReadIntervalMs: READ_IDLE_MS, progressLogIntervalMs: 0, registry: null, logger: log.child({ component: `store-reader:${streamName}` }),
      }, { kinesis: aws.kinesis, dynamodb: null });
      supervise(`store reader (${streamName})`, src.run(async (batch) => {
        for (const rec of batch.records) {
          // Per line: a line the store cannot take is logged, never a reason to stop the reader (and mini).
          try {
            onLine(rec.toString('utf8'));
          } catch (e) {
            log.warn({ stream: streamName, err: String(e) }, 'mini: store could not take a line; skipped');
          }
        }
        await batch.commit();
      }, abort.signal));
    };
    reader(STREAMS.enriched, (l) => store.addGood(l));
    reader(STREAMS.enrichedBad, (l) => store.addBad(l));
    reader(STREAMS.rawBad, (l) => store.addBad(l));
    stoppers.push({
      name: 'stream readers',
      stop: async () => {
        abort.abort();
        await Promise.allSettled(runs);
      },
    });

    // ---- optional: Postgres loader and forwarders on the enriched stream
    const extras = await startExtras(o, aws, resolver, createKinesisInput, supervise, stoppers);
    info.postgres = extras.postgres;
    info.forward = extras.forward;
    if (extras.postgres !== null) loaderBadRows = extras.loaderBadRows;

    info.startupMs = Math.round(performance.now() - t0);
    return {
      url, port, store, resolver, info, failed,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** `--postgres` and `--forward`: loaded only when asked for, each reading the enriched stream with its own leases. */
async function startExtras(
  o: MiniOptions, aws: LocalAws, resolver: IgluResolver, createKinesisInput: CreateKinesisInput,
  supervise: (name: string, p: Promise<unknown>) => Promise<void>, stoppers: Stopper[],
): Promise<{ postgres: string | null; forward: string | null; loaderBadRows: () => number }> {
  const log = o.logger;
  const enrichedSource = (appName: string, component: string) =>
    createKinesisInput({
      streamName: STREAMS.enriched, appName, initialPosition: 'TRIM_HORIZON',
      takerIntervalMs: 200, idleTimeBetweenReadsMs: READ_IDLE_MS, minReadIntervalMs: READ_IDLE_MS, progressLogIntervalMs: 0,
      registry: null, logger: log.child({ component }),
    }, aws);
  let postgres: string | null = null;
  let forward: string | null = null;
  let loaderBad = 0;

  if (o.postgresUrl !== null) {
    await importPart('--postgres', 'pg', () => import('pg')); // the target imports it too: a missing pg is named here
    const { openBatchTarget } = await importPart('--postgres', 'the loader targets', () => import('../loaders/factory.js'));
    const { runKinesisLoader } = await importPart('--postgres', 'the loaders\' Kinesis input', () => import('../loaders/kinesis-input.js'));
    const shown = redactUrl(o.postgresUrl);
    // Rows PostgreSQL refuses are logged and counted (they are good events in the store already).
    const badOut = {
      async write(rows: readonly string[]) {
        loaderBad += rows.length;
        for (const r of rows) log.warn({ badRow: r.slice(0, 2000) }, 'mini: Postgres loader bad row');
      },
      async close() {},
    };
    const target = await openBatchTarget('postgres', {
      url: o.postgresUrl, schema: 'atomic', retryForMs: 60_000, stage: null, iamRole: null, region: null, maxError: 1, dryRun: false,
    }, {
      logger: log.child({ component: 'postgres-loader' }), resolver: async () => resolver, badRows: () => badOut, connectTimeoutMs: 5000,
      s3: () => { throw new FurrowError('MINI_COMPONENT_FAILED', '--postgres: the Postgres target uses no S3'); },
    });
    try {
      await target.check();
    } catch (e) {
      await target.close().catch(() => undefined);
      throw new FurrowError('MINI_COMPONENT_FAILED', `--postgres ${shown}: cannot connect: ${(e as Error).message}`, { cause: e });
    }
    const loader = target.loader;
    await loader.start();
    const ac = new AbortController();
    const run = supervise('Postgres loader', runKinesisLoader(enrichedSource('furrow-mini-postgres', 'postgres-loader'), STREAMS.enriched, loader, ac.signal, log));
    stoppers.push({
      name: 'Postgres loader',
      stop: async () => {
        ac.abort();
        await run;
        await loader.close();
        await target.close();
      },
    });
    postgres = `${shown} (schema atomic)`;
  }

  if (o.forwardConfig !== null) {
    const { loadForwardConfig } = await importPart('--forward', 'the forwarder config reader', () => import('../forwarders/config.js'));
    const { buildForwarder } = await importPart('--forward', 'the forwarders', () => import('../forwarders/build.js'));
    const cfg = await loadForwardConfig(o.forwardConfig);
    if (cfg.input.type !== 'kinesis' && cfg.input.type !== 'stdin') {
      log.warn({ input: cfg.input.type }, 'mini: the forward config\'s input is ignored; mini feeds the enriched stream');
    }
    const built = await buildForwarder(cfg, { log: log.child({ component: 'forwarder' }) });
    const run = supervise('forwarders', built.forwarder.run(enrichedSource('furrow-mini-forward', 'forwarder')));
    stoppers.push({
      name: 'forwarders',
      stop: async () => {
        built.forwarder.stop();
        await run;
        await built.close();
      },
    });
    forward = `${o.forwardConfig} (${cfg.destinations.map((d) => `${d.name}:${d.target.type}`).join(', ')})`;
  }
  return { postgres, forward, loaderBadRows: () => loaderBad };
}

function portInUse(host: string, port: number): FurrowError {
  return new FurrowError('MINI_PORT_IN_USE', `port ${port} on ${host} is already in use; pick another with --port`);
}

async function checkPortFree(host: string, port: number): Promise<void> {
  const probe = createNetServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? portInUse(host, port) : new FurrowError('MINI_COMPONENT_FAILED', `cannot listen on ${host}:${port}: ${e.message}`, { cause: e })),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** Loads an optional part; a build without it fails loudly, naming the flag and the part. */
async function importPart<T>(flag: string, what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new FurrowError('MINI_COMPONENT_MISSING', `${flag} needs ${what}, which is not in this build: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
}

/** A connection URL without its password, for printing. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}
