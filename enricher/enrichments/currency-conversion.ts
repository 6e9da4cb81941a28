/**
 * currency_conversion_config (iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0):
 * tr_total/tr_tax/tr_shipping (in tr_currency) and ti_price (in ti_currency) converted to `baseCurrency`.
 *
 *   rate date = the day before collector_tstamp (UTC) — Snowplow's "end of day prior" (rateAt EOD_PRIOR)
 *   GET {openExchangeRatesBaseUrl}/historical/{yyyy-MM-dd}.json?app_id=KEY   (USD-based; &base= for ENTERPRISE and
 *       UNLIMITED accounts). Rates per day are cached (LRU, in-flight requests shared); the request is bounded (5 s).
 *   converted = amount × rate(base) / rate(from), exact decimal arithmetic, rounded HALF_EVEN to the base
 *       currency's minor units (EUR 2 → "44.30", JPY 0, KWD 3) → *_base; base_currency = baseCurrency
 *   failures (identifier `currency-conversion`): unknown currency, API error/timeout, unparseable amount
 */
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentFailureMessage, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { readParameters } from './enrichment-config.js';
import { t } from '../../config/schema.js';
import { parseTstamp } from './tsv-safe.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});
const REQUEST_TIMEOUT_MS = 5000;
const DEFAULT_BASE_URL = 'https://openexchangerates.org/api';

/** ISO 4217 minor units that are not 2. */
const MINOR_UNITS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, CLF: 4, UYW: 4,
};

interface Decimal {
  digits: bigint;
  scale: number;
}

export function parseDecimal(s: string): Decimal | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s.trim());
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  let digits = BigInt(`${m[2] || '0'}${frac}`);
  if (m[1] === '-') digits = -digits;
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    digits *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { digits, scale };
}

/** amount × num / den, rounded HALF_EVEN to `scale` decimals, as plain text. */
export function convertAmount(amount: Decimal, num: Decimal, den: Decimal, scale: number): string {
  // value = (a/10^as) * (n/10^ns) / (d/10^ds); scaled by 10^scale
  let N = amount.digits * num.digits * 10n ** BigInt(den.scale + scale);
  let D = den.digits * 10n ** BigInt(amount.scale + num.scale);
  if (D < 0n) {
    D = -D;
    N = -N;
  }
  const neg = N < 0n;
  const absN = neg ? -N : N;
  let q = absN / D;
  const r2 = (absN % D) * 2n;
  if (r2 > D || (r2 === D && q % 2n === 1n)) q += 1n;
  const text = q.toString().padStart(scale + 1, '0');
  const out = scale === 0 ? text : `${text.slice(0, -scale)}.${text.slice(-scale)}`;
  return neg && q !== 0n ? `-${out}` : out;
}

function dayBefore(ms: number): string {
  return new Date(ms - 86_400_000).toISOString().slice(0, 10);
}

type Rates = Map<string, Decimal>;

class CurrencyConversionEnrichment implements Enrichment {
  readonly identifier = 'currency-conversion';
  private readonly rates = new LRUCache<string, Promise<Rates | string>>({ max: 1000 });

  constructor(
    readonly schemaKey: string,
    private readonly apiKey: string,
    private readonly baseCurrency: string,
    private readonly usdOnly: boolean,
    private readonly baseUrl: string,
    private readonly fetchFn: typeof fetch,
  ) {}

