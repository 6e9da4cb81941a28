/**
 * Test support for the enricher core: a real Iglu resolver over ../shared (Iglu Central + the conformance
 * test registries, offline), a processor factory, CollectorPayload builders and an analytics-SDK check.
 */
import { join, resolve } from 'node:path';
import sdk from 'snowplow-analytics-sdk';
import { encodeCollectorPayload, type CollectorPayload } from '../../common/collector-payload.js';
import { createResolver } from '../../iglu-resolver/index.js';
import type { IgluResolver } from '../../iglu-resolver/types.js';
import { DEFAULT_ENRICH_CONFIG, parseEnrichConfig, type EnrichConfig } from '../../config/enrich-config.js';
import { createEnricher } from '../../enricher/enricher-factory.js';
import type { EnrichmentPipeline } from '../../enricher/enrichments/enrichment.js';
import { ENRICHED_FIELDS } from '../../enricher/event.js';

export const SHARED = resolve(process.cwd(), '..', 'shared');
export const VECTORS = join(SHARED, 'conformance', 'enrich');

let cached: Promise<IgluResolver> | null = null;

/** Iglu Central + both conformance test registries, no network. */
export function testResolver(): Promise<IgluResolver> {
  cached ??= createResolver(
    { schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 1000, repositories: [] } },
    { offline: true, extraEmbeddedDirs: [join(VECTORS, 'test-iglu-registry-common'), join(VECTORS, 'test-iglu-registry-5.4.0'), join(SHARED, 'iglu-central')] },
  );
  return cached;
}

export const TEST_PROCESSOR = Object.freeze({ artifact: 'furrow-enrich-test', version: '1.2.3' });

export async function testEnricher(config: EnrichConfig | Record<string, unknown> = DEFAULT_ENRICH_CONFIG, pipeline: EnrichmentPipeline | null = null, maxRecordSize: number | null = null, emitFailed = false) {
  const cfg = 'validation' in config && 'ignored' in config ? (config as EnrichConfig) : parseEnrichConfig(config as Record<string, unknown>);
  return createEnricher(cfg, await testResolver(), pipeline, { maxRecordSize, processor: TEST_PROCESSOR, emitFailed });
}

export const BASE_PAYLOAD: CollectorPayload = {
  schema: 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0',
  ipAddress: '203.0.113.7',
  timestamp: Date.UTC(2024, 5, 1, 12, 0, 0, 123),
  encoding: 'UTF-8',
  collector: 'ssc-3.2.0-kinesis',
  userAgent: 'Mozilla/5.0 (test)',
  path: '/i',
  hostname: 'collector.example.com',
  networkUserId: 'c5f3a09f-75f8-4309-bec5-fea560f78455',
  headers: ['Host: collector.example.com'],
};

export function record(p: Partial<CollectorPayload>): Buffer {
  return encodeCollectorPayload({ ...BASE_PAYLOAD, ...p });
}

export function qs(params: Record<string, string>): string {
  return Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export function tp2Body(events: Array<Record<string, string>>, version = '1-0-4'): string {
  return JSON.stringify({ schema: `iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/${version}`, data: events });
}

/** Parses a good line with the snowplow-analytics-sdk; throws if the SDK cannot. */
export function sdkParse(line: string): Record<string, unknown> {
  return sdk.transform(line) as unknown as Record<string, unknown>;
}

export function column(line: string, field: (typeof ENRICHED_FIELDS)[number]): string {
  return line.split('\t')[ENRICHED_FIELDS.indexOf(field)]!;
}

export function badSchema(row: string): string {
  return (JSON.parse(row) as { schema: string }).schema.split('/')[1]!;
}
