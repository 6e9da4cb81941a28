/**
 * `furrow iglu`: tools for humans around the Iglu resolver.
 *   lint DIR                       check a registry folder (compiles, SchemaVer, path ↔ self)
 *   resolve URI [--resolver FILE]  print the schema as the resolver finds it (or why it cannot)
 */
import { readFileSync } from 'node:fs';
import { FurrowError } from '../../common/errors.js';
import { list, parseCommandArgs, str, usageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage:
  furrow iglu lint DIR [--json]
      Checks every schema in DIR (an Iglu registry folder holding schemas/, or the schemas folder itself):
      valid JSON, path vendor/name/format/M-R-A matching "self", a valid SchemaVer, compiles as JSON Schema
      draft-04 against the Iglu meta-schema, sane $supersededBy. Exit 1 when a problem is found.
      Warnings (exit 0): a $schema other than the Iglu self-describing meta-schema, formats the validator
      does not check.

  furrow iglu resolve URI [--resolver FILE] [--iglu DIR]... [--offline] [--data JSON | --data-file FILE]
      Resolves iglu:vendor/name/format/M-R-A through the registries of the resolver config FILE
      (Snowplow resolver-config 1-0-x; default: built-in registry, then Iglu Central over HTTP) and prints
      the schema. With --data, validates the JSON against it and prints the outcome. On failure prints the
      Iglu client error JSON (as it appears in bad rows) to stderr and exits 1.
      --iglu DIR     extra embedded registry searched first (repeatable)
      --offline      leave out Iglu Central (built-in registry only, or the config's non-Iglu-Central repos)

Options:
  --help         this text
`;

function usage(message: string): never {
  throw usageError(message, USAGE);
}

async function lint(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, { json: { type: 'boolean' } }, USAGE, { positionals: true });
  const json = a.values['json'] === true;
  const rest = a.positionals;
  if (rest.length !== 1) usage('lint takes exactly one DIR');
  const { lintRegistry } = await import('../../iglu-resolver/lint.js');
  let report;
  try {
    report = await lintRegistry(rest[0]!);
  } catch (e) {
    throw new FurrowError('CONFIG_FILE_UNREADABLE', `cannot read ${rest[0]}: ${(e as Error).message}`);
  }
  if (json) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    for (const p of report.problems) process.stdout.write(`${p.file}: ${p.message}\n`);
    for (const w of report.warnings) process.stdout.write(`${w.file}: warning: ${w.message}\n`);
    process.stdout.write(`${report.checked} schema(s) checked in ${report.schemasDir}, ${report.problems.length} problem(s), ${report.warnings.length} warning(s)\n`);
  }
  return report.problems.length === 0 ? 0 : 1;
}

const RESOLVE_FLAGS: FlagTable = {
  resolver: { type: 'string' },
  iglu: { type: 'string', multiple: true },
  offline: { type: 'boolean' },
  data: { type: 'string' },
  'data-file': { type: 'string' },
};

async function resolve(argv: string[]): Promise<number> {
  const a = parseCommandArgs(argv, RESOLVE_FLAGS, USAGE, { positionals: true });
  const resolverFile = str(a, 'resolver') ?? null;
  const offline = a.values['offline'] === true;
  const extra = list(a, 'iglu');
  let data = str(a, 'data') ?? null;
  const dataFile = str(a, 'data-file');
  if (data !== null && dataFile !== undefined) usage('give --data or --data-file, not both');
  if (dataFile !== undefined) {
    try {
      data = readFileSync(dataFile, 'utf8');
    } catch (e) {
      throw new FurrowError('CONFIG_FILE_UNREADABLE', `cannot read ${dataFile}: ${(e as Error).message}`);
    }
  }
  const positional = a.positionals;
  if (positional.length !== 1) usage('resolve takes exactly one URI');
  const uri = positional[0]!;
  let instance: unknown;
  if (data !== null) {
    try {
      instance = JSON.parse(data);
    } catch (e) {
      usage(`--data is not valid JSON: ${(e as Error).message}`);
    }
  }
  const { createBuiltinResolver, createResolverFromFile } = await import('../../iglu-resolver/index.js');
  const options = { offline, extraEmbeddedDirs: extra };
  const resolver = resolverFile ? await createResolverFromFile(resolverFile, options) : await createBuiltinResolver(options);
  const found = await resolver.lookupSchema(uri);
  if (!found.ok) {
    process.stderr.write(JSON.stringify(found.error) + '\n');
    process.stderr.write(`furrow iglu: IGLU_SCHEMA_NOT_RESOLVED: ${uri} could not be resolved\n`);
    return 1;
  }
  if (data === null) {
    if (found.supersededBy) process.stderr.write(`furrow iglu: ${uri} is superseded by ${found.supersededBy}; printing that schema\n`);
    process.stdout.write(JSON.stringify(found.schema, null, 2) + '\n');
    return 0;
  }
  const outcome = await resolver.validate(uri, instance);
  process.stdout.write(JSON.stringify(outcome) + '\n');
  return outcome.ok ? 0 : 1;
}

export const command: Command = {
  summary: 'Iglu tools: lint a schema registry, resolve (and validate against) a schema',
  usage: USAGE,
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === 'lint') return lint(rest);
    if (sub === 'resolve') return resolve(rest);
    return usage(sub === undefined ? 'missing subcommand' : `unknown subcommand ${sub}`);
  },
};
