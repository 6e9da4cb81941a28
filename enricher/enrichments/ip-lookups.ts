/**
 * ip_lookups (iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-*-*): MaxMind GeoIP2/GeoLite2 lookups on
 * `user_ipaddress`.
 *
 *   user_ipaddress ─normalise (strip [..] and :port)─► LRU(20000) ─► City / ISP / Domain / Connection-Type / ASN readers
 *     City: geo_country (country.iso_code), geo_region / geo_region_name (most specific subdivision iso_code / en name),
 *           geo_city (city en name), geo_zipcode (postal.code), geo_latitude/longitude (Java Float text, 0.0 when
 *           absent), geo_timezone (location.time_zone)
 *     ISP: ip_isp, ip_organization     Domain: ip_domain     Connection-Type: ip_netspeed
 *     ASN (ASN db, else ISP db): derived context com.snowplowanalytics.snowplow/asn/1-0-1 {number, organization}
 *   An address that is invalid or not in a database leaves the fields untouched (Snowplow ignores lookup failures).
 */
import { isIP } from 'node:net';
import { Reader, type Response } from 'maxmind';
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { FurrowError } from '../../common/errors.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { openAsset, type Refreshable } from './assets.js';
import { javaFloatString } from './tsv-safe.js';
import { immutableEntity } from '../self-describing.js';

export const ASN_SCHEMA = 'iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1';
const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

type MmdbRecord = Record<string, unknown>;

/** Everything one address yields, computed once per distinct address (cached). */
interface IpResult {
  geo_country: string | null;
  geo_region: string | null;
  geo_city: string | null;
  geo_zipcode: string | null;
  geo_latitude: string | null;
  geo_longitude: string | null;
  geo_region_name: string | null;
  geo_timezone: string | null;
  hasGeo: boolean;
  ip_isp: string | null;
  ip_organization: string | null;
  ip_domain: string | null;
  ip_netspeed: string | null;
  asn: SelfDescribingData | null;
}

/** `HostName(ip).toAddress`-like: tolerates `[v6]`, `[v6]:port`, `v4:port`. Returns null when not an IP. */
export function normaliseIp(text: string): string | null {
  let s = text.trim();
  const br = /^\[([^\]]+)\](?::\d+)?$/.exec(s);
  if (br !== null) s = br[1]!;
  else {
    const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(s);
    if (v4port !== null) s = v4port[1]!;
  }
  return isIP(s) === 0 ? null : s;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function obj(v: unknown): MmdbRecord | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as MmdbRecord) : null;
}

function enName(v: unknown): string | null {
  return str(obj(obj(v)?.['names'])?.['en']);
}

type Db = Refreshable<Reader<Response>>;

class IpLookupsEnrichment implements Enrichment {
  readonly identifier = 'ip-lookups';
  private readonly cache = new LRUCache<string, IpResult>({ max: 20000 });
  private readonly cacheMisses = new LRUCache<string, true>({ max: 20000 });

  constructor(
    readonly schemaKey: string,
    private readonly dbs: { geo: Db | null; isp: Db | null; domain: Db | null; connectionType: Db | null; asn: Db | null },
  ) {}

  private generation = 0;

