/**
 * One enriched event as the forwarders see it: the parsed 131 atomic fields, the original TSV line
 * (what the dead letter keeps and what the Kinesis target re-publishes), and views computed lazily,
 * at most once per event, however many destinations ask:
 *
 *   line ──parseEnrichedTsv──> fields ──(first use)──> entities: contexts + derived_contexts + unstruct_event
 *                                     └─(first use)──> json: the Snowplow Analytics SDK "JSON event" shape
 *
 * Field paths (filters, mappings, vendor options) use the SDK's names, so one path works everywhere:
 *   `app_id`, `geo_country`                          an atomic field (typed in the JSON view)
 *   `contexts_com_acme_user_1.plan`                  first entity of that schema (contexts or derived_contexts), then a path
 *   `contexts_com_acme_user_1[1].plan`               the second such entity
 *   `unstruct_event_com_acme_checkout_1.total`       the self-describing event's data
 */
import { DOWNSTREAM_MAX_JSON_DEPTH, exceedsDepth } from '../common/json-depth.js';
import { ENRICHED_FIELDS, EnrichedEvent, type EnrichedFieldName } from '../formats/enriched-event.js';

/** How the JSON view types each atomic column (../shared/spec/enriched_fields.json `tsv_type`; checked by a test). */
export type AtomicKind = 'string' | 'timestamp' | 'int' | 'float' | 'decimal' | 'bool' | 'json';

