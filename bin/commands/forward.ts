import { access, constants } from 'node:fs/promises';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { FurrowError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { loadForwardConfig } from '../../forwarders/config.js';
import { buildForwarder, createInput } from '../../forwarders/build.js';
import { createTextLineInput } from '../../streams/factory.js';
import { registerForwardMetrics } from '../../forwarders/metrics.js';
import { serveMetrics } from '../../common/metrics-server.js';
import { list, parseCommandArgs, str, usageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage:
  furrow forward --config FILE [--log-level LEVEL]
  furrow forward replay DLQ_FILE --config FILE [--destination NAME]... [--dead-letter FILE] [--log-level LEVEL]

Reads enriched events (stdin, a file or Kinesis, per the config's input) and delivers them to every destination
whose filter keeps them: generic HTTP, GA4 Measurement Protocol, Amplitude HTTP V2, Mixpanel import, Braze
/users/track, Kinesis. An input batch is acknowledged only when each of its events was accepted by every
matching destination or written to the dead letter. See docs/forwarders.md.

replay: sends the events of a dead-letter file again, each to the destination it names (filters are not
applied again). Records that fail again, and records that cannot be replayed, go to the configured dead letter
(or --dead-letter FILE), which must not be DLQ_FILE itself.

Options:
  --config FILE        forwarder config (HOCON or JSON)
  --destination NAME   replay only the records of this destination (repeatable); others are kept as they are
  --dead-letter FILE   replay: write dead letters to FILE instead of the configured dead letter
  --log-level LEVEL    trace|debug|info|warn|error (default info); logs are JSON on stderr

Exit codes: 0 done; 1 start-up error or the dead letter failed; 2 bad command line;
3 replay finished but some records went to the dead letter again.
Signals: SIGINT/SIGTERM once = stop reading, finish deliveries and retries, acknowledge, exit; twice = exit now.`;

interface Args {
  replayFile: string | null;
  config: string;
  destinations: string[];
  deadLetter: string | null;
  logLevel: string;
}

const FLAGS: FlagTable = {
  config: { type: 'string' },
  destination: { type: 'string', multiple: true },
  'dead-letter': { type: 'string' },
};

function parseArgs(argv: string[]): Args {
  const a = parseCommandArgs(argv, FLAGS, USAGE, { positionals: true });
  const [sub, file, ...extra] = a.positionals;
  if (sub !== undefined && sub !== 'replay') throw usageError(`unexpected argument '${sub}'`, USAGE);
  if (sub === 'replay' && file === undefined) throw usageError('replay needs a dead-letter file', USAGE);
  if (extra.length > 0) throw usageError(`unexpected argument '${extra[0]}'`, USAGE);
  const replayFile = sub === 'replay' ? file! : null;
  const destinations = list(a, 'destination');
  const deadLetter = str(a, 'dead-letter') ?? null;
  if (replayFile === null && destinations.length > 0) throw usageError('--destination is an option of replay', USAGE);
  if (replayFile === null && deadLetter !== null) throw usageError('--dead-letter is an option of replay', USAGE);
  const config = str(a, 'config');
  if (config === undefined) throw usageError('--config FILE is required', USAGE);
  return { replayFile, config, destinations, deadLetter, logLevel: a.logLevel };
}

async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = createLogger('furrow-forward', args.logLevel);
  const cfg = await loadForwardConfig(args.config);
  for (const name of args.destinations) {
    if (!cfg.destinations.some((d) => d.name === name)) throw new FurrowError('CONFIG_CLI_USAGE', `--destination ${name}: no such destination in ${args.config}`);
  }
  if (args.replayFile !== null) {
    try {
      await access(args.replayFile, constants.R_OK);
    } catch (e) {
      throw new FurrowError('FORWARD_REPLAY_INPUT', `cannot read ${args.replayFile}: ${(e as Error).message}`);
    }
  }
  let deadLetterOverride = args.deadLetter !== null ? { type: 'file' as const, path: args.deadLetter } : undefined;
  if (args.replayFile !== null) {
    const out = deadLetterOverride ?? cfg.deadLetter;
    if (out.type === 'file' && resolve(out.path) === resolve(args.replayFile)) {
      throw new FurrowError('FORWARD_REPLAY_INPUT', `${args.replayFile} is also the dead-letter output; pass --dead-letter OTHER_FILE`);
    }
    deadLetterOverride = out.type === 'file' ? { type: 'file', path: out.path } : undefined;
  }
  const registry = cfg.metricsPort !== null ? new Registry() : null;
  const source = args.replayFile !== null ? createTextLineInput(args.replayFile, 500, 50) : await createInput(cfg.input, log, registry);
  const built = await buildForwarder(cfg, {
    log,
    ...(deadLetterOverride ? { deadLetter: deadLetterOverride } : {}),
    ...(args.replayFile !== null ? { replay: { only: args.destinations.length > 0 ? new Set(args.destinations) : null } } : {}),
  });
  const fw = built.forwarder;

  let metricsServer: Server | null = null;
  if (registry !== null) {
    registerForwardMetrics(registry, fw);
    metricsServer = await serveMetrics(cfg.metricsPort!, registry, log);
  }

  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals === 1) {
      log.info({ signal: sig }, 'stopping: finishing deliveries (signal again to exit now)');
      fw.stop();
    } else {
      log.warn({ signal: sig }, 'exiting now; unacknowledged events will be read again');
      fw.abort();
    }
  };
  const onInt = () => onSignal('SIGINT');
  const onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  const progress = setInterval(() => log.info(fw.summary(), 'progress'), cfg.progressIntervalMs);
  progress.unref();
  log.info(
    { input: args.replayFile ?? cfg.input.type, destinations: cfg.destinations.map((d) => `${d.name}:${d.target.type}`), deadLetter: cfg.deadLetter.type },
    args.replayFile !== null ? 'replaying dead letters' : 'forwarding',
  );
  try {
    let summary;
    try {
      summary = await fw.run(source);
    } catch (e) {
      // The one line an operator needs when it stops: why, and where the counts stood (nothing after the last
      // acknowledged batch is lost: it is read again on restart).
      log.error({ err: (e as Error).message, ...fw.summary() }, 'forwarder stopped on an error; unacknowledged input will be read again');
      throw e;
    }
    const { totals } = summary;
    log.info(summary, `input finished: ${summary.read} read, ${totals.delivered} delivered, ${totals.deadLettered} dead-lettered, ${totals.filtered} filtered`);
    process.stdout.write(JSON.stringify(summary) + '\n');
    if (args.replayFile !== null) {
      const again = Object.values(summary.destinations).reduce((n, d) => n + d.deadLettered, 0) + summary.unparseable + summary.replaySkipped;
      return again > 0 ? 3 : 0;
    }
    return 0;
  } finally {
    clearInterval(progress);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await built.close();
    if (metricsServer) await new Promise<void>((r) => metricsServer!.close(() => r()));
  }
}

export const command: Command = {
  summary: 'deliver enriched events to HTTP, GA4, Amplitude, Mixpanel, Braze and Kinesis destinations',
  usage: USAGE,
  run,
};
