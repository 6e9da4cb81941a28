/**
 * `npm run conformance`: Snowplow's own test material, kept outside the repository in ../shared (beside the project
 * root), run against furrow. Without ../shared/conformance it prints one line saying so and exits 0 ("skipped"):
 * `npm test` needs nothing outside the repository; this suite is the extra check CI runs with ../shared present.
 *
 * 1. every vector in ../shared/conformance/enrich (unit/, blackbox/, legacy_full_tsv/) against furrow's enricher,
 *    printed as pass / fail / unsupported per category, then `N passed, M failed`:
 *      unsupported  the vector needs an adapter or enrichment furrow does not (yet) have, or an external
 *                   service (Open Exchange Rates, an HTTP API, PostgreSQL fixture) — counted, never a failure
 *      known        listed in test-conformance/known-differences.json with the reason — counted, never a failure
 *      fail         anything else that does not match
 * 2. the tap tests in test-conformance/*.test.ts: checks against Snowplow's files in ../shared (spec DDL, Iglu
 *    Central's original schemas, example configs, MaxMind/IAB test assets, the reference Thrift codec, the webhook
 *    and full-TSV vectors through furrow's adapters, loaders and forwarders).
 * Exits 1 if either part fails.
 */
import { readdirSync, readFileSync, existsSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, basename, resolve } from 'node:path';
import { sdkDisagreements } from '../test/enricher/support.js';
import { createResolver } from '../iglu-resolver/index.js';
import type { IgluResolver, SelfDescribingData } from '../iglu-resolver/types.js';
import { silentLogger } from '../common/logger.js';
import { FurrowError } from '../common/errors.js';
import type { LoadedPayload, RawEvent } from '../enricher/adapters/adapter.js';
import { AdapterRegistry } from '../enricher/adapters/registry.js';
import { DEFAULT_ATOMIC_FIELD_LIMITS } from '../formats/atomic-fields.js';
import {
  ConversionError, convertBooleanByte, convertDecimal, convertDimensions, convertEventType, convertInt, convertIp, convertPlatform,
  convertTrackerTimestamp, convertUuid, decodeBase64Lenient, formatTimestamp, isRedshiftCompatible, javaFloatToString, makeTsvSafe,
} from '../enricher/converters.js';
import { derivedTstamp, EnrichmentManager } from '../enricher/enrichment-manager.js';
import { buildEnrichments, ENRICHMENT_FACTORIES } from '../enricher/enrichments/registry.js';
import type { EnrichmentDeps, EnrichmentPipeline } from '../enricher/enrichments/enrichment.js';
import { EnrichedEvent, parseEnrichedTsv } from '../formats/enriched-event.js';
import { extractIpAddress } from '../enricher/payloads/ip-address-extractor.js';
import { loadThrift } from '../enricher/payloads/thrift-loader.js';
import { RecordProcessor } from '../enricher/processor.js';
import { formatContexts, formatUnstructEvent, makeEntity } from '../enricher/self-describing.js';
import { toTsv } from '../formats/enriched-tsv.js';
import { explodeUri } from '../enricher/uri.js';

const ROOT = resolve(join(import.meta.dirname, '..'));
const VECTORS = resolve(ROOT, '..', 'shared', 'conformance', 'enrich');
const IGLU_CENTRAL = resolve(ROOT, '..', 'shared', 'iglu-central');
const PROCESSOR = Object.freeze({ artifact: 'furrow-enrich-conformance', version: '0.0.0' });
const KNOWN: Record<string, string> = JSON.parse(readFileSync(join(import.meta.dirname, 'known-differences.json'), 'utf8')).vectors;

type Outcome = { status: 'pass' } | { status: 'fail'; detail: string } | { status: 'unsupported'; detail: string };
const PASS: Outcome = { status: 'pass' };
const fail = (detail: string): Outcome => ({ status: 'fail', detail });
const unsupported = (detail: string): Outcome => ({ status: 'unsupported', detail });

interface Tally { pass: number; fail: number; unsupported: number; known: number }
const tallies = new Map<string, Tally>();
const failures: string[] = [];
const unsupportedReasons = new Map<string, number>();
const verbose = process.argv.includes('--verbose');

