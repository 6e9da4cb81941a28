/**
 * Inputs shared by api_request and sql_query: a value pulled from an atomic field (`pojo`) or from the JSON of
 * contexts / derived_contexts / unstruct_event (`json`: entities matching `schemaCriterion`, then `jsonPath`).
 *
 *   pojo field  → the column's text (null when empty)
 *   json        → first matching entity (in field order) whose path selects a non-null value; strings as they are,
 *                 numbers/booleans as text, objects/arrays as compact JSON
 */
import type { EnrichmentInput } from './enrichment.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { criterionMatches, parseCriterion, parseSchemaKey, type SchemaCriterion } from '../../formats/schema-key.js';
import type { ParamReader } from './enrichment-config.js';
import { JsonPath } from './json-path.js';

export type InputSource =
  | { kind: 'pojo'; field: string }
  | { kind: 'json'; field: 'contexts' | 'derived_contexts' | 'unstruct_event'; criterion: SchemaCriterion; path: JsonPath };

const FIELD_SET = new Set<string>(ENRICHED_FIELDS);

/** Reads `pojo` / `json` of one input item (exactly one of them must be present). */
export function readInputSource(item: ParamReader): InputSource {
  const pojo = item.optObject('pojo');
  const json = item.optObject('json');
  if ((pojo === null) === (json === null)) return item.fail('', 'must have exactly one of pojo or json');
  if (pojo !== null) {
    pojo.onlyKeys(['field']);
    const field = pojo.string('field');
    if (!FIELD_SET.has(field)) pojo.fail('field', `"${field}" is not an atomic field`);
    return { kind: 'pojo', field };
  }
  return readJsonSource(json!, ['contexts', 'derived_contexts', 'unstruct_event']);
}

/**
 * Reads a `json` input item: `field` (one of `fields`, listed in the order the enrichment's docs give),
 * `schemaCriterion` and `jsonPath` (compiled here, at start-up). Shared by api_request, sql_query and pii.
 */
export function readJsonSource(
  j: ParamReader,
  fields: readonly ('contexts' | 'derived_contexts' | 'unstruct_event')[],
): Extract<InputSource, { kind: 'json' }> {
  j.onlyKeys(['field', 'schemaCriterion', 'jsonPath']);
  const criterion = parseCriterion(j.string('schemaCriterion'));
  if (criterion === null) return j.fail('schemaCriterion', 'is not an Iglu schema criterion (iglu:vendor/name/format/1-*-*)');
  let path: JsonPath;
  try {
    path = JsonPath.compile(j.string('jsonPath'));
  } catch (err) {
    return j.fail('jsonPath', (err as Error).message);
  }
  return { kind: 'json', field: j.oneOf('field', fields), criterion, path };
}

export function renderValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'object' && v !== null && (v as { isLosslessNumber?: boolean }).isLosslessNumber === true) return String((v as { value: string }).value);
  return JSON.stringify(v);
}

/** The raw (typed) value of an input for this event, or null. */
export function pullValue(src: InputSource, input: EnrichmentInput): unknown {
  if (src.kind === 'pojo') return (input.event as unknown as Record<string, string | null>)[src.field] ?? null;
  const entities = src.field === 'contexts' ? input.contexts : src.field === 'derived_contexts' ? (input.derivedContexts ?? []) : input.unstructEvent === null ? [] : [input.unstructEvent];
  for (const e of entities) {
    const key = parseSchemaKey(e.schema);
    if (key === null || !criterionMatches(src.criterion, key)) continue;
    const values = src.path.read(e.data);
    for (const v of values) if (v !== null && v !== undefined) return v;
  }
  return null;
}
