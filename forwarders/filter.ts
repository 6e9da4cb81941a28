/**
 * Destination filters, compiled once at start into one predicate per destination.
 *
 *   keep(event) = eventNames? ∧ eventVendors? ∧ appIds? ∧ platforms? ∧ fields (all | any)
 *
 * Each list matches when the event's value is in it (an absent list always matches). A field condition reads a
 * field path (forward-event.ts) and tests `equals` (any of the values; numbers and booleans compare as the JSON
 * view types them), `regex` (JavaScript syntax, tested against the value's text) or `exists`; `negate` inverts it.
 * For an entity path that matches several values (several contexts of one schema), the first is used.
 */
import { FurrowError } from '../common/errors.js';
import type { FilterConfig } from './config.js';
import { compileFieldPath, type ForwardEvent } from './forward-event.js';

export type EventPredicate = (ev: ForwardEvent) => boolean;

const ALWAYS: EventPredicate = () => true;

export function compileFilter(cfg: FilterConfig, where: string): EventPredicate {
  const tests: EventPredicate[] = [];
  if (cfg.eventNames !== null) {
    const plain = new Set(cfg.eventNames.filter((n) => !n.includes('/')));
    const qualified = new Set(cfg.eventNames.filter((n) => n.includes('/')));
    tests.push((ev) => {
      const name = ev.fields.event_name;
      if (name === null) return false;
      if (plain.has(name)) return true;
      return qualified.size > 0 && qualified.has(`${ev.fields.event_vendor ?? ''}/${name}`);
    });
  }
  if (cfg.eventVendors !== null) {
    const s = new Set(cfg.eventVendors);
    tests.push((ev) => ev.fields.event_vendor !== null && s.has(ev.fields.event_vendor));
  }
  if (cfg.appIds !== null) {
    const s = new Set(cfg.appIds);
    tests.push((ev) => ev.fields.app_id !== null && s.has(ev.fields.app_id));
  }
  if (cfg.platforms !== null) {
    const s = new Set(cfg.platforms);
    tests.push((ev) => ev.fields.platform !== null && s.has(ev.fields.platform));
  }
  if (cfg.fields.length > 0) {
    const conds = cfg.fields.map((f, i) => compileCondition(f, `${where}.filter.fields[${i}]`));
    if (cfg.match === 'all') tests.push((ev) => conds.every((c) => c(ev)));
    else tests.push((ev) => conds.some((c) => c(ev)));
  }
  if (tests.length === 0) return ALWAYS;
  if (tests.length === 1) return tests[0]!;
  return (ev) => {
    for (let i = 0; i < tests.length; i++) if (!tests[i]!(ev)) return false;
    return true;
  };
}

function compileCondition(f: FilterConfig['fields'][number], where: string): EventPredicate {
  const path = compileFieldPath(f.path);
  if (typeof path === 'string') throw new FurrowError('CONFIG_INVALID_VALUE', `${where}.path: ${path}`);
  let test: (v: unknown) => boolean;
  if (f.regex !== null) {
    let re: RegExp;
    try {
      re = new RegExp(f.regex);
    } catch (e) {
      throw new FurrowError('CONFIG_INVALID_VALUE', `${where}.regex: ${(e as Error).message}`);
    }
    test = (v) => v !== undefined && re.test(typeof v === 'string' ? v : JSON.stringify(v));
  } else if (f.equals !== null) {
    const values = new Set<unknown>(f.equals);
    // "1" in a config also matches the number 1 and vice versa: configs often quote numbers.
    const asText = new Set(f.equals.map((x) => String(x)));
    test = (v) => v !== undefined && (values.has(v) || ((typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') && asText.has(String(v))));
  } else {
    const want = f.exists === true;
    test = (v) => (v !== undefined) === want;
  }
  const read = path.read;
  return f.negate ? (ev) => !test(read(ev)) : (ev) => test(read(ev));
}
