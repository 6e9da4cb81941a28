/**
 * blackbox/ and legacy_full_tsv/: whole CollectorPayload records through furrow's RecordProcessor, each good
 * line also read back by Snowplow's JS analytics SDK; services the blackbox vectors call are loopback stand-ins.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sdkDisagreements } from '../test/enricher/support.js';
import type { IgluResolver, SelfDescribingData } from '../iglu-resolver/types.js';
import { AdapterRegistry } from '../enricher/adapters/registry.js';
import type { EnrichmentPipeline } from '../enricher/enrichments/enrichment.js';
import { EnrichedEvent, parseEnrichedTsv } from '../formats/enriched-event.js';
import { encodeCollectorPayload } from '../formats/collector-payload.js';
import { RecordProcessor } from '../enricher/processor.js';
import { checkFields, enrichmentDeps, manager, pipelineFor } from './enricher-setup.js';
import { fail, guarded, jsonEqual, PASS, PROCESSOR, readJson, show, unsupported, VECTORS } from './harness.js';
import { startStandIns, withStandIns, type StandIns } from './stand-ins.js';

interface E2E { good: EnrichedEvent[]; bad: string[]; pii: EnrichedEvent[] }

async function runRecord(resolver: IgluResolver, pipeline: EnrichmentPipeline | null, b64: string): Promise<E2E> {
  const m = manager(resolver, pipeline);
  const p = new RecordProcessor({
    manager: m, adapters: new AdapterRegistry(), adapterDeps: { resolver }, processor: PROCESSOR,
    framing: { maxBytesSinglePayload: 10_000_000, maxBytesInBatch: 100_000_000 }, maxRecordSize: null,
  });
  const out = await p.process(Buffer.from(b64, 'base64'));
  const parse = (l: string): EnrichedEvent => {
    const e = parseEnrichedTsv(l);
    if (typeof e === 'string') throw new Error(`furrow wrote an unparseable TSV line: ${e}`);
    // Every line must also be read by Snowplow's JS analytics SDK to the values furrow wrote.
    // Known SDK limit (0.1.0): its schema pattern rejects vendors with a hyphen (`…input-adapters`,
    // `…measurement-protocol`), which upstream Enrich writes the same way; only that case is tolerated.
    let problems: string[] = [];
    try {
      problems = sdkDisagreements(l);
    } catch (err) {
      if (!(String(err).includes('Wrong schema format') && /"iglu:[a-zA-Z0-9_.]*-[a-zA-Z0-9_.-]*\//.test(l))) throw err;
    }
    if (problems.length > 0) throw new Error(`snowplow-analytics-sdk reads this line differently: ${problems.join('; ')}`);
    return e;
  };
  return { good: out.good.map(parse), bad: out.bad, pii: out.pii.map(parse) };
}

function pathOf(v: any): string | null {
  return v.input.payload?.path ?? v.input.decoded?.path ?? v.input.modern_equivalent?.payload?.path ?? null;
}

export async function blackboxVectors(resolver: IgluResolver): Promise<void> {
  const standIns = await startStandIns();
  try {
    await blackboxVectorsWith(resolver, standIns);
  } finally {
    await standIns.close();
  }
}

async function blackboxVectorsWith(resolver: IgluResolver, standIns: StandIns): Promise<void> {
  const dir = join(VECTORS, 'blackbox');
  const adapters = new AdapterRegistry();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const v = readJson(join(dir, f));
    const id = `blackbox/${basename(f, '.json')}`;
    await guarded('blackbox', id, async () => {
      const path = pathOf(v);
      const m = path === null ? null : /^\/?([^/]+)\/([^/?]+)/.exec(path);
      if (m !== null && path !== null && path !== '/i' && !path.startsWith('/ice.png') && !adapters.has(m[1]!, m[2]!)) return unsupported(`adapter ${m[1]}/${m[2]} not available`);
      let deps = enrichmentDeps(resolver);
      let configs: SelfDescribingData[] = v.enrichments;
      if (typeof v.requires === 'string' && /API|PostgreSQL|Open Exchange|YAUAA/.test(v.requires)) {
        const s = withStandIns(v, deps, standIns);
        if (!('configs' in s)) return s;
        ({ configs, deps } = s);
      }
      const pipeline = configs.length > 0 ? await pipelineFor(configs, deps) : null;
      if (pipeline !== null && !('run' in pipeline)) return pipeline;
      try {
        const out = await runRecord(resolver, pipeline, v.input.thrift_base64 ?? v.input.data);
        const e = v.expected;
        if (out.good.length !== (e.count ?? 1)) return fail(`${out.good.length} good, ${out.bad.length} bad: ${out.bad[0]?.slice(0, 700) ?? ''}`);
        for (const ev of out.good) {
          const problem = checkFields(ev as unknown as Record<string, string | null>, e.fields ?? {});
          if (problem !== null) return fail(problem);
          for (const [k, want] of Object.entries(e.json_fields ?? {})) {
            const col = k === 'pii' ? out.pii[0]?.unstruct_event ?? null : (ev as unknown as Record<string, string | null>)[k] ?? null;
            if (col === null) return fail(`${k} is empty`);
            if (!jsonEqual(JSON.parse(col), want)) return fail(`${k}: got ${show(col)}`);
          }
        }
        return PASS;
      } finally {
        await pipeline?.close();
      }
    });
  }
}

export async function legacyVectors(resolver: IgluResolver): Promise<void> {
  const dir = join(VECTORS, 'legacy_full_tsv');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const v = readJson(join(dir, f));
    const id = `legacy_full_tsv/${basename(f, '.json')}`;
    await guarded('legacy_full_tsv', id, async () => {
      const modern = v.input.modern_equivalent;
      if (modern === undefined) return unsupported('no modern CollectorPayload equivalent');
      const deps = enrichmentDeps(resolver);
      const pipeline = v.enrichments?.length > 0 ? await pipelineFor(v.enrichments, deps) : null;
      if (pipeline !== null && !('run' in pipeline)) return pipeline;
      try {
        const b64 = modern.thrift_base64 ?? encodeModern(modern.payload);
        const out = await runRecord(resolver, pipeline, b64);
        if (out.good.length !== 1) return fail(`${out.good.length} good, ${out.bad.length} bad: ${out.bad[0]?.slice(0, 700) ?? ''}`);
        const problem = checkFields(out.good[0] as unknown as Record<string, string | null>, v.expected.tsv_fields, true);
        if (problem !== null) return fail(problem);
        if (v.expected.pii_event_tsv_fields !== undefined) {
          if (out.pii.length !== 1) return fail(`${out.pii.length} pii events`);
          const p2 = checkFields(out.pii[0] as unknown as Record<string, string | null>, v.expected.pii_event_tsv_fields, true);
          if (p2 !== null) return fail(`pii event: ${p2}`);
        }
        return PASS;
      } finally {
        await pipeline?.close();
      }
    });
  }
}

/** A legacy vector's modern CollectorPayload (JSON, nulls for absent fields) → the base64 Thrift record. */
function encodeModern(p: any): string {
  return encodeCollectorPayload(Object.fromEntries(Object.entries(p).filter(([, x]) => x !== null)) as any).toString('base64');
}
