/**
 * Collector path `/{vendor}/{version}` → adapter (../shared/spec/enrich.md §3). Built once at start;
 * an unknown pair is an adapter_failures bad row.
 */
import type { Adapter } from './adapter.js';
import { tp1Adapter } from './tp1.js';
import { tp2Adapter } from './tp2.js';
import { redirectAdapter } from './redirect.js';
import { igluWebhookAdapter } from './iglu-webhook.js';
import { WEBHOOK_ADAPTERS } from './webhooks/index.js';

export const SNOWPLOW_ADAPTERS: readonly Adapter[] = [tp1Adapter, tp2Adapter, redirectAdapter, igluWebhookAdapter];

export class AdapterRegistry {
  /**
   * vendor → version → adapter: two lookups of the loader's (cached, so already hashed) strings instead of building
   * `vendor/version` and hashing it for every record.
   */
  private readonly byVendor: ReadonlyMap<string, ReadonlyMap<string, Adapter>>;

  constructor(adapters: readonly Adapter[] = [...SNOWPLOW_ADAPTERS, ...WEBHOOK_ADAPTERS]) {
    const m = new Map<string, Map<string, Adapter>>();
    for (const a of adapters) {
      let versions = m.get(a.vendor);
      if (versions === undefined) m.set(a.vendor, (versions = new Map()));
      versions.set(a.version, a);
    }
    this.byVendor = m;
  }

  lookup(vendor: string, version: string): Adapter | undefined {
    return this.byVendor.get(vendor)?.get(version);
  }

  has(vendor: string, version: string): boolean {
    return this.lookup(vendor, version) !== undefined;
  }
}
