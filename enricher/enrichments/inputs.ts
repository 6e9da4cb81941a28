/**
 * Inputs shared by api_request and sql_query: a value pulled from an atomic field (`pojo`) or from the JSON of
 * contexts / derived_contexts / unstruct_event (`json`: entities matching `schemaCriterion`, then `jsonPath`).
 *
 *   pojo field  → the column's text (null when empty)
 *   json        → first matching entity (in field order) whose path selects a non-null value; strings as they are,
 *                 numbers/booleans as text, objects/arrays as compact JSON
 */
import type { SelfDescribingData } from '../../iglu-resolver/types.js';
import { t, type Static } from '../../config/schema.js';
import type { EnrichmentInput } from './enrichment.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { criterionMatches, parseCriterion, parseSchemaKey, type SchemaCriterion } from '../../formats/schema-key.js';
import { configInvalid } from './enrichment-config.js';
import { JsonPath } from './json-path.js';

export type InputSource =
  | { kind: 'pojo'; field: string }
  | { kind: 'json'; field: 'contexts' | 'derived_contexts' | 'unstruct_event'; criterion: SchemaCriterion; path: JsonPath };

type JsonField = 'contexts' | 'derived_contexts' | 'unstruct_event';

const FIELD_SET = new Set<string>(ENRICHED_FIELDS);

/** A `json` input: entities of `field` matching `schemaCriterion`, then `jsonPath` (`fields` in the order the enrichment's docs give). */
export function jsonInputSchema<const F extends JsonField>(fields: readonly F[]) {
  return t.object({ field: t.enum(fields), schemaCriterion: t.string({ minLength: 0 }), jsonPath: t.string({ minLength: 0 }) });
}

const jsonInput = jsonInputSchema(['contexts', 'derived_contexts', 'unstruct_event']);

/** The `pojo` / `json` keys of an api_request or sql_query input item (exactly one of them; checked by `inputSource`). */
export const inputSourceKeys = {
  pojo: t.optional(t.object({ field: t.string({ minLength: 0 }) })),
  json: t.optional(jsonInput),
};

/** An input item as read with `inputSourceKeys`; `at` is its key path (`parameters.inputs[0]`) for messages. */
export function inputSource(config: SelfDescribingData, item: { readonly pojo?: { readonly field: string }; readonly json?: Static<typeof jsonInput> }, at: string): InputSource {
  if ((item.pojo === undefined) === (item.json === undefined)) throw configInvalid(config, at, 'must have exactly one of pojo or json');
  if (item.pojo !== undefined) {
    const field = item.pojo.field;
    if (!FIELD_SET.has(field)) throw configInvalid(config, `${at}.pojo.field`, `"${field}" is not an atomic field`);
    return { kind: 'pojo', field };
  }
  return jsonSource(config, item.json!, `${at}.json`);
}

/** A `json` input item (read with `jsonInputSchema`): the criterion parsed and the JSONPath compiled, at start-up. Shared by api_request, sql_query and pii. */
export function jsonSource(config: SelfDescribingData, j: { readonly field: JsonField; readonly schemaCriterion: string; readonly jsonPath: string }, at: string): Extract<InputSource, { kind: 'json' }> {
  const criterion = parseCriterion(j.schemaCriterion);
  if (criterion === null) throw configInvalid(config, `${at}.schemaCriterion`, 'is not an Iglu schema criterion (iglu:vendor/name/format/1-*-*)');
  let path: JsonPath;
  try {
    path = JsonPath.compile(j.jsonPath);
  } catch (err) {
    throw configInvalid(config, `${at}.jsonPath`, (err as Error).message);
  }
  return { kind: 'json', field: j.field, criterion, path };
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
