/**
 * unit/: Snowplow's unit-level vectors (value converters, loaders, adapters, enrichments, the manager) run
 * against furrow's functions one case at a time.
 */
import { join } from 'node:path';
import type { IgluResolver, SelfDescribingData } from '../iglu-resolver/types.js';
import type { LoadedPayload } from '../enricher/adapters/adapter.js';
import { AdapterRegistry } from '../enricher/adapters/registry.js';
import {
  ConversionError, convertBooleanByte, convertDecimal, convertDimensions, convertEventType, convertInt, convertIp, convertPlatform,
  convertTrackerTimestamp, convertUuid, decodeBase64Lenient, formatTimestamp, isRedshiftCompatible, javaFloatToString, makeTsvSafe,
} from '../enricher/converters.js';
import { derivedTstamp } from '../enricher/enrichment-manager.js';
import { ENRICHMENT_FACTORIES } from '../enricher/enrichments/registry.js';
import { EnrichedEvent } from '../formats/enriched-event.js';
import { extractIpAddress } from '../enricher/payloads/ip-address-extractor.js';
import { loadThrift } from '../enricher/payloads/thrift-loader.js';
import { formatContexts, formatUnstructEvent, makeEntity } from '../enricher/self-describing.js';
import { toTsv } from '../formats/enriched-tsv.js';
import { explodeUri } from '../enricher/uri.js';
import { checkFields, enrichmentDeps, manager, pipelineFor, rawEventFrom } from './enricher-setup.js';
import { fail, guarded, jsonEqual, PASS, readJson, record, show, unsupported, VECTORS, type Outcome } from './harness.js';

