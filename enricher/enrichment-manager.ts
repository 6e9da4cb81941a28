/**
 * One raw event → one enriched event or one bad row (../shared/spec/enrich.md §0 step 4).
 *
 *   phase 1  defaults from the collector payload, tracker protocol mapping (transform.ts),
 *            ue_pr/ue_px and co/cx parsed and validated through Iglu       → errors: schema_violations
 *   phase 2  core steps (v_collector, page URI, derived_tstamp, referer URI, `_sp`, event_vendor/name/…)
 *            then the enrichment pipeline in Snowplow's order              → errors: enrichment_failures
 *   phase 3  derived contexts validated, JS-changed contexts re-validated,
 *            atomic field lengths (no truncation)                          → errors: schema_violations
 *
 * Every phase runs; bad-row precedence then picks phase 1 errors, else phase 2 errors, else phase 3 errors
 * (acceptInvalid keeps an event whose only problem is a field length).
 */
import { randomUUID } from 'node:crypto';
import type { RawEvent } from './adapters/adapter.js';
import type { EnrichmentPipeline, EnrichmentInput, TaggedEnrichmentFailure } from './enrichments/enrichment.js';
import { parseQuerystring } from './enrichments/querystring.js';
import { ENRICHED_FIELDS, EnrichedEvent } from '../formats/enriched-event.js';
import type { ClientError, IgluResolver, SelfDescribingData, ValidationOutcome } from '../iglu-resolver/types.js';
import { valueExceedsDepth } from '../common/json-depth.js';
import {
  cleanHeaderUseragent, convertIp, convertTrackerTimestamp, ConversionError, decodeBase64Lenient, formatTimestamp,
  isRedshiftCompatible, makeTsvSafe, parseTimestamp,
} from './converters.js';
import { parseJson } from './json.js';
import {
  childShadow, type Entity, formatContexts, formatUnstructEvent, isIgluSystemError, isImmutableEntity, makeEntity, toSdj,
} from './self-describing.js';
import { FurrowError } from '../common/errors.js';
import { compileCriterion, parseSchemaUriCached } from '../formats/schema-key.js';
import { transformParameters, type AtomicParseError } from './transform.js';
import { explodeUri } from './uri.js';
import { ATOMIC_SCHEMA, enrichmentFailures, schemaViolations, type Processor, type SchemaViolation } from './bad-rows.js';

const UNSTRUCT_CRITERION = compileCriterion('iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*');
const CONTEXTS_CRITERION = compileCriterion('iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*');
const VALIDATION_INFO_SCHEMA = 'iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0';
const PII_SCHEMA_PARENT = 'iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0';

/** Fixed event types → their schema (SchemaEnrichment). */
const EVENT_SCHEMAS: Readonly<Record<string, readonly [string, string, string, string]>> = Object.freeze({
  page_view: ['com.snowplowanalytics.snowplow', 'page_view', 'jsonschema', '1-0-0'],
  page_ping: ['com.snowplowanalytics.snowplow', 'page_ping', 'jsonschema', '1-0-0'],
  transaction: ['com.snowplowanalytics.snowplow', 'transaction', 'jsonschema', '1-0-0'],
  transaction_item: ['com.snowplowanalytics.snowplow', 'transaction_item', 'jsonschema', '1-0-0'],
  struct: ['com.google.analytics', 'event', 'jsonschema', '1-0-0'],
});

export interface EnrichmentManagerOptions {
  resolver: IgluResolver;
  /** The enabled enrichments; null = none. */
  pipeline: EnrichmentPipeline | null;
  processor: Processor;
  /** `validation.maxJsonDepth`. */
  maxJsonDepth: number;
  /** `validation.atomicFieldsLimits` merged over the defaults. */
  atomicFieldsLimits: Readonly<Record<string, number>>;
  /** `validation.acceptInvalid`: keep events whose only problem is an atomic field length. */
  acceptInvalid: boolean;
  /**
   * Failed-events output (Snowplow 6.x `output.failed`): a failing event is also emitted as a TSV line with
   * failure/1-0-0 entities first in derived_contexts and its oversize fields nulled. Default false.
   */
  emitFailed?: boolean;
  /**
   * What a registry outage (Iglu system error) does: 'bad-row' writes the event as a schema_violations bad row;
   * 'stop' throws ENRICH_IGLU_UNAVAILABLE so nothing is checkpointed and the event is retried after a restart
   * (Snowplow 6.5+ behaviour). Default 'bad-row'.
   */
  onIgluOutage?: 'bad-row' | 'stop';
}

