/**
 * Loader targets: settings → the BatchLoader that writes to the target, with the clients it owns (a pg pool, a
 * Redshift executor). `furrow load` (bin/commands/load.ts) and furrow mini's `--postgres` build their targets here
 * and nowhere else.
 *
 *   target name ──BATCH_TARGETS──▶ open(settings, deps) ──▶ { loader, encoding, check(), close() }
 *
 * Adding a batch target touches loaders/ only: its BatchLoader in loaders/<target>/, one line in BATCH_TARGETS, its
 * name in LOADER_TARGETS and its flags in loaders/config.ts. The s3 lake target is not a BatchLoader (it rolls its
 * own files: loaders/s3/lake-loader.ts `runLakeLoader`), so it has no opener here.
 */
import type { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { FurrowError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { IgluResolver } from '../iglu-resolver/types.js';
import type { BadRowOutput } from './bad-row-output.js';
import type { LoaderConfig, LoaderTarget } from './config.js';
import type { BatchLoader } from './loader.js';

/** Every `furrow load` target, in the order the usage lists them. */
export const LOADER_TARGETS = ['postgres', 'redshift', 's3'] as const satisfies readonly LoaderTarget[];

export function isLoaderTarget(name: string | undefined): name is LoaderTarget {
  return (LOADER_TARGETS as readonly string[]).includes(name ?? '');
}

/** What a batch target reads from the config (mini passes its own). */
export type TargetSettings = Pick<LoaderConfig, 'url' | 'schema' | 'retryForMs' | 'stage' | 'iamRole' | 'region' | 'maxError' | 'dryRun'>;

/**
 * The clients and outputs a target is given, as builders the caller owns (so tests and mini can pass their own);
 * a target calls them after its own settings are checked, so a bad setting fails before anything is opened.
 */
export interface TargetDeps {
  readonly logger: Logger;
  readonly resolver: () => Promise<IgluResolver>;
  readonly badRows: () => BadRowOutput;
  /** The S3 client (built once, when first asked for). */
  readonly s3: () => S3Client;
  /** Where a Redshift dry run prints its SQL (default stdout). */
  readonly sqlOut?: Writable;
  /** How long opening a database connection may take (default 10 s). */
  readonly connectTimeoutMs?: number;
}

export interface OpenedTarget {
  readonly loader: BatchLoader;
  /** How the input's lines are decoded for this loader ('latin1': binary strings, bytes passed through). */
  readonly encoding: 'utf8' | 'latin1';
  /** Throws when the target cannot be reached now (one attempt, no retries). */
  check(): Promise<void>;
  /** Ends the target's clients (after loader.close()). */
  close(): Promise<void>;
}

type Opener = (settings: TargetSettings, deps: TargetDeps) => Promise<OpenedTarget>;

async function openPostgres(s: TargetSettings, deps: TargetDeps): Promise<OpenedTarget> {
  const pg = (await import('pg')).default;
  const { PostgresLoader } = await import('./postgres/postgres-loader.js');
  const pool = new pg.Pool({ connectionString: s.url!, max: 3, connectionTimeoutMillis: deps.connectTimeoutMs ?? 10_000 });
  pool.on('error', (err) => deps.logger.warn({ err: err.message }, 'idle connection lost'));
  let loader: BatchLoader;
  try {
    // Binary lines: UTF-8 bytes pass from the input to COPY without decoding/encoding (halves the CPU per row).
    loader = new PostgresLoader(pool, await deps.resolver(), deps.badRows(), deps.logger, { schema: s.schema, retryForMs: s.retryForMs, binaryLines: true });
  } catch (e) {
    await pool.end();
    throw e;
  }
  return {
    loader,
    encoding: 'latin1',
    async check() {
      await pool.query('SELECT 1');
    },
    close: () => pool.end(),
  };
}

async function openRedshift(s: TargetSettings, deps: TargetDeps): Promise<OpenedTarget> {
  const { RedshiftLoader, createRedshiftExecutor } = await import('./redshift/redshift-loader.js');
  const { parseS3Url } = await import('../streams/sources/s3-source.js');
  const stage = parseS3Url(s.stage!);
  if (stage === null) throw new FurrowError('CONFIG_INVALID_VALUE', `stage: '${s.stage}' is not s3://bucket/prefix`);
  const executor = await createRedshiftExecutor(s.dryRun ? null : s.url, deps.sqlOut ?? process.stdout, deps.logger);
  let loader: BatchLoader;
  try {
    loader = new RedshiftLoader(executor, deps.s3(), stage, await deps.resolver(), deps.badRows(), deps.logger, {
      schema: s.schema,
      iamRole: s.iamRole,
      region: s.region,
      maxError: s.maxError,
    });
  } catch (e) {
    await executor.close();
    throw e;
  }
  return {
    loader,
    encoding: 'utf8',
    async check() {
      await executor.query('SELECT 1');
    },
    close: () => executor.close(),
  };
}

/** The batch targets by name: the one table a new target joins. */
export const BATCH_TARGETS: Readonly<Partial<Record<LoaderTarget, Opener>>> = Object.freeze({
  postgres: openPostgres,
  redshift: openRedshift,
});

/** Builds a batch target's loader and clients; an unknown or non-batch target fails loudly. */
export function openBatchTarget(target: LoaderTarget, settings: TargetSettings, deps: TargetDeps): Promise<OpenedTarget> {
  const open = BATCH_TARGETS[target];
  if (open === undefined) throw new FurrowError('CONFIG_INVALID_VALUE', `loader target '${target}' is not a batch target (expected ${Object.keys(BATCH_TARGETS).join(', ')})`);
  return open(settings, deps);
}
