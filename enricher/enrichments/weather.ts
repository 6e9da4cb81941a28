/**
 * weather_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/weather_enrichment_config/jsonschema/
 * 1-0-0): OpenWeatherMap history at the event's place and time.
 *
 *   inputs: geo_latitude, geo_longitude (set by ip_lookups), derived_tstamp; each missing → failure
 *           {field, value: null, expectation: "missing"}
 *   place rounded to 1/geoPrecision degree, day = UTC day of derived_tstamp: one request per (place, day), cached
 *   (LRU of cacheSize, in-flight requests shared):
 *     GET {openWeatherMapBaseUrl | http://apiHost}/data/2.5/history/city?lat=..&lon=..&type=hour&start=..&end=..&appid=KEY
 *     bounded by `timeout` seconds
 *   the hourly item closest to derived_tstamp → org.openweathermap/weather/1-0-0 {main, wind, clouds, rain?, snow?,
 *   weather, dt (ISO-8601)}; failures (identifier `weather`): API error/timeout, no items that day
 */
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentFailureMessage, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { parseTstamp } from './tsv-safe.js';

export const WEATHER_SCHEMA = 'iglu:org.openweathermap/weather/jsonschema/1-0-0';

interface Item {
  dt: number;
  [k: string]: unknown;
}

class WeatherEnrichment implements Enrichment {
  readonly identifier = 'weather';
  private readonly cache: LRUCache<string, Promise<Item[] | string>>;

  constructor(
    readonly schemaKey: string,
    private readonly apiKey: string,
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    cacheSize: number,
    private readonly precision: number,
    private readonly fetchFn: typeof fetch,
  ) {
    this.cache = new LRUCache({ max: cacheSize });
  }

  private async load(lat: number, lon: number, dayStart: number): Promise<Item[] | string> {
    const start = Math.floor(dayStart / 1000);
    const url = `${this.baseUrl}/data/2.5/history/city?lat=${lat}&lon=${lon}&type=hour&start=${start}&end=${start + 86400}&appid=${encodeURIComponent(this.apiKey)}`;
    try {
      const res = await this.fetchFn(url, { signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.text();
      if (!res.ok) return `OpenWeatherMap answered HTTP ${res.status}: ${text.slice(0, 200)}`;
      const body = JSON.parse(text) as { list?: unknown };
      if (!Array.isArray(body.list)) return 'OpenWeatherMap answer has no list of observations';
      return body.list.filter((i): i is Item => typeof i === 'object' && i !== null && typeof (i as Item).dt === 'number');
    } catch (err) {
      const e = err as Error;
      return `OpenWeatherMap request failed: ${e.name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : e.message}`;
    }
  }

  async enrich(input: EnrichmentInput): Promise<EnrichmentOutput> {
    const ev = input.event;
    const failures: EnrichmentFailureMessage[] = [];
    if (ev.geo_latitude === null) failures.push({ field: 'geo_latitude', value: null, expectation: 'missing' });
    if (ev.geo_longitude === null) failures.push({ field: 'geo_longitude', value: null, expectation: 'missing' });
    const ts = parseTstamp(ev.derived_tstamp);
    if (ts === null) failures.push({ field: 'derived_tstamp', value: null, expectation: 'missing' });
    if (failures.length > 0) return { failures };
    const lat = Math.round(Number(ev.geo_latitude) * this.precision) / this.precision;
    const lon = Math.round(Number(ev.geo_longitude) * this.precision) / this.precision;
    const dayStart = Math.floor(ts! / 86_400_000) * 86_400_000;
    const key = `${lat}|${lon}|${dayStart}`;
    let p = this.cache.get(key);
    if (p === undefined) {
      p = this.load(lat, lon, dayStart);
      this.cache.set(key, p);
      void p.then((r) => typeof r === 'string' && this.cache.delete(key));
    }
    const items = await p;
    if (typeof items === 'string') return { failures: [{ error: items }] };
    if (items.length === 0) return { failures: [{ error: `OpenWeatherMap has no observation for ${lat},${lon} on ${new Date(dayStart).toISOString().slice(0, 10)}` }] };
    const t = ts! / 1000;
    let best = items[0]!;
    for (const i of items) if (Math.abs(i.dt - t) < Math.abs(best.dt - t)) best = i;
    const data: Record<string, unknown> = { main: best['main'], wind: best['wind'], clouds: best['clouds'] };
    if (best['rain'] !== undefined) data['rain'] = best['rain'];
    if (best['snow'] !== undefined) data['snow'] = best['snow'];
    data['weather'] = best['weather'];
    data['dt'] = new Date(best.dt * 1000).toISOString();
    return { derivedContexts: [{ schema: WEATHER_SCHEMA, data: structuredClone(data) }] };
  }
}

/** `weather_enrichment_config` `parameters` (OpenWeatherMap). */
const weatherParameters = t.object({
  apiKey: t.string({ minLength: 0 }),
  apiHost: t.string({ minLength: 0, pattern: '^[A-Za-z0-9.-]+(:\\d+)?$', expect: 'is not a host name' }),
  timeout: t.integer({ minimum: 1, maximum: 600, expect: 'must be between 1 and 600' }),
  cacheSize: t.integer({ minimum: 1, maximum: 1_000_000, expect: 'must be between 1 and 1000000' }),
  geoPrecision: t.integer({ minimum: 1, maximum: 10, expect: 'must be between 1 and 10' }),
});

export const weatherFactory: EnrichmentFactory = {
  name: 'weather_enrichment_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, weatherParameters);
    const base = (deps.openWeatherMapBaseUrl ?? `http://${p.apiHost}`).replace(/\/+$/, '');
    return new WeatherEnrichment(config.schema, p.apiKey, base, p.timeout * 1000, p.cacheSize, p.geoPrecision, deps.fetch);
  },
};