export type EventResult =
  | { kind: 'good'; event: EnrichedEvent; pii: EnrichedEvent | null; invalid: boolean }
  | { kind: 'bad'; badRowKind: 'schema_violations' | 'enrichment_failures'; row: string; failed?: EnrichedEvent }
  | { kind: 'dropped' };

/** Where an Iglu-related violation came from and what was invalid (for failure entities); side table, no per-event cost otherwise. */
const VIOLATION_CONTEXT = new WeakMap<object, { source: string; data: unknown }>();

/**
 * Outcomes of checkUnstruct / checkContexts that found nothing usable. Module functions, not per-call arrows:
 * under tsx each per-call arrow also paid esbuild's `__name` wrapper (1.3 % of the process() profile).
 */
function noUnstruct(f: SchemaViolation, data: unknown = null): { unstruct: null; failures: SchemaViolation[]; infos: Entity[] } {
  return { unstruct: null, failures: [sourced(f, 'unstruct', data)], infos: [] };
}

function noContexts(f: SchemaViolation, data: unknown = null): { contexts: Entity[]; failures: SchemaViolation[]; infos: Entity[] } {
  return { contexts: [], failures: [sourced(f, 'contexts', data)], infos: [] };
}

function sourced<T extends SchemaViolation>(v: T, source: string, data: unknown): T {
  VIOLATION_CONTEXT.set(v, { source, data });
  return v;
}

/**
 * How long (processing time) a passed validation of an immutable derived entity is reused: bounded, so a schema
 * the resolver re-fetches after its cacheTtl is applied to cached entities too.
 */
const DERIVED_VALIDATION_REUSE_MS = 10_000;

const FAILURE_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0';
/** Fields never nulled on a failed event. */
const KEEP_ON_FAILED = new Set(['event_id', 'v_collector', 'v_etl']);

interface Extracted {
  unstruct: Entity | null;
  contexts: Entity[];
  failures: SchemaViolation[];
  infos: Entity[];
}

export class EnrichmentManager {
  private readonly resolver: IgluResolver;
  private readonly pipeline: EnrichmentPipeline | null;
  /**
   * Only the JavaScript enrichment reads the `contexts` / `unstruct_event` columns as text before the core writes
   * them; without one, printing them before the pipeline was wasted (the core prints them again after it):
   * 0.8 µs CPU per event on the bench mix.
   */
  private readonly pipelineReadsJsonColumns: boolean;
  /** Events worth processing at once (the largest `concurrentEvents` of the enrichments; 1 without any). */
  readonly concurrentEvents: number;
  private readonly processor: Processor;
  private readonly vEtl: string;
  private readonly maxJsonDepth: number;
  /** The validation error of a derived context nested deeper than maxJsonDepth (as the resolver words it). */
  private readonly tooDeep: ClientError;
  /** Generated at start from the limits (see compileLengthChecker). */
  private readonly lengthChecker: (ev: EnrichedEvent) => AtomicParseError[];
  private readonly acceptInvalid: boolean;
  private readonly emitFailed: boolean;
  private readonly stopOnIgluOutage: boolean;
  /** Immutable derived entities (see immutableEntity) → processing time until which their validation is reused. */
  private readonly validDerivedUntil = new WeakMap<object, number>();

  constructor(opts: EnrichmentManagerOptions) {
    this.resolver = opts.resolver;
    this.pipeline = opts.pipeline !== null && opts.pipeline.enrichments.length > 0 ? opts.pipeline : null;
    this.pipelineReadsJsonColumns = this.pipeline?.enrichments.some((e) => e.identifier === 'Javascript enrichment') ?? false;
    this.concurrentEvents = Math.max(1, ...(this.pipeline?.enrichments.map((e) => e.concurrentEvents ?? 1) ?? []));
    this.processor = opts.processor;
    this.vEtl = `${opts.processor.artifact}-${opts.processor.version}`;
    this.maxJsonDepth = opts.maxJsonDepth;
    this.tooDeep = {
      error: 'ValidationError',
      dataReports: [{ message: `$: the JSON is nested deeper than the maximum allowed depth of ${opts.maxJsonDepth}`, path: '$', keyword: 'maxJsonDepth', targets: [String(opts.maxJsonDepth)] }],
    };
    this.lengthChecker = compileLengthChecker(opts.atomicFieldsLimits);
    this.acceptInvalid = opts.acceptInvalid;
    this.emitFailed = opts.emitFailed ?? false;
    this.stopOnIgluOutage = opts.onIgluOutage === 'stop';
  }

