/**
 * Config schemas: small builders that return plain JSON Schema objects (what ajv validates, config/reader.ts)
 * and carry the TypeScript type of the value the reader hands back, so the type is derived from the schema
 * instead of being written beside it (`Static<typeof schema>`).
 *
 *   t.object({ port: t.integer({ minimum: 0, maximum: 65535, default: 8080 }), name: t.optional(t.string()) })
 *     ──JSON──▶ { type: 'object', additionalProperties: false, properties: {...}, required: [] }
 *     ──type──▶ { readonly port: number; readonly name?: string }
 *
 * A property with a `default` is not required in the file and always present in the result; `t.optional`
 * leaves it out of both. `expect` is the message a failing value gets (`batch_size: must be an integer from 1
 * to 100000 (got 0)`). Two furrow keywords, implemented by the reader: `duration` (HOCON `10 seconds` → ms) and
 * `httpUrl` (an absolute http(s) URL, trailing `/` dropped). `warn` and `ignored` are annotations the reader
 * collects (a key accepted for compatibility that furrow does not act on).
 *
 * Why not json-schema-to-ts or TypeBox: the subset configs use is this file; a dependency's type-level
 * machinery would cost more in typecheck time than these 150 lines.
 */

declare const STATIC: unique symbol;
declare const OPTIONAL: unique symbol;

/** A JSON Schema node (plain data) that knows the type of the value it validates. */
export type Schema<T, Opt extends boolean = boolean> = JsonSchema & { readonly [STATIC]?: T; readonly [OPTIONAL]?: Opt };

export type Static<S> = S extends Schema<infer T> ? T : never;

export interface JsonSchema {
  readonly [keyword: string]: unknown;
}

interface Common<T> {
  /** The file may leave it out; the result then holds this. */
  default?: T;
  /** Message when the value fails (after `<key>: `). */
  expect?: string;
  description?: string;
}

type OptionalKeys<P> = { [K in keyof P]: P[K] extends Schema<unknown, true> ? (P[K] extends Schema<unknown, false> ? never : K) : never }[keyof P];
type Props = Record<string, Schema<unknown>>;
export type ObjectStatic<P extends Props> = {
  readonly [K in Exclude<keyof P, OptionalKeys<P>>]: Static<P[K]>;
} & { readonly [K in OptionalKeys<P>]?: Static<P[K]> };

function node<T>(s: JsonSchema, o: { default?: unknown; expect?: string; description?: string } | undefined): Schema<T, false> {
  const out: Record<string, unknown> = { ...s };
  if (o?.default !== undefined) out['default'] = o.default;
  if (o?.expect !== undefined) out['expect'] = o.expect;
  if (o?.description !== undefined) out['description'] = o.description;
  return out as Schema<T, false>;
}

