/**
 * Enricher throughput, single process, file in → /dev/null out (`npm run bench:enrich`).
 *
 *   corpus   EVENTS events as base64 Thrift lines in a temp file: 40 % page views with 2 contexts (GET, cx),
 *            30 % self-describing events (POST tp2 payload_data with ue_pr), 30 % page pings (GET)
 *   floor    read lines → base64 → decode the Thrift → JSON-parse the payload (body, or the cx/ue_pr parameter);
 *            readline over the stream's default 64 KiB reads, its fastest setting (1 MiB reads halve its rate)
 *   furrow   the `--input FILE` source (Base64LineSource over 1 MiB reads) → RecordProcessor (loader, adapters,
 *            mapping, Iglu validation, TSV) → LineSink(/dev/null)
 *   common   the same with the enrichment configs of bench/enrichments-common/ (skipped if the folder is absent)
 *   js       the same with one JavaScript enrichment (JS_SCRIPT: a few getters, one setter, one derived context);
 *            its CPU figure adds the CPU of the host's child processes (the script process), read from /proc
 *
 * Rounds alternate between the rows so they share CPU conditions; the best round of each is printed, as events/s
 * (wall clock) and as CPU µs per event (process.cpuUsage, user + system): on a shared machine the CPU figure is the
 * steadier one. Ratios: each row to the floor, and common enrichments to no enrichments (what enrichments cost).
 * Targets (issue 18): no enrichments ≥ 0.5 of the floor, common enrichments ≥ 0.33 (events/s ratio, same run).
 * `npm run bench:enrich` runs node with --max-semi-space-size=32, the flag the enricher's workers get; every row
 * (the floor too) runs under it.
 *
 * BENCH_BASELINE=/path/to/another/checkout (its node_modules resolvable) adds that tree's enricher as extra rows
 * in the same rounds (before/after of a change, e.g. `git worktree add /tmp/before main`).
 * Then the Kinesis path (bench/enrich-kinesis.ts): `furrow enrich --workers 1` and `2` between kinesalite streams,
 * events/s and collector → good-stream latency p50/p99; BENCH_KINESIS=0 skips it.
 */
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeCollectorPayload, decodeCollectorPayload } from '../formats/collector-payload.js';
import { silentLogger } from '../common/logger.js';
import { DEFAULT_ENRICH_CONFIG } from '../enricher/config.js';
import { createBuiltinResolver } from '../iglu-resolver/index.js';
import { createEnricher } from '../enricher/enricher-factory.js';
import type { EnrichmentPipeline } from '../enricher/enrichments/enrichment.js';
import { buildEnrichments, loadEnrichmentsDir } from '../enricher/enrichments/registry.js';
import { runEnrich } from '../enricher/enrich-app.js';
import { LineSink } from '../streams/sinks/line-sink.js';
import { Base64LineSource } from '../streams/sources/base64-line-source.js';
import { createPayloadLineInput } from '../streams/factory.js';
import { buildMmdb } from '../test/support/mmdb-writer.js';
import { benchKinesis, printKinesis } from './enrich-kinesis.js';
import { ENRICH_YOUNG_GENERATION_FLAG, hasYoungGenerationFlag } from '../enricher/supervisor.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 60_000);
const BASELINE = process.env['BENCH_BASELINE'] ?? null;
const TARGET_CORE = 0.5;
const TARGET_COMMON = 0.33;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