  /** `now` is the processing time (ms): etl_tstamp and bad-row timestamps. */
  async enrich(raw: RawEvent, now: number, etlTstamp: string = formatTimestamp(now)): Promise<EventResult> {
    // ---- phase 1 ----
    const ev = new EnrichedEvent();
    const atomicErrors: AtomicParseError[] = [];
    ev.v_collector = raw.source.name === '' ? null : raw.source.name;
    ev.v_etl = this.vEtl;
    ev.etl_tstamp = etlTstamp;
    ev.network_userid = raw.context.userId;
    ev.user_ipaddress = raw.context.ipAddress === null ? null : convertIp(raw.context.ipAddress);
    ev.useragent = cleanHeaderUseragent(raw.context.useragent);
    const cts = raw.context.timestamp;
    if (cts !== null) {
      const f = formatTimestamp(cts);
      if (isRedshiftCompatible(cts)) ev.collector_tstamp = f;
      else atomicErrors.push({ message: `Formatted as ${f} is not Redshift-compatible`, path: 'collector_tstamp' });
    }
    transformParameters(ev, raw.parameters, atomicErrors);
    // A fresh id only when the tracker sent no valid `eid` (most do): 0.5 KB of garbage and ~0.3 µs per event.
    if (ev.event_id === null) ev.event_id = randomUUID();
    const ex = await this.extractInputs(raw.parameters);
    // As in Snowplow 6.x, phase-1 errors do not stop the event: phases 2 and 3 still run (the bad row's
    // partially enriched event carries their fields, and a failed event needs them), then precedence decides.
    const phase1Failed = atomicErrors.length > 0 || ex.failures.length > 0;

    // ---- phase 2 ----
    const failures: TaggedEnrichmentFailure[] = [];
    if (ev.v_collector === null) failures.push({ enrichment: null, message: { field: 'v_collector', value: null, expectation: 'should be set' } });
    const pageUrl = ev.page_url ?? (raw.context.refererUri === null ? null : makeTsvSafe(raw.context.refererUri));
    if (pageUrl !== null) setPageUri(ev, pageUrl);
    ev.derived_tstamp = derivedTstampFast(ev, raw, cts);
    if (ev.page_referrer !== null) setReferrerUri(ev, ev.page_referrer);
    // Parsed only when `_sp` may be there (its name has "sp", or an escape that decodes to it); otherwise the
    // enrichments that need the pairs parse them themselves (campaign attribution). Most page queries have
    // neither: ~0.6 µs CPU per bench event.
    const pq = ev.page_urlquery;
    const pageQs = pq !== null && (pq.includes('sp') || pq.includes('%')) ? parseQuerystring(pq, raw.source.encoding) : undefined;
    if (pageQs !== undefined) this.crossDomain(ev, pageQs, failures);
    this.schemaFields(ev, ex.unstruct, failures);

    let derived: SelfDescribingData[] = [];
    let pii: SelfDescribingData | null = null;
    let contexts: SelfDescribingData[] = ex.contexts;
    let unstruct: SelfDescribingData | null = ex.unstruct;
    const phase3: SchemaViolation[] = [];
    if (this.pipeline !== null) {
      // Enrichments (the JS one) read these columns in their TSV form.
      if (this.pipelineReadsJsonColumns) {
        ev.contexts = formatContexts(contexts);
        ev.unstruct_event = formatUnstructEvent(unstruct);
      }
      const input: EnrichmentInput = { event: ev, raw, unstructEvent: unstruct, contexts: ex.contexts, pageQuerystring: pageQs };
      const result = await this.pipeline.run(input);
      if (result.drop) return { kind: 'dropped' };
      for (const f of result.failures) failures.push(f);
      derived = result.derivedContexts;
      pii = result.piiEvent;
      if (result.contextsChanged) {
        const re = ev.contexts === null ? { contexts: [], failures: [], infos: [] } : await this.checkContexts(ev.contexts, 'contexts');
        contexts = re.contexts;
        for (const f of re.failures) phase3.push(f);
        for (const i of re.infos) ex.infos.push(i);
      }
      if (result.unstructEventChanged) {
        const re = ev.unstruct_event === null ? { unstruct: null, failures: [], infos: [] } : await this.checkUnstruct(ev.unstruct_event, 'unstruct_event');
        unstruct = re.unstruct;
        for (const f of re.failures) phase3.push(f);
        for (const i of re.infos) ex.infos.push(i);
      }
    }
    ev.contexts = formatContexts(contexts);
    ev.unstruct_event = formatUnstructEvent(unstruct);

    // ---- phase 3 ----
    const validDerived: SelfDescribingData[] = [];
    for (const d of derived) {
      // An immutable entity (from an enrichment's cache) that passed recently passes again: no depth walk, no ajv.
      const immutable = isImmutableEntity(d);
      if (immutable && (this.validDerivedUntil.get(d) ?? 0) > now) {
        validDerived.push(d);
        continue;
      }
      // Enrichments (API and SQL answers, scripts) build these in memory, past the text checks tracker JSON goes
      // through: the same depth bound keeps everything this enricher writes printable and loadable.
      if (valueExceedsDepth(d.data, this.maxJsonDepth)) {
        phase3.push(sourced({ schemaKey: d.schema, error: this.tooDeep }, 'derived_contexts', null));
        continue;
      }
      const vp = this.validate(d.schema, d.data);
      const v = vp instanceof Promise ? await vp : vp;
      if (v.ok) {
        validDerived.push(d);
        if (immutable) this.validDerivedUntil.set(d, now + DERIVED_VALIDATION_REUSE_MS);
      } else phase3.push(sourced({ schemaKey: d.schema, error: v.error }, 'derived_contexts', d.data));
    }
    for (const info of dedupeInfos(ex.infos)) validDerived.push(info);
    ev.derived_contexts = formatContexts(validDerived);

    const lengthErrors = this.checkLengths(ev);
    let bad: { kind: 'schema_violations' | 'enrichment_failures'; row: string } | null = null;
    if (phase1Failed) {
      bad = { kind: 'schema_violations', row: schemaViolations(this.processor, now, phase1Messages(atomicErrors, ex.failures), ev, raw) };
    } else if (failures.length > 0) {
      bad = { kind: 'enrichment_failures', row: enrichmentFailures(this.processor, now, failures, ev, raw) };
    } else if (phase3.length > 0 || (lengthErrors.length > 0 && !this.acceptInvalid)) {
      const messages = lengthErrors.length > 0 ? [atomicViolation(lengthErrors, 'atomic_field_length_exceeded'), ...phase3] : phase3;
      bad = { kind: 'schema_violations', row: schemaViolations(this.processor, now, messages, ev, raw) };
    }
    if (bad !== null) {
      if (!this.emitFailed) return { kind: 'bad', badRowKind: bad.kind, row: bad.row };
      const entities = this.failureEntities(now, atomicErrors, [...ex.failures, ...phase3], failures, lengthErrors);
      const rec = ev as unknown as Record<string, string | null>;
      for (const e of lengthErrors) if (!KEEP_ON_FAILED.has(e.path)) rec[e.path] = null;
      ev.derived_contexts = formatContexts([...entities, ...validDerived]);
      return { kind: 'bad', badRowKind: bad.kind, row: bad.row, failed: ev };
    }
    return { kind: 'good', event: ev, pii: pii === null ? null : this.piiEvent(ev, pii, now, etlTstamp), invalid: lengthErrors.length > 0 };
  }

