/**
 * iab_spiders_and_robots_enrichment (iglu:com.snowplowanalytics.snowplow.enrichments/iab_spiders_and_robots_enrichment/
 * jsonschema/1-0-*): the IAB/ABC International Spiders & Bots lists.
 *
 *   runs when useragent and derived_tstamp are set ("accurate at" = derived_tstamp; no useragent → no context, as the
 *   5.4.0 blackbox vector shows); without an IP the IP check is skipped
 *   1. UA contains a custom includeUseragents entry (1-0-1)   → browser (PASSED_ALL)
 *   2. UA contains a custom excludeUseragents entry (1-0-1)   → SPIDER_OR_ROBOT / FAILED_UA_EXCLUDE / UNKNOWN
 *   3. IP in ip_exclude list (addresses and CIDR blocks)      → SPIDER_OR_ROBOT / FAILED_IP_EXCLUDE / UNKNOWN
 *   4. UA matches no include pattern (active, or inactive date after the event)
 *                                                             → SPIDER_OR_ROBOT / FAILED_UA_INCLUDE / UNKNOWN
 *   5. UA matches an exclude pattern (and none of its exception patterns)
 *                                                             → ACTIVE_ or INACTIVE_SPIDER_OR_ROBOT / FAILED_UA_EXCLUDE /
 *                                                               impact 0 PAGE_IMPRESSIONS, 1 AD_IMPRESSIONS, 2 PAGE_AND_AD_IMPRESSIONS
 *   6. otherwise                                              → BROWSER / PASSED_ALL / NONE
 * Patterns are lower-cased substrings (or prefixes with the start-of-string flag); files are `|`-separated,
 * ISO-8859-1, `#` comment lines; dates MM/dd/yyyy (UTC).
 * Output: derived context com.iab.snowplow/spiders_and_robots/1-0-0.
 */
import { BlockList, isIP } from 'node:net';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { openAsset, type Refreshable } from './assets.js';
import { normaliseIp } from './ip-lookups.js';
import { parseTstamp } from './tsv-safe.js';

export const IAB_SCHEMA = 'iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

interface IabResult {
  spiderOrRobot: boolean;
  category: string;
  reason: string;
  primaryImpact: string;
}

const BROWSER: IabResult = Object.freeze({ spiderOrRobot: false, category: 'BROWSER', reason: 'PASSED_ALL', primaryImpact: 'NONE' });
const IP_EXCLUDED: IabResult = Object.freeze({ spiderOrRobot: true, category: 'SPIDER_OR_ROBOT', reason: 'FAILED_IP_EXCLUDE', primaryImpact: 'UNKNOWN' });
const NOT_INCLUDED: IabResult = Object.freeze({ spiderOrRobot: true, category: 'SPIDER_OR_ROBOT', reason: 'FAILED_UA_INCLUDE', primaryImpact: 'UNKNOWN' });
const CUSTOM_EXCLUDED: IabResult = Object.freeze({ spiderOrRobot: true, category: 'SPIDER_OR_ROBOT', reason: 'FAILED_UA_EXCLUDE', primaryImpact: 'UNKNOWN' });

const IMPACT: Record<string, string> = { '0': 'PAGE_IMPRESSIONS', '1': 'AD_IMPRESSIONS', '2': 'PAGE_AND_AD_IMPRESSIONS' };

interface IncludeRecord {
  pattern: string;
  active: boolean;
  start: boolean;
  inactiveAt: number | null;
}

interface ExcludeRecord extends IncludeRecord {
  exceptions: string[];
  impact: string;
}

/** `|`-separated records; `#` comment lines and empty lines skipped; a quoted field may contain `|`. */
export function parseIabRecords(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split(/\r?\n/)) {
    if (raw === '' || raw.startsWith('#')) continue;
    const fields: string[] = [];
    let i = 0;
    while (i <= raw.length) {
      if (raw[i] === '"') {
        let v = '';
        i++;
        while (i < raw.length) {
          if (raw[i] === '"' && raw[i + 1] === '"') {
            v += '"';
            i += 2;
          } else if (raw[i] === '"') {
            i++;
            break;
          } else v += raw[i++];
        }
        fields.push(v);
        i = raw.indexOf('|', i) < 0 ? raw.length + 1 : raw.indexOf('|', i) + 1;
      } else {
        const bar = raw.indexOf('|', i);
        fields.push(bar < 0 ? raw.slice(i) : raw.slice(i, bar));
        i = bar < 0 ? raw.length + 1 : bar + 1;
      }
    }
    out.push(fields);
  }
  return out;
}

