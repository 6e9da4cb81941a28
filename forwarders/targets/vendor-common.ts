/**
 * What the vendor mappings share: the vendor event name of a Snowplow event, identity lookup through a list
 * of field paths (first non-empty wins), and the default event properties.
 */
import { compileFieldPath, type FieldPath, type ForwardEvent } from '../forward-event.js';
import { FurrowError } from '../../common/errors.js';

/** Snowplow name → vendor name. Keys `vendor/name` beat `name`; a struct event is named by se_action. */
export function compileEventNamer(map: Readonly<Record<string, string>>): (ev: ForwardEvent) => string {
  const m = new Map(Object.entries(map));
  return (ev) => {
    const name = ev.fields.event_name;
    if (m.size > 0 && name !== null) {
      const q = m.get(`${ev.fields.event_vendor ?? ''}/${name}`) ?? m.get(name);
      if (q !== undefined) return q;
    }
    if (ev.fields.event === 'struct') return ev.fields.se_action ?? 'event';
    return name ?? ev.fields.event ?? 'event';
  };
}

/** First non-empty string among the paths (numbers are turned into text). */
export function compileFirstOf(paths: readonly string[], where: string): (ev: ForwardEvent) => string | null {
  const compiled: FieldPath[] = paths.map((p) => {
    const c = compileFieldPath(p);
    if (typeof c === 'string') throw new FurrowError('CONFIG_INVALID_VALUE', `${where}: ${c}`);
    return c;
  });
  return (ev) => {
    for (let i = 0; i < compiled.length; i++) {
      const v = compiled[i]!.read(ev);
      if (typeof v === 'string' && v !== '') return v;
      if (typeof v === 'number') return String(v);
    }
    return null;
  };
}

/**
 * Default event properties: the self-describing event's data (top-level keys), the structured event's five
 * fields, and the page. Vendors get these under their properties key; a mapping can add or replace any of them.
 */
export function defaultProperties(ev: ForwardEvent): Record<string, unknown> {
  const f = ev.fields;
  const props: Record<string, unknown> = {};
  if (f.event === 'struct') {
    if (f.se_category !== null) props.category = f.se_category;
    if (f.se_action !== null) props.action = f.se_action;
    if (f.se_label !== null) props.label = f.se_label;
    if (f.se_property !== null) props.property = f.se_property;
    if (f.se_value !== null) props.value = Number(f.se_value);
  }
  if (f.unstruct_event !== null) {
    for (const [k, v] of ev.entities()) {
      if (k.startsWith('unstruct_event_') && v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(props, v);
    }
  }
  if (f.page_url !== null) props.page_url = f.page_url;
  if (f.page_title !== null) props.page_title = f.page_title;
  if (f.page_referrer !== null) props.page_referrer = f.page_referrer;
  if (f.app_id !== null) props.app_id = f.app_id;
  props.snowplow_event_id = f.event_id;
  return props;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function numberOrNull(text: string | null): number | null {
  if (text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
