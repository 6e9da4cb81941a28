/**
 * `furrow mini`: the whole pipeline on one machine (mini/pipeline.ts). Wiring only: parse flags, start, print
 * where everything is, stop cleanly on Ctrl-C / SIGTERM.
 */
import { readFileSync, statSync } from 'node:fs';
import { FurrowError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import type { AuthConfig } from '../../mini/auth.js';
import type { MiniOptions, RunningMini } from '../../mini/pipeline.js';
import { parseCommandArgs, type FlagTable } from '../args.js';
import type { Command } from '../command.js';
import { checkPostgresUrl } from '../../config/postgres-url.js';

const usage = `Usage: furrow mini [options]

Runs the whole pipeline on this machine, with nothing else installed: the collector, an embedded Kinesis
(kinesalite) and DynamoDB (dynalite), the enricher (Kinesis source with leases), the Iglu resolver and the
enrichments, and a store of good and bad events (in memory, or in --data DIR) behind Snowplow Micro's REST API and a web UI.
Point any Snowplow tracker at http://localhost:9090. It listens on 127.0.0.1 only unless --host opens it.

Options:
  -c, --config FILE     a Snowplow collector HOCON (Micro's --config; alias --collector-config): cookies,
                        paths, CORS, redirects… Its interface, port and streams are mini's
  --port N              collector, Micro API and UI port (default 9090; 0 = any free port)
  --host ADDR           interface to listen on (default 127.0.0.1: this machine only). --host 0.0.0.0
                        opens mini to the network (phones, emulators, containers): anyone who can reach
                        it can then read and reset the events; combine with --auth or --auth-token
  --allow-host NAME[:PORT]  another Host the Micro API, UI and /metrics answer to (DNS-rebinding
                        check), e.g. 10.0.2.2 from an Android emulator, or a reverse proxy's name (any
                        port unless :PORT is given); repeatable
  --iglu DIR            your schemas (vendor/name/jsonschema/M-R-A files, or a folder with schemas/);
                        searched before the built-in registry; repeatable
  --iglu FILE           a Snowplow resolver config (iglu.json / resolver.json, as Micro's --iglu): its
                        registries are used after the built-in one (instead of the default Iglu Central)
  --offline             do not look schemas up on Iglu Central (only the built-in registry and --iglu)
  --enrichments DIR     enrichment configs (*.json, Snowplow's format); default: campaign_attribution,
                        event_fingerprint_config, ua_parser_config (nothing to download)
  --max-events N        keep at most N events in memory, dropping the oldest (default 100000)
  --data DIR            keep the events in DIR (created if missing) so they survive a restart; one
                        mini per DIR; /micro/reset clears it too. Without it events live in memory only
  --auth USER:PASSWORD  require HTTP basic auth on /micro/* (API and UI) and /metrics; trackers are never asked
  --auth-token TOKEN    require "Authorization: Bearer TOKEN" (or ?token=TOKEN once, for the UI) there
                        (for either: @FILE reads the secret from a file, keeping it out of ps)
  --postgres URL        also load enriched events into PostgreSQL (furrow load postgres)
  --forward FILE        also run forwarders with this config (furrow forward)
  --log-level LEVEL     trace|debug|info|warn|error|silent (default info; logs go to stderr)
  -h, --help            this help

Micro API: /micro/all /micro/good /micro/bad /micro/reset /micro/iglu/{vendor}/{name}/jsonschema/{version}
           /micro/events  /micro/events/{event_id}  /micro/wait?count=N&event_id=ID&timeout=MS
UI:        /micro/ui/
`;

function secret(v: string, flag: string): string {
  if (!v.startsWith('@')) return v;
  try {
    return readFileSync(v.slice(1), 'utf8').trim();
  } catch (e) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `${flag} ${v}: ${(e as Error).message}`);
  }
}

const FLAGS: FlagTable = {
  config: { type: 'string', short: 'c' },
  'collector-config': { type: 'string' },
  port: { type: 'string', default: '9090' },
  host: { type: 'string', default: '127.0.0.1' },
  'allow-host': { type: 'string', multiple: true, default: [] },
  iglu: { type: 'string', multiple: true, default: [] },
  offline: { type: 'boolean', default: false },
  enrichments: { type: 'string' },
  'max-events': { type: 'string', default: '100000' },
  data: { type: 'string' },
  auth: { type: 'string' },
  'auth-token': { type: 'string' },
  postgres: { type: 'string' },
  forward: { type: 'string' },
};