function record(category: string, id: string, o: Outcome): void {
  const t = tallies.get(category) ?? { pass: 0, fail: 0, unsupported: 0, known: 0 };
  tallies.set(category, t);
  if (o.status === 'fail' && KNOWN[id] !== undefined) {
    t.known++;
    if (verbose) console.log(`known  ${id}: ${o.detail}`);
    return;
  }
  if (o.status === 'pass' && KNOWN[id] !== undefined) console.log(`note   ${id} is listed in known-differences.json but now passes`);
  t[o.status]++;
  if (o.status === 'fail') failures.push(`FAIL ${id}: ${o.detail}`);
  if (o.status === 'unsupported') unsupportedReasons.set(o.detail, (unsupportedReasons.get(o.detail) ?? 0) + 1);
  if (verbose && o.status !== 'pass') console.log(`${o.status.padEnd(6)} ${id}: ${o.detail}`);
}

async function guarded(category: string, id: string, f: () => Outcome | Promise<Outcome>): Promise<void> {
  try {
    record(category, id, await f());
  } catch (e) {
    record(category, id, fail(`threw ${(e as Error).stack ?? String(e)}`));
  }
}

const readJson = (p: string): any => JSON.parse(readFileSync(p, 'utf8'));
const show = (v: unknown): string => JSON.stringify(v)?.slice(0, 300) ?? 'undefined';

/** JSON equality where object key order is irrelevant and array order matters. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => jsonEqual(x, (b as unknown[])[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b as object, k) && jsonEqual((a as any)[k], (b as any)[k]));
}

// ------------------------------------------------------------------------------------------- setup

async function resolverOver(registry: string): Promise<IgluResolver> {
  return createResolver(
    { schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3', data: { cacheSize: 1000, repositories: [] } },
    { offline: true, extraEmbeddedDirs: [join(VECTORS, registry), IGLU_CENTRAL] },
  );
}

/** Test assets by file name (the blackbox configs name databases the upstream tests shipped). */
function localAssets(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of ['common-registry', 'fs2-5.4.0']) {
    const d = join(VECTORS, 'assets', dir);
    for (const f of readdirSync(d)) out[f] = join(d, f);
  }
  for (const f of readdirSync(join(VECTORS, 'assets'))) if (f.includes('.')) out[f] = join(VECTORS, 'assets', f);
  out['referer-tests.json'] = join(VECTORS, 'assets', 'referer-tests.json');
  return out;
}

function enrichmentDeps(resolver: IgluResolver): EnrichmentDeps {
  return {
    resolver,
    logger: silentLogger,
    assetsDir: mkdtempSync(join(tmpdir(), 'furrow-conformance-')),
    fetch: (() => Promise.reject(new Error('conformance runs offline'))) as unknown as typeof fetch,
    localAssets: localAssets(),
    assetsUpdatePeriodMs: 0,
  };
}

/** Builds the pipeline, or says why the vector is not runnable yet. */
async function pipelineFor(configs: SelfDescribingData[], deps: EnrichmentDeps): Promise<EnrichmentPipeline | Outcome> {
  try {
    return await buildEnrichments(configs, deps);
  } catch (e) {
    if (e instanceof FurrowError && (e.code === 'ENRICH_ENRICHMENT_UNKNOWN' || e.code === 'ENRICH_ENRICHMENT_UNSUPPORTED')) {
      const names = configs.map((c) => c.schema.split('/')[1]).join(', ');
      return unsupported(`enrichment not available: ${names}`);
    }
    return fail(`building enrichments failed: ${(e as Error).message}`);
  }
}

function manager(resolver: IgluResolver, pipeline: EnrichmentPipeline | null, opts: { limits?: Record<string, number>; acceptInvalid?: boolean; emitFailed?: boolean } = {}): EnrichmentManager {
  return new EnrichmentManager({
    resolver,
    pipeline,
    processor: PROCESSOR,
    maxJsonDepth: 50,
    atomicFieldsLimits: { ...DEFAULT_ATOMIC_FIELD_LIMITS, ...(opts.limits ?? {}) },
    acceptInvalid: opts.acceptInvalid ?? false,
    emitFailed: opts.emitFailed ?? false,
  });
}

function rawEventFrom(params: Record<string, string | null>, ctx: any, sourceName?: string): RawEvent {
  const [vendor, version] = String(ctx.api ?? 'com.snowplowanalytics.snowplow/tp2').split('/');
  const ts = ctx.timestamp ?? ctx.collector_timestamp;
  return {
    api: { vendor: vendor!, version: version! },
    parameters: new Map(Object.entries(params)),
    contentType: null,
    source: { name: sourceName ?? ctx.source?.name ?? 'ssc-test', encoding: ctx.source?.encoding ?? 'UTF-8', hostname: ctx.source?.hostname ?? null },
    context: {
      timestamp: ts === undefined || ts === null ? null : Date.parse(ts),
      ipAddress: ctx.ipAddress ?? null,
      useragent: ctx.useragent ?? null,
      refererUri: ctx.refererUri ?? null,
      headers: ctx.headers ?? [],
      userId: ctx.userId ?? null,
    },
  };
}