  private async load(day: string): Promise<Rates | string> {
    const base = this.usdOnly ? '' : `&base=${encodeURIComponent(this.baseCurrency)}`;
    const url = `${this.baseUrl}/historical/${day}.json?app_id=${encodeURIComponent(this.apiKey)}${base}`;
    try {
      const res = await this.fetchFn(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await res.text();
      if (!res.ok) return `Open Exchange Rates answered HTTP ${res.status} for ${day}: ${text.slice(0, 200)}`;
      // Rates are read from the text so each keeps its decimal lexeme.
      const rates: Rates = new Map();
      const body = JSON.parse(text) as { base?: string; rates?: Record<string, number> };
      if (typeof body.rates !== 'object' || body.rates === null) return `Open Exchange Rates answer for ${day} has no rates`;
      for (const code of Object.keys(body.rates)) {
        const lex = new RegExp(`"${code}"\\s*:\\s*([-+0-9.eE]+)`).exec(text)?.[1] ?? String(body.rates[code]);
        const d = parseDecimal(lex);
        if (d !== null && d.digits !== 0n) rates.set(code, d);
      }
      rates.set(body.base ?? 'USD', { digits: 1n, scale: 0 });
      return rates;
    } catch (err) {
      const e = err as Error;
      return `Open Exchange Rates request for ${day} failed: ${e.name === 'TimeoutError' ? `timed out after ${REQUEST_TIMEOUT_MS} ms` : e.message}`;
    }
  }

  private ratesFor(day: string): Promise<Rates | string> {
    let p = this.rates.get(day);
    if (p === undefined) {
      p = this.load(day);
      this.rates.set(day, p);
      // Failures are not kept: the next event retries.
      void p.then((r) => typeof r === 'string' && this.rates.delete(day));
    }
    return p;
  }

  async enrich(input: EnrichmentInput): Promise<EnrichmentOutput> {
    const ev = input.event;
    const trWanted = ev.tr_currency !== null && (ev.tr_total !== null || ev.tr_tax !== null || ev.tr_shipping !== null);
    const tiWanted = ev.ti_currency !== null && ev.ti_price !== null;
    if (!trWanted && !tiWanted) return NO_OUTPUT;
    const ts = parseTstamp(ev.collector_tstamp);
    if (ts === null) return { failures: [{ field: 'collector_tstamp', value: ev.collector_tstamp, expectation: 'a collector timestamp is needed to pick the exchange rate' }] };
    const rates = await this.ratesFor(dayBefore(ts));
    if (typeof rates === 'string') return { failures: [{ error: rates }] };
    const failures: EnrichmentFailureMessage[] = [];
    const scale = MINOR_UNITS[this.baseCurrency] ?? 2;
    const to = rates.get(this.baseCurrency);
    if (to === undefined) return { failures: [{ error: `base currency ${this.baseCurrency} is not in the Open Exchange Rates answer` }] };
    const convert = (field: string, value: string | null, currency: string): string | null => {
      if (value === null) return null;
      const from = rates.get(currency);
      if (from === undefined) {
        failures.push({ field, value: currency, expectation: 'a currency code Open Exchange Rates knows' });
        return null;
      }
      const amount = parseDecimal(value);
      if (amount === null) {
        failures.push({ field, value, expectation: 'a decimal amount' });
        return null;
      }
      return convertAmount(amount, to, from, scale);
    };
    let converted = false;
    if (trWanted) {
      const c = ev.tr_currency!;
      const total = convert('tr_currency', ev.tr_total, c);
      const tax = convert('tr_currency', ev.tr_tax, c);
      const shipping = convert('tr_currency', ev.tr_shipping, c);
      if (total !== null || tax !== null || shipping !== null) converted = true;
      ev.tr_total_base = total;
      ev.tr_tax_base = tax;
      ev.tr_shipping_base = shipping;
    }
    if (tiWanted) {
      const price = convert('ti_currency', ev.ti_price, ev.ti_currency!);
      if (price !== null) converted = true;
      ev.ti_price_base = price;
    }
    if (converted) ev.base_currency = this.baseCurrency;
    // One failure per unknown currency is enough.
    const seen = new Set<string>();
    const unique = failures.filter((f) => {
      const k = JSON.stringify(f);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    return unique.length === 0 ? NO_OUTPUT : { failures: unique };
  }
}

/** `currency_conversion_config` `parameters` (Open Exchange Rates). */
const currencyParameters = t.object({
  accountType: t.enum(['DEVELOPER', 'ENTERPRISE', 'UNLIMITED']),
  apiKey: t.string({ pattern: '\\S', expect: 'is empty' }),
  baseCurrency: t.string({ pattern: '^[A-Z]{3}$', expect: 'is not an ISO 4217 code' }),
  rateAt: t.enum(['EOD_PRIOR']),
});

export const currencyConversionFactory: EnrichmentFactory = {
  name: 'currency_conversion_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, currencyParameters);
    const account = p.accountType;
    const base = p.baseCurrency;
    const apiKey = p.apiKey;
    const baseUrl = (deps.openExchangeRatesBaseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
    return new CurrencyConversionEnrichment(config.schema, apiKey, base, account === 'DEVELOPER', baseUrl, deps.fetch);
  },
};