function parse(argv: string[]): { opts: Omit<MiniOptions, 'logger'>; logLevel: string } {
  const args = parseCommandArgs(argv, FLAGS, usage);
  const v = args.values as Record<string, string | undefined> & { offline?: boolean; iglu?: string[]; 'allow-host'?: string[] };
  if (v.config !== undefined && v['collector-config'] !== undefined) throw new FurrowError('CONFIG_CLI_USAGE', '--config and --collector-config are the same option; give one');
  const collectorConfigFile = v.config ?? v['collector-config'] ?? null;
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FurrowError('CONFIG_CLI_USAGE', `--port: expected 0..65535, got ${v.port}`);
  const maxEvents = Number(v['max-events']);
  if (!Number.isInteger(maxEvents) || maxEvents < 1) throw new FurrowError('CONFIG_CLI_USAGE', `--max-events: expected a positive integer, got ${v['max-events']}`);
  const level = args.logLevel;
  if (v.postgres !== undefined) checkPostgresUrl(v.postgres, '--postgres');
  if (v.data !== undefined && v.data.trim() === '') throw new FurrowError('CONFIG_CLI_USAGE', '--data: expected a directory');
  const auth: AuthConfig = { basic: null, token: null };
  if (v.auth !== undefined) {
    const s = secret(v.auth, '--auth');
    const colon = s.indexOf(':');
    if (colon <= 0 || colon === s.length - 1) throw new FurrowError('CONFIG_CLI_USAGE', '--auth: expected USER:PASSWORD');
    auth.basic = { user: s.slice(0, colon), password: s.slice(colon + 1) };
  }
  if (v['auth-token'] !== undefined) {
    const tok = secret(v['auth-token'], '--auth-token');
    if (tok.length < 8) throw new FurrowError('CONFIG_CLI_USAGE', '--auth-token: use at least 8 characters');
    auth.token = tok;
  }
  // --iglu DIR (schemas) or --iglu FILE (a resolver config JSON, as Snowplow Micro's --iglu takes).
  const igluDirs: string[] = [];
  let igluResolverFile: string | null = null;
  for (const path of v.iglu as string[]) {
    let kind: 'dir' | 'file' | null = null;
    try {
      const st = statSync(path);
      kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
    } catch {
      kind = null;
    }
    if (kind === null) throw new FurrowError('CONFIG_FILE_UNREADABLE', `--iglu ${path}: not a readable directory or resolver config file`);
    if (kind === 'dir') igluDirs.push(path);
    else if (igluResolverFile !== null) throw new FurrowError('CONFIG_CLI_USAGE', `--iglu ${path}: only one resolver config file (already ${igluResolverFile})`);
    else igluResolverFile = path;
  }
  return {
    logLevel: level,
    opts: {
      port, host: v.host!, allowHosts: v['allow-host'] as string[], collectorConfigFile, igluDirs, igluResolverFile, offline: v.offline === true, enrichmentsDir: v.enrichments ?? null,
      postgresUrl: v.postgres ?? null, forwardConfig: v.forward ?? null, auth, maxEvents, dataDir: v.data ?? null,
    },
  };
}

function banner(m: RunningMini, authOn: boolean): string {
  const i = m.info;
  const lines = [
    '',
    `furrow mini is running (accepting events after ${i.acceptingMs} ms, all started in ${i.startupMs} ms)`,
    '',
    `  collector      ${i.collector}          point your trackers here`,
    `  web UI         ${i.ui}`,
    `  Micro API      ${i.api}all | good | bad | reset | events | wait | iglu/…`,
    `  Kinesis        ${i.kinesis}   (kinesalite, in memory; streams ${Object.values(i.streams).join(', ')})`,
    `  DynamoDB       ${i.dynamodb}   (dynalite, in memory; lease table furrow-mini-enrich)`,
    `  Iglu           ${i.iglu.join(' → ')}`,
    `  enrichments    ${i.enrichments.length > 0 ? i.enrichments.join(', ') : 'none'}`,
  ];
  lines.push(
    i.data
      ? `  events kept in ${i.data.dir} (${i.data.restored} restored; they survive a restart)`
      : '  events kept in memory only (--data DIR keeps them across restarts)',
  );
  if (i.postgres) lines.push(`  PostgreSQL     ${i.postgres}`);
  if (i.forward) lines.push(`  forwarders     ${i.forward}`);
  lines.push(`  listening on   ${i.host}${i.open ? ' (all interfaces)' : ''}`);
  lines.push(`  auth           ${authOn ? 'on for /micro/* and /metrics' : 'off (use --auth or --auth-token on a shared host)'}`);
  if (i.exposed) {
    lines.push(
      '',
      `  WARNING: furrow mini is reachable from other machines (--host ${i.host}).`,
      authOn
        ? '  Anyone who can reach it can send events; the Micro API, UI and /metrics need the credentials.'
        : '  Anyone who can reach it can send events, read every stored event, reset the store and read /metrics.',
      i.open
        ? '  The Host check is off (any name reaches it). Drop --host to listen on 127.0.0.1 only.'
        : '  Drop --host to listen on 127.0.0.1 only.',
    );
  }
  lines.push('', 'Ctrl-C stops it.', '');
  return lines.join('\n');
}

export const command: Command = {
  summary: 'the whole pipeline on one machine, with a Snowplow Micro-compatible API and a web UI',
  usage,
  async run(argv) {
    const { opts, logLevel } = parse(argv);
    const logger = createLogger('furrow-mini', logLevel);
    // Loaded only now: `furrow --help` and flag errors stay fast.
    const { startMini } = await import('../../mini/pipeline.js');
    const mini = await startMini({ ...opts, logger });
    const authOn = opts.auth.basic !== null || opts.auth.token !== null;
    process.stdout.write(banner(mini, authOn));
    if (mini.info.exposed) logger.warn({ host: mini.info.host, open: mini.info.open, auth: authOn }, 'mini: reachable from other machines');
    logger.info({ startupMs: mini.info.startupMs, url: mini.url }, 'mini: started');

    return await new Promise<number>((resolve) => {
      let stopping = false;
      const stop = (why: string, code: number) => {
        if (stopping) {
          process.stderr.write('furrow mini: stopping already; press Ctrl-C again to quit at once\n');
          process.once('SIGINT', () => process.exit(130));
          return;
        }
        stopping = true;
        logger.info({ why }, 'mini: stopping');
        mini.stop().then(
          () => {
            logger.info('mini: stopped');
            resolve(code);
          },
          (e: unknown) => {
            process.stderr.write(`furrow mini: error while stopping: ${(e as Error).message}\n`);
            resolve(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT', 0));
      process.on('SIGTERM', () => stop('SIGTERM', 0));
      void mini.failed.then((e) => {
        process.stderr.write(`furrow mini: ${e.message}\n`);
        stop('component failure', 1);
      });
    });
  },
};
