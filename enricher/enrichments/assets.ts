/**
 * Enrichment assets (MaxMind databases, IAB lists, referer-parser JSON, uap regexes, ASN CSVs).
 *
 *   {uri, database} ──► deps.localAssets["uri/database" | "database"]   (operator / conformance override)
 *                   ├─► uri empty            → database is a local path
 *                   ├─► file:///dir | /dir   → /dir/database
 *                   ├─► http(s)://host/dir   → deps.fetch → deps.assetsDir/<name> (re-fetched every
 *                   │                          assetsUpdatePeriodMs, default 7 days, and hot-swapped)
 *                   ├─► s3://bucket/prefix   → S3 GetObject → deps.assetsDir/<name> (same refresh)
 *                   └─► gs://, other         → start-up fails (not supported)
 *
 * The loader callback parses the file once; a failure at start is fatal (ENRICH_ENRICHMENT_ASSET naming the file),
 * a failure on refresh is logged and the previous copy stays in use.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FurrowError } from '../../common/errors.js';
import type { EnrichmentDeps } from './enrichment.js';

export interface AssetRef {
  uri: string | null;
  database: string;
}

/** A loaded asset whose value may be swapped by a refresh. */
export interface Refreshable<T> {
  current: T;
  /** Incremented each time a refresh swaps `current` (lets callers drop caches built from the old copy). */
  generation: number;
  /** Where the asset was read from (local path) — for messages. */
  readonly source: string;
  close(): void;
}

const DEFAULT_UPDATE_PERIOD_MS = 7 * 24 * 3600 * 1000;
const DOWNLOAD_TIMEOUT_MS = 60_000;

export function assetUrl(ref: AssetRef): string {
  if (ref.uri === null || ref.uri === '') return ref.database;
  return ref.uri.endsWith('/') ? ref.uri + ref.database : `${ref.uri}/${ref.database}`;
}

function assetError(label: string, ref: AssetRef, problem: string, cause?: unknown): FurrowError {
  return new FurrowError('ENRICH_ENRICHMENT_ASSET', `${label}: ${assetUrl(ref)}: ${problem}`, cause === undefined ? undefined : { cause });
}

async function mustExist(path: string, label: string, ref: AssetRef): Promise<string> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw assetError(label, ref, `${path} is not a file`);
  } catch (err) {
    if (err instanceof FurrowError) throw err;
    throw assetError(label, ref, `file ${path} does not exist or cannot be read`, err);
  }
  return path;
}

type Remote = { kind: 'http'; url: string } | { kind: 's3'; bucket: string; key: string };

/** Resolves to a local file, or to a remote location to download. */
function locate(ref: AssetRef, deps: EnrichmentDeps, label: string): { local: string } | { remote: Remote } {
  const url = assetUrl(ref);
  const override = deps.localAssets?.[url] ?? deps.localAssets?.[ref.database];
  if (override !== undefined) return { local: resolve(override) };
  const uri = ref.uri ?? '';
  if (uri === '') return { local: resolve(ref.database) };
  if (uri.startsWith('file:')) return { local: join(fileURLToPath(uri), ref.database) };
  if (/^https?:\/\//i.test(uri)) return { remote: { kind: 'http', url } };
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (s3 !== null) return { remote: { kind: 's3', bucket: s3[1]!, key: s3[2]! } };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw assetError(label, ref, 'only http(s)://, s3:// and file:// URIs (or a local directory) are supported; download the file and point uri at it');
  }
  return { local: isAbsolute(uri) ? join(uri, ref.database) : resolve(uri, ref.database) };
}

async function download(remote: Remote, deps: EnrichmentDeps, label: string, ref: AssetRef): Promise<Buffer> {
  if (remote.kind === 'http') {
    let res: Response;
    try {
      res = await deps.fetch(remote.url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    } catch (err) {
      throw assetError(label, ref, `download failed: ${(err as Error).message}`, err);
    }
    if (!res.ok) throw assetError(label, ref, `download failed: HTTP ${res.status}`);
    return Buffer.from(await res.arrayBuffer());
  }
  const { createS3Client } = await import('../../streams/aws-clients.js');
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = createS3Client(deps.s3Endpoint === undefined ? {} : { endpoint: deps.s3Endpoint });
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: remote.bucket, Key: remote.key }));
    const body = out.Body;
    if (body === undefined) throw new Error('empty body');
    return Buffer.from(await body.transformToByteArray());
  } catch (err) {
    throw assetError(label, ref, `S3 download failed: ${(err as Error).message}`, err);
  } finally {
    client.destroy();
  }
}

async function fetchToDisk(remote: Remote, deps: EnrichmentDeps, label: string, ref: AssetRef): Promise<string> {
  const url = assetUrl(ref);
  const name = `${createHash('sha1').update(url).digest('hex').slice(0, 12)}-${ref.database.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  await mkdir(deps.assetsDir, { recursive: true });
  const path = join(deps.assetsDir, name);
  const bytes = await download(remote, deps, label, ref);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
  return path;
}

/**
 * Finds (downloading if needed) and loads an asset with `load`. Downloaded assets are refreshed on a timer
 * (unref'd) and swapped into `current` when the new copy loads.
 */
export async function openAsset<T>(
  ref: AssetRef,
  deps: EnrichmentDeps,
  label: string,
  load: (path: string, bytes: Buffer) => T | Promise<T>,
): Promise<Refreshable<T>> {
  const where = locate(ref, deps, label);
  const path = 'local' in where ? await mustExist(where.local, label, ref) : await fetchToDisk(where.remote, deps, label, ref);
  const value = await loadChecked(path, load, label, ref);
  const handle: Refreshable<T> & { timer: NodeJS.Timeout | null } = {
    current: value,
    generation: 0,
    source: path,
    timer: null,
    close() {
      if (handle.timer !== null) clearInterval(handle.timer);
      handle.timer = null;
    },
  };
  const period = deps.assetsUpdatePeriodMs ?? DEFAULT_UPDATE_PERIOD_MS;
  if ('remote' in where && period > 0) {
    handle.timer = setInterval(() => {
      fetchToDisk(where.remote, deps, label, ref)
        .then((p) => loadChecked(p, load, label, ref))
        .then((v) => {
          handle.current = v;
          handle.generation++;
          deps.logger.info({ asset: assetUrl(ref), enrichment: label }, 'enrichment asset refreshed');
        })
        .catch((err: unknown) => deps.logger.error({ asset: assetUrl(ref), enrichment: label, err: String(err) }, 'enrichment asset refresh failed; keeping the previous copy'));
    }, period);
    handle.timer.unref();
  }
  return handle;
}

async function loadChecked<T>(path: string, load: (path: string, bytes: Buffer) => T | Promise<T>, label: string, ref: AssetRef): Promise<T> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw assetError(label, ref, `cannot read ${path}`, err);
  }
  try {
    return await load(path, bytes);
  } catch (err) {
    if (err instanceof FurrowError) throw err;
    throw assetError(label, ref, `${path} is not a valid file for this enrichment: ${(err as Error).message}`, err);
  }
}