function checkFields(ev: Record<string, string | null>, expected: Record<string, unknown>, legacy = false): string | null {
  for (const [k, want] of Object.entries(expected)) {
    const got = ev[k] ?? '';
    if (want !== null && typeof want === 'object') {
      const w = want as { regex?: string; placeholder?: string };
      if (w.placeholder !== undefined) continue;
      if (w.regex !== undefined) {
        let re = w.regex;
        if (legacy && k === 'contexts') re = re.replace('contexts/jsonschema/1\\-0\\-0', 'contexts/jsonschema/1\\-0\\-1');
        if (!new RegExp(`^(?:${re})$`, 's').test(got)) return `${k}: ${show(got)} does not match /${w.regex}/`;
        continue;
      }
    }
    let w = String(want ?? '');
    if (legacy && (k === 'contexts' || k === 'derived_contexts')) w = w.replace('contexts/jsonschema/1-0-0', 'contexts/jsonschema/1-0-1');
    if ((k === 'contexts' || k === 'derived_contexts' || k === 'unstruct_event') && w !== '' && got !== '') {
      if (!jsonEqual(JSON.parse(got), JSON.parse(w))) return `${k}: got ${show(got)}, want ${show(w)}`;
      continue;
    }
    if (got !== w) return `${k}: got ${show(got)}, want ${show(w)}`;
  }
  return null;
}

// ------------------------------------------------------------------------------------------- unit

async function unitVectors(common: IgluResolver): Promise<void> {
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

// ------------------------------------------------------------------------------------------- end-to-end

interface E2E { good: EnrichedEvent[]; bad: string[]; pii: EnrichedEvent[] }

async function runRecord(resolver: IgluResolver, pipeline: EnrichmentPipeline | null, b64: string): Promise<E2E> {
  const m = manager(resolver, pipeline);
  const p = new RecordProcessor({
    manager: m, adapters: new AdapterRegistry(), adapterDeps: { resolver }, processor: PROCESSOR,
    framing: { maxBytesSinglePayload: 10_000_000, maxBytesInBatch: 100_000_000 }, maxRecordSize: null,
  });
  const out = await p.process(Buffer.from(b64, 'base64'));
  const parse = (l: string): EnrichedEvent => {
    const e = parseEnrichedTsv(l);
    if (typeof e === 'string') throw new Error(`furrow wrote an unparseable TSV line: ${e}`);
    // Every line must also be read by Snowplow's JS analytics SDK to the values furrow wrote.
    // Known SDK limit (0.1.0): its schema pattern rejects vendors with a hyphen (`…input-adapters`,
    // `…measurement-protocol`), which upstream Enrich writes the same way; only that case is tolerated.
    let problems: string[] = [];
    try {
      problems = sdkDisagreements(l);
    } catch (err) {
      if (!(String(err).includes('Wrong schema format') && /"iglu:[a-zA-Z0-9_.]*-[a-zA-Z0-9_.-]*\//.test(l))) throw err;
    }
    if (problems.length > 0) throw new Error(`snowplow-analytics-sdk reads this line differently: ${problems.join('; ')}`);
    return e;
  };
  return { good: out.good.map(parse), bad: out.bad, pii: out.pii.map(parse) };
}

function pathOf(v: any): string | null {
  return v.input.payload?.path ?? v.input.decoded?.path ?? v.input.modern_equivalent?.payload?.path ?? null;
}

// ------------------------------------------------------------------------------------------- stand-ins

/**
 * Loopback stand-ins for the services three blackbox vectors need (upstream runs them only in its CI):
 * an HTTP API answering the api_request vector's lookup, an Open Exchange Rates lookalike with fixed
 * 2019 rates (chosen so the vectors' rounded results follow; they are fixtures, not market data), and a
 * throwaway PostgreSQL with the sql_query vector's one-row table. They check furrow's wiring and rounding,
 * not live data; a vector whose stand-in cannot start (no PostgreSQL binaries) stays unsupported.
 */
interface StandIns {
  httpBase: string;
  pg: { host: string; port: number; user: string; password: string; database: string } | null;
  close(): Promise<void>;
}

async function startStandIns(): Promise<StandIns> {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/guest/users/large/') && url.endsWith('/unsure?format=json')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"serviceName":"sp-api-request-enrichment"}');
    } else if (/^\/oer\/historical\/2019-0[67]-\d\d\.json\?app_id=/.test(url)) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"base":"USD","rates":{"EUR":0.885936,"GBP":0.790857,"USD":1}}');
    } else res.writeHead(404).end('{"error":"not found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  let pg: StandIns['pg'] = null;
  let stopPg: (() => Promise<void>) | null = null;
  try {
    const { findPostgresBin, startPostgres } = await import('../test/support/postgres.js');
    if (findPostgresBin() !== null) {
      const db = await startPostgres();
      stopPg = () => db.stop();
      const u = new URL(db.url);
      const { default: pgLib } = await import('pg');
      const client = new pgLib.Client({ connectionString: db.url });
      await client.connect();
      await client.query('CREATE TABLE enrichment_test (service_name text, current_status text, last_status text, pk integer)');
      await client.query("INSERT INTO enrichment_test VALUES ('sp-sql-request-enrichment', 'OK', 'OK', 1)");
      await client.end();
      pg = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) };
    }
  } catch (e) {
    console.log(`note   PostgreSQL stand-in not available: ${(e as Error).message.split('\n')[0]}`);
  }
  return {
    httpBase: `http://127.0.0.1:${port}`,
    pg,
    async close() {
      await new Promise<void>((r) => server.close(() => r()));
      await stopPg?.();
    },
  };
}