  /**
   * A cached schema answers synchronously; callers await only a real Promise (`x instanceof Promise ? await x : x`):
   * an `await` on a plain value still costs a microtask turn per entity.
   */
  private validate(uri: string, data: unknown): ValidationOutcome | Promise<ValidationOutcome> {
    const cached = this.resolver.validateCached(uri, data);
    if (cached !== undefined && (cached.ok || !this.stopOnIgluOutage)) return cached;
    return (cached !== undefined ? Promise.resolve(cached) : this.resolver.validate(uri, data)).then((v) => {
      if (!v.ok && this.stopOnIgluOutage && isIgluSystemError(v.error)) {
        throw new FurrowError('ENRICH_IGLU_UNAVAILABLE', `validating against ${uri}: ${JSON.stringify(v.error.error === 'ResolutionError' ? v.error.lookupHistory : v.error)}`);
      }
      return v;
    });
  }

  /** Lets the processor apply the same outage rule to adapter failures (tp2 payload_data). */
  get stopsOnIgluOutage(): boolean {
    return this.stopOnIgluOutage;
  }

  private async extractInputs(params: ReadonlyMap<string, string | null>): Promise<Extracted> {
    let unstruct: Entity | null = null;
    let contexts: Entity[] = [];
    const failures: SchemaViolation[] = [];
    const infos: Entity[] = [];
    const uePr = params.get('ue_pr');
    const uePx = params.get('ue_px');
    if (uePr !== undefined && uePr !== null) {
      const r = await this.checkUnstruct(uePr, 'ue_pr');
      unstruct = r.unstruct;
      failures.push(...r.failures);
      infos.push(...r.infos);
    } else if (uePx !== undefined && uePx !== null) {
      const r = await this.checkUnstruct(decodeBase64Lenient(uePx), 'ue_px');
      unstruct = r.unstruct;
      failures.push(...r.failures);
      infos.push(...r.infos);
    }
    const co = params.get('co');
    const cx = params.get('cx');
    if (co !== undefined && co !== null) {
      const r = await this.checkContexts(co, 'co');
      contexts = r.contexts;
      failures.push(...r.failures);
      infos.push(...r.infos);
    } else if (cx !== undefined && cx !== null) {
      const r = await this.checkContexts(decodeBase64Lenient(cx), 'cx');
      contexts = r.contexts;
      failures.push(...r.failures);
      infos.push(...r.infos);
    }
    return { unstruct, contexts, failures, infos };
  }

