/**
 * The enricher as the vectors need it: a resolver over a vector registry plus Iglu Central, enrichment deps
 * pointing at the test assets (offline), the enrichment manager, a raw event from a vector's parameters, and the
 * field comparison the vectors' expectations use.
 */
import { readdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver } from '../iglu-resolver/index.js';
import type { IgluResolver, SelfDescribingData } from '../iglu-resolver/types.js';
import { silentLogger } from '../common/logger.js';
import { FurrowError } from '../common/errors.js';
import type { RawEvent } from '../enricher/adapters/adapter.js';
import { DEFAULT_ATOMIC_FIELD_LIMITS } from '../formats/atomic-fields.js';
import { EnrichmentManager } from '../enricher/enrichment-manager.js';
import { buildEnrichments } from '../enricher/enrichments/registry.js';
import type { EnrichmentDeps, EnrichmentPipeline } from '../enricher/enrichments/enrichment.js';
import { fail, IGLU_CENTRAL, jsonEqual, PROCESSOR, show, unsupported, VECTORS, type Outcome } from './harness.js';

export async function resolverOver(registry: string): Promise<IgluResolver> {
  return createResolver(
    { schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 1000, repositories: [] } },
    { offline: true, extraEmbeddedDirs: [join(VECTORS, registry), IGLU_CENTRAL] },
  );
}

/** Test assets by file name (the blackbox configs name databases the upstream tests shipped). */
function localAssets(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ['common-registry', 'fs2-5.4.0']) {
    const d = join(VECTORS, 'assets', dir);
    for (const f of readdirSync(d)) out[f] = join(d, f);
  }
  for (const f of readdirSync(join(VECTORS, 'assets'))) if (f.includes('.')) out[f] = join(VECTORS, 'assets', f);
  out['referer-tests.json'] = join(VECTORS, 'assets', 'referer-tests.json');
  return out;
}

export function enrichmentDeps(resolver: IgluResolver): EnrichmentDeps {
  return {
    resolver,
    logger: silentLogger,
    assetsDir: mkdtempSync(join(tmpdir(), 'furrow-conformance-')),
    fetch: (() => Promise.reject(new Error('conformance runs offline'))) as unknown as typeof fetch,
    localAssets: localAssets(),
    assetsUpdatePeriodMs: 0,
  };
}

/** Builds the pipeline, or says why the vector is not runnable yet. */
export async function pipelineFor(configs: SelfDescribingData[], deps: EnrichmentDeps): Promise<EnrichmentPipeline | Outcome> {
  try {
    return await buildEnrichments(configs, deps);
  } catch (e) {
    if (e instanceof FurrowError && (e.code === 'ENRICH_ENRICHMENT_UNKNOWN' || e.code === 'ENRICH_ENRICHMENT_UNSUPPORTED')) {
      const names = configs.map((c) => c.schema.split('/')[1]).join(', ');
      return unsupported(`enrichment not available: ${names}`);
    }
    return fail(`building enrichments failed: ${(e as Error).message}`);
  }
}

export function manager(resolver: IgluResolver, pipeline: EnrichmentPipeline | null, opts: { limits?: Record<string, number>; acceptInvalid?: boolean; emitFailed?: boolean } = {}): EnrichmentManager {
  return new EnrichmentManager({
    resolver,
    pipeline,
    processor: PROCESSOR,
    maxJsonDepth: 50,
    atomicFieldsLimits: { ...DEFAULT_ATOMIC_FIELD_LIMITS, ...(opts.limits ?? {}) },
    acceptInvalid: opts.acceptInvalid ?? false,
    emitFailed: opts.emitFailed ?? false,
  });
}

export function rawEventFrom(params: Record<string, string | null>, ctx: any, sourceName?: string): RawEvent {
  const [vendor, version] = String(ctx.api ?? 'com.snowplowanalytics.snowplow/tp2').split('/');
  const ts = ctx.timestamp ?? ctx.collector_timestamp;
  return {
    api: { vendor: vendor!, version: version! },
    parameters: new Map(Object.entries(params)),
    contentType: null,
    source: { name: sourceName ?? ctx.source?.name ?? 'ssc-test', encoding: ctx.source?.encoding ?? 'UTF-8', hostname: ctx.source?.hostname ?? null },
    context: {
      timestamp: ts === undefined || ts === null ? null : Date.parse(ts),
      ipAddress: ctx.ipAddress ?? null,
      useragent: ctx.useragent ?? null,
      refererUri: ctx.refererUri ?? null,
      headers: ctx.headers ?? [],
      userId: ctx.userId ?? null,
    },
  };
}

export function checkFields(ev: Record<string, string | null>, expected: Record<string, unknown>, legacy = false): string | null {
  for (const [k, want] of Object.entries(expected)) {
    const got = ev[k] ?? '';
    if (want !== null && typeof want === 'object') {
      const w = want as { regex?: string; placeholder?: string };
      if (w.placeholder !== undefined) continue;
      if (w.regex !== undefined) {
        let re = w.regex;
        if (legacy && k === 'contexts') re = re.replace('contexts/jsonschema/1\\-0\\-0', 'contexts/jsonschema/1\\-0\\-1');
        if (!new RegExp(`^(?:${re})$`, 's').test(got)) return `${k}: ${show(got)} does not match /${w.regex}/`;
        continue;
      }
    }
    let w = String(want ?? '');
    if (legacy && (k === 'contexts' || k === 'derived_contexts')) w = w.replace('contexts/jsonschema/1-0-0', 'contexts/jsonschema/1-0-1');
    if ((k === 'contexts' || k === 'derived_contexts' || k === 'unstruct_event') && w !== '' && got !== '') {
      if (!jsonEqual(JSON.parse(got), JSON.parse(w))) return `${k}: got ${show(got)}, want ${show(w)}`;
      continue;
    }
    if (got !== w) return `${k}: got ${show(got)}, want ${show(w)}`;
  }
  return null;
}