/** Points a vector's enrichments and deps at the stand-ins; null when the vector cannot run here. */
function withStandIns(v: any, deps: EnrichmentDeps, standIns: StandIns): { configs: SelfDescribingData[]; deps: EnrichmentDeps } | Outcome {
  const configs = JSON.parse(JSON.stringify(v.enrichments).replaceAll('http://localhost:8000', standIns.httpBase)) as SelfDescribingData[];
  const req = String(v.requires);
  if (/YAUAA/.test(req)) return unsupported('needs a YAUAA-equivalent user-agent analyzer');
  if (/PostgreSQL/.test(req)) {
    if (standIns.pg === null) return unsupported('needs PostgreSQL (no server binaries here)');
    return { configs, deps: { ...deps, postgresOverride: standIns.pg } };
  }
  if (/Open Exchange/.test(req)) {
    for (const c of configs) ((c.data as any).parameters.apiKey = 'stand-in-key');
    return { configs, deps: { ...deps, fetch: globalThis.fetch, openExchangeRatesBaseUrl: `${standIns.httpBase}/oer` } };
  }
  if (/HTTP API/.test(req)) return { configs, deps: { ...deps, fetch: globalThis.fetch } };
  return unsupported(`needs ${req}`);
}

async function blackboxVectors(resolver: IgluResolver): Promise<void> {
  const standIns = await startStandIns();
  try {
    await blackboxVectorsWith(resolver, standIns);
  } finally {
    await standIns.close();
  }
}

async function blackboxVectorsWith(resolver: IgluResolver, standIns: StandIns): Promise<void> {
  const dir = join(VECTORS, 'blackbox');
  const adapters = new AdapterRegistry();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const v = readJson(join(dir, f));
    const id = `blackbox/${basename(f, '.json')}`;
    await guarded('blackbox', id, async () => {
      const path = pathOf(v);
      const m = path === null ? null : /^\/?([^/]+)\/([^/?]+)/.exec(path);
      if (m !== null && path !== null && path !== '/i' && !path.startsWith('/ice.png') && !adapters.has(m[1]!, m[2]!)) return unsupported(`adapter ${m[1]}/${m[2]} not available`);
      let deps = enrichmentDeps(resolver);
      let configs: SelfDescribingData[] = v.enrichments;
      if (typeof v.requires === 'string' && /API|PostgreSQL|Open Exchange|YAUAA/.test(v.requires)) {
        const s = withStandIns(v, deps, standIns);
        if (!('configs' in s)) return s;
        ({ configs, deps } = s);
      }
      const pipeline = configs.length > 0 ? await pipelineFor(configs, deps) : null;
      if (pipeline !== null && !('run' in pipeline)) return pipeline;
      try {
        const out = await runRecord(resolver, pipeline, v.input.thrift_base64 ?? v.input.data);
        const e = v.expected;
        if (out.good.length !== (e.count ?? 1)) return fail(`${out.good.length} good, ${out.bad.length} bad: ${out.bad[0]?.slice(0, 700) ?? ''}`);
        for (const ev of out.good) {
          const problem = checkFields(ev as unknown as Record<string, string | null>, e.fields ?? {});
          if (problem !== null) return fail(problem);
          for (const [k, want] of Object.entries(e.json_fields ?? {})) {
            const col = k === 'pii' ? out.pii[0]?.unstruct_event ?? null : (ev as unknown as Record<string, string | null>)[k] ?? null;
            if (col === null) return fail(`${k} is empty`);
            if (!jsonEqual(JSON.parse(col), want)) return fail(`${k}: got ${show(col)}`);
          }
        }
        return PASS;
      } finally {
        await pipeline?.close();
      }
    });
  }
}