  private lookup(ip: string): IpResult | null {
    const d = this.dbs;
    const gen = (d.geo?.generation ?? 0) + (d.isp?.generation ?? 0) + (d.domain?.generation ?? 0) + (d.connectionType?.generation ?? 0) + (d.asn?.generation ?? 0);
    if (gen !== this.generation) {
      // A database was refreshed: answers cached from the old copy are dropped.
      this.cache.clear();
      this.cacheMisses.clear();
      this.generation = gen;
    }
    const hit = this.cache.get(ip);
    if (hit !== undefined) return hit;
    if (this.cacheMisses.has(ip)) return null;
    const addr = normaliseIp(ip);
    if (addr === null) {
      this.cacheMisses.set(ip, true);
      return null;
    }
    const get = (db: Db | null): MmdbRecord | null => {
      if (db === null) return null;
      try {
        return db.current.get(addr) as MmdbRecord | null;
      } catch {
        return null;
      }
    };
    const geo = get(this.dbs.geo);
    const isp = get(this.dbs.isp);
    const domain = get(this.dbs.domain);
    const conn = get(this.dbs.connectionType);
    const asnRec = this.dbs.asn !== null ? get(this.dbs.asn) : isp;
    const subs = geo?.['subdivisions'];
    const sub = Array.isArray(subs) && subs.length > 0 ? obj(subs[subs.length - 1]) : null;
    const loc = obj(geo?.['location']);
    const lat = loc?.['latitude'];
    const lon = loc?.['longitude'];
    const asnNumber = asnRec?.['autonomous_system_number'];
    const r: IpResult = {
      hasGeo: geo !== null,
      geo_country: str(obj(geo?.['country'])?.['iso_code']),
      geo_region: str(sub?.['iso_code']),
      geo_city: enName(geo?.['city']),
      geo_zipcode: str(obj(geo?.['postal'])?.['code']),
      geo_latitude: javaFloatString(typeof lat === 'number' ? lat : 0),
      geo_longitude: javaFloatString(typeof lon === 'number' ? lon : 0),
      geo_region_name: enName(sub),
      geo_timezone: str(loc?.['time_zone']),
      ip_isp: str(isp?.['isp']),
      ip_organization: str(isp?.['organization']),
      ip_domain: str(domain?.['domain']),
      ip_netspeed: str(conn?.['connection_type']),
      asn:
        typeof asnNumber === 'number'
          ? immutableEntity(ASN_SCHEMA, { number: asnNumber, organization: str(asnRec?.['autonomous_system_organization']) })
          : null,
    };
    this.cache.set(ip, r);
    return r;
  }

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event;
    if (ev.user_ipaddress === null) return NO_OUTPUT;
    const r = this.lookup(ev.user_ipaddress);
    if (r === null) return NO_OUTPUT;
    if (r.hasGeo) {
      ev.geo_country = r.geo_country;
      ev.geo_region = r.geo_region;
      ev.geo_city = r.geo_city;
      ev.geo_zipcode = r.geo_zipcode;
      ev.geo_latitude = r.geo_latitude;
      ev.geo_longitude = r.geo_longitude;
      ev.geo_region_name = r.geo_region_name;
      ev.geo_timezone = r.geo_timezone;
    }
    if (r.ip_isp !== null) ev.ip_isp = r.ip_isp;
    if (r.ip_organization !== null) ev.ip_organization = r.ip_organization;
    if (r.ip_domain !== null) ev.ip_domain = r.ip_domain;
    if (r.ip_netspeed !== null) ev.ip_netspeed = r.ip_netspeed;
    // The cached entity itself (immutable): asn_lookups replaces it with a new one, and the pipeline gives pii a copy.
    if (r.asn !== null) return { derivedContexts: [r.asn] };
    return NO_OUTPUT;
  }

  async close(): Promise<void> {
    for (const db of Object.values(this.dbs)) db?.close();
  }
}

const EXPECTED_TYPE: Record<string, RegExp> = {
  geo: /City/i,
  isp: /ISP/i,
  domain: /Domain/i,
  connectionType: /Connection-Type/i,
  asn: /ASN/i,
};

const dbRef = t.optional(t.object({ uri: t.optional(t.string({ minLength: 0 })), database: t.string({ minLength: 0 }) }));

/** `ip_lookups` 2-0-x `parameters`: one MaxMind database (uri + database) per lookup; at least one. */
const ipLookupsParameters = t.object({ geo: dbRef, isp: dbRef, domain: dbRef, connectionType: dbRef, asn: dbRef });

async function openDb(o: { readonly uri?: string; readonly database: string } | undefined, key: string, deps: EnrichmentDeps): Promise<Db | null> {
  if (o === undefined) return null;
  const ref = { uri: o.uri ?? null, database: o.database };
  return openAsset(ref, deps, `ip_lookups.${key}`, (_path, bytes) => {
    const reader = new Reader<Response>(bytes);
    const type = reader.metadata.databaseType;
    if (!EXPECTED_TYPE[key]!.test(type)) {
      throw new Error(`database type is "${type}", expected a ${EXPECTED_TYPE[key]!.source} database for "${key}"`);
    }
    return reader;
  });
}

export const ipLookupsFactory: EnrichmentFactory = {
  name: 'ip_lookups',
  criterion: '2-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, ipLookupsParameters);
    const opened: Db[] = [];
    try {
      const open = async (k: 'geo' | 'isp' | 'domain' | 'connectionType' | 'asn') => {
        const db = await openDb(p[k], k, deps);
        if (db !== null) opened.push(db);
        return db;
      };
      const dbs = { geo: await open('geo'), isp: await open('isp'), domain: await open('domain'), connectionType: await open('connectionType'), asn: await open('asn') };
      if (opened.length === 0) throw new FurrowError('ENRICH_ENRICHMENT_CONFIG_INVALID', 'ip_lookups: parameters configures no database (geo, isp, domain, connectionType or asn)');
      return new IpLookupsEnrichment(config.schema, dbs);
    } catch (err) {
      for (const d of opened) d.close();
      throw err;
    }
  },
};
