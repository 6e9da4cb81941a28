/**
 * The paths of recovery conditions and steps: the JSONPath subset Snowplow's event recovery configs use, compiled
 * once at start, evaluated on a bad row (conditions) or on its payload document (steps).
 *
 *   $ . name | .[n] | [n] | .* | ['name'] | .[?(@.field=~regex)] | [?(@.field=='text')]
 *
 * Two rules make tracker payloads reachable without decoding them by hand (as in Snowplow's configs):
 *   - name/value lists: `.aid` on an array of {name, value} (querystring, raw parameters) selects the entries
 *     named `aid` and goes on into their `value` — `$.raw.parameters.aid`, `$.querystring.e`.
 *   - embedded JSON: going on below a string decodes it as JSON, or as base64/base64url JSON (ue_px, cx), and an
 *     edit below it encodes it back the same way — `$.raw.parameters.ue_pr.data.data.email`, `$.body.data[0].e`.
 *
 *   locate(doc, path)        → every value the path reaches (decoded where it crossed a string)
 *   edit(doc, path, change)  → doc with `change` applied at every reached place (REMOVE deletes it)
 */
import { exceedsDepth } from '../common/json-depth.js';

export type Segment =
  | { type: 'name'; name: string }
  | { type: 'index'; index: number }
  | { type: 'wildcard' }
  | { type: 'filter'; field: string; regex: RegExp | null; equals: string | null };

export interface CompiledPath {
  readonly text: string;
  readonly segments: readonly Segment[];
}

export class PathError extends Error {}

/** Deepest path accepted (segments); a path is operator config, the bound only guards against typos. */
const MAX_SEGMENTS = 64;

/** Compiles a path; throws PathError naming the problem. */
export function compilePath(text: string): CompiledPath {
  if (typeof text !== 'string' || !text.startsWith('$')) throw new PathError(`path ${JSON.stringify(text)} must start with '$'`);
  const segments: Segment[] = [];
  let i = 1;
  const n = text.length;
  while (i < n) {
    if (segments.length >= MAX_SEGMENTS) throw new PathError(`path ${text} has more than ${MAX_SEGMENTS} segments`);
    const c = text[i];
    if (c === '.') {
      i++;
      if (text[i] === '[') continue; // `.[` is Snowplow's spelling of `[`
      if (text[i] === '*') {
        segments.push({ type: 'wildcard' });
        i++;
        continue;
      }
      let j = i;
      while (j < n && text[j] !== '.' && text[j] !== '[') j++;
      if (j === i) throw new PathError(`path ${text}: empty name at ${i}`);
      segments.push({ type: 'name', name: text.slice(i, j) });
      i = j;
    } else if (c === '[') {
      const close = findClose(text, i);
      const inner = text.slice(i + 1, close).trim();
      i = close + 1;
      if (/^\d+$/.test(inner)) segments.push({ type: 'index', index: Number(inner) });
      else if (inner === '*') segments.push({ type: 'wildcard' });
      else if (/^'.*'$/.test(inner) || /^".*"$/.test(inner)) segments.push({ type: 'name', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) segments.push(compileFilter(text, inner.slice(2, -1).trim()));
      else throw new PathError(`path ${text}: cannot read [${inner}]`);
    } else {
      throw new PathError(`path ${text}: unexpected '${c}' at ${i}`);
    }
  }
  return { text, segments };
}

function findClose(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '[') depth++;
    else if (text[i] === ']' && --depth === 0) return i;
  }
  throw new PathError(`path ${text}: '[' at ${open} is not closed`);
}

function compileFilter(text: string, expr: string): Segment {
  const m = /^@\.([A-Za-z0-9_$-]+)\s*(=~|==)\s*(.*)$/.exec(expr);
  if (m === null) throw new PathError(`path ${text}: filter ${expr} must be @.field=~regex or @.field=='text'`);
  let value = m[3]!.trim();
  if (m[2] === '==') {
    if (/^'.*'$/.test(value) || /^".*"$/.test(value)) value = value.slice(1, -1);
    return { type: 'filter', field: m[1]!, regex: null, equals: value };
  }
  if (value.startsWith('/') && value.lastIndexOf('/') > 0) value = value.slice(1, value.lastIndexOf('/'));
  try {
    // Snowplow's filters are Java regexes matched against the whole field value.
    return { type: 'filter', field: m[1]!, regex: new RegExp(`^(?:${value})$`), equals: null };
  } catch (e) {
    throw new PathError(`path ${text}: bad regex in filter: ${(e as Error).message}`);
  }
}

