/**
 * Builds the record processor from a parsed config, a resolver and the enrichment pipeline — the one place
 * where the core's parts are put together (CLI, mini, tests and the benchmark use it).
 */
import { FURROW_VERSION } from '../common/version.js';
import type { IgluResolver } from '../iglu-resolver/types.js';
import type { EnrichConfig } from './config.js';
import { AdapterRegistry } from './adapters/registry.js';
import type { Processor } from './bad-rows.js';
import { EnrichmentManager } from './enrichment-manager.js';
import type { EnrichmentPipeline } from './enrichments/enrichment.js';
import { RecordProcessor } from './processor.js';

/** `processor` of bad rows and `v_etl` = `furrow-enrich-<version>`. */
export const PROCESSOR: Processor = Object.freeze({
  artifact: 'furrow-enrich',
  version: FURROW_VERSION,
});

export interface EnricherParts {
  manager: EnrichmentManager;
  processor: RecordProcessor;
}

export function createEnricher(
  config: EnrichConfig,
  resolver: IgluResolver,
  pipeline: EnrichmentPipeline | null,
  opts: { maxRecordSize?: number | null; processor?: Processor; adapters?: AdapterRegistry; emitFailed?: boolean; onIgluOutage?: 'bad-row' | 'stop' } = {},
): EnricherParts {
  const processorInfo = opts.processor ?? PROCESSOR;
  const manager = new EnrichmentManager({
    resolver,
    pipeline,
    processor: processorInfo,
    maxJsonDepth: config.validation.maxJsonDepth,
    atomicFieldsLimits: config.validation.atomicFieldsLimits,
    acceptInvalid: config.validation.acceptInvalid,
    emitFailed: opts.emitFailed ?? config.output.failed !== null,
    onIgluOutage: opts.onIgluOutage ?? 'bad-row',
  });
  const processor = new RecordProcessor({
    manager,
    adapters: opts.adapters ?? new AdapterRegistry(),
    adapterDeps: { resolver, maxJsonDepth: config.validation.maxJsonDepth },
    processor: processorInfo,
    framing: config.decompression,
    maxRecordSize: opts.maxRecordSize ?? null,
  });
  return { manager, processor };
}