/** MM/dd/yyyy → epoch ms (UTC); null when absent or not a date. */
function iabDate(s: string | undefined): number | null {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec((s ?? '').trim());
  if (m === null) return null;
  return Date.UTC(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
}

const lower = (s: string | undefined): string => (s ?? '').toLowerCase();

export function parseIncludeList(text: string): IncludeRecord[] {
  return parseIabRecords(text).map((f) => ({ pattern: lower(f[0]), active: f[1] === '1', start: f[2] === '1', inactiveAt: iabDate(f[3]) }));
}

export function parseExcludeList(text: string): ExcludeRecord[] {
  return parseIabRecords(text).map((f, i) => {
    const impact = IMPACT[f[4] ?? ''];
    if (impact === undefined) throw new Error(`record ${i + 1} ("${f[0]}"): primary impact flag must be 0, 1 or 2 (got "${f[4] ?? ''}")`);
    return {
      pattern: lower(f[0]),
      active: f[1] === '1',
      exceptions: lower(f[2]).split(',').map((s) => s.trim()).filter((s) => s !== ''),
      impact,
      start: f[5] === '1',
      inactiveAt: iabDate(f[6]),
    };
  });
}

export function parseIpList(text: string): BlockList {
  const bl = new BlockList();
  text.split(/\r?\n/).forEach((line, i) => {
    const s = line.trim();
    if (s === '') return;
    const [addr, prefix] = s.split('/');
    const type = isIP(addr ?? '');
    if (type === 0) throw new Error(`line ${i + 1}: "${s}" is not an IP address or CIDR block`);
    const family = type === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) bl.addAddress(addr!, family);
    else {
      const n = Number(prefix);
      if (!Number.isInteger(n) || n < 0 || n > (type === 4 ? 32 : 128)) throw new Error(`line ${i + 1}: bad prefix in "${s}"`);
      bl.addSubnet(addr!, n, family);
    }
  });
  return bl;
}

interface IabLists {
  ips: BlockList;
  include: IncludeRecord[];
  exclude: ExcludeRecord[];
}

const matches = (ua: string, r: { pattern: string; start: boolean }): boolean => (r.start ? ua.startsWith(r.pattern) : ua.includes(r.pattern));

export function iabCheck(lists: IabLists, customInclude: string[], customExclude: string[], ua: string, ip: string | null, at: number): IabResult {
  const low = ua.toLowerCase();
  for (const p of customInclude) if (low.includes(p)) return BROWSER;
  for (const p of customExclude) if (low.includes(p)) return CUSTOM_EXCLUDED;
  if (ip !== null && lists.ips.check(ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6')) return IP_EXCLUDED;
  let included = false;
  for (const r of lists.include) {
    if (matches(low, r) && (r.active || (r.inactiveAt !== null && at < r.inactiveAt))) {
      included = true;
      break;
    }
  }
  if (!included) return NOT_INCLUDED;
  for (const r of lists.exclude) {
    if (!r.active && r.inactiveAt === null) continue;
    if (!matches(low, r)) continue;
    if (r.exceptions.some((e) => low.includes(e))) continue;
    const active = r.inactiveAt === null || at < r.inactiveAt;
    return { spiderOrRobot: true, category: active ? 'ACTIVE_SPIDER_OR_ROBOT' : 'INACTIVE_SPIDER_OR_ROBOT', reason: 'FAILED_UA_EXCLUDE', primaryImpact: r.impact };
  }
  return BROWSER;
}

class IabEnrichment implements Enrichment {
  readonly identifier = 'iab-spiders-and-robots';
  constructor(
    readonly schemaKey: string,
    private readonly ips: Refreshable<BlockList>,
    private readonly include: Refreshable<IncludeRecord[]>,
    private readonly exclude: Refreshable<ExcludeRecord[]>,
    private readonly customInclude: string[],
    private readonly customExclude: string[],
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event;
    if (ev.useragent === null) return NO_OUTPUT;
    const at = parseTstamp(ev.derived_tstamp);
    if (at === null) return NO_OUTPUT;
    const ip = ev.user_ipaddress === null ? null : normaliseIp(ev.user_ipaddress);
    const r = iabCheck(
      { ips: this.ips.current, include: this.include.current, exclude: this.exclude.current },
      this.customInclude,
      this.customExclude,
      ev.useragent,
      ip,
      at,
    );
    return { derivedContexts: [{ schema: IAB_SCHEMA, data: { ...r } }] };
  }

  async close(): Promise<void> {
    this.ips.close();
    this.include.close();
    this.exclude.close();
  }
}

const fileRef = t.object({ uri: t.optional(t.string({ minLength: 0 })), database: t.string({ minLength: 0 }) });

/** `iab_spiders_and_robots_enrichment` `parameters`: three files (uri + database) and optional user-agent lists. */
const iabParameters = t.object({
  ipFile: fileRef,
  excludeUseragentFile: fileRef,
  includeUseragentFile: fileRef,
  includeUseragents: t.array(t.string({ minLength: 0 }), { default: [] }),
  excludeUseragents: t.array(t.string({ minLength: 0 }), { default: [] }),
});

const ref = (o: { readonly uri?: string; readonly database: string }): { uri: string | null; database: string } => ({ uri: o.uri ?? null, database: o.database });

export const iabFactory: EnrichmentFactory = {
  name: 'iab_spiders_and_robots_enrichment',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, iabParameters);
    const label = 'iab_spiders_and_robots_enrichment';
    const ips = await openAsset(ref(p.ipFile), deps, `${label}.ipFile`, (_p, b) => parseIpList(b.toString('latin1')));
    const exclude = await openAsset(ref(p.excludeUseragentFile), deps, `${label}.excludeUseragentFile`, (_p, b) => parseExcludeList(b.toString('latin1')));
    const include = await openAsset(ref(p.includeUseragentFile), deps, `${label}.includeUseragentFile`, (_p, b) => parseIncludeList(b.toString('latin1')));
    const low = (xs: readonly string[]) => xs.map((x) => x.toLowerCase());
    return new IabEnrichment(config.schema, ips, include, exclude, low(p.includeUseragents), low(p.excludeUseragents));
  },
};
