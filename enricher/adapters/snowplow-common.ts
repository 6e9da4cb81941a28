/** Helpers shared by the Snowplow-protocol adapters (tp1, tp2, redirect, Iglu webhook). */
import { DEFAULT_MAX_JSON_DEPTH } from '../../common/json-depth.js';
import type { AdapterFailureMessage, AdapterOutcome, LoadedPayload, RawEvent } from './adapter.js';

export const SNOWPLOW_VENDOR = 'com.snowplowanalytics.snowplow';

/** JSON depth limit applied to bodies the adapters parse when AdapterDeps.maxJsonDepth is not given (Snowplow `validation.maxJsonDepth`). */
export const ADAPTER_MAX_JSON_DEPTH = DEFAULT_MAX_JSON_DEPTH;

/** Querystring → parameter map: the last occurrence of a name wins, first position kept. */
export function toParams(pairs: LoadedPayload['querystring']): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const p of pairs) m.set(p.name, p.value);
  return m;
}

export function rawEvent(payload: LoadedPayload, parameters: Map<string, string | null>): RawEvent {
  return { api: payload.api, parameters, contentType: payload.contentType, source: payload.source, context: payload.context };
}

export function failure(...messages: AdapterFailureMessage[]): AdapterOutcome {
  return { ok: false, messages };
}