async function legacyVectors(resolver: IgluResolver): Promise<void> {
  const dir = join(VECTORS, 'legacy_full_tsv');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const v = readJson(join(dir, f));
    const id = `legacy_full_tsv/${basename(f, '.json')}`;
    await guarded('legacy_full_tsv', id, async () => {
      const modern = v.input.modern_equivalent;
      if (modern === undefined) return unsupported('no modern CollectorPayload equivalent');
      const deps = enrichmentDeps(resolver);
      const pipeline = v.enrichments?.length > 0 ? await pipelineFor(v.enrichments, deps) : null;
      if (pipeline !== null && !('run' in pipeline)) return pipeline;
      try {
        const b64 = modern.thrift_base64 ?? encodeModern(modern.payload);
        const out = await runRecord(resolver, pipeline, b64);
        if (out.good.length !== 1) return fail(`${out.good.length} good, ${out.bad.length} bad: ${out.bad[0]?.slice(0, 700) ?? ''}`);
        const problem = checkFields(out.good[0] as unknown as Record<string, string | null>, v.expected.tsv_fields, true);
        if (problem !== null) return fail(problem);
        if (v.expected.pii_event_tsv_fields !== undefined) {
          if (out.pii.length !== 1) return fail(`${out.pii.length} pii events`);
          const p2 = checkFields(out.pii[0] as unknown as Record<string, string | null>, v.expected.pii_event_tsv_fields, true);
          if (p2 !== null) return fail(`pii event: ${p2}`);
        }
        return PASS;
      } finally {
        await pipeline?.close();
      }
    });
  }
}

let encodeModern: (p: any) => string = () => {
  throw new Error('encoder not loaded');
};

// ------------------------------------------------------------------------------------------- main

/** The tap tests that read ../shared (test-conformance/*.test.ts); 0 when they all pass. */
function tapTests(): number {
  const files = readdirSync(import.meta.dirname).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test-conformance', f));
  console.log(`\nconformance tap tests (${files.length} files):`);
  const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'tap'), files, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

async function main(): Promise<number> {
  if (!existsSync(VECTORS)) {
    console.log(`conformance: skipped (Snowplow's vectors are not in the repository and ${join('..', 'shared', 'conformance')} is not beside the project root)`);
    return 0;
  }
  const started = Date.now();
  const { encodeCollectorPayload } = await import('../formats/collector-payload.js');
  encodeModern = (p) => encodeCollectorPayload(Object.fromEntries(Object.entries(p).filter(([, x]) => x !== null)) as any).toString('base64');
  const common = await resolverOver('test-iglu-registry-common');
  const blackbox = await resolverOver('test-iglu-registry-5.4.0');
  await unitVectors(common);
  await blackboxVectors(blackbox);
  await legacyVectors(blackbox);
  await new Promise((r) => setImmediate(r));

  console.log('category          pass  fail  unsupported  known');
  let pass = 0;
  let failed = 0;
  for (const [cat, t] of tallies) {
    console.log(`${cat.padEnd(16)} ${String(t.pass).padStart(5)} ${String(t.fail).padStart(5)} ${String(t.unsupported).padStart(12)} ${String(t.known).padStart(6)}`);
    pass += t.pass;
    failed += t.fail;
  }
  if (unsupportedReasons.size > 0) {
    console.log('\nnot yet supported:');
    for (const [reason, n] of unsupportedReasons) console.log(`  ${String(n).padStart(3)} × ${reason}`);
  }
  if (failures.length > 0) console.log('\n' + failures.join('\n'));
  console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s; known differences: test-conformance/known-differences.json)`);
  console.log(`${pass} passed, ${failed} failed`);
  const tap = tapTests();
  console.log(`\nconformance: vectors ${failed === 0 ? 'passed' : `${failed} failed`}; tap tests ${tap === 0 ? 'passed' : 'failed'}`);
  return failed === 0 && tap === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);