  /** ue_pr/ue_px (or a JS-rewritten unstruct_event column): wrapper, then the event SDJ inside it. */
  async checkUnstruct(text: string, field: string): Promise<{ unstruct: Entity | null; failures: SchemaViolation[]; infos: Entity[] }> {
    const none = noUnstruct;
    const parsed = parseJson(text, this.maxJsonDepth);
    if (!parsed.ok) return none({ field, value: text, error: parsed.error });
    const wrapper = toSdj(parsed.value, parsed.shadow);
    if (!wrapper.ok) return none({ json: parsed.value, error: wrapper.error });
    if (!UNSTRUCT_CRITERION.matches(wrapper.key)) return none({ schemaKey: wrapper.entity.schema, schemaCriterion: UNSTRUCT_CRITERION.text });
    const wvp = this.validate(wrapper.entity.schema, wrapper.entity.data);
    const wv = wvp instanceof Promise ? await wvp : wvp;
    if (!wv.ok) return none({ schemaKey: wrapper.entity.schema, error: wv.error });
    const inner = toSdj(wrapper.entity.data, childShadow(parsed.shadow, 'data'));
    if (!inner.ok) return none({ json: wrapper.entity.data, error: inner.error }, wrapper.entity.data);
    const vp = this.validate(inner.entity.schema, inner.entity.data);
    const v = vp instanceof Promise ? await vp : vp;
    if (!v.ok) return none({ schemaKey: inner.entity.schema, error: v.error }, inner.entity.data);
    const infos: Entity[] = [];
    if (v.supersededBy !== null) infos.push(supersede(inner.entity, v.supersededBy));
    return { unstruct: inner.entity, failures: [], infos };
  }

  /** co/cx (or a JS-rewritten contexts column): wrapper, then each entity independently. */
  async checkContexts(text: string, field: string): Promise<{ contexts: Entity[]; failures: SchemaViolation[]; infos: Entity[] }> {
    const none = noContexts;
    const parsed = parseJson(text, this.maxJsonDepth);
    if (!parsed.ok) return none({ field, value: text, error: parsed.error });
    const wrapper = toSdj(parsed.value, parsed.shadow);
    if (!wrapper.ok) return none({ json: parsed.value, error: wrapper.error });
    if (!CONTEXTS_CRITERION.matches(wrapper.key)) return none({ schemaKey: wrapper.entity.schema, schemaCriterion: CONTEXTS_CRITERION.text });
    const wvp = this.validate(wrapper.entity.schema, wrapper.entity.data);
    const wv = wvp instanceof Promise ? await wvp : wvp;
    if (!wv.ok) return none({ schemaKey: wrapper.entity.schema, error: wv.error });
    const items = wrapper.entity.data;
    if (!Array.isArray(items)) return none({ json: parsed.value, error: 'INVALID_DATA_PAYLOAD' });
    const dataShadow = childShadow(parsed.shadow, 'data');
    const contexts: Entity[] = [];
    const failures: SchemaViolation[] = [];
    const infos: Entity[] = [];
    for (let i = 0; i < items.length; i++) {
      const sdj = toSdj(items[i], childShadow(dataShadow, i));
      if (!sdj.ok) {
        failures.push(sourced({ json: items[i], error: sdj.error }, 'contexts', items[i]));
        continue;
      }
      const vp = this.validate(sdj.entity.schema, sdj.entity.data);
      const v = vp instanceof Promise ? await vp : vp;
      if (!v.ok) {
        failures.push(sourced({ schemaKey: sdj.entity.schema, error: v.error }, 'contexts', sdj.entity.data));
        continue;
      }
      if (v.supersededBy !== null) infos.push(supersede(sdj.entity, v.supersededBy));
      contexts.push(sdj.entity);
    }
    return { contexts, failures, infos };
  }

