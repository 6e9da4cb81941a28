/**
 * Bad rows made by the real enricher (the test resolver: built-in registry + test/fixtures/iglu, offline), for the
 * recovery tests, and a helper that runs recovered records through the same enricher.
 */
import { gzipSync } from 'node:zlib';
import { parseEnrichConfig } from '../../enricher/config.js';
import { testEnricher, qs, record, tp2Body, column, badSchema } from '../enricher/support.js';

export { qs, record, tp2Body, column, badSchema };

export const EVENT_ID = '6f2e4ab8-7c1f-4b4e-9d1e-3a0a7b0f1c22';

export function sdj(schema: string, data: unknown): string {
  return JSON.stringify({ schema, data });
}

export function ue(schema: string, data: unknown): string {
  return sdj('iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', { schema, data });
}

export function contexts(items: Array<{ schema: string; data: unknown }>): string {
  return sdj('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', items);
}

/** A gzip batch record (collector 3.6 layout: 1.1, then length-prefixed payloads). */
export function gzipBatch(payloads: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from([1, 1])];
  for (const p of payloads) {
    const n = Buffer.alloc(4);
    n.writeInt32BE(p.length);
    parts.push(n, p);
  }
  return gzipSync(Buffer.concat(parts));
}

/** One record of each kind that fails, with the fix that makes it good. */
export function failingRecords(): Record<string, Buffer> {
  return {
    // additionalProperties false: `extra` is not allowed (schema_violations)
    extraField: record({ querystring: qs({ e: 'ue', p: 'web', tv: 'js-3', eid: EVENT_ID, ue_pr: ue('iglu:com.acme/email_sent/jsonschema/1-0-0', { emailAddress: 'a@b.c', extra: 1 }) }) }),
    // a context with a schema version that does not exist, base64url in cx (schema_violations); no eid
    missingSchema: record({ querystring: qs({ e: 'pv', p: 'web', tv: 'js-3', cx: Buffer.from(contexts([{ schema: 'iglu:com.acme/test/jsonschema/1-0-0', data: { name: 'x' } }])).toString('base64url') }) }),
    // POST without a content type (tracker_protocol_violations), two events
    noContentType: record({ path: '/com.snowplowanalytics.snowplow/tp2', body: tp2Body([{ e: 'pv', p: 'web', tv: 't', eid: '0d3d7c1e-1111-4a4a-8b8b-000000000001' }, { e: 'pp', p: 'web', tv: 't', eid: '0d3d7c1e-1111-4a4a-8b8b-000000000002' }]) }),
    // an unknown vendor (adapter_failures)
    unknownVendor: record({ path: '/com.acme/v9', querystring: qs({ e: 'pv', p: 'web', tv: 't', eid: '0d3d7c1e-1111-4a4a-8b8b-000000000003' }) }),
    // '{' is illegal in a querystring (collector_payload_format_violation)
    illegalChar: record({ querystring: `e=pv&p=web&tv=t&url=${'https://x.example/{id}'}&eid=0d3d7c1e-1111-4a4a-8b8b-000000000004` }),
    // legacy e=ad (enrichment_failures)
    legacyAd: record({ querystring: qs({ e: 'ad', p: 'web', tv: 't', eid: '0d3d7c1e-1111-4a4a-8b8b-000000000005' }) }),
  };
}

/** The enricher the tests use, with small decompression limits so that a batch of two payloads is a size_violation. */
export async function smallBatchEnricher() {
  return testEnricher(parseEnrichConfig({ decompression: { maxBytesSinglePayload: 150, maxBytesInBatch: 100_000 } }));
}

export async function enrichAll(records: readonly Buffer[]): Promise<{ good: string[]; bad: string[] }> {
  const { processor } = await testEnricher();
  const good: string[] = [];
  const bad: string[] = [];
  for (const r of records) {
    const o = await processor.process(r);
    good.push(...o.good);
    bad.push(...o.bad);
  }
  return { good, bad };
}

