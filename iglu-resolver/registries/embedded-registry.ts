/**
 * Embedded registry: a folder laid out `{path}/schemas/{vendor}/{name}/{format}/{M-R-A}` (the layout of an Iglu
 * static repo). The built-in registry is one of these over furrow's own `schemas/` folder.
 * A key never escapes the folder: unsafe segments are NotFound and the resolved path is checked to stay inside.
 */
import { readFile, readdir } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { isUnsafeSegment, type Registry, type RegistryResult } from './registry.js';
import { compareSchemaVer, parseSchemaVer, schemaKeyToUri, type SchemaKey, type SchemaVer } from '../../formats/schema-key.js';

export interface EmbeddedRegistryOptions {
  name: string;
  priority: number;
  vendorPrefixes: readonly string[];
  /** The registry root; schemas live in `{path}/schemas/...`. */
  path: string;
  /** Instead of `path`: the folder that directly holds the vendor folders. */
  schemasDir?: string;
}

/** Largest schema file read (a schema larger than this is a RepoFailure, not an out-of-memory). */
const MAX_SCHEMA_BYTES = 16 * 1024 * 1024;

export class EmbeddedRegistry implements Registry {
  readonly kind = 'embedded' as const;
  readonly name: string;
  readonly priority: number;
  readonly vendorPrefixes: readonly string[];
  readonly root: string;
  private readonly schemasDir: string;

  constructor(o: EmbeddedRegistryOptions) {
    this.name = o.name;
    this.priority = o.priority;
    this.vendorPrefixes = Object.freeze([...o.vendorPrefixes]);
    this.root = resolve(o.path);
    this.schemasDir = o.schemasDir !== undefined ? resolve(o.schemasDir) : resolve(this.root, 'schemas');
  }

  private inside(...segments: string[]): string | null {
    if (segments.some(isUnsafeSegment)) return null;
    const p = resolve(this.schemasDir, ...segments);
    return p.startsWith(this.schemasDir + sep) ? p : null;
  }

  async lookup(key: SchemaKey): Promise<RegistryResult<unknown>> {
    const file = this.inside(key.vendor, key.name, key.format, `${key.model}-${key.revision}-${key.addition}`);
    if (!file) return { ok: false, error: { error: 'NotFound' } };
    let text: string;
    try {
      const buf = await readFile(file);
      if (buf.length > MAX_SCHEMA_BYTES) {
        return { ok: false, error: { error: 'RepoFailure', message: `Schema file ${schemaKeyToUri(key)} is larger than ${MAX_SCHEMA_BYTES} bytes` } };
      }
      text = buf.toString('utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return { ok: false, error: { error: 'NotFound' } };
      return { ok: false, error: { error: 'RepoFailure', message: (e as Error).message } };
    }
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (e) {
      return { ok: false, error: { error: 'RepoFailure', message: `Schema ${schemaKeyToUri(key)} is not valid JSON: ${(e as Error).message}` } };
    }
  }

  async list(vendor: string, name: string, model: number): Promise<RegistryResult<string[]>> {
    const dir = this.inside(vendor, name, 'jsonschema');
    if (!dir) return { ok: false, error: { error: 'NotFound' } };
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, error: { error: 'NotFound' } };
      return { ok: false, error: { error: 'RepoFailure', message: (e as Error).message } };
    }
    const versions = entries
      .map((e) => parseSchemaVer(e))
      .filter((v): v is SchemaVer => v !== null && v.model === model)
      .sort(compareSchemaVer);
    if (versions.length === 0) return { ok: false, error: { error: 'NotFound' } };
    return { ok: true, value: versions.map((v) => schemaKeyToUri({ vendor, name, format: 'jsonschema', model: v.model, revision: v.revision, addition: v.addition })) };
  }
}