function corpus(path: string): void {
  const lines: string[] = [];
  const base = {
    schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0', encoding: 'UTF-8', collector: 'ssc-3.2.0-kinesis',
    userAgent: UA, hostname: 'c.example.com', refererUri: 'https://shop.example.com/',
    headers: ['Host: c.example.com', `User-Agent: ${UA}`, 'X-Forwarded-For: 81.2.69.142'],
  };
  for (let i = 0; i < EVENTS; i++) {
    const ts = 1_717_243_200_000 + i;
    const nuid = `c5f3a09f-75f8-4309-bec5-${String(i).padStart(12, '0')}`;
    const common = `tv=js-3.17.0&p=web&aid=shop&duid=5f4a6b8e-7c1d-4b3a&vid=3&sid=1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f&dtm=${ts - 50}&stm=${ts - 10}&res=1920x1080&vp=1280x720&cookie=1&lang=en-GB&cs=UTF-8&tz=Europe%2FLondon&eid=7a8b9c0d-1e2f-4a3b-8c5d-${String(i).padStart(12, '0')}`;
    const kind = i % 10;
    let p: Record<string, unknown>;
    if (kind < 4) {
      const cx = Buffer.from(JSON.stringify({
        schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
        data: [
          { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: '0b4ba1b9-0a2b-4ef8-8c1f-6b5b0b4ba1b9' } },
          { schema: 'iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2', data: { userId: 'fd0e5288-e89a-45df-aa7c-df7f9b3b6f1b', sessionId: '5f4a6b8e-7c1d-4b3a-9e2f-1a2b3c4d5e6f', sessionIndex: 3, previousSessionId: null, storageMechanism: 'LOCAL_STORAGE', firstEventId: '7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c1d', firstEventTimestamp: '2026-11-26T09:00:00.000Z', eventIndex: i } },
        ],
      })).toString('base64url');
      p = { path: '/i', querystring: `e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2F${i}%3Futm_source%3Dnews%26utm_medium%3Demail&page=Product%20${i}&refr=https%3A%2F%2Fwww.google.com%2F&${common}&cx=${cx}` };
    } else if (kind < 7) {
      const ue = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1', data: { targetUrl: `https://shop.example.com/p/${i}`, elementId: 'buy', elementClasses: ['btn', 'primary'] } } });
      const ev: Record<string, string> = Object.fromEntries(common.split('&').map((kv) => kv.split('=').map(decodeURIComponent) as [string, string]));
      p = { path: '/com.snowplowanalytics.snowplow/tp2', contentType: 'application/json; charset=UTF-8', body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data: [{ ...ev, e: 'ue', url: 'https://shop.example.com/', ue_pr: ue }] }) };
    } else {
      p = { path: '/i', querystring: `e=pp&url=https%3A%2F%2Fshop.example.com%2F&pp_mix=0&pp_max=0&pp_miy=${i % 900}&pp_may=${(i % 900) + 300}&${common}` };
    }
    lines.push(encodeCollectorPayload({ ...base, ...p, timestamp: ts, ipAddress: '10.0.0.1', networkUserId: nuid } as never).toString('base64'));
  }
  writeFileSync(path, lines.join('\n') + '\n');
}

interface Round { rate: number; cpuUs: number }

/** A typical JavaScript enrichment: reads a few fields, sets one, adds one derived context. */
const JS_SCRIPT = `function process(event) {
  var ua = event.getUseragent() || '';
  if (event.getApp_id() === 'internal') { event.drop(); return null; }
  if (event.getUser_id() === null) event.setUser_id(event.getDomain_userid());
  return [{ schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0',
    data: { useragentFamily: /Chrome/.test(ua) ? 'Chrome' : 'Other', useragentMajor: null, useragentMinor: null, useragentPatch: null, useragentVersion: 'x',
      osFamily: /Mac OS/.test(ua) ? 'Mac OS X' : 'Other', osMajor: null, osMinor: null, osPatch: null, osPatchMinor: null, osVersion: 'x', deviceFamily: 'Other' } }];
}`;

/** CPU µs used so far by this process's child processes (the JS enrichment's script process); 0 without /proc. */
function childrenCpuUs(): number {
  let ticks = 0;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      } catch {
        continue;
      }
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) ticks += Number(f[11]) + Number(f[12]);
    }
  } catch {
    return 0;
  }
  return ticks * 10_000; // USER_HZ = 100
}

