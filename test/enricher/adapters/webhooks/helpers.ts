/** Test helpers for the webhook adapters: a LoadedPayload builder and access to the emitted event. */
import type { Adapter, AdapterOutcome, LoadedPayload, RawEvent } from '../../../../enricher/adapters/adapter.js';
import { WEBHOOK_ADAPTERS } from '../../../../enricher/adapters/webhooks/index.js';
import { parseForm } from '../../../../enricher/adapters/webhooks/support.js';
import type { IgluResolver } from '../../../../iglu-resolver/types.js';

export function adapterFor(vendor: string, version: string): Adapter {
  const a = WEBHOOK_ADAPTERS.find((x) => x.vendor === vendor && x.version === version);
  if (!a) throw new Error(`no adapter for ${vendor}/${version}`);
  return a;
}

export function payload(p: { path: string; body?: string | null; contentType?: string | null; querystring?: string | null; timestamp?: number }): LoadedPayload {
  const [, vendor, version] = /^\/([^/]+)\/([^/]+)/.exec(p.path)!;
  const qs = p.querystring ? parseForm(p.querystring) : { pairs: [] };
  if ('error' in qs) throw new Error(qs.error);
  return {
    api: { vendor: vendor!, version: version! },
    querystring: qs.pairs,
    contentType: p.contentType ?? null,
    body: p.body ?? null,
    source: { name: 'ssc-test', encoding: 'UTF-8', hostname: 'example.test' },
    context: { timestamp: p.timestamp ?? 0, ipAddress: '10.0.0.1', useragent: null, refererUri: null, headers: [], userId: null },
  };
}

/** Adapters here never call the resolver; a resolver that fails loudly proves it. */
const noResolver = new Proxy({}, { get: () => () => { throw new Error('webhook adapters must not use the resolver'); } }) as IgluResolver;

export async function run(adapter: Adapter, p: LoadedPayload): Promise<AdapterOutcome> {
  return adapter.toRawEvents(p, { resolver: noResolver });
}

export function unstruct(e: RawEvent): { schema: string; data: { schema: string; data: unknown } } {
  return JSON.parse(e.parameters.get('ue_pr')!) as { schema: string; data: { schema: string; data: unknown } };
}