const TIMESTAMPS = ['etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'dvce_sent_tstamp', 'refr_dvce_tstamp', 'derived_tstamp', 'true_tstamp'];
const INTS = ['txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min',
  'pp_yoffset_max', 'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight', 'doc_width', 'doc_height'];
const FLOATS = ['geo_latitude', 'geo_longitude'];
const DECIMALS = ['se_value', 'tr_total', 'tr_tax', 'tr_shipping', 'ti_price', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base', 'ti_price_base'];
const BOOLS = ['br_features_pdf', 'br_features_flash', 'br_features_java', 'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies', 'dvce_ismobile'];
const JSONS = ['contexts', 'derived_contexts', 'unstruct_event'];

export const ATOMIC_KINDS: Readonly<Record<EnrichedFieldName, AtomicKind>> = Object.freeze(
  Object.fromEntries(
    ENRICHED_FIELDS.map((f) => [
      f,
      TIMESTAMPS.includes(f) ? 'timestamp' : INTS.includes(f) ? 'int' : FLOATS.includes(f) ? 'float' : DECIMALS.includes(f) ? 'decimal'
        : BOOLS.includes(f) ? 'bool' : JSONS.includes(f) ? 'json' : 'string',
    ]),
  ) as Record<EnrichedFieldName, AtomicKind>,
);

const ATOMIC_SET: ReadonlySet<string> = new Set(ENRICHED_FIELDS);
/** Column indexes of contexts, unstruct_event, derived_contexts. */
const JSON_COLUMNS: readonly number[] = JSONS.map((f) => (ENRICHED_FIELDS as readonly string[]).indexOf(f));
export function isAtomicField(name: string): name is EnrichedFieldName {
  return ATOMIC_SET.has(name);
}

/** `yyyy-MM-dd HH:mm:ss.SSS` (UTC) → epoch milliseconds; NaN when the text is not such a timestamp. */
export function tstampToMillis(value: string | null): number {
  if (value === null) return NaN;
  // Date.parse of the ISO form is exact for this fixed layout; fractional digits other than 3 are accepted.
  return Date.parse(value.replace(' ', 'T') + 'Z');
}

/** `yyyy-MM-dd HH:mm:ss.SSS` → `yyyy-MM-ddTHH:mm:ss.SSSZ`, as the Analytics SDK renders it. */
export function tstampToIso(value: string): string {
  return value.replace(' ', 'T') + 'Z';
}

/** An atomic column as a JSON value: numbers for ints/floats/decimals, booleans for 0/1, ISO strings for timestamps. */
export function atomicJsonValue(name: EnrichedFieldName, value: string | null): unknown {
  if (value === null) return null;
  switch (ATOMIC_KINDS[name]) {
    case 'timestamp':
      return tstampToIso(value);
    case 'int': {
      const n = Number.parseInt(value, 10);
      return Number.isNaN(n) ? value : n;
    }
    case 'float':
    case 'decimal': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'bool':
      return value === '1' ? true : value === '0' ? false : value;
    default:
      return value;
  }
}

/** Per column index: how the JSON view renders a non-empty value (null for the JSON columns, handled apart). Built once. */
const TO_JSON: ReadonlyArray<((v: string) => unknown) | null> = ENRICHED_FIELDS.map((name) => {
  switch (ATOMIC_KINDS[name]) {
    case 'json':
      return null;
    case 'string':
      return (v: string) => v;
    default:
      return (v: string) => atomicJsonValue(name, v);
  }
});

/** Per column index: `"name":` (the JSON view's key) and the value rendered as JSON text, for jsonText(). */
const KEY_PREFIX: readonly string[] = ENRICHED_FIELDS.map((f) => `${JSON.stringify(f)}:`);
const TO_JSON_TEXT: ReadonlyArray<((v: string) => string) | null> = ENRICHED_FIELDS.map((name) => {
  switch (ATOMIC_KINDS[name]) {
    case 'json':
      return null;
    case 'string':
      return (v: string) => JSON.stringify(v);
    default:
      // Same value as the JSON view (numbers, booleans, ISO strings), rendered as JSON.stringify would.
      return (v: string) => JSON.stringify(atomicJsonValue(name, v));
  }
});

/**
 * Columns → EnrichedEvent with one straight-line assignment per field, generated once at start: a keyed store
 * per column (`e[name] = …`) is megamorphic and was the larger part of parsing in the forwarder benchmark.
 */
const BUILD_FIELDS = new Function(
  'E',
  'c',
  `const e = new E();\n${ENRICHED_FIELDS.map((f, i) => `e.${f} = c[${i}] === '' ? null : c[${i}];`).join('\n')}\nreturn e;`,
) as (E: typeof EnrichedEvent, c: readonly string[]) => EnrichedEvent;

const SCHEMA_URI = /^iglu:([a-zA-Z0-9_.-]+)\/([a-zA-Z0-9_-]+)\/[a-zA-Z0-9_-]+\/([0-9]+)-[0-9]+-[0-9]+$/;

/** `iglu:com.acme/checkoutStarted/jsonschema/1-0-0` + prefix → `<prefix>_com_acme_checkout_started_1` (Analytics SDK naming). */
export function entityKey(prefix: string, schema: string): string | null {
  // Schemas repeat across events: remember their keys (bounded; a stream with more distinct schemas just recomputes).
  const memoKey = prefix + '|' + schema;
  const hit = ENTITY_KEYS.get(memoKey);
  if (hit !== undefined) return hit;
  const key = computeEntityKey(prefix, schema);
  if (ENTITY_KEYS.size < 10_000) ENTITY_KEYS.set(memoKey, key);
  return key;
}

const ENTITY_KEYS = new Map<string, string | null>();

function computeEntityKey(prefix: string, schema: string): string | null {
  const m = SCHEMA_URI.exec(schema);
  if (!m) return null;
  const vendor = m[1]!.replace(/[.-]/g, '_').toLowerCase();
  const name = m[2]!.replace(/([^A-Z_])([A-Z])/g, '$1_$2').toLowerCase();
  return `${prefix}_${vendor}_${name}_${m[3]}`;
}

/** Entities of an event by SDK key: `contexts_…` → array of data objects, `unstruct_event_…` → the data object. */
export type EntityMap = Map<string, unknown>;

export class ForwardEvent {
  readonly line: string;
  readonly fields: EnrichedEvent;
  private entitiesCache: EntityMap | null = null;
  private jsonCache: Record<string, unknown> | null = null;
  /** The split columns (kept for the JSON view's indexed loop). */
  private cols: readonly string[] | null = null;
  /** Set when a JSON column cannot be parsed; the entities then hold what could be read. */
  entityError: string | null = null;

  constructor(line: string, fields: EnrichedEvent) {
    this.line = line;
    this.fields = fields;
  }

  /**
   * Parses an enriched TSV line (as formats/enriched-event.ts parseEnrichedTsv); returns the reason when it is not an enriched event.
   * A JSON column nested deeper than DOWNSTREAM_MAX_JSON_DEPTH makes the line unparseable: its entities are
   * printed (JSON.stringify) and frozen by recursive walks that such a value would overflow.
   */
  static parse(line: string): ForwardEvent | string {
    const cols = line.split('\t');
    if (cols.length !== ENRICHED_FIELDS.length) return `expected ${ENRICHED_FIELDS.length} tab-separated columns, got ${cols.length}`;
    for (let j = 0; j < JSON_COLUMNS.length; j++) {
      const i = JSON_COLUMNS[j]!;
      if (exceedsDepth(cols[i]!, DOWNSTREAM_MAX_JSON_DEPTH)) return `${ENRICHED_FIELDS[i]} is JSON nested deeper than ${DOWNSTREAM_MAX_JSON_DEPTH} levels`;
    }
    const ev = new ForwardEvent(line, BUILD_FIELDS(EnrichedEvent, cols));
    ev.cols = cols;
    return ev;
  }

  /** The raw column text (null when empty). */
  get(name: EnrichedFieldName): string | null {
    return (this.fields as unknown as Record<string, string | null>)[name] ?? null;
  }

  /** contexts, derived_contexts and unstruct_event by Analytics SDK key. Parsed once. */
  entities(): EntityMap {
    if (this.entitiesCache !== null) return this.entitiesCache;
    const map: EntityMap = new Map();
    this.addContexts(map, this.fields.contexts);
    this.addContexts(map, this.fields.derived_contexts);
    const ue = this.fields.unstruct_event;
    if (ue !== null) {
      try {
        const inner = (JSON.parse(ue) as { data?: { schema?: unknown; data?: unknown } }).data;
        const key = inner && typeof inner.schema === 'string' ? entityKey('unstruct_event', inner.schema) : null;
        if (key !== null) map.set(key, inner!.data);
        else this.entityError = 'unstruct_event has no valid inner schema';
      } catch (e) {
        this.entityError = `unstruct_event is not JSON: ${(e as Error).message}`;
      }
    }
    this.entitiesCache = map;
    return map;
  }

  private addContexts(map: EntityMap, text: string | null): void {
    if (text === null) return;
    try {
      const list = (JSON.parse(text) as { data?: unknown }).data;
      if (!Array.isArray(list)) {
        this.entityError = 'contexts column has no data array';
        return;
      }
      for (const c of list as Array<{ schema?: unknown; data?: unknown }>) {
        const key = c && typeof c.schema === 'string' ? entityKey('contexts', c.schema) : null;
        if (key === null) continue;
        const arr = map.get(key) as unknown[] | undefined;
        if (arr) arr.push(c.data);
        else map.set(key, [c.data]);
      }
    } catch (e) {
      this.entityError = `contexts column is not JSON: ${(e as Error).message}`;
    }
  }

  /** The Analytics SDK JSON shape: typed atomic fields (nulls dropped), geo_location, one key per entity. Built once. */
  toJson(): Record<string, unknown> {
    if (this.jsonCache !== null) return this.jsonCache;
    const out: Record<string, unknown> = {};
    const rec = this.fields as unknown as Record<string, string | null>;
    const cols = this.cols ?? ENRICHED_FIELDS.map((f) => rec[f] ?? '');
    for (let i = 0; i < cols.length; i++) {
      const v = cols[i]!;
      const conv = TO_JSON[i]!;
      if (v === '' || conv === null) continue;
      out[ENRICHED_FIELDS[i]!] = conv(v);
    }
    // As the Analytics SDKs do: a "lat,lon" geo_location for Elasticsearch-style geo points.
    if (this.fields.geo_latitude !== null && this.fields.geo_longitude !== null) out.geo_location = `${this.fields.geo_latitude},${this.fields.geo_longitude}`;
    for (const [k, v] of this.entities()) out[k] = v;
    this.jsonCache = out;
    return out;
  }

  /**
   * JSON.stringify(toJson()), built as text straight from the columns (no 100-key object to allocate and walk):
   * the default body of the HTTP target. A test checks it equals JSON.stringify(toJson()) on every event kind.
   */
  jsonText(): string {
    if (this.jsonCache !== null) return JSON.stringify(this.jsonCache);
    const rec = this.fields as unknown as Record<string, string | null>;
    const cols = this.cols ?? ENRICHED_FIELDS.map((f) => rec[f] ?? '');
    let s = '{';
    for (let i = 0; i < cols.length; i++) {
      const v = cols[i]!;
      const render = TO_JSON_TEXT[i]!;
      if (v === '' || render === null) continue;
      s += (s.length === 1 ? '' : ',') + KEY_PREFIX[i]! + render(v);
    }
    if (this.fields.geo_latitude !== null && this.fields.geo_longitude !== null) {
      s += (s.length === 1 ? '' : ',') + '"geo_location":' + JSON.stringify(`${this.fields.geo_latitude},${this.fields.geo_longitude}`);
    }
    for (const [k, v] of this.entities()) s += (s.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + JSON.stringify(v);
    return s + '}';
  }

  /** True when `o` is this event's JSON view object (toJson() already built it). */
  isJsonView(o: unknown): boolean {
    return this.jsonCache !== null && o === this.jsonCache;
  }

  /** Event time for vendors: derived_tstamp (Snowplow's best estimate, true_tstamp when sent), else collector_tstamp; epoch ms or NaN. */
  eventTimeMillis(): number {
    const d = tstampToMillis(this.fields.derived_tstamp);
    return Number.isNaN(d) ? tstampToMillis(this.fields.collector_tstamp) : d;
  }
}

/**
 * A compiled field path (see the header). Compile once at start; `read` is cheap per event.
 * Returns undefined when the path does not resolve.
 */
export interface FieldPath {
  readonly source: string;
  read(ev: ForwardEvent): unknown;
}

const SEGMENT = /([^.[\]]+)|\[(\d+)\]/g;

export function compileFieldPath(path: string): FieldPath | string {
  const segs: Array<string | number> = [];
  let consumed = 0;
  for (const m of path.matchAll(SEGMENT)) {
    segs.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
    consumed += m[0].length;
  }
  const dots = (path.match(/\./g) ?? []).length;
  if (segs.length === 0 || consumed + dots !== path.length || typeof segs[0] !== 'string') return `not a field path: ${JSON.stringify(path)}`;
  const head = segs[0] as string;
  const rest = segs.slice(1);
  if (isAtomicField(head)) {
    if (ATOMIC_KINDS[head] === 'json') return `${head}: use contexts_<vendor>_<name>_<major> / unstruct_event_… paths for JSON columns`;
    if (rest.length > 0) return `${path}: ${head} is an atomic field and has no sub-fields`;
    return {
      source: path,
      read: (ev) => {
        const v = ev.get(head);
        return v === null ? undefined : atomicJsonValue(head, v);
      },
    };
  }
  if (head.startsWith('contexts_')) {
    // contexts_x_1.a means the first entity; contexts_x_1[2].a the third one.
    const index = typeof rest[0] === 'number' ? (rest.shift() as number) : 0;
    return {
      source: path,
      read: (ev) => {
        const arr = ev.entities().get(head) as unknown[] | undefined;
        return arr === undefined ? undefined : walk(arr[index], rest);
      },
    };
  }
  if (head.startsWith('unstruct_event_')) {
    return { source: path, read: (ev) => walk(ev.entities().get(head), rest) };
  }
  return `${path}: unknown field (atomic fields use their TSV names; entities use contexts_<vendor>_<name>_<major> or unstruct_event_<vendor>_<name>_<major>)`;
}

function walk(value: unknown, segs: ReadonlyArray<string | number>): unknown {
  let cur = value;
  for (let i = 0; i < segs.length; i++) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[segs[i]!];
  }
  return cur === null ? undefined : cur;
}