/** Events/s by wall clock and CPU µs per event (user + system) of one timed section. */
function measure(start: number, cpu: NodeJS.CpuUsage, childCpuAtStart = 0): Round {
  const used = process.cpuUsage(cpu);
  const child = childCpuAtStart === 0 ? 0 : childrenCpuUs() - childCpuAtStart;
  return { rate: EVENTS / ((performance.now() - start) / 1000), cpuUs: (used.user + used.system + child) / EVENTS };
}

async function floor(path: string): Promise<Round> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) {
    const cp = decodeCollectorPayload(Buffer.from(line, 'base64'));
    if (cp.body !== undefined) {
      n += (JSON.parse(cp.body) as { data: unknown[] }).data.length;
    } else {
      const q = new URLSearchParams(cp.querystring ?? '');
      const cx = q.get('cx');
      if (cx !== null) JSON.parse(Buffer.from(cx, 'base64url').toString('utf8'));
      n++;
    }
  }
  const round = measure(start, cpu);
  if (n !== EVENTS) throw new Error(`floor saw ${n} events`);
  return round;
}

/** The enricher modules a row runs: this tree's, or BENCH_BASELINE's. */
interface Impl {
  createEnricher: typeof createEnricher;
  runEnrich: typeof runEnrich;
  LineSource: typeof Base64LineSource;
  LineSink: typeof LineSink;
  buildEnrichments: typeof buildEnrichments;
  loadEnrichmentsDir: typeof loadEnrichmentsDir;
  createBuiltinResolver: typeof createBuiltinResolver;
  DEFAULT_ENRICH_CONFIG: typeof DEFAULT_ENRICH_CONFIG;
}
const THIS_TREE: Impl = { createEnricher, runEnrich, LineSource: Base64LineSource, LineSink, buildEnrichments, loadEnrichmentsDir, createBuiltinResolver, DEFAULT_ENRICH_CONFIG };

async function loadImpl(root: string): Promise<Impl> {
  const m = async (p: string): Promise<Record<string, unknown>> => (await import(join(root, p))) as Record<string, unknown>;
  // A tree from before the stream layer (issue 17) keeps its line source and sink under enricher/.
  const layered = existsSync(join(root, 'streams', 'sources', 'base64-line-source.ts'));
  const [f, a, src, sink, reg, iglu, conf] = await Promise.all([
    m('enricher/enricher-factory.ts'), m('enricher/enrich-app.ts'),
    m(layered ? 'streams/sources/base64-line-source.ts' : 'enricher/sources/line-source.ts'),
    m(layered ? 'streams/sinks/line-sink.ts' : 'enricher/sinks/line-sink.ts'),
    m('enricher/enrichments/registry.ts'), m('iglu-resolver/index.ts'),
    // The enrich config moved to enricher/config.ts with the config work of issue 17.
    m(existsSync(join(root, 'enricher', 'config.ts')) ? 'enricher/config.ts' : 'config/enrich-config.ts'),
  ]);
  return {
    createEnricher: f['createEnricher'], runEnrich: a['runEnrich'], LineSource: src[layered ? 'Base64LineSource' : 'LineSource'], LineSink: sink['LineSink'],
    buildEnrichments: reg['buildEnrichments'], loadEnrichmentsDir: reg['loadEnrichmentsDir'], createBuiltinResolver: iglu['createBuiltinResolver'],
    DEFAULT_ENRICH_CONFIG: conf['DEFAULT_ENRICH_CONFIG'],
  } as Impl;
}

async function furrow(path: string, pipeline: EnrichmentPipeline | null, resolver: Awaited<ReturnType<typeof createBuiltinResolver>>, impl: Impl = THIS_TREE): Promise<Round> {
  const { createEnricher, runEnrich, LineSource, LineSink, DEFAULT_ENRICH_CONFIG } = impl;
  const { processor } = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, pipeline);
  const devnull = createWriteStream('/dev/null');
  const childCpu = pipeline?.enrichments.some((e) => e.identifier === 'Javascript enrichment') ? childrenCpuUs() || 1 : 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const counts = await runEnrich({
    // This tree's rows read the file as `furrow enrich --input FILE` does (streams/factory.ts); a baseline tree
    // keeps the stream default of its time.
    source: impl === THIS_TREE ? createPayloadLineInput(path, 512) : new LineSource(createReadStream(path), path, 512),
    processor,
    good: new LineSink(devnull, false),
    bad: new LineSink(devnull, false),
    pii: null,
    processorInfo: { artifact: 'bench', version: '0' },
    logger: silentLogger,
    registry: null,
    progressIntervalMs: 0,
  }, new AbortController().signal);
  const round = measure(start, cpu, childCpu);
  devnull.end();
  if (counts.good !== EVENTS) throw new Error(`expected ${EVENTS} good events, got ${counts.good} good / ${counts.bad} bad`);
  return round;
}