  /** `_sp=duid.tstamp[.sid.uid.sourceId.platform.reason]` in the page URL: always sets refr_domain_userid/refr_dvce_tstamp. */
  private crossDomain(ev: EnrichedEvent, pageQs: Array<[string, string | null]>, failures: TaggedEnrichmentFailure[]): void {
    let sp: string | null | undefined;
    for (const [k, v] of pageQs) if (k === '_sp') sp = v;
    if (sp === undefined || sp === null || sp === '') return;
    const parts = sp.split('.');
    if (parts.length > 7) return;
    const duid = parts[0] === undefined || parts[0] === '' ? null : makeTsvSafe(parts[0]);
    ev.refr_domain_userid = duid;
    const ts = parts[1];
    if (ts !== undefined && ts !== '') {
      const r = convertTrackerTimestamp(ts);
      if (r instanceof ConversionError) {
        failures.push({
          enrichment: this.pipeline?.crossNavigation ?? null,
          message: { field: 'sp_dtm', value: ts, expectation: r.message },
        });
      } else ev.refr_dvce_tstamp = r;
    }
  }

  private schemaFields(ev: EnrichedEvent, unstruct: Entity | null, failures: TaggedEnrichmentFailure[]): void {
    const e = ev.event;
    if (e === 'unstruct') {
      if (unstruct === null) return;
      const k = parseSchemaUriCached(unstruct.schema);
      if (typeof k === 'string') return;
      ev.event_vendor = k.vendor;
      ev.event_name = k.name;
      ev.event_format = k.format;
      ev.event_version = `${k.model}-${k.revision}-${k.addition}`;
      return;
    }
    const s = e === null ? undefined : EVENT_SCHEMAS[e];
    if (s === undefined) {
      failures.push({
        enrichment: null,
        message: {
          field: 'event',
          value: e,
          expectation: `trying to extract the schema of the enriched event but event type [${e}] doesn't match any of page_view, page_ping, struct, transaction, transaction_item and unstruct`,
        },
      });
      return;
    }
    ev.event_vendor = s[0];
    ev.event_name = s[1];
    ev.event_format = s[2];
    ev.event_version = s[3];
  }

