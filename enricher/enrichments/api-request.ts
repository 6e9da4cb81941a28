/**
 * api_request_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/
 * jsonschema/1-0-*): calls an HTTP API per event and adds contexts from its JSON answer.
 *
 *   inputs ──► {key: value}; every `{{key}}` of the URI template must have a value, else no request (no output)
 *   GET: values URL-encoded (Java URLEncoder style) into the template; POST/PUT: the same plus a JSON body of the
 *        input map; httpBasic authentication when configured; `timeout` ms per request (AbortSignal)
 *   answer: 2xx JSON → for each output, its JSONPath's match (the value for a definite path, else the array of
 *        matches) becomes data of a context with the output's schema
 *   cache: LRU of `size` requests for `ttl` seconds (failures cached for ttl/10)
 *   failures (timeout, non-2xx, not JSON, a path that matches nothing) → identifier `api-request`, unless ignoreOnError
 */
import { LRUCache } from 'lru-cache';
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import type { Enrichment, EnrichmentDeps, EnrichmentFactory, EnrichmentFailureMessage, EnrichmentInput, EnrichmentOutput } from './enrichment.js';
import { parseSchemaKey } from '../../formats/schema-key.js';
import { configInvalid, readParameters } from './enrichment-config.js';
import { JsonPath } from './json-path.js';
import { inputSource, inputSourceKeys, pullValue, renderValue, type InputSource } from './inputs.js';
import { t } from '../../config/schema.js';

const NO_OUTPUT: EnrichmentOutput = Object.freeze({});

/** java.net.URLEncoder.encode(s, "UTF-8"): unreserved `A-Za-z0-9.-*_` kept, space → `+`, the rest %XX. */
export function javaUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2A/g, '*');
}

interface Output {
  schema: string;
  path: JsonPath;
}

type CallResult = { ok: true; contexts: SelfDescribingData[] } | { ok: false; error: string };

class ApiRequestEnrichment implements Enrichment {
  readonly identifier = 'api-request';
  private readonly cache: LRUCache<string, CallResult> | null;
  private readonly placeholders: string[];

  constructor(
    readonly schemaKey: string,
    private readonly inputs: Array<{ key: string; src: InputSource }>,
    private readonly method: 'GET' | 'POST' | 'PUT',
    private readonly uri: string,
    private readonly timeoutMs: number,
    private readonly auth: string | null,
    private readonly outputs: Output[],
    cache: { size: number; ttlSec: number },
    private readonly ignoreOnError: boolean,
    private readonly fetchFn: typeof fetch,
  ) {
    this.cache = cache.size > 0 && cache.ttlSec > 0 ? new LRUCache({ max: cache.size, ttl: cache.ttlSec * 1000 }) : null;
    this.ttlMs = cache.ttlSec * 1000;
    this.placeholders = [...uri.matchAll(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g)].map((m) => m[1]!);
  }
  private readonly ttlMs: number;

  private async call(url: string, body: string | null): Promise<CallResult> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== null) headers['content-type'] = 'application/json';
    if (this.auth !== null) headers['authorization'] = this.auth;
    let text: string;
    try {
      const res = await this.fetchFn(url, { method: this.method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
      if (!res.ok) return { ok: false, error: `API answered HTTP ${res.status} for ${this.method} ${url}` };
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `timed out after ${this.timeoutMs} ms` : e.message;
      return { ok: false, error: `API request ${this.method} ${url} failed: ${why}` };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: `API answer for ${url} is not JSON: ${text.slice(0, 200)}` };
    }
    const contexts: SelfDescribingData[] = [];
    for (const o of this.outputs) {
      const values = o.path.read(json);
      if (values.length === 0) return { ok: false, error: `JSONPath ${o.path.expression} matches nothing in the API answer for ${url}` };
      contexts.push({ schema: o.schema, data: o.path.definite ? values[0] : values });
    }
    return { ok: true, contexts };
  }

  async enrich(input: EnrichmentInput): Promise<EnrichmentOutput> {
    const values = new Map<string, string>();
    for (const { key, src } of this.inputs) {
      const v = renderValue(pullValue(src, input));
      if (v !== null) values.set(key, v);
    }
    for (const p of this.placeholders) if (!values.has(p)) return NO_OUTPUT;
    const url = this.uri.replace(/\{\{\s*([A-Za-z0-9_-]+)\s*\}\}/g, (_, k: string) => javaUrlEncode(values.get(k)!));
    const body = this.method === 'GET' ? null : JSON.stringify(Object.fromEntries(values));
    const cacheKey = `${url}\n${body ?? ''}`;
    let r = this.cache?.get(cacheKey);
    if (r === undefined) {
      r = await this.call(url, body);
      this.cache?.set(cacheKey, r, r.ok ? undefined : { ttl: Math.max(1, Math.floor(this.ttlMs / 10)) });
    }
    if (r.ok) return { derivedContexts: r.contexts.map((c) => ({ schema: c.schema, data: structuredClone(c.data) })) };
    if (this.ignoreOnError) return NO_OUTPUT;
    const msg: EnrichmentFailureMessage = { error: r.error };
    return { failures: [msg] };
  }
}

const between = (minimum: number, maximum: number) => t.integer({ minimum, maximum, expect: `must be between ${minimum} and ${maximum}` });
const str = () => t.string({ minLength: 0 });

/** `api_request_enrichment_config` `parameters` (1-0-x). */
const apiRequestParameters = t.object({
  inputs: t.array(t.object({ key: str(), ...inputSourceKeys })),
  api: t.object({
    http: t.object({
      method: t.enum(['GET', 'POST', 'PUT']),
      uri: str(),
      timeout: between(1, 60000),
      authentication: t.optional(t.object({ httpBasic: t.optional(t.object({ username: str(), password: str() })) })),
    }),
  }),
  outputs: t.array(t.object({ schema: str(), json: t.object({ jsonPath: str() }) })),
  cache: t.object({ size: between(0, 10_000_000), ttl: between(0, 86400) }),
  ignoreOnError: t.boolean({ default: false }),
});

export const apiRequestFactory: EnrichmentFactory = {
  name: 'api_request_enrichment_config',
  criterion: '1-*-*',
  async create(config: SelfDescribingData, deps: EnrichmentDeps): Promise<Enrichment> {
    const p = readParameters(config, apiRequestParameters);
    const inputs = p.inputs.map((item, i) => ({ key: item.key, src: inputSource(config, item, `parameters.inputs[${i}]`) }));
    const { method, uri, timeout, authentication } = p.api.http;
    try {
      new URL(uri.replace(/\{\{\s*[A-Za-z0-9_-]+\s*\}\}/g, 'x'));
    } catch {
      throw configInvalid(config, 'parameters.api.http.uri', `"${uri}" is not a URL`);
    }
    const basic = authentication?.httpBasic;
    const auth = basic === undefined ? null : `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    const outputs = p.outputs.map((o, i): Output => {
      if (parseSchemaKey(o.schema) === null) throw configInvalid(config, `parameters.outputs[${i}].schema`, `"${o.schema}" is not an Iglu URI`);
      try {
        return { schema: o.schema, path: JsonPath.compile(o.json.jsonPath) };
      } catch (err) {
        throw configInvalid(config, `parameters.outputs[${i}].json.jsonPath`, (err as Error).message);
      }
    });
    if (outputs.length === 0) throw configInvalid(config, 'parameters.outputs', 'must list at least one output');
    const cache = { size: p.cache.size, ttlSec: p.cache.ttl };
    return new ApiRequestEnrichment(config.schema, inputs, method, uri, timeout, auth, outputs, cache, p.ignoreOnError, deps.fetch);
  },
};
