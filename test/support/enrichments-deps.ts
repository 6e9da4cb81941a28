/**
 * Test support for enrichments: a small static Iglu resolver over the built-in registry (schemas/, draft-04 via Ajv),
 * EnrichmentDeps with a temp assets dir, event/input builders, and the tests' own enrichment configs and assets
 * (test/fixtures/).
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import type { IgluResolver, SelfDescribingData, ValidationOutcome, LookupOutcome } from '../../iglu-resolver/types.js';
import type { EnrichmentDeps, EnrichmentInput } from '../../enricher/enrichments/enrichment.js';
import type { RawEvent } from '../../enricher/adapters/adapter.js';
import { EnrichedEvent } from '../../formats/enriched-event.js';
import { silentLogger } from '../../common/logger.js';
import { BUILTIN_SCHEMAS, ENRICHMENT_CONFIGS } from './fixtures.js';

export { ASSETS, ENRICHMENT_CONFIGS as CONFIGS } from './fixtures.js';

/** A resolver reading schemas from local static registries; validate() answers ResolutionError for unknown URIs. */
export function staticResolver(dirs: string[] = [BUILTIN_SCHEMAS]): IgluResolver {
  const ajv = new (Ajv04 as unknown as typeof Ajv04.default)({ strict: false, allErrors: true, validateFormats: false });
  const cache = new Map<string, ReturnType<typeof ajv.compile> | null>();
  const find = (uri: string): Record<string, unknown> | null => {
    const path = uri.replace(/^iglu:/, '');
    for (const d of dirs) {
      const p = join(d, path);
      if (existsSync(p)) return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    }
    return null;
  };
  const notFound = (): ValidationOutcome => ({
    ok: false,
    error: { error: 'ResolutionError', lookupHistory: [{ repository: 'static', errors: [{ error: 'NotFound' }], attempts: 1, lastAttempt: new Date().toISOString() }] },
  });
  const compiled = (uri: string) => {
    if (!cache.has(uri)) {
      const s = find(uri);
      if (s === null) cache.set(uri, null);
      else {
        const { $schema: _s, self: _self, ...rest } = s;
        cache.set(uri, ajv.compile(rest));
      }
    }
    return cache.get(uri) ?? null;
  };
  const validateCached = (uri: string, data: unknown): ValidationOutcome => {
    const v = compiled(uri);
    if (v === null) return notFound();
    if (v(data)) return { ok: true, supersededBy: null };
    return {
      ok: false,
      error: {
        error: 'ValidationError',
        dataReports: (v.errors ?? []).map((e) => ({ message: `${e.instancePath || '$'}: ${e.message ?? ''}`, path: e.instancePath || '$', keyword: e.keyword, targets: [] })),
      },
    };
  };
  return {
    async lookupSchema(uri: string): Promise<LookupOutcome> {
      const s = find(uri);
      if (s === null) return notFound() as LookupOutcome;
      return { ok: true, schema: s, supersededBy: null };
    },
    async validate(uri: string, data: unknown) {
      return validateCached(uri, data);
    },
    validateCached,
    async listSchemas() {
      return [];
    },
  };
}

export function testDeps(overrides: Partial<EnrichmentDeps> = {}): EnrichmentDeps {
  return {
    resolver: staticResolver(),
    logger: silentLogger,
    assetsDir: mkdtempSync(join(tmpdir(), 'furrow-assets-')),
    fetch: globalThis.fetch,
    ...overrides,
  };
}

export function rawEvent(params: Record<string, string | null> = {}, context: Partial<RawEvent['context']> = {}): RawEvent {
  return {
    api: { vendor: 'com.snowplowanalytics.snowplow', version: 'tp2' },
    parameters: new Map(Object.entries(params)),
    contentType: null,
    source: { name: 'ssc-test', encoding: 'UTF-8', hostname: null },
    context: { timestamp: 0, ipAddress: null, useragent: null, refererUri: null, headers: [], userId: null, ...context },
  };
}

export function makeInput(fields: Partial<Record<keyof EnrichedEvent, string | null>> = {}, raw: RawEvent = rawEvent()): EnrichmentInput {
  const event = new EnrichedEvent();
  Object.assign(event, fields);
  return { event, raw, unstructEvent: null, contexts: [] };
}

export function sdj(schema: string, data: unknown): SelfDescribingData {
  return { schema, data };
}

export function readConfig(file: string): SelfDescribingData {
  return JSON.parse(readFileSync(join(ENRICHMENT_CONFIGS, file), 'utf8')) as SelfDescribingData;
}