  /**
   * failure/1-0-0 entities of a failed event (Snowplow 6.x `Failure.scala` shapes as far as the spec gives them):
   * one per atomic problem group, per Iglu violation and per enrichment failure.
   */
  private failureEntities(now: number, parse: AtomicParseError[], iglu: SchemaViolation[], enrichment: TaggedEnrichmentFailure[], lengths: AtomicParseError[]): SelfDescribingData[] {
    const common = { timestamp: new Date(now).toISOString(), componentName: this.processor.artifact, componentVersion: this.processor.version };
    const out: SelfDescribingData[] = [];
    const atomic = (errs: AtomicParseError[], keyword: string): void => {
      if (errs.length === 0) return;
      out.push(makeEntity(FAILURE_SCHEMA, {
        failureType: 'ValidationError',
        errors: errs.map((e) => ({ message: e.message, source: e.path, path: e.path, keyword, targets: [] })),
        schema: ATOMIC_SCHEMA, data: null, ...common,
      }));
    };
    atomic(parse, 'atomic_field_parse_error');
    for (const v of iglu) {
      const ctx = VIOLATION_CONTEXT.get(v) ?? { source: 'unstruct', data: null };
      const data = ctx.data !== null && typeof ctx.data === 'object' && !Array.isArray(ctx.data) ? ctx.data : null;
      if ('schemaCriterion' in v) {
        out.push(makeEntity(FAILURE_SCHEMA, { failureType: 'CriterionMismatch', errors: [{ message: `Unexpected schema: ${v.schemaKey} does not match the criterion`, source: ctx.source, criterion: v.schemaCriterion }], schema: v.schemaKey, data, ...common }));
      } else if ('schemaKey' in v) {
        const e = v.error;
        if (e.error === 'ResolutionError') {
          out.push(makeEntity(FAILURE_SCHEMA, { failureType: 'ResolutionError', errors: [{ message: `Resolution error: schema ${v.schemaKey} not found`, source: ctx.source, lookupHistory: e.lookupHistory }], schema: v.schemaKey, data, ...common }));
        } else {
          const errors = 'dataReports' in e
            ? e.dataReports.map((r) => ({ message: r.message, source: ctx.source, path: r.path, keyword: r.keyword, targets: r.targets }))
            : e.schemaIssues.map((i) => ({ message: i.message, source: ctx.source, path: i.path }));
          out.push(makeEntity(FAILURE_SCHEMA, { failureType: 'ValidationError', errors, schema: v.schemaKey, data, ...common }));
        }
      } else if ('json' in v) {
        out.push(makeEntity(FAILURE_SCHEMA, { failureType: 'NotIglu', errors: [{ message: v.error, source: ctx.source }], schema: null, data, ...common }));
      } else {
        out.push(makeEntity(FAILURE_SCHEMA, { failureType: 'NotJSON', errors: [{ message: v.error, source: v.field }], schema: null, data: null, ...common }));
      }
    }
    for (const f of enrichment) {
      const m = f.message as Record<string, unknown>;
      const message = typeof m['error'] === 'string' ? m['error'] : typeof m['expectation'] === 'string' ? m['expectation'] : JSON.stringify(m['error']);
      const id = f.enrichment?.identifier ?? 'core';
      out.push(makeEntity(FAILURE_SCHEMA, {
        failureType: `EnrichmentError: ${id}`,
        errors: [{ message, source: typeof m['field'] === 'string' ? m['field'] : id }],
        schema: f.enrichment?.schemaKey ?? null,
        data: typeof m['field'] === 'string' ? { [m['field'] as string]: m['value'] ?? null } : null,
        ...common,
      }));
    }
    atomic(lengths, 'atomic_field_length_exceeded');
    return out;
  }

  private checkLengths(ev: EnrichedEvent): AtomicParseError[] {
    return this.lengthChecker(ev);
  }

  /** The pii stream event (Snowplow 5.x `getPiiEvent`): a pii_transformation event pointing at its parent. */
  private piiEvent(parent: EnrichedEvent, pii: SelfDescribingData, now: number, etlTstamp: string): EnrichedEvent {
    const e = new EnrichedEvent();
    e.app_id = parent.app_id;
    e.platform = 'srv';
    e.etl_tstamp = etlTstamp;
    e.collector_tstamp = parent.collector_tstamp;
    e.event = 'pii_transformation';
    e.event_id = randomUUID();
    e.v_etl = this.vEtl;
    e.contexts = formatContexts([makeEntity(PII_SCHEMA_PARENT, { parentEventId: parent.event_id })]);
    e.unstruct_event = formatUnstructEvent(pii);
    const nowTs = formatTimestamp(now);
    e.derived_tstamp = nowTs;
    e.true_tstamp = nowTs;
    const k = parseSchemaUriCached(pii.schema);
    if (typeof k !== 'string') {
      e.event_vendor = k.vendor;
      e.event_name = k.name;
      e.event_format = k.format;
      e.event_version = `${k.model}-${k.revision}-${k.addition}`;
    }
    return e;
  }
}

function phase1Messages(atomicErrors: AtomicParseError[], failures: SchemaViolation[]): SchemaViolation[] {
  const messages: SchemaViolation[] = [];
  if (atomicErrors.length > 0) messages.push(atomicViolation(atomicErrors, 'atomic_field_parse_error'));
  for (const f of failures) messages.push(f);
  return messages;
}

const NO_ERRORS: AtomicParseError[] = [];

/**
 * The atomic length check as one generated function of direct property reads (`e.app_id`), built once from
 * the configured limits: keyed reads over 84 names go megamorphic and cost ~4x more per event.
 */
