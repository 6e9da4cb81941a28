/**
 * anon_ip (iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-*): masks the rightmost IPv4 octets /
 * IPv6 segments of `user_ipaddress` with `x`.
 *
 *   valid IPv4            1.2.3.4  --(anonOctets=2)-->  1.2.x.x
 *   valid IPv6            normalised to 8 groups (no leading zeros, lower case), last anonSegments → x
 *   ::ffff:a.b.c.d        prefix kept as written, the IPv4 part masked with anonOctets
 *   anything else         best effort, as Snowplow: dotted text masked like IPv4 by position,
 *                         colon text expanded around `::` and masked like IPv6 (vectors/unit/anon_ip.json)
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentFactory, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

/** Masks IPv4-like text: the part at index i (of up to 4) is masked when octets >= 4 - i. */
function maskV4(ip: string, octets: number): string {
  const parts = javaSplit(ip, '.');
  if (parts.length === 0) return ip;
  for (let i = 0; i < parts.length; i++) if (octets >= 4 - i) parts[i] = 'x';
  return parts.join('.');
}

/** Java String.split(literal) semantics: trailing empty strings removed; "" splits to [""]. */
function javaSplit(s: string, sep: string): string[] {
  if (s === '') return [''];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/** Expands a syntactically valid IPv6 literal to Java's Inet6Address.getHostAddress form (8 groups, no zero-compression). */
export function expandIPv6(ip: string): string[] {
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded IPv4 tail becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const dbl = text.indexOf('::');
  let groups: string[];
  if (dbl >= 0) {
    const left = text.slice(0, dbl) === '' ? [] : text.slice(0, dbl).split(':');
    const right = text.slice(dbl + 2) === '' ? [] : text.slice(dbl + 2).split(':');
    groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  } else {
    groups = text.split(':');
  }
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** Masks invalid colon text: the `::` gap is filled with masked groups up to 8 (Snowplow's result for such input). */
function maskInvalidV6(ip: string, segments: number): string {
  const parts = ip.split(':');
  const present = parts.filter((p) => p !== '');
  let groups: string[];
  if (present.length === 0) {
    groups = new Array<string>(8).fill('x');
  } else {
    const dbl = ip.indexOf('::');
    if (dbl >= 0) {
      const left = ip.slice(0, dbl).split(':').filter((p) => p !== '');
      const right = ip.slice(dbl + 2).split(':').filter((p) => p !== '');
      const fill = Math.max(0, 8 - left.length - right.length);
      groups = [...left, ...new Array<string>(fill).fill('x'), ...right];
    } else {
      groups = present;
    }
  }
  return maskGroups(groups, segments);
}

function maskGroups(groups: string[], segments: number): string {
  const n = groups.length;
  for (let i = 0; i < n; i++) if (segments >= n - i) groups[i] = 'x';
  return groups.join(':');
}

const MAPPED = /^(::ffff:)(.*)$/i;

/** The masked tail of a valid IPv4 address per anonOctets (1 → `x`, 2 → `x.x`, …). */
const V4_MASKS = ['', 'x', 'x.x', 'x.x.x', 'x.x.x.x'];

/** maskV4 for a valid dotted quad: one slice at the right dot instead of split, map and join. */
function maskValidV4(ip: string, octets: number): string {
  if (octets >= 4) return V4_MASKS[4]!;
  let cut = -1;
  for (let k = 4 - octets; k > 0; k--) cut = ip.indexOf('.', cut + 1);
  return ip.slice(0, cut + 1) + V4_MASKS[octets]!;
}

export function anonymizeIp(ip: string | null, octets: number, segments: number): string | null {
  if (ip === null) return null;
  if (isIPv4(ip)) return maskValidV4(ip, octets);
  if (ip.includes(':')) {
    const mapped = MAPPED.exec(ip);
    if (mapped !== null && isIPv4(mapped[2]!)) return mapped[1]! + maskV4(mapped[2]!, octets);
    if (isIPv6(ip)) return maskGroups(expandIPv6(ip), segments);
    return maskInvalidV6(ip, segments);
  }
  return maskV4(ip, octets);
}

class AnonIpEnrichment implements Enrichment {
  readonly identifier = 'anon-ip';
  constructor(
    readonly schemaKey: string,
    private readonly octets: number,
    private readonly segments: number,
  ) {}

  enrich(input: EnrichmentInput): EnrichmentOutput {
    const ev = input.event;
    if (ev.user_ipaddress !== null) ev.user_ipaddress = anonymizeIp(ev.user_ipaddress, this.octets, this.segments);
    return NO_OUTPUT;
  }
}

/** `anon_ip` 1-0-x `parameters` (anonSegments: 1-0-1). */
export const anonIpParameters = t.object({
  anonOctets: t.integer({ minimum: 1, maximum: 4, expect: 'must be between 1 and 4' }),
  anonSegments: t.optional(t.integer({ minimum: 1, maximum: 8, expect: 'must be between 1 and 8' })),
});

export const anonIpFactory: EnrichmentFactory = {
  name: 'anon_ip',
  criterion: '1-*-*',
  async create(config: SelfDescribingData): Promise<Enrichment> {
    const p = readParameters(config, anonIpParameters);
    return new AnonIpEnrichment(config.schema, p.anonOctets, p.anonSegments ?? p.anonOctets);
  },
};