/** The common enrichments (bench/enrichments-common/) built with `impl`'s registry; a message when they cannot be. */
async function commonPipeline(impl: Impl, resolver: Awaited<ReturnType<typeof createBuiltinResolver>>, dir: string): Promise<EnrichmentPipeline | string> {
  const commonDir = join(import.meta.dirname, 'enrichments-common');
  if (!existsSync(commonDir)) return 'skipped: bench/enrichments-common/ does not exist';
  // The assets the configs name, from the repository: a small GeoIP2-shaped city database written at start
  // (test/support/mmdb-writer.ts) and the tests' referer database (test/fixtures/assets/referer).
  const city = join(dir, 'GeoLite2-City.mmdb');
  writeFileSync(city, buildMmdb([
    { network: '81.2.69.0/24', data: { city: { names: { en: 'London' } }, country: { iso_code: 'GB' }, location: { latitude: 51.5142, longitude: -0.0931, time_zone: 'Europe/London' }, postal: { code: 'EC1' }, subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }] } },
    { network: '10.0.0.0/8', data: { country: { iso_code: 'ZZ' } } },
  ], { databaseType: 'GeoLite2-City' }));
  const localAssets: Record<string, string> = {
    'GeoLite2-City.mmdb': city,
    'referers.json': join(import.meta.dirname, '..', 'test', 'fixtures', 'assets', 'referer', 'referers.json'),
  };
  try {
    return await impl.buildEnrichments(await impl.loadEnrichmentsDir(commonDir), {
      resolver, logger: silentLogger, assetsDir: join(dir, 'assets'), fetch: globalThis.fetch, localAssets, assetsUpdatePeriodMs: 0,
    });
  } catch (e) {
    return `skipped: ${(e as Error).message}`;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-bench-enrich-'));
  const path = join(dir, 'corpus.b64');
  const assetsDir = join(dir, 'assets');
  try {
    corpus(path);
    const resolver = await createBuiltinResolver({ offline: true });
    const common = await commonPipeline(THIS_TREE, resolver, dir);
    const pipeline = typeof common === 'string' ? null : common;
    const skipped = typeof common === 'string' ? common : '';
    const jsPipeline = await buildEnrichments([{
      schema: 'iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-0',
      data: { vendor: 'com.snowplowanalytics.snowplow', name: 'javascript_script_config', enabled: true, parameters: { script: Buffer.from(JS_SCRIPT).toString('base64') } },
    }], { resolver, logger: silentLogger, assetsDir, fetch: globalThis.fetch });
    // The baseline tree's enricher, its own resolver and pipeline (BENCH_BASELINE).
    let base: { impl: Impl; resolver: Awaited<ReturnType<typeof createBuiltinResolver>>; pipeline: EnrichmentPipeline | null } | null = null;
    if (BASELINE !== null) {
      const impl = await loadImpl(BASELINE);
      const r = await impl.createBuiltinResolver({ offline: true });
      const p = await commonPipeline(impl, r, mkdtempSync(join(dir, 'baseline-')));
      base = { impl, resolver: r, pipeline: typeof p === 'string' ? null : p };
    }
    const none = (): Round => ({ rate: 0, cpuUs: Infinity });
    const best = { floor: none(), core: none(), common: none(), js: none(), baseCore: none(), baseCommon: none() };
    const keep = (b: Round, r: Round): Round => ({ rate: Math.max(b.rate, r.rate), cpuUs: Math.min(b.cpuUs, r.cpuUs) });
    await furrow(path, null, resolver); // warm-up (JIT, schema cache)
    if (pipeline !== null) await furrow(path, pipeline, resolver);
    await furrow(path, jsPipeline, resolver);
    if (base !== null) {
      await furrow(path, null, base.resolver, base.impl);
      if (base.pipeline !== null) await furrow(path, base.pipeline, base.resolver, base.impl);
    }
    for (let r = 0; r < ROUNDS; r++) {
      best.floor = keep(best.floor, await floor(path));
      best.core = keep(best.core, await furrow(path, null, resolver));
      if (pipeline !== null) best.common = keep(best.common, await furrow(path, pipeline, resolver));
      if (base !== null) {
        best.baseCore = keep(best.baseCore, await furrow(path, null, base.resolver, base.impl));
        if (base.pipeline !== null) best.baseCommon = keep(best.baseCommon, await furrow(path, base.pipeline, base.resolver, base.impl));
      }
      best.js = keep(best.js, await furrow(path, jsPipeline, resolver));
    }
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US').padStart(10);
    const ratio = (b: Round): number => b.rate / best.floor.rate;
    const row = (label: string, b: Round, target?: number): string =>
      `  ${label.padEnd(38)} ${fmt(b.rate)} events/s ${b.cpuUs.toFixed(1).padStart(7)} CPU µs/event   ratio ${ratio(b).toFixed(2)} (CPU ${(best.floor.cpuUs / b.cpuUs).toFixed(2)})` +
      (target === undefined ? '' : `   target ≥ ${target}: ${ratio(b) >= target ? 'met' : 'NOT met'}`);
    console.log(`enrich bench: ${EVENTS} events (40% page views + 2 contexts, 30% self-describing via tp2 POST, 30% page pings), best of ${ROUNDS}, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`);
    // Every row shares this process's V8 flags; `npm run bench:enrich` gives it the young-generation size that
    // `furrow enrich --workers` gives its workers (enricher/supervisor.ts), so the rows measure the enricher as it runs.
    console.log(`  node flags: ${hasYoungGenerationFlag() ? [...process.execArgv, process.env['NODE_OPTIONS'] ?? ''].filter((a) => /semi/.test(a)).join(' ') : `none (Node's default young generation; the enricher's workers run with ${ENRICH_YOUNG_GENERATION_FLAG})`}`);
    console.log(`  ${'floor (Thrift decode + JSON.parse)'.padEnd(38)} ${fmt(best.floor.rate)} events/s ${best.floor.cpuUs.toFixed(1).padStart(7)} CPU µs/event`);
    console.log(row('furrow enrich, no enrichments', best.core, TARGET_CORE));
    if (pipeline !== null) {
      console.log(row('furrow enrich, common enrichments', best.common, TARGET_COMMON));
      console.log(`  common enrichments / no enrichments    ${(best.common.rate / best.core.rate).toFixed(2)} (CPU ${(best.core.cpuUs / best.common.cpuUs).toFixed(2)})`);
    } else console.log(`  furrow enrich, common enrichments      ${skipped}`);
    if (base !== null) {
      console.log(row('baseline, no enrichments', best.baseCore));
      if (base.pipeline !== null) console.log(row('baseline, common enrichments', best.baseCommon));
    }
    console.log(row('furrow enrich, one JS enrichment', best.js));
    console.log(`  JS enrichment / no enrichments         ${(best.js.rate / best.core.rate).toFixed(2)} (CPU ${(best.core.cpuUs / best.js.cpuUs).toFixed(2)}; CPU includes the script process)`);
    await pipeline?.close();
    await jsPipeline.close();
    await base?.pipeline?.close();
    if (process.env['BENCH_KINESIS'] !== '0') {
      const records = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l, 'base64'));
      printKinesis(await benchKinesis(records, [1, 2]));
    }
  } finally {
    if (process.env['BENCH_KEEP']) console.log('corpus kept at', path); else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
