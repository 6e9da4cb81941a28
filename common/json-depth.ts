/**
 * How deep JSON from outside furrow may nest, and the checks that enforce it without recursion.
 *
 *   tracker JSON (bodies, ue_pr/ue_px, co/cx) ──enricher: validation.maxJsonDepth (default 50)──> deeper = bad row
 *   enriched TSV, bad rows, raw bodies read by loaders, forwarders and mini
 *                                            ──DOWNSTREAM_MAX_JSON_DEPTH (1,000)──> deeper = bad row / dead letter
 *
 * Why a limit at all: JSON.parse is iterative in V8, but JSON.stringify, structuredClone, ajv and every recursive
 * walk of ours are not; an object nested ~4,000 deep overflows the stack (RangeError) wherever it is printed.
 * The enricher is where such input becomes a Snowplow bad row, so nothing it writes nests deeper than its limit.
 * Loaders, forwarders and mini also read lines that did not come from furrow's enricher; they apply the wider
 * downstream bound before they parse, so a hand-made line cannot reach a recursive walk either.
 *
 * Depth is counted as Snowplow does (`JsonUtils.extractJson`): the root is level 1 and every node, scalars
 * included, counts one level, so `{"a":{"b":1}}` has depth 3.
 */

/** Default of the enricher's `validation.maxJsonDepth` (Snowplow enrich core's default). */
export const DEFAULT_MAX_JSON_DEPTH = 50;

/**
 * Bound applied by everything after the enricher (loaders, forwarders, mini). Far above any enricher setting in
 * use (20x the default) and far below what overflows the stack (~4,000 levels for JSON.stringify at the top of
 * an empty stack), so a walk started from inside a deep call chain is still safe.
 */
export const DOWNSTREAM_MAX_JSON_DEPTH = 1000;

/**
 * Highest `validation.maxJsonDepth` the enricher accepts: what it writes must stay within the downstream bound,
 * and the contexts wrapper (`{"schema":…,"data":[…]}`) adds 3 levels around each entity.
 */
export const MAX_ENRICHER_JSON_DEPTH = DOWNSTREAM_MAX_JSON_DEPTH - 3;

/** The message of a depth failure, as Snowplow words it. */
export const JSON_DEPTH_ERROR = 'invalid json: maximum allowed JSON depth exceeded';

/**
 * True when a node of the JSON text (scalars included) sits deeper than `maxDepth`. Reads the text once and
 * allocates nothing; brackets inside strings do not count. Fast paths, cheapest first: a text no longer than the
 * limit cannot exceed it (each level takes a character); nor can one with fewer brackets than the limit, which
 * indexOf scans decide without the character loop.
 * The text need not be valid JSON: the check only bounds what a parser of it could build.
 */
export function exceedsDepth(text: string, maxDepth: number): boolean {
  if (text.length <= maxDepth) return false;
  let brackets = 0;
  for (let i = text.indexOf('{'); i !== -1 && brackets < maxDepth; i = text.indexOf('{', i + 1)) brackets++;
  for (let i = text.indexOf('['); i !== -1 && brackets < maxDepth; i = text.indexOf('[', i + 1)) brackets++;
  if (brackets < maxDepth) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e) {
      if (depth + 1 > maxDepth) return true;
      if (c === 0x22) inString = true;
    }
  }
  return false;
}

/**
 * The same bound for a value already in memory (built by code, not parsed from text): an explicit stack, so the
 * check itself cannot overflow. Only containers are visited; a scalar child counts one level below its parent.
 * Keeps no stack for a container without container children (a typical derived context).
 */
export function valueExceedsDepth(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== 'object') return maxDepth < 1;
  let stack: Array<object | number> | null = null; // pairs: container, its depth
  let v: object = value;
  let d = 1;
  for (;;) {
    if (d > maxDepth) return true;
    // Object.values measured faster than for-in with hasOwn or Object.keys on a 12-key context (160 vs 250/360 ns).
    const children: readonly unknown[] = Array.isArray(v) ? v : Object.values(v);
    for (let i = 0; i < children.length; i++) {
      const c = children[i];
      if (c !== null && typeof c === 'object') (stack ??= []).push(c, d + 1);
      else if (d + 1 > maxDepth) return true;
    }
    if (stack === null || stack.length === 0) return false;
    d = stack.pop() as number;
    v = stack.pop() as object;
  }
}

export type BoundedParse = { ok: true; value: unknown } | { ok: false; error: string };

/** JSON.parse behind the depth check: never throws; a failure says why (depth or syntax). */
export function parseJsonWithin(text: string, maxDepth: number): BoundedParse {
  if (exceedsDepth(text, maxDepth)) return { ok: false, error: JSON_DEPTH_ERROR };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: `invalid json: ${(e as Error).message}` };
  }
}
