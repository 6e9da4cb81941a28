#!/usr/bin/env node
/**
 * The `furrow` CLI: `furrow <command> [options]`. Each command lives in bin/commands/<name>.ts and is
 * loaded only when asked for, so `furrow collector` never loads the enricher's dependencies.
 */
import { FurrowError } from '../common/errors.js';
import { FURROW_VERSION } from '../common/version.js';
import type { Command } from './command.js';

const COMMANDS: Record<string, () => Promise<{ command: Command }>> = {
  collector: () => import('./commands/collector.js'),
  enrich: () => import('./commands/enrich.js'),
  iglu: () => import('./commands/iglu.js'),
  load: () => import('./commands/load.js'),
  forward: () => import('./commands/forward.js'),
  mini: () => import('./commands/mini.js'),
  recover: () => import('./commands/recover.js'),
};

async function loadCommand(name: string): Promise<Command | null> {
  const loader = COMMANDS[name];
  if (!loader) return null;
  try {
    return (await loader()).command;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`commands/${name}`)) return null;
    throw e;
  }
}

async function mainHelp(): Promise<string> {
  const lines = [`furrow ${FURROW_VERSION}`, '', 'Usage: furrow <command> [options]', '       furrow --version', '', 'Commands:'];
  for (const name of Object.keys(COMMANDS)) {
    const c = await loadCommand(name);
    if (c) lines.push(`  ${name.padEnd(11)} ${c.summary}`);
  }
  lines.push('', 'Run `furrow <command> --help` for the options of a command.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`furrow ${FURROW_VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await mainHelp()) + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = await loadCommand(name);
  if (!command) {
    process.stderr.write(`furrow: unknown command '${name}'\n\n${await mainHelp()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(command.usage.trimEnd() + '\n');
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof FurrowError) {
      process.stderr.write(`furrow ${name}: ${e.message}\n`);
      return e.code === 'CONFIG_CLI_USAGE' ? 2 : 1;
    }
    throw e;
  }
}

let settled = false;
// A command whose promise never settles while nothing is left to run (a lost callback, a waiter nobody wakes)
// would otherwise end with exit code 0 and no word: say so and fail.
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write(`furrow ${process.argv[2] ?? ''}: stopped with its work unfinished (nothing left to run, the command never completed); exit code 1\n`);
  process.exitCode = 1;
});
main(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (e: unknown) => {
    settled = true;
    process.stderr.write(`furrow: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
