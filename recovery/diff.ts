/**
 * What a flow changed in a payload document, field by field, for `--dry-run` and mini's preview. Embedded JSON
 * (ue_pr, base64 ue_px/cx, a JSON body) is compared decoded, so a schema change inside cx reads as
 * `$.raw.parameters.cx.data[0].schema: "…1-0-0" → "…1-0-1"` rather than two opaque base64 strings.
 */
import { decodeEmbedded } from './json-path.js';

export interface FieldChange {
  readonly path: string;
  /** undefined: the field was added / removed. */
  readonly before?: unknown;
  readonly after?: unknown;
}

/** Changes reported per document at most. */
export const MAX_CHANGES = 100;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isNameValueList(v: unknown): v is Array<{ name: string; value: unknown }> {
  return Array.isArray(v) && v.every((e) => isRecord(e) && typeof e.name === 'string' && 'value' in e);
}

function key(k: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(k) ? `.${k}` : `['${k}']`;
}

export function diffDocuments(before: unknown, after: unknown, root = '$'): FieldChange[] {
  const out: FieldChange[] = [];
  const walk = (a: unknown, b: unknown, path: string, depth: number): void => {
    if (out.length >= MAX_CHANGES) return;
    if (a === b) return;
    if (depth > 64) {
      out.push({ path, before: a, after: b });
      return;
    }
    if (typeof a === 'string' && typeof b === 'string') {
      const da = decodeEmbedded(a);
      const db = da === null ? null : decodeEmbedded(b);
      if (da !== null && db !== null) walk(da.value, db.value, path, depth + 1);
      else out.push({ path, before: a, after: b });
      return;
    }
    if (isNameValueList(a) && isNameValueList(b)) {
      const names = new Set([...a.map((e) => e.name), ...b.map((e) => e.name)]);
      for (const n of names) {
        const ea = a.find((e) => e.name === n);
        const eb = b.find((e) => e.name === n);
        if (ea === undefined) out.push({ path: path + key(n), after: eb!.value });
        else if (eb === undefined) out.push({ path: path + key(n), before: ea.value });
        else walk(ea.value, eb.value, path + key(n), depth + 1);
      }
      return;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      const n = Math.max(a.length, b.length);
      for (let i = 0; i < n; i++) {
        if (i >= a.length) out.push({ path: `${path}[${i}]`, after: b[i] });
        else if (i >= b.length) out.push({ path: `${path}[${i}]`, before: a[i] });
        else walk(a[i], b[i], `${path}[${i}]`, depth + 1);
      }
      return;
    }
    if (isRecord(a) && isRecord(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (!Object.hasOwn(b, k)) out.push({ path: path + key(k), before: a[k] });
        else if (!Object.hasOwn(a, k)) out.push({ path: path + key(k), after: b[k] });
        else walk(a[k], b[k], path + key(k), depth + 1);
      }
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ path, before: a, after: b });
  };
  walk(before, after, root, 0);
  return out;
}

/** `path: before → after` (values as JSON, clipped) for terminal output. */
export function formatChange(c: FieldChange, max = 120): string {
  const show = (v: unknown): string => {
    const s = JSON.stringify(v) ?? 'undefined';
    return s.length > max ? `${s.slice(0, max)}…` : s;
  };
  if (!('before' in c) || c.before === undefined) return `${c.path}: added ${show(c.after)}`;
  if (!('after' in c) || c.after === undefined) return `${c.path}: removed (was ${show(c.before)})`;
  return `${c.path}: ${show(c.before)} → ${show(c.after)}`;
}