/** How a string that was descended into was decoded, to encode it back the same way after an edit. */
type Encoding = 'json' | 'base64' | 'base64url';

export interface Decoded {
  value: unknown;
  encoding: Encoding;
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Most characters a decoded embedded string may have (the bad row is bounded already; this bounds the copies). */
const MAX_EMBEDDED_CHARS = 8 * 1024 * 1024;
/** Nesting of a decoded embedded document. */
const MAX_EMBEDDED_DEPTH = 64;

function parseBoundedJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return { ok: false };
  if (text.length > MAX_EMBEDDED_CHARS || exceedsDepth(text, MAX_EMBEDDED_DEPTH)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Decodes a string holding JSON, or base64/base64url JSON (ue_px, cx); null when it holds neither. */
export function decodeEmbedded(s: string): Decoded | null {
  const direct = parseBoundedJson(s);
  if (direct.ok) return { value: direct.value, encoding: 'json' };
  if (s.length < 4 || s.length > MAX_EMBEDDED_CHARS) return null;
  const url = BASE64URL.test(s);
  if (!url && !BASE64.test(s)) return null;
  const text = Buffer.from(s, url ? 'base64url' : 'base64').toString('utf8');
  const parsed = parseBoundedJson(text);
  if (!parsed.ok) return null;
  return { value: parsed.value, encoding: url ? 'base64url' : 'base64' };
}

export function encodeEmbedded(value: unknown, encoding: Encoding): string {
  const json = JSON.stringify(value);
  if (encoding === 'json') return json;
  // Trackers send base64url without padding in ue_px/cx; keep what came in (a '+' or '/' means plain base64).
  return encoding === 'base64url' ? Buffer.from(json, 'utf8').toString('base64url') : Buffer.from(json, 'utf8').toString('base64');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isNameValue(v: unknown): v is { name: unknown; value: unknown } {
  return isRecord(v) && typeof v.name === 'string' && 'value' in v;
}

function filterMatches(seg: Extract<Segment, { type: 'filter' }>, el: unknown): boolean {
  if (!isRecord(el)) return false;
  const f = el[seg.field];
  if (f === undefined || f === null) return false;
  const s = typeof f === 'string' ? f : JSON.stringify(f);
  return seg.equals !== null ? s === seg.equals : seg.regex!.test(s);
}

/** Every value `path` reaches in `doc` (embedded strings decoded on the way). */
export function locate(doc: unknown, path: CompiledPath): unknown[] {
  let current: unknown[] = [doc];
  for (const seg of path.segments) {
    const next: unknown[] = [];
    for (let v of current) {
      if (typeof v === 'string') {
        const d = decodeEmbedded(v);
        if (d === null) continue;
        v = d.value;
      }
      step(v, seg, (child) => next.push(child));
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

function step(v: unknown, seg: Segment, out: (child: unknown) => void): void {
  if (Array.isArray(v)) {
    switch (seg.type) {
      case 'index':
        if (seg.index < v.length) out(v[seg.index]);
        return;
      case 'wildcard':
        for (const el of v) out(el);
        return;
      case 'filter':
        for (const el of v) if (filterMatches(seg, el)) out(el);
        return;
      case 'name':
        for (const el of v) if (isNameValue(el) && el.name === seg.name) out(el.value);
        return;
    }
  } else if (isRecord(v)) {
    if (seg.type === 'name') {
      if (Object.hasOwn(v, seg.name)) out(v[seg.name]);
    } else if (seg.type === 'wildcard') {
      for (const c of Object.values(v)) out(c);
    } else if (seg.type === 'filter') {
      if (filterMatches(seg, v)) out(v);
    }
  }
}

/** Returned by a change function: delete the place. */
export const REMOVE: unique symbol = Symbol('remove');

/**
 * What to do at each place a path reaches. `value` is the current value (undefined when the last name does not
 * exist yet and `create` is set). Return the new value, REMOVE, or `{ rename }` to move the entry to a new name.
 */
export type Change = (value: unknown) => unknown | typeof REMOVE | Rename;

export class Rename {
  constructor(readonly to: string) {}
}

export interface EditOptions {
  /** Call `change` with undefined for a missing last name (Set creates the field). */
  create?: boolean;
}

/**
 * Applies `change` at every place `path` reaches; returns the number of places changed. `doc` is changed in place
 * (the caller passes a copy); embedded strings on the way are decoded, changed and encoded back.
 * A root path (`$`) cannot be edited.
 */
export function edit(holder: { doc: unknown }, path: CompiledPath, change: Change, opts: EditOptions = {}): number {
  if (path.segments.length === 0) throw new PathError('the root ($) cannot be edited');
  return editIn(holder, 'doc', path.segments, 0, change, opts);
}

/** Edits below container[key]. */
function editIn(container: Record<string, unknown> | unknown[], key: string | number, segs: readonly Segment[], i: number, change: Change, opts: EditOptions): number {
  let v = (container as Record<string | number, unknown>)[key];
  if (typeof v === 'string') {
    const d = decodeEmbedded(v);
    if (d === null) return 0;
    const box = { doc: d.value };
    const n = editIn(box, 'doc', segs, i, change, opts);
    if (n > 0) (container as Record<string | number, unknown>)[key] = encodeEmbedded(box.doc, d.encoding);
    return n;
  }
  const seg = segs[i]!;
  const last = i === segs.length - 1;
  let count = 0;
  if (Array.isArray(v)) {
    const targets: number[] = [];
    if (seg.type === 'index') {
      if (seg.index < v.length) targets.push(seg.index);
    } else if (seg.type === 'wildcard') for (let k = 0; k < v.length; k++) targets.push(k);
    else if (seg.type === 'filter') {
      for (let k = 0; k < v.length; k++) if (filterMatches(seg, v[k])) targets.push(k);
    } else {
      // name/value list: `.aid` means the value of the entries named aid
      for (let k = 0; k < v.length; k++) {
        const el = v[k];
        if (isNameValue(el) && el.name === seg.name) targets.push(k);
      }
      if (targets.length === 0 && last && opts.create && (v.length === 0 || v.every(isNameValue))) {
        const r = change(undefined);
        if (r === REMOVE || r instanceof Rename) return 0;
        v.push({ name: seg.name, value: r });
        return 1;
      }
      const removed: number[] = [];
      for (const k of targets) {
        const el = v[k] as Record<string, unknown>;
        if (last) {
          const r = change(el.value);
          if (r === REMOVE) removed.push(k);
          else if (r instanceof Rename) el.name = r.to;
          else el.value = r;
          count++;
        } else count += editIn(el, 'value', segs, i + 1, change, opts);
      }
      for (let r = removed.length - 1; r >= 0; r--) v.splice(removed[r]!, 1);
      return count;
    }
    const removed: number[] = [];
    for (const k of targets) {
      if (last) {
        const r = change(v[k]);
        if (r === REMOVE) removed.push(k);
        else if (!(r instanceof Rename)) v[k] = r;
        else continue;
        count++;
      } else count += editIn(v, k, segs, i + 1, change, opts);
    }
    for (let r = removed.length - 1; r >= 0; r--) v.splice(removed[r]!, 1);
    return count;
  }
  if (isRecord(v)) {
    if (seg.type === 'name') {
      if (!Object.hasOwn(v, seg.name)) {
        if (!(last && opts.create)) return 0;
        const r = change(undefined);
        if (r === REMOVE || r instanceof Rename) return 0;
        v[seg.name] = r;
        return 1;
      }
      if (!last) return editIn(v, seg.name, segs, i + 1, change, opts);
      const r = change(v[seg.name]);
      if (r === REMOVE) delete v[seg.name];
      else if (r instanceof Rename) {
        const moved = v[seg.name];
        delete v[seg.name];
        v[r.to] = moved;
      } else v[seg.name] = r;
      return 1;
    }
    if (seg.type === 'wildcard') {
      for (const k of Object.keys(v)) {
        if (last) {
          const r = change(v[k]);
          if (r === REMOVE) delete v[k];
          else if (!(r instanceof Rename)) v[k] = r;
          else continue;
          count++;
        } else count += editIn(v, k, segs, i + 1, change, opts);
      }
      return count;
    }
    if (seg.type === 'filter' && filterMatches(seg, v)) {
      if (last) {
        const r = change(v);
        if (r === REMOVE) {
          delete (container as Record<string | number, unknown>)[key];
          return 1;
        }
        if (!(r instanceof Rename)) (container as Record<string | number, unknown>)[key] = r;
        return 1;
      }
      // A filter on an object keeps us at the same object.
      return editIn(container, key, segs, i + 1, change, opts);
    }
  }
  return 0;
}
