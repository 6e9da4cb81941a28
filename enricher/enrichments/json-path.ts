/**
 * A JSONPath subset compatible with the Jayway JsonPath expressions Snowplow configs use (PII, API request,
 * SQL query). Compiled once at start; an expression outside the subset fails start-up with a message.
 *
 *   $                      root
 *   .name  ['name']  ["name"]  ['a', 'b']     child(ren) by name (also `$.['a','b']`)
 *   .*  [*]                                   every child
 *   [0]  [-1]  [0, 2]  [1:3]  [:2]  [-2:]     array index / union / slice
 *   ..name  ..*  ..['a']                      recursive descent
 *   filters `[?(...)]` and functions are not supported
 *
 * `select` returns matched locations (parent + key) so callers can read or replace values in place.
 */

type Selector =
  | { kind: 'names'; names: string[] }
  | { kind: 'wildcard' }
  | { kind: 'indexes'; indexes: number[] }
  | { kind: 'slice'; start: number | null; end: number | null };

interface Step {
  recursive: boolean;
  sel: Selector;
}

export interface JsonLocation {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
  value: unknown;
}

export class JsonPathError extends Error {}

export class JsonPath {
  private constructor(
    readonly expression: string,
    private readonly steps: Step[],
  ) {}

  /** True when the path can match at most one location (no wildcard, union, slice or recursion). */
  get definite(): boolean {
    return this.steps.every((s) => !s.recursive && ((s.sel.kind === 'names' && s.sel.names.length === 1) || (s.sel.kind === 'indexes' && s.sel.indexes.length === 1)));
  }

  static compile(expression: string): JsonPath {
    return new JsonPath(expression, parse(expression));
  }

  /** All matching locations, in document order of the expression. */
  select(root: unknown): JsonLocation[] {
    let current: JsonLocation[] = [{ parent: [root], key: 0, value: root }];
    for (const step of this.steps) {
      const next: JsonLocation[] = [];
      for (const loc of current) {
        if (step.recursive) {
          for (const node of descendantsAndSelf(loc.value)) apply(step.sel, node, next);
        } else apply(step.sel, loc.value, next);
      }
      current = next;
      if (current.length === 0) break;
    }
    return current;
  }

  /** The matched values. */
  read(root: unknown): unknown[] {
    return this.select(root).map((l) => l.value);
  }
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

/**
 * `v` and every node below it, in document order (pre-order). An explicit stack rather than recursion: the
 * documents come from trackers and API answers, and a recursive walk of one nested thousands deep would
 * overflow the stack.
 */
function descendantsAndSelf(v: unknown): unknown[] {
  const out: unknown[] = [];
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const node = stack.pop();
    out.push(node);
    if (!isContainer(node)) continue;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

function apply(sel: Selector, node: unknown, out: JsonLocation[]): void {
  if (!isContainer(node)) return;
  switch (sel.kind) {
    case 'names':
      if (Array.isArray(node)) return;
      for (const n of sel.names) if (Object.prototype.hasOwnProperty.call(node, n)) out.push({ parent: node, key: n, value: node[n] });
      return;
    case 'wildcard':
      if (Array.isArray(node)) node.forEach((v, i) => out.push({ parent: node, key: i, value: v }));
      else for (const [k, v] of Object.entries(node)) out.push({ parent: node, key: k, value: v });
      return;
    case 'indexes':
      if (!Array.isArray(node)) return;
      for (const raw of sel.indexes) {
        const i = raw < 0 ? node.length + raw : raw;
        if (i >= 0 && i < node.length) out.push({ parent: node, key: i, value: node[i] });
      }
      return;
    case 'slice': {
      if (!Array.isArray(node)) return;
      const len = node.length;
      const norm = (x: number) => (x < 0 ? Math.max(0, len + x) : Math.min(len, x));
      const from = sel.start === null ? 0 : norm(sel.start);
      const to = sel.end === null ? len : norm(sel.end);
      for (let i = from; i < to; i++) out.push({ parent: node, key: i, value: node[i] });
      return;
    }
  }
}

const NAME_CHAR = /[^.[\]\s]/;

function parse(expr: string): Step[] {
  const fail = (msg: string, at: number): never => {
    throw new JsonPathError(`invalid JSONPath "${expr}" at position ${at}: ${msg}`);
  };
  const s = expr.trim();
  if (!s.startsWith('$')) fail('must start with $', 0);
  const steps: Step[] = [];
  let i = 1;
  while (i < s.length) {
    let recursive = false;
    if (s.startsWith('..', i)) {
      recursive = true;
      i += 2;
    } else if (s[i] === '.') {
      i++;
    } else if (s[i] !== '[') fail(`unexpected "${s[i]}"`, i);
    if (i >= s.length) fail('ends after a dot', i);
    if (s[i] === '[') {
      const close = findClose(s, i, fail);
      steps.push({ recursive, sel: parseBracket(s.slice(i + 1, close).trim(), i, fail) });
      i = close + 1;
    } else if (s[i] === '*') {
      steps.push({ recursive, sel: { kind: 'wildcard' } });
      i++;
    } else {
      const start = i;
      while (i < s.length && NAME_CHAR.test(s[i]!)) i++;
      const name = s.slice(start, i);
      if (name === '') fail('expected a property name', i);
      if (name.includes('(')) fail('functions are not supported', start);
      steps.push({ recursive, sel: { kind: 'names', names: [name] } });
    }
  }
  return steps;
}

function findClose(s: string, open: number, fail: (m: string, at: number) => never): number {
  let quote: string | null = null;
  for (let j = open + 1; j < s.length; j++) {
    const c = s[j]!;
    if (quote !== null) {
      if (c === '\\') j++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === ']') return j;
  }
  return fail('unclosed [', open);
}

function parseBracket(body: string, at: number, fail: (m: string, at: number) => never): Selector {
  if (body === '*') return { kind: 'wildcard' };
  if (body.startsWith('?') || body.startsWith('(')) fail('filter and script expressions are not supported', at);
  if (body.startsWith("'") || body.startsWith('"')) {
    const names: string[] = [];
    let j = 0;
    while (j < body.length) {
      const q = body[j];
      if (q !== "'" && q !== '"') fail('expected a quoted name', at + j);
      let name = '';
      j++;
      while (j < body.length && body[j] !== q) {
        if (body[j] === '\\' && j + 1 < body.length) j++;
        name += body[j];
        j++;
      }
      if (j >= body.length) fail('unterminated quoted name', at);
      names.push(name);
      j++;
      while (j < body.length && body[j] === ' ') j++;
      if (j < body.length) {
        if (body[j] !== ',') fail('expected , between names', at + j);
        j++;
        while (j < body.length && body[j] === ' ') j++;
      }
    }
    return { kind: 'names', names };
  }
  if (body.includes(':')) {
    const parts = body.split(':');
    if (parts.length > 3) fail('bad slice', at);
    if (parts[2] !== undefined && parts[2].trim() !== '' && parts[2].trim() !== '1') fail('slice steps are not supported', at);
    const num = (x: string | undefined) => {
      const t = (x ?? '').trim();
      if (t === '') return null;
      if (!/^-?\d+$/.test(t)) fail(`"${t}" is not an integer`, at);
      return Number(t);
    };
    return { kind: 'slice', start: num(parts[0]), end: num(parts[1]) };
  }
  const idx = body.split(',').map((x) => x.trim());
  if (idx.length === 0 || idx.some((x) => !/^-?\d+$/.test(x))) fail(`"${body}" is not an index, a quoted name, * or a slice`, at);
  return { kind: 'indexes', indexes: idx.map(Number) };
}