export async function unitVectors(common: IgluResolver): Promise<void> {
  const dir = join(VECTORS, 'unit');
  const cat = 'unit';

  // value_converters
  const vc = readJson(join(dir, 'value_converters.json'));
  const conv = (f: (s: string) => unknown) => (c: any): Outcome => {
    if (c.in === null && 'ok' in c) return c.ok === null ? PASS : fail('null input must convert to null');
    const r = c.in === null ? new ConversionError('null input') : f(c.in);
    if ('error' in c || 'error_prefix' in c) {
      if (!(r instanceof ConversionError)) return fail(`expected error for ${show(c.in)}, got ${show(r)}`);
      if (c.error !== undefined && c.in !== null && r.message !== c.error) return fail(`message ${show(r.message)} != ${show(c.error)}`);
      if (c.error_prefix !== undefined && !r.message.startsWith(c.error_prefix)) return fail(`message ${show(r.message)}`);
      return PASS;
    }
    if (r instanceof ConversionError) return fail(`${show(c.in)} → error ${r.message}`);
    const want = c.ok === null ? null : Array.isArray(c.ok) ? c.ok.map(String) : String(c.ok);
    return jsonEqual(r, want) ? PASS : fail(`${show(c.in)} → ${show(r)}, want ${show(want)}`);
  };
  const sections: Record<string, ((c: any) => Outcome) | null> = {
    'extractEventType (param e)': conv(convertEventType),
    'extractPlatform (param p)': conv(convertPlatform),
    'extractIp (param ip / collector IP)': (c) => {
      const r = c.in === null ? null : convertIp(c.in);
      return r === c.ok ? PASS : fail(`${show(c.in)} → ${show(r)}`);
    },
    'extractViewDimensions (res/vp/ds)': conv(convertDimensions),
    'extractTimestamp (dtm/stm/ttm, ms since epoch)': conv(convertTrackerTimestamp),
    formatCollectorTstamp: (c) => {
      if (c.in_epoch_ms !== undefined) return formatTimestamp(c.in_epoch_ms) === c.ok ? PASS : fail(formatTimestamp(c.in_epoch_ms));
      const year = /year (-?\d+)/.exec(c.in)![1]!;
      const d = new Date(0);
      d.setUTCFullYear(Number(year.startsWith('-') ? year : /1970 minus/.test(c.in) ? -30 : year));
      const msg = isRedshiftCompatible(d.getTime()) ? null : `Formatted as ${formatTimestamp(d.getTime())} is not Redshift-compatible`;
      return msg === c.error ? PASS : fail(`${msg} != ${c.error}`);
    },
    'stringToJBigDecimal (se_va, tr_tt, tr_tx, tr_sh, ti_pr; TSV uses BigDecimal.toString)': conv(convertDecimal),
    'stringToDoubleLike (reference; not used by Transform)': null,
    'stringToJInteger (tid, vid, ti_qu, pp_*)': conv(convertInt),
    'stringToBooleanLikeJByte (f_*, cookie)': conv(convertBooleanByte),
    'validateUuid (eid, sid)': conv(convertUuid),
    'decodeBase64Url (cx, ue_px; Apache commons-codec Base64(urlSafe=true).decode: accepts both alphabets, padding optional, silently skips invalid chars)': (c) => {
      const r = decodeBase64Lenient(c.in);
      return r === c.ok ? PASS : fail(`${show(c.in)} → ${show(r)}`);
    },
    'fixTabsNewlines / makeTsvSafe (every string param)': (c) => {
      const r = makeTsvSafe(c.in);
      return r === c.ok ? PASS : fail(`${show(c.in)} → ${show(r)}`);
    },
    'explodeUri (page_url*/refr_url*)': (c) => {
      const u = explodeUri(c.in);
      const got = { scheme: u.scheme, host: u.host, port: u.port, path: u.path, query: u.query, fragment: u.fragment };
      return jsonEqual(got, c.ok) ? PASS : fail(`${c.in} → ${show(got)}`);
    },
  };
  for (const [name, f] of Object.entries(sections)) {
    const cases = vc[name];
    if (!Array.isArray(cases)) {
      record(cat, `unit/value_converters#${name}`, fail('section missing from the vector file'));
      continue;
    }
    cases.forEach((c: any, i: number) => {
      if (Object.keys(c).length === 1 && c.note !== undefined) return;
      const id = `unit/value_converters#${name.split(' ')[0]}/${i}`;
      if (f === null) return record(cat, id, unsupported('reference-only converter (stringToDoubleLike) not used by Transform'));
      void guarded(cat, id, () => f(c));
    });
  }

  // derived_tstamp
  readJson(join(dir, 'derived_tstamp.json')).cases.forEach((c: any) => {
    void guarded(cat, `unit/derived_tstamp#${c.name}`, () => {
      const got = derivedTstamp({ true_tstamp: c.true_tstamp, dvce_created_tstamp: c.dvce_created_tstamp, dvce_sent_tstamp: c.dvce_sent_tstamp, collector_tstamp: c.collector_tstamp });
      return got === c.expected_derived_tstamp ? PASS : fail(`${got} != ${c.expected_derived_tstamp}`);
    });
  });

  // ip_address_extractor
  readJson(join(dir, 'ip_address_extractor.json')).cases.forEach((c: any) => {
    void guarded(cat, `unit/ip_address_extractor#${c.name}`, () => {
      const got = extractIpAddress(c.headers, '0.0.0.0');
      const want = String(c.expected).split(' ')[0];
      return got === want ? PASS : fail(`${got} != ${want}`);
    });
  });

  // thrift_loader
  readJson(join(dir, 'thrift_loader.json')).cases.forEach((c: any) => {
    void guarded(cat, `unit/thrift_loader#${c.name}`, () => {
      const r = loadThrift(Buffer.from(c.thrift_base64, 'base64'));
      const e = c.expected;
      if (e.outcome === 'collector_payload') {
        if (!r.ok) return fail(`loader failed: ${show(r.message)}`);
        const api = `${r.payload.api.vendor}/${r.payload.api.version}`;
        if (!String(e.api).startsWith(api)) return fail(`api ${api}`);
        const qs = r.payload.querystring.map((p) => [p.name, p.value]);
        return jsonEqual(qs, e.querystring) ? PASS : fail(`querystring ${show(qs)}`);
      }
      if (r.ok) return fail('expected a collector_payload_format_violation');
      const msg = 'error' in r.message ? r.message.error : r.message.expectation;
      return msg === e.message ? PASS : fail(`message ${show(msg)}`);
    });
  });

  // tsv_serialization
  readJson(join(dir, 'tsv_serialization.json')).cases.forEach((c: any) => {
    void guarded(cat, `unit/tsv_serialization#${c.name}`, () => {
      const ev = new EnrichedEvent();
      const rec = ev as unknown as Record<string, string | null>;
      for (const [k, v] of Object.entries(c.event as Record<string, unknown>)) {
        if (k === 'pii') continue;
        if (k === 'unstruct_event') rec[k] = formatUnstructEvent(v as SelfDescribingData);
        else if (k === 'contexts' || k === 'derived_contexts') rec[k] = formatContexts((v as SelfDescribingData[]).map((x) => makeEntity(x.schema, x.data)));
        else if (k === 'geo_latitude' || k === 'geo_longitude') rec[k] = javaFloatToString(v as number);
        else rec[k] = String(v);
      }
      const tsv = toTsv(ev);
      if (c.expected_tsv !== undefined) return tsv === c.expected_tsv ? PASS : fail(show(tsv));
      if (c.expected_not_contains !== undefined) return tsv.includes(c.expected_not_contains) ? fail(show(tsv)) : PASS;
      const col = tsv.split('\t')[c.expected_column.index];
      return col === c.expected_column.value ? PASS : fail(`column ${c.expected_column.index} = ${show(col)}`);
    });
  });

  // snowplow_adapters
  const sa = readJson(join(dir, 'snowplow_adapters.json'));
  const adapters = new AdapterRegistry();
  for (const c of sa.cases) {
    await guarded(cat, `unit/snowplow_adapters#${c.name}`, async () => {
      const ctx = sa.shared_context;
      const isRedirect = typeof c.adapter === 'string' && c.adapter.startsWith('RedirectAdapter');
      const [vendor, version] = isRedirect ? ['r', 'tp2'] : String(c.api).split('/');
      const payload: LoadedPayload = {
        api: { vendor: vendor!, version: version! },
        querystring: c.querystring.map(([name, value]: [string, string | null]) => ({ name, value })),
        contentType: c.contentType,
        body: c.body,
        source: ctx.source,
        context: { timestamp: Date.parse(ctx.timestamp), ipAddress: ctx.ipAddress, useragent: ctx.useragent, refererUri: ctx.refererUri, headers: ctx.headers, userId: ctx.userId },
      };
      const adapter = adapters.lookup(vendor!, version!);
      if (adapter === undefined) return unsupported(`adapter ${vendor}/${version} not available`);
      const out = await adapter.toRawEvents(payload, { resolver: common });
      const e = c.expected;
      if (e.raw_events !== undefined) {
        if (!out.ok) return fail(`adapter failed: ${show(out.messages)}`);
        if (out.events.length !== e.raw_events.length) return fail(`${out.events.length} events`);
        for (let i = 0; i < out.events.length; i++) {
          const got = Object.fromEntries(out.events[i]!.parameters);
          if (!jsonEqual(got, e.raw_events[i].parameters)) return fail(`event ${i}: ${show(got)}`);
        }
        return PASS;
      }
      if (out.ok) return fail(`expected ${e.bad_row}, got ${out.events.length} events`);
      if (adapter.failureKind !== e.bad_row) return fail(`bad row kind ${adapter.failureKind}`);
      const informative = typeof e.note === 'string' && e.note.includes('informative');
      const want = e.messages.map(({ type: _t, ...m }: any) => m);
      if (want.length !== out.messages.length) return fail(`messages ${show(out.messages)}`);
      for (let i = 0; i < want.length; i++) {
        const g = out.messages[i] as Record<string, unknown>;
        const w = want[i];
        if (informative && 'error' in w) {
          if (!jsonEqual({ ...g, error: null }, { ...w, error: null }) || !String(g['error']).startsWith('invalid json:')) return fail(`message ${show(g)}`);
        } else if (!jsonEqual(g, w)) return fail(`message ${show(g)}, want ${show(w)}`);
      }
      return PASS;
    });
  }

  // tracker_param_mapping
  const tpm = readJson(join(dir, 'tracker_param_mapping.json'));
  const plain = manager(common, null);
  for (const [i, c] of (tpm.cases as any[]).entries()) {
    await guarded(cat, `unit/tracker_param_mapping#${i}:${Object.keys(c.expected_fields).join(',')}`, async () => {
      const r = await plain.enrich(rawEventFrom(c.raw_event_parameters, tpm.context), Date.now());
      if (r.kind !== 'good') return fail(`not enriched: ${r.kind === 'bad' ? r.row.slice(0, 400) : r.kind}`);
      const problem = checkFields(r.event as unknown as Record<string, string | null>, c.expected_fields);
      return problem === null ? PASS : fail(problem);
    });
  }

  // enrichment_manager
  const em = readJson(join(dir, 'enrichment_manager.json'));
  for (const c of em.cases) {
    await guarded(cat, `unit/enrichment_manager#${c.name}`, async () => {
      const m = manager(common, null, { limits: c.atomicFieldsLimits, acceptInvalid: c.acceptInvalid, emitFailed: c.emitFailed === true });
      const r = await m.enrich(rawEventFrom(c.parameters, em.shared_context, c.source_name), Date.now());
      const e = c.expected;
      if (e.outcome === 'enriched') {
        if (r.kind !== 'good') return fail(`not enriched: ${r.kind === 'bad' ? r.row.slice(0, 600) : r.kind}`);
        const problem = checkFields(r.event as unknown as Record<string, string | null>, Object.fromEntries(Object.entries(e.json_fields ?? {}).map(([k, v]) => [k, JSON.stringify(v)])));
        return problem === null ? PASS : fail(problem);
      }
      if (r.kind !== 'bad') return fail(`expected a bad row, got ${r.kind}`);
      const row = JSON.parse(r.row);
      if (row.schema !== e.bad_row_schema) return fail(`bad row ${row.schema}`);
      if (e.outcome === 'both') {
        if (r.failed === undefined) return fail('no failed event emitted');
        const problem = checkFields(r.failed as unknown as Record<string, string | null>, e.failed_event_fields ?? {});
        if (problem !== null) return fail(`failed event: ${problem}`);
        const first = r.failed.derived_contexts === null ? null : JSON.parse(r.failed.derived_contexts).data[0];
        if (first?.schema !== 'iglu:com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0') return fail(`failed event: no failure entity first in derived_contexts (${show(first)})`);
        const v = await common.validate(first.schema, first.data);
        if (!v.ok) return fail(`failure entity does not validate: ${show(v.error)}`);
      }
      const wantMsgs = e['failure.messages'];
      if (wantMsgs === undefined) return PASS;
      const got = row.data.failure.messages;
      if (got.length !== wantMsgs.length) return fail(`messages ${show(got)}`);
      for (let i = 0; i < wantMsgs.length; i++) {
        const w = wantMsgs[i];
        const g = got[i];
        if (w.error?.dataReports_contains !== undefined) {
          if (g.schemaKey !== w.schemaKey || g.error?.error !== w.error.error) return fail(`message ${i}: ${show(g)}`);
          const dc = w.error.dataReports_contains;
          const ok = (g.error.dataReports ?? []).some((rep: any) =>
            Object.entries(dc).every(([k, v]) => (k === 'message_prefix' ? String(rep.message).startsWith(String(v)) : jsonEqual(rep[k], v))));
          if (!ok) return fail(`message ${i}: no report like ${show(dc)} in ${show(g.error.dataReports)}`);
        } else if (!jsonEqual(g, w)) return fail(`message ${i}: ${show(g)}, want ${show(w)}`);
      }
      return PASS;
    });
  }

  // cross_navigation
  const cn = readJson(join(dir, 'cross_navigation.json'));
  const crossNavFactory = ENRICHMENT_FACTORIES.get('cross_navigation_config');
  for (const [i, c] of (cn.cases as any[]).entries()) {
    const qs = (c.page_querystring as Array<[string, string | null]>).map(([k, v]) => (v === null ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
    const params = { e: 'pv', tv: 'js-0.13.1', p: 'web', url: `http://www.example.com/page${qs === '' ? '' : '?' + qs}` };
    const ctx = { timestamp: '2013-08-29T00:18:48.000Z', source: { name: 'ssc-test', encoding: 'UTF-8', hostname: null } };
    await guarded(cat, `unit/cross_navigation#${i}`, async () => {
      const r = await plain.enrich(rawEventFrom(params, ctx), Date.now());
      const e = c.expected;
      if (e.enrichment_failure !== undefined) {
        if (r.kind !== 'bad') return fail(`expected enrichment_failures, got ${r.kind}`);
        const row = JSON.parse(r.row);
        const msg = row.data.failure.messages[0];
        return row.schema.includes('/enrichment_failures/') && msg.enrichment === null && jsonEqual(msg.message, e.enrichment_failure.message) ? PASS : fail(r.row.slice(0, 500));
      }
      if (r.kind !== 'good') return fail(`not enriched: ${r.kind === 'bad' ? r.row.slice(0, 400) : r.kind}`);
      const problem = checkFields(r.event as unknown as Record<string, string | null>, { refr_domain_userid: e.refr_domain_userid ?? '', refr_dvce_tstamp: e.refr_dvce_tstamp ?? '' });
      return problem === null ? PASS : fail(problem);
    });
    await guarded(cat, `unit/cross_navigation#${i}:context`, async () => {
      if (crossNavFactory === undefined) return unsupported('enrichment not available: cross_navigation_config');
      const deps = enrichmentDeps(common);
      const pipeline = await pipelineFor([{ schema: 'iglu:com.snowplowanalytics.snowplow.enrichments/cross_navigation_config/jsonschema/1-0-0', data: { vendor: 'com.snowplowanalytics.snowplow.enrichments', name: 'cross_navigation_config', enabled: true } }], deps);
      if (!('run' in pipeline)) return pipeline;
      const r = await manager(common, pipeline).enrich(rawEventFrom(params, ctx), Date.now());
      const want = c.expected.context_if_enabled;
      if (c.expected.enrichment_failure !== undefined) {
        if (r.kind !== 'bad') return fail('expected enrichment_failures');
        const msg = JSON.parse(r.row).data.failure.messages[0];
        return msg.enrichment?.identifier === 'cross-navigation' ? PASS : fail(r.row.slice(0, 400));
      }
      if (r.kind !== 'good') return fail(`not enriched: ${r.kind}`);
      const dc = r.event.derived_contexts === null ? [] : JSON.parse(r.event.derived_contexts).data;
      const got = dc.find((x: any) => x.schema.includes('/cross_navigation/'));
      if (want === null || want === undefined) return got === undefined ? PASS : fail(`unexpected context ${show(got)}`);
      return got !== undefined && jsonEqual(got.data, want) ? PASS : fail(`context ${show(got)}`);
    });
  }

  // anon_ip and event_fingerprint run through the enrichments registry
  const ai = readJson(join(dir, 'anon_ip.json'));
  for (const [i, c] of (ai.cases as any[]).entries()) {
    await guarded(cat, `unit/anon_ip#${i}:${c.ip}`, async () => {
      const pipeline = await pipelineFor([{ schema: 'iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1', data: { vendor: 'com.snowplowanalytics.snowplow', name: 'anon_ip', enabled: true, parameters: { anonOctets: c.anonOctets, anonSegments: c.anonSegments } } }], enrichmentDeps(common));
      if (!('run' in pipeline)) return pipeline;
      const ev = new EnrichedEvent();
      ev.user_ipaddress = c.ip;
      await pipeline.run({ event: ev, raw: rawEventFrom({}, {}), unstructEvent: null, contexts: [] });
      return ev.user_ipaddress === c.expected ? PASS : fail(`${c.ip} → ${ev.user_ipaddress}, want ${c.expected}`);
    });
  }
  const ef = readJson(join(dir, 'event_fingerprint.json'));
  for (const [i, c] of (ef.cases as any[]).entries()) {
    await guarded(cat, `unit/event_fingerprint#${i}`, async () => {
      if (String(c.hashAlgorithm).includes('stub')) return unsupported('upstream test-stub hash algorithm');
      const pipeline = await pipelineFor([{ schema: 'iglu:com.snowplowanalytics.snowplow/event_fingerprint_config/jsonschema/1-0-1', data: { vendor: 'com.snowplowanalytics.snowplow', name: 'event_fingerprint_config', enabled: true, parameters: { excludeParameters: c.excludeParameters, hashAlgorithm: c.hashAlgorithm } } }], enrichmentDeps(common));
      if (!('run' in pipeline)) return pipeline;
      const ev = new EnrichedEvent();
      await pipeline.run({ event: ev, raw: rawEventFrom(c.parameters, {}), unstructEvent: null, contexts: [] });
      if (c.expected === undefined) return ev.event_fingerprint?.length === c.expected_length ? PASS : fail(`fingerprint ${ev.event_fingerprint}`);
      return ev.event_fingerprint === c.expected ? PASS : fail(`${ev.event_fingerprint} != ${c.expected}`);
    });
  }
}
