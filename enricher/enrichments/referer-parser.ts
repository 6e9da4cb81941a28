/**
 * referer_parser (iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-*-*): classifies the referer
 * with a referer-parser JSON database ({medium: {source: {domains[], parameters[]}}}), plus inline `referrers`.
 *
 *   refr_urlscheme not http/https            → nothing set
 *   refr host = page host or in internalDomains → refr_medium "internal"
 *   lookup: host+path, host+/first-segment, then the same with the leftmost host label dropped (repeatedly);
 *           then host alone, dropping labels the same way
 *   found → refr_medium = medium, refr_source = source; for "search" refr_term = the first query parameter (in
 *           query order) named in the source's parameters, decoded, tabs → 4 spaces, control chars removed
 *   not found → refr_medium "unknown"
 * The URI parts come from the core's refr_url* fields (parsed from page_referrer before enrichments run).
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { FurrowError } from '../../common/errors.js';
import { isObject, readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { openAsset, type Refreshable } from './assets.js';
import { parseQuerystring } from './querystring.js';
import { makeTsvSafe } from './tsv-safe.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

interface RefererEntry {
  medium: string;
  source: string;
  parameters: readonly string[];
}

export type RefererDb = Map<string, RefererEntry>;

/** Adds a referer-parser JSON document to `db` (later entries for the same domain win). */
export function addReferers(db: RefererDb, doc: unknown, where: string): void {
  if (!isObject(doc)) throw new Error(`${where}: the referer database must be a JSON object of media`);
  for (const [medium, sources] of Object.entries(doc)) {
    if (!isObject(sources)) throw new Error(`${where}: medium "${medium}" must be an object of sources`);
    for (const [source, def] of Object.entries(sources)) {
      // Newer databases (Enrich 6.13+) may list `utm_sources` instead of domains; furrow does not classify by
      // utm_source (no utm_referrer context) and just skips such entries.
      if (!isObject(def) || (!Array.isArray(def['domains']) && !Array.isArray(def['utm_sources']))) {
        throw new Error(`${where}: ${medium}.${source} must have a "domains" (or "utm_sources") array`);
      }
      const params = def['parameters'];
      if (params !== undefined && (!Array.isArray(params) || params.some((p) => typeof p !== 'string'))) {
        throw new Error(`${where}: ${medium}.${source}.parameters must be an array of strings`);
      }
      const entry: RefererEntry = Object.freeze({ medium, source, parameters: Object.freeze((params as string[] | undefined) ?? []) });
      for (const d of (def['domains'] as unknown[] | undefined) ?? []) {
        if (typeof d !== 'string') throw new Error(`${where}: ${medium}.${source}.domains must be strings`);
        db.set(d, entry);
      }
    }
  }
}

function lookupWithPath(db: RefererDb, host: string, path: string): RefererEntry | null {
  let h = host;
  for (;;) {
    const full = db.get(h + path);
    if (full !== undefined) return full;
    const seg = path.split('/');
    if (seg.length > 1) {
      const one = db.get(`${h}/${seg[1]}`);
      if (one !== undefined) return one;
    }
    const dot = h.indexOf('.');
    if (dot < 0) return null;
    h = h.slice(dot + 1);
  }
}

function lookupHost(db: RefererDb, host: string): RefererEntry | null {
  let h = host;
  for (;;) {
    const e = db.get(h);
    if (e !== undefined) return e;
    const dot = h.indexOf('.');
    if (dot < 0) return null;
    h = h.slice(dot + 1);
  }
}

export interface RefererResult {
  medium: string;
  source: string | null;
  term: string | null;
}

export function classifyReferer(
  db: RefererDb,
  internal: ReadonlySet<string>,
  r: { scheme: string | null; host: string | null; path: string | null; query: string | null },
  pageHost: string | null,
): RefererResult | null {
  if (r.host === null || r.scheme === null) return null;
  const scheme = r.scheme.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  if (r.host === pageHost || internal.has(r.host)) return { medium: 'internal', source: null, term: null };
  const path = r.path ?? '';
  const e = (path !== '' ? lookupWithPath(db, r.host, path) : null) ?? lookupHost(db, r.host);
  if (e === null) return { medium: 'unknown', source: null, term: null };
  let term: string | null = null;
  if (e.medium === 'search' && e.parameters.length > 0 && r.query !== null) {
    for (const [name, value] of parseQuerystring(r.query, 'UTF-8')) {
      if (e.parameters.includes(name)) {
        term = value;
        break;
      }
    }
  }
  return { medium: e.medium, source: e.source, term: makeTsvSafe(term) };
}

class RefererParserEnrichment implements Enrichment {
  readonly identifier = 'referer-parser';
  constructor(
    readonly schemaKey: string,
    private readonly db: Refreshable<RefererDb>,
    private readonly internal: ReadonlySet<string>,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event;
    if (ev.refr_urlhost === null) return NO_OUTPUT;
    const r = classifyReferer(
      this.db.current,
      this.internal,
      { scheme: ev.refr_urlscheme, host: ev.refr_urlhost, path: ev.refr_urlpath, query: ev.refr_urlquery },
      ev.page_urlhost,
    );
    if (r !== null) {
      ev.refr_medium = r.medium;
      ev.refr_source = r.source;
      ev.refr_term = r.term;
    }
    return NO_OUTPUT;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** `referer_parser` 2-0-x `parameters`; `referrers` (extra referers, the database's layout) is checked by addReferers. */
const refererParserParameters = t.object({
  internalDomains: t.array(t.string({ minLength: 0 })),
  uri: t.string({ minLength: 0 }),
  database: t.string({ minLength: 0 }),
  referrers: t.optional(t.any()),
});

export const refererParserFactory: EnrichmentFactory = {
  name: 'referer_parser',
  criterion: '2-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, refererParserParameters);
    const internal = new Set(p.internalDomains);
    const inline = p.referrers;
    if (inline !== undefined && inline !== null) {
      try {
        addReferers(new Map(), inline, 'parameters.referrers');
      } catch (err) {
        throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', `referer_parser: parameters.referrers ${(err as Error).message}`);
      }
    }
    const db = await openAsset({ uri: p.uri, database: p.database }, deps, 'referer_parser', (path, bytes) => {
      const m: RefererDb = new Map();
      addReferers(m, JSON.parse(bytes.toString('utf8')), path);
      if (inline !== undefined && inline !== null) addReferers(m, inline, 'parameters.referrers');
      return m;
    });
    return new RefererParserEnrichment(config.schema, db, internal);
  },
};