export const t = {
  /** A non-empty string unless `minLength: 0`. */
  string(o?: Common<string> & { minLength?: number; pattern?: string }): Schema<string, false> {
    const minLength = o?.minLength ?? 1;
    return node({ type: 'string', minLength, ...(o?.pattern ? { pattern: o.pattern } : {}), expect: minLength > 0 ? 'must be a non-empty string' : 'must be a string' }, o);
  },
  enum<const V extends string>(values: readonly V[], o?: Common<V>): Schema<V, false> {
    return node({ type: 'string', enum: [...values], expect: `must be one of ${values.join(', ')}` }, o);
  },
  integer(o?: Common<number> & { minimum?: number; maximum?: number }): Schema<number, false> {
    const min = o?.minimum ?? 0;
    const range = o?.maximum === undefined ? `≥ ${min}` : `from ${min} to ${o.maximum}`;
    return node({ type: 'integer', minimum: min, ...(o?.maximum !== undefined ? { maximum: o.maximum } : {}), expect: `must be an integer ${range}` }, o);
  },
  number(o?: Common<number> & { minimum?: number; maximum?: number }): Schema<number, false> {
    const min = o?.minimum ?? 0;
    const range = o?.maximum === undefined ? `≥ ${min}` : `from ${min} to ${o.maximum}`;
    return node({ type: 'number', minimum: min, ...(o?.maximum !== undefined ? { maximum: o.maximum } : {}), expect: `must be a number ${range}` }, o);
  },
  /** `words: true` also takes yes/no, on/off, 1/0 (any case), as the collector always has. */
  boolean(o?: Common<boolean> & { words?: boolean }): Schema<boolean, false> {
    return node({ ...(o?.words ? { boolWords: true } : {}), type: 'boolean', expect: 'must be true or false' }, o);
  },
  /** HOCON duration (`10 seconds`, `500 millis`, a bare number = ms) → milliseconds. */
  duration(o?: Common<number> & { minimumMs?: number }): Schema<number, false> {
    return node({ duration: { min: o?.minimumMs ?? 0 } }, o);
  },
  /** An absolute http(s) URL; trailing slashes are dropped. */
  httpUrl(o?: Common<string>): Schema<string, false> {
    return node({ type: 'string', httpUrl: true }, o);
  },
  /** The name of an environment variable (a secret's value is read from it, never written in the file). */
  envName(): Schema<string, false> {
    return node({ type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', expect: 'must name an environment variable (letters, digits, _)' }, undefined);
  },
  /** A list; `single: true` also accepts one bare item (HOCON `x = "a"` for `x = ["a"]`). */
  array<S extends Schema<unknown>>(items: S, o?: Common<Static<S>[]> & { minItems?: number; single?: boolean }): Schema<readonly Static<S>[], false> {
    return node({ type: 'array', items, ...(o?.minItems !== undefined ? { minItems: o.minItems } : {}), ...(o?.single ? { single: true } : {}) }, o);
  },
  /** Keys of the caller's choosing (headers, event-name maps). */
  record<S extends Schema<unknown>>(values: S, o?: Common<Record<string, Static<S>>>): Schema<Readonly<Record<string, Static<S>>>, false> {
    return node({ type: 'object', additionalProperties: values, expect: 'must be an object' }, o);
  },
  object<P extends Props>(properties: P, o?: Omit<Common<never>, 'default'> & { default?: Partial<ObjectStatic<P>>; open?: boolean; missing?: string }): Schema<ObjectStatic<P>, false> {
    const required = Object.entries(properties)
      .filter(([, s]) => s['optional'] !== true && s['default'] === undefined)
      .map(([k]) => k);
    const props: Record<string, JsonSchema> = {};
    for (const [k, s] of Object.entries(properties)) {
      const { optional: _o, ...rest } = s as Record<string, unknown>;
      props[k] = rest;
    }
    return node({ type: 'object', properties: props, required, additionalProperties: o?.open === true, expect: 'must be an object', ...(o?.missing ? { missing: o.missing } : {}) }, o);
  },
  /**
   * One of several object shapes told apart by `tag` (ajv's discriminator): `{ type = kinesis, ... }`.
   * Each branch is a t.object whose own properties do not name the tag.
   */
  union<const Tag extends string, B extends Record<string, Schema<unknown>>>(
    tag: Tag,
    branches: B,
    o?: { default?: keyof B & string; missing?: string },
  ): Schema<{ [K in keyof B]: { readonly [T in Tag]: K } & Static<B[K]> }[keyof B], false> {
    const tags = Object.keys(branches);
    const oneOf = Object.entries(branches).map(([name, b]) => {
      const props = { ...(b['properties'] as Record<string, JsonSchema>), [tag]: { const: name } };
      return { ...b, properties: props, required: [tag, ...((b['required'] as string[]) ?? [])] };
    });
    return node(
      {
        type: 'object',
        discriminator: { propertyName: tag },
        properties: { [tag]: { type: 'string', enum: tags, expect: `must be one of ${tags.join(', ')}`, ...(o?.default ? { default: o.default } : {}) } },
        required: [tag],
        oneOf,
        expect: 'must be an object',
        tags,
        ...(o?.missing ? { missing: o.missing } : {}),
      },
      undefined,
    );
  },
  /** A string, number or boolean. */
  scalar(o?: Common<string | number | boolean>): Schema<string | number | boolean, false> {
    return node({ type: ['string', 'number', 'boolean'], expect: 'must be a string, number or boolean' }, o);
  },
  /**
   * A key accepted for compatibility that changes nothing in furrow (Snowplow tuning, telemetry): any value; the
   * reader lists it in `ignored` when the file sets it.
   */
  ignored(): Schema<unknown, true> {
    return { ignored: true, optional: true } as unknown as Schema<unknown, true>;
  },
  /**
   * A key naming an integration furrow does not have: any value; when set (not absent, null, false, "", [] or {})
   * the reader adds one warning `{ key, message }` saying what furrow does instead.
   */
  warn(message: string): Schema<unknown, true> {
    return { warn: message, optional: true } as unknown as Schema<unknown, true>;
  },
  /** Any JSON value (checked by the plug-in that reads it). */
  any(): Schema<unknown, false> {
    return node({}, undefined);
  },
  optional<T>(s: Schema<T, boolean>): Schema<T | undefined, true> {
    return { ...s, optional: true } as Schema<T | undefined, true>;
  },
};
