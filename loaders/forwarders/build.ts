/**
 * Wiring of `furrow forward` from a parsed config: the dead letter, one target per destination, the forwarder
 * and its input. The CLI and the tests use the same function; tests inject a source or clients.
 */
import { access, constants } from 'node:fs/promises';
import { createDynamoDbClient, createKinesisClient } from '../../common/aws/clients.js';
import { FurrowError } from '../../common/errors.js';
import { KinesisWriter } from '../../common/kinesis/kinesis-writer.js';
import type { Logger } from '../../common/logger.js';
import type { StreamSource } from '../../common/stream.js';
import type { Registry } from 'prom-client';
import type { DeadLetterConfig, ForwardConfig, InputConfig } from '../../config/forward-config.js';
import { FileDeadLetterSink, KinesisDeadLetterSink, type DeadLetterSink } from './dead-letter.js';
import { Forwarder } from './forwarder.js';
import { compileTransform, type Transformer } from './transform.js';
import { LineSource } from './line-source.js';
import { makeRedactor } from './secret.js';
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
  const client = createKinesisClient({ ...(cfg.region ? { region: cfg.region } : {}), ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) });
  const writer = new KinesisWriter({ client, streamName: cfg.streamName, giveUpAfterAttempts: 20, timeLimitMs: 3600_000, logger: log });
  return new KinesisDeadLetterSink(writer, cfg.streamName, redact);
}

/** The configured input as a StreamSource. */
export async function createInput(cfg: InputConfig, log: Logger, registry: Registry | null = null): Promise<StreamSource> {
  switch (cfg.type) {
    case 'stdin':
      return LineSource.stdin(cfg.batchSize, cfg.lingerMs);
    case 'file':
      try {
        await access(cfg.path, constants.R_OK);
      } catch (e) {
        throw new FurrowError('CONFIG_FILE_UNREADABLE', `input.path: cannot read ${cfg.path}: ${(e as Error).message}`);
      }
      return LineSource.file(cfg.path, cfg.batchSize, cfg.lingerMs);
    case 'kinesis': {
      let mod: typeof import('../../enricher/leases/kinesis-source.js');
      try {
        mod = await import('../../enricher/leases/kinesis-source.js');
      } catch (e) {
        throw new FurrowError('FORWARD_INPUT_UNSUPPORTED', `input.type = "kinesis" needs the leased Kinesis source, which is not in this build: ${(e as Error).message}`);
      }
      const aws = (endpoint: string | null) => ({ ...(cfg.region ? { region: cfg.region } : {}), ...(endpoint ? { endpoint } : {}) });
      return mod.createKinesisSource({
        kinesis: createKinesisClient(aws(cfg.endpoint)),
        dynamodb: createDynamoDbClient(aws(cfg.dynamodbEndpoint ?? cfg.endpoint)),
        streamName: cfg.streamName,
        appName: cfg.appName,
        initialPosition: cfg.initialPosition,
        maxRecordsPerRead: cfg.maxRecords,
        logger: log,
        registry, // lease and shard metrics on the forwarder's /metrics when it has one
      });
    }
  }
}
