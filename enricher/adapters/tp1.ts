/**
 * Snowplow tracker protocol over GET (`/i`, `/ice.png`, `/com.snowplowanalytics.snowplow/tp1`):
 * one event whose parameters are the querystring (../shared/spec/enrich.md §3).
 */
import type { Adapter, AdapterOutcome, LoadedPayload } from './adapter.js';
import { SNOWPLOW_VENDOR, failure, rawEvent, toParams } from './snowplow-common.js';

export const tp1Adapter: Adapter = Object.freeze({
  vendor: SNOWPLOW_VENDOR,
  version: 'tp1',
  failureKind: 'adapter_failures' as const,
  toRawEvents(payload: LoadedPayload): AdapterOutcome {
    if (payload.querystring.length === 0) {
      // Upstream's message says "URI redirect" here too; kept verbatim for parity.
      return failure({ field: 'querystring', value: null, expectation: 'empty querystring: not a valid URI redirect' });
    }
    return { ok: true, events: [rawEvent(payload, toParams(payload.querystring))] };
  },
});