function compileLengthChecker(limits: Readonly<Record<string, number>>): (ev: EnrichedEvent) => AtomicParseError[] {
  let body = 'let out = null;\n';
  for (const [field, limit] of Object.entries(limits)) {
    if (!/^[a-z_]+$/.test(field) || !(ENRICHED_FIELDS as readonly string[]).includes(field)) throw new Error(`not an atomic field: ${field}`);
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`bad limit for ${field}: ${limit}`);
    body += `if (e.${field} !== null && e.${field}.length > ${limit}) (out ??= []).push({ message: 'Field is longer than maximum allowed size ${limit}', path: '${field}' });\n`;
  }
  body += 'return out ?? none;';
  const f = new Function('e', 'none', body) as (e: EnrichedEvent, none: AtomicParseError[]) => AtomicParseError[];
  return (e) => f(e, NO_ERRORS);
}

function atomicViolation(errors: AtomicParseError[], keyword: string): SchemaViolation {
  return {
    schemaKey: ATOMIC_SCHEMA,
    error: { error: 'ValidationError', dataReports: errors.map((e) => ({ message: e.message, path: e.path, keyword, targets: [] })) },
  };
}

/** Re-labels an entity validated against its superseding schema; returns the validation_info entity. */
function supersede(entity: Entity, supersededBy: string): Entity {
  const original = entity.schema;
  entity.schema = original.slice(0, original.lastIndexOf('/') + 1) + supersededBy;
  return makeEntity(VALIDATION_INFO_SCHEMA, { originalSchema: original, validatedWith: supersededBy });
}

function dedupeInfos(infos: Entity[]): Entity[] {
  if (infos.length < 2) return infos;
  const seen = new Set<string>();
  const out: Entity[] = [];
  for (const i of infos) {
    const d = i.data as { originalSchema: string; validatedWith: string };
    const k = `${d.originalSchema} ${d.validatedWith}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(i);
    }
  }
  return out;
}

function setPageUri(ev: EnrichedEvent, url: string): void {
  const u = explodeUri(url);
  ev.page_url = u.uri;
  ev.page_urlscheme = u.scheme === null ? null : makeTsvSafe(u.scheme);
  ev.page_urlhost = u.host === null ? null : makeTsvSafe(u.host);
  ev.page_urlport = String(u.port);
  ev.page_urlpath = u.path === null ? null : makeTsvSafe(u.path);
  ev.page_urlquery = u.query === null ? null : makeTsvSafe(u.query);
  ev.page_urlfragment = u.fragment === null ? null : makeTsvSafe(u.fragment);
}

function setReferrerUri(ev: EnrichedEvent, url: string): void {
  const u = explodeUri(url);
  ev.page_referrer = u.uri;
  ev.refr_urlscheme = u.scheme === null ? null : makeTsvSafe(u.scheme);
  ev.refr_urlhost = u.host === null ? null : makeTsvSafe(u.host);
  ev.refr_urlport = String(u.port);
  ev.refr_urlpath = u.path === null ? null : makeTsvSafe(u.path);
  ev.refr_urlquery = u.query === null ? null : makeTsvSafe(u.query);
  ev.refr_urlfragment = u.fragment === null ? null : makeTsvSafe(u.fragment);
}

/** derivedTstamp from the numbers the strings came from (no re-parsing on the hot path). */
function derivedTstampFast(ev: EnrichedEvent, raw: RawEvent, collectorMs: number | null): string | null {
  if (ev.true_tstamp !== null) return ev.true_tstamp;
  if (ev.collector_tstamp === null || collectorMs === null) return null;
  if (ev.dvce_created_tstamp === null || ev.dvce_sent_tstamp === null) return ev.collector_tstamp;
  const created = Number(raw.parameters.get('dtm'));
  const sent = Number(raw.parameters.get('stm'));
  if (created < sent) return formatTimestamp(collectorMs - (sent - created));
  return ev.collector_tstamp;
}

/**
 * derived_tstamp (§1.4): true_tstamp if set; else collector − (sent − created) when created < sent;
 * else collector_tstamp.
 */
export function derivedTstamp(ev: Pick<EnrichedEvent, 'true_tstamp' | 'dvce_created_tstamp' | 'dvce_sent_tstamp' | 'collector_tstamp'>): string | null {
  if (ev.true_tstamp !== null) return ev.true_tstamp;
  const collector = parseTimestamp(ev.collector_tstamp);
  if (collector === null) return null;
  const created = parseTimestamp(ev.dvce_created_tstamp);
  const sent = parseTimestamp(ev.dvce_sent_tstamp);
  if (created !== null && sent !== null && created < sent) return formatTimestamp(collector - (sent - created));
  return ev.collector_tstamp;
}
