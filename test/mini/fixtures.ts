/** Enriched TSV lines and bad rows shaped as the enricher writes them, for feeding mini's store directly. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENRICHED_FIELDS, type EnrichedFieldName } from '../../formats/enriched-event.js';

export function tsv(fields: Partial<Record<EnrichedFieldName, string>>): string {
  return ENRICHED_FIELDS.map((f) => fields[f] ?? '').join('\t');
}

let n = 0;
export function uuid(): string {
  n++;
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export function pageView(over: Partial<Record<EnrichedFieldName, string>> = {}): string {
  return tsv({
    app_id: 'shop', platform: 'web', etl_tstamp: '2026-11-26 10:00:01.250', collector_tstamp: '2026-11-26 10:00:00.000',
    dvce_created_tstamp: '2026-11-26 09:59:59.900', event: 'page_view', event_id: uuid(), name_tracker: 'sp1', v_tracker: 'js-4.1.0',
    v_collector: 'ssc-3.0.0-kinesis', v_etl: 'furrow-0.1.0', domain_sessionidx: '3', page_url: 'http://shop.example/cart',
    page_urlport: '80', br_features_pdf: '1', br_cookies: '0', geo_latitude: '51.5', geo_longitude: '-0.12', tr_total: '12.50',
    contexts: JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1',
      data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: 'abc' } }],
    }),
    derived_contexts: JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1',
      data: [{ schema: 'iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0', data: { useragentFamily: 'Chrome' } }],
    }),
    event_vendor: 'com.snowplowanalytics.snowplow', event_name: 'page_view', event_format: 'jsonschema', event_version: '1-0-0',
    ...over,
  });
}

export function selfDescribing(schema: string, data: unknown, contexts: string[], over: Partial<Record<EnrichedFieldName, string>> = {}): string {
  const m = /^iglu:([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(schema)!;
  return pageView({
    event: 'unstruct',
    unstruct_event: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema, data } }),
    contexts: JSON.stringify({
      schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1',
      data: contexts.map((c) => ({ schema: c, data: { k: 1 } })),
    }),
    event_vendor: m[1]!, event_name: m[2]!, event_format: m[3]!, event_version: m[4]!,
    ...over,
  });
}

export function schemaViolation(eid: string, opts: { schemaKey?: string; message?: string; aid?: string } = {}): string {
  const schemaKey = opts.schemaKey ?? 'iglu:com.acme/email_sent/jsonschema/1-0-0';
  return JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1',
    data: {
      processor: { artifact: 'furrow-enrich', version: '0.1.0' },
      failure: {
        timestamp: '2026-11-26T10:00:01.000Z',
        messages: [
          {
            schemaKey,
            error: {
              error: 'ValidationError',
              dataReports: [{ message: opts.message ?? '$.email: is missing but it is required', path: '$', keyword: 'required', targets: ['email'] }],
            },
          },
        ],
      },
      payload: {
        enriched: { app_id: opts.aid ?? 'shop', platform: 'web', event: 'unstruct', event_id: eid, collector_tstamp: '2026-11-26 10:00:00.000' },
        raw: {
          vendor: 'com.snowplowanalytics.snowplow', version: 'tp2',
          parameters: [{ name: 'e', value: 'ue' }, { name: 'eid', value: eid }, { name: 'aid', value: opts.aid ?? 'shop' }, { name: 'p', value: 'web' }],
          contentType: 'application/json', loaderName: 'ssc-3.0.0-kinesis', encoding: 'UTF-8', hostname: 'localhost',
          timestamp: '2026-11-26T10:00:00.000Z', ipAddress: '127.0.0.1', useragent: 'node', refererUri: null, headers: ['Host: localhost'], userId: null,
        },
      },
    },
  });
}

export function trackerProtocolViolation(): string {
  return JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.snowplow.badrows/tracker_protocol_violations/jsonschema/1-0-1',
    data: {
      processor: { artifact: 'furrow-enrich', version: '0.1.0' },
      failure: {
        timestamp: '2026-11-26T10:00:01.000Z', vendor: 'com.snowplowanalytics.snowplow', version: 'tp2',
        messages: [{ field: 'contentType', value: null, expectation: 'expected one of application/json, application/json; charset=utf-8, application/json; charset=UTF-8' }],
      },
      payload: {
        vendor: 'com.snowplowanalytics.snowplow', version: 'tp2', querystring: [{ name: 'x', value: '1' }], contentType: null, body: 'body',
        collector: 'ssc-3.0.0-kinesis', encoding: 'UTF-8', hostname: 'localhost', timestamp: '2026-11-26T10:00:00.000Z', ipAddress: '127.0.0.1',
        useragent: null, refererUri: null, headers: [], networkUserId: null,
      },
    },
  });
}

/** The user's own schemas, as `--iglu DIR` would hold them. */
export function writeSchemas(): string {
  const dir = mkdtempSync(join(tmpdir(), 'furrow-mini-iglu-'));
  const put = (vendor: string, name: string, version: string, properties: Record<string, unknown>, required: string[]) => {
    const d = join(dir, 'schemas', vendor, name, 'jsonschema');
    mkdirSync(d, { recursive: true });
    writeFileSync(
      join(d, version),
      JSON.stringify({
        $schema: 'http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#',
        self: { vendor, name, format: 'jsonschema', version },
        type: 'object',
        properties,
        required,
        additionalProperties: false,
      }),
    );
  };
  put('com.acme', 'signup', '1-0-0', { plan: { type: 'string', enum: ['free', 'pro'] }, seats: { type: 'integer', minimum: 1 } }, ['plan']);
  put('com.acme', 'user', '1-0-0', { id: { type: 'string' } }, ['id']);
  put('com.acme', 'org', '1-0-0', { name: { type: 'string' } }, ['name']);
  return dir;
}

