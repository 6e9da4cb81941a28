/**
 * Wiring of `furrow forward` from a parsed config: the dead letter, one target per destination, the forwarder
 * and its input. The CLI and the tests use the same function; tests inject a source or clients.
 */
import { access, constants } from 'node:fs/promises';
import { FurrowError } from '../common/errors.js';
import { createKinesisInput, createKinesisOutput, createTextLineInput } from '../streams/factory.js';
import type { Logger } from '../common/logger.js';
import type { Source } from '../streams/source.js';
import type { Registry } from 'prom-client';
import type { DeadLetterConfig, ForwardConfig, InputConfig } from './config.js';
import { FileDeadLetterSink, KinesisDeadLetterSink, type DeadLetterSink } from './dead-letter.js';
import { Forwarder } from './forwarder.js';
import { compileTransform, type Transformer } from './transform.js';
import { makeRedactor } from '../common/secret.js';
import type { ForwardTarget } from './target.js';
import { createTarget, type TargetDeps } from './targets/registry.js';

export interface BuiltForwarder {
  readonly forwarder: Forwarder;
  readonly deadLetter: DeadLetterSink;
  readonly redact: (s: string) => string;
  /** Closes targets and the dead letter (after run). */
  close(): Promise<void>;
}

export interface BuildOptions extends TargetDeps {
  log: Logger;
  /** Replaces the configured dead letter (replay --dead-letter, tests). */
  deadLetter?: DeadLetterConfig;
  replay?: { only: ReadonlySet<string> | null };
}

export async function buildForwarder(cfg: ForwardConfig, opts: BuildOptions): Promise<BuiltForwarder> {
  const redact = makeRedactor(cfg.secrets);
  const dl = await createDeadLetter(opts.deadLetter ?? cfg.deadLetter, redact, opts.log);
  const targets = new Map<string, ForwardTarget>();
  // Compiled at start: a JS transformation's script process starts here, and a script that does not compile
  // (or defines no transform) stops start-up.
  const transforms = new Map<string, Transformer>();
  const closeAll = async (): Promise<void> => {
    for (const t of targets.values()) await t.close();
    for (const t of transforms.values()) await t.close();
    await dl.close();
  };
  let forwarder: Forwarder;
  try {
    for (const [i, d] of cfg.destinations.entries()) {
      const t = await compileTransform(d.transform, `destinations[${i}]`, opts.log.child({ destination: d.name }));
      if (t !== null) transforms.set(d.name, t);
    }
    for (const d of cfg.destinations) targets.set(d.name, createTarget(d, opts));
    forwarder = new Forwarder(cfg, targets, dl, opts.log, opts.replay ?? null, transforms);
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { forwarder, deadLetter: dl, redact, close: closeAll };
}

async function createDeadLetter(cfg: DeadLetterConfig, redact: (s: string) => string, log: Logger): Promise<DeadLetterSink> {
  if (cfg.type === 'file') return new FileDeadLetterSink(cfg.path, redact).open();
  const writer = createKinesisOutput({ streamName: cfg.streamName, giveUpAfterAttempts: 20, timeLimitMs: 3600_000 }, { region: cfg.region, endpoint: cfg.endpoint }, log);
  return new KinesisDeadLetterSink(writer, cfg.streamName, redact);
}

/** The configured input as a Source. */
export async function createInput(cfg: InputConfig, log: Logger, registry: Registry | null = null): Promise<Source> {
  switch (cfg.type) {
    case 'stdin':
      return createTextLineInput(null, cfg.batchSize, cfg.lingerMs);
    case 'file':
      try {
        await access(cfg.path, constants.R_OK);
      } catch (e) {
        throw new FurrowError('CONFIG_FILE_UNREADABLE', `input.path: cannot read ${cfg.path}: ${(e as Error).message}`);
      }
      return createTextLineInput(cfg.path, cfg.batchSize, cfg.lingerMs);
    case 'kinesis': {
      return createKinesisInput(
        {
          streamName: cfg.streamName,
          appName: cfg.appName,
          initialPosition: cfg.initialPosition,
          maxRecordsPerRead: cfg.maxRecords,
          logger: log,
          registry, // lease and shard metrics on the forwarder's /metrics when it has one
        },
        { region: cfg.region, endpoint: cfg.endpoint, dynamodbEndpoint: cfg.dynamodbEndpoint, leases: true },
      );
    }
  }
}
