/**
 * Test support for the enricher core: a real Iglu resolver (the built-in registry + the tests' own schemas in
 * test/fixtures/iglu, offline), a processor factory, CollectorPayload builders and an analytics-SDK check.
 */
import sdk from 'snowplow-analytics-sdk';
import { encodeCollectorPayload, type CollectorPayload } from '../../formats/collector-payload.js';
import { createResolver } from '../../iglu-resolver/index.js';
import type { IgluResolver } from '../../iglu-resolver/types.js';
import { DEFAULT_ENRICH_CONFIG, parseEnrichConfig, type EnrichConfig } from '../../enricher/config.js';
import { createEnricher } from '../../enricher/enricher-factory.js';
import type { EnrichmentPipeline } from '../../enricher/enrichments/enrichment.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { TEST_REGISTRY } from '../support/fixtures.js';

export { BUILTIN_REGISTRY, TEST_REGISTRY } from '../support/fixtures.js';

let cached: Promise<IgluResolver> | null = null;

/** The tests' own schemas, then the built-in registry (Iglu Central's schemas); no network. */
export function testResolver(): Promise<IgluResolver> {
  cached ??= createResolver(
    { schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 1000, repositories: [] } },
    { offline: true, extraEmbeddedDirs: [TEST_REGISTRY] },
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

function sdkKey(prefix: string, schema: string): string {
  const m = /^iglu:([a-zA-Z0-9_.]+)\/([a-zA-Z0-9_-]+)\/[^/]+\/(\d+)-/.exec(schema);
  if (!m) throw new Error(`not an Iglu URI: ${schema}`);
  return [prefix, m[1]!.replace(/\./g, '_').toLowerCase(), m[2]!.replace(/([^A-Z_])([A-Z])/g, '$1_$2').toLowerCase(), m[3]].join('_');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Parses a good line with snowplow-analytics-sdk and lists every column whose SDK value differs from what
 * furrow wrote (ints/floats as numbers, 0/1 as booleans, timestamps as ISO, contexts by schema key).
 */
export function sdkDisagreements(line: string): string[] {
  const sdk = sdkParse(line);
  const cols = line.split('\t');
  const problems: string[] = [];
  const contextKeys = new Map<string, unknown[]>();
  // The JS SDK (0.1.0) calls column 121 `refr_device_tstamp`; the TSV column is Snowplow's refr_dvce_tstamp.
  const sdkName = (f: string): string => (f === 'refr_dvce_tstamp' ? 'refr_device_tstamp' : f);
  ENRICHED_FIELDS.forEach((field, i) => {
    const f = field as string;
    const col = cols[i]!;
    if (col === '') {
      if (Object.hasOwn(sdk, sdkName(f))) problems.push(`${f}: empty column but the SDK has ${JSON.stringify(sdk[sdkName(f)])}`);
      return;
    }
    if (f === 'contexts' || f === 'derived_contexts') {
      for (const e of (JSON.parse(col) as { data: Array<{ schema: string; data: unknown }> }).data) {
        const k = sdkKey('contexts', e.schema);
        contextKeys.set(k, [...(contextKeys.get(k) ?? []), e.data]);
      }
      return;
    }
    if (f === 'unstruct_event') {
      const inner = (JSON.parse(col) as { data: { schema: string; data: unknown } }).data;
      const k = sdkKey('unstruct_event', inner.schema);
      if (!same(sdk[k], inner.data)) problems.push(`${f}: SDK ${k} = ${JSON.stringify(sdk[k])}`);
      return;
    }
    const v = sdk[sdkName(f)];
    const want = typeof v === 'number' ? Number(col) : typeof v === 'boolean' ? col === '1' : f.endsWith('_tstamp') ? col.replace(' ', 'T') + 'Z' : col;
    if (v !== want) problems.push(`${f}: wrote ${JSON.stringify(col)}, SDK read ${JSON.stringify(v)}`);
  });
  for (const [k, entities] of contextKeys) {
    // The SDK files contexts and derived_contexts under the same keys; a key seen in both is only checked for presence.
    if (!Array.isArray(sdk[k])) problems.push(`${k}: missing in the SDK output`);
    else if ((sdk[k] as unknown[]).length === entities.length && !same(sdk[k], entities)) problems.push(`${k}: SDK ${JSON.stringify(sdk[k])}`);
  }
  return problems;
}
