/** Config keys every vendor target (GA4, Amplitude, Mixpanel, Braze) shares: `base_url` and `event_names`. */
import { t } from '../../config/schema.js';

export interface VendorCommon {
  readonly baseUrl: string;
  /** Snowplow event_name (or vendor/name) → the vendor's event name. */
  readonly eventNames: Readonly<Record<string, string>>;
}

export const vendorKeys = (defaultBaseUrl?: string) => ({
  base_url: defaultBaseUrl === undefined ? t.httpUrl() : t.httpUrl({ default: defaultBaseUrl }),
  event_names: t.record(t.string({ minLength: 0 }), { default: {} }),
});

/** A list of event field paths (first non-empty wins); one bare string is a list of one. */
export const fieldList = (def: readonly string[]) => t.array(t.string(), { single: true, default: [...def], expect: 'must be a list of non-empty strings' });
