/**
 * `furrow recover`: wiring only — flags → recovery config + selection → source, recoverer (with the enricher
 * in-process for validation), outputs, ledger → run → summary. The work is in recovery/.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKinesisClient, createS3Client } from '../../streams/aws-clients.js';
import { FurrowError } from '../../common/errors.js';
import { KINESIS_RECORD_MAX_BYTES } from '../../streams/kinesis/kinesis-writer.js';
import { createLogger, type Logger } from '../../common/logger.js';
import type { Sink as RecordSink } from '../../streams/sink.js';
import { loadCollectorPayload } from '../../enricher/payloads/thrift-loader.js';
import { isRecoverableType } from '../../recovery/bad-row.js';
import { readRecoveryConfig, schemaPattern, singleFlowConfig, type RecoveryConfig } from '../../recovery/config.js';
import { formatChange } from '../../recovery/diff.js';
import { Recoverer, validateWith, type RowResult, type Selection, type Validate } from '../../recovery/recoverer.js';
import { fileSink, FileLedger, kinesisSink, runRecovery, type Summary } from '../../recovery/run.js';
import { kinesisSource, localSource, s3Source, type BadRowSource } from '../../recovery/sources.js';
import { list, parseCommandArgs, str, usageError, type FlagTable } from '../args.js';
import type { Command } from '../command.js';

const USAGE = `Usage: furrow recover --input SRC (--output DEST --ledger FILE | --dry-run) [fixes] [selection] [options]

Reads Snowplow bad rows, fixes their payloads and writes them back as collector records (Thrift
CollectorPayload), so they go through the enricher again. Every bad row ends as recovered, still
failing (with the reason, and the enricher's new failure) or skipped; the summary counts each.

Input and output:
  --input SRC            a file (.gz ok), a folder (every file below it), '-' (stdin), s3://bucket/prefix,
                         or kinesis://STREAM (the bad stream, oldest record to its current tip)
  --since-record ISO     with kinesis://: start at records written at or after this time
  --output DEST          kinesis://STREAM (the raw stream the enricher reads), a file or '-':
                         base64 Thrift lines, the input format of \`furrow enrich --input\`
  --failed DEST          still-failing rows as recovery_error bad rows: a file, 'stderr' or kinesis://STREAM
                         (default: counted and summarised only; the input keeps them)
  --ledger FILE          ids of recovered rows; a re-run skips them (required unless --dry-run)
  --dry-run              write nothing: print each row's outcome and what the fixes change

Fixes (a --config file, or any of the quick fixes, applied in the order given to every selected row):
  --config FILE          Snowplow event recovery config (recoveries/jsonschema/4-0-0; JSON or base64),
                         with furrow's extra steps (Set, Rename, SetSchema, Script); see docs/recovery.md
  --set PATH=VALUE       set a field of the payload (VALUE as JSON, else text), e.g. --set '$.raw.parameters.aid=shop'
  --remove PATH          remove a field, e.g. --remove '$.raw.parameters.ue_pr.data.data.debug'
  --rename PATH=NAME     rename a field
  --set-schema FROM=TO   use schema TO wherever FROM (URI or criterion, 1-0-*) is named in ue/contexts/body
  --script FILE          function recover(payload, badRow) in the operator script sandbox

Selection (all given must hold; rows left out are counted as skipped):
  --type T               bad-row type (repeatable, or comma-separated): schema_violations, enrichment_failures,
                         tracker_protocol_violations, adapter_failures, collector_payload_format_violation,
                         size_violation
  --schema CRIT          the failure names this schema (Iglu URI or criterion; repeatable)
  --error REGEX          the failure (as JSON text) matches (repeatable: all must match)
  --since ISO, --until ISO   failure.timestamp in [since, until)

Validation (default: the fixed payload is enriched in-process, as \`furrow enrich\` would with these flags):
  --iglu-config FILE     Iglu resolver config (default: built-in schemas + Iglu Central)
  --enrichments DIR      enrichment configs, as for \`furrow enrich\`
  --assets-dir DIR       where enrichment assets are downloaded (default $TMPDIR/furrow-assets)
  --offline              never contact Iglu Central
  --no-validate          only check that the fixed payload encodes and passes the enricher's loader checks

AWS:
  --region R, --kinesis-endpoint URL, --s3-endpoint URL
  --log-level LEVEL      pino level for the JSON logs on stderr (default warn)`;

const FLAGS: FlagTable = {
  input: { type: 'string' },
  'since-record': { type: 'string' },
  output: { type: 'string' },
  failed: { type: 'string' },
  ledger: { type: 'string' },
  'dry-run': { type: 'boolean' },
  config: { type: 'string' },
  set: { type: 'string', multiple: true },
  remove: { type: 'string', multiple: true },
  rename: { type: 'string', multiple: true },
  'set-schema': { type: 'string', multiple: true },
  script: { type: 'string', multiple: true },
  type: { type: 'string', multiple: true },
  schema: { type: 'string', multiple: true },
  error: { type: 'string', multiple: true },
  since: { type: 'string' },
  until: { type: 'string' },
  'iglu-config': { type: 'string' },
  resolver: { type: 'string' },
  enrichments: { type: 'string' },
  'assets-dir': { type: 'string' },
  offline: { type: 'boolean' },
  'no-validate': { type: 'boolean' },
  region: { type: 'string' },
  'kinesis-endpoint': { type: 'string' },
  's3-endpoint': { type: 'string' },
};

/** `PATH=VALUE`: the first '=' outside brackets and not part of `=~` / `==`. */
export function splitAssignment(arg: string, flag: string): [string, string] {
  let depth = 0;
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i];
    if (c === '[') depth++;
    else if (c === ']') depth--;
    else if (c === '=' && depth === 0) return [arg.slice(0, i), arg.slice(i + 1)];
  }
  throw usageError(`${flag} ${arg}: expected PATH=VALUE`, USAGE);
}

function jsonOrText(v: string): unknown {
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
}

function time(v: string | undefined, flag: string): number | null {
  if (v === undefined) return null;
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw usageError(`${flag} ${v}: not a time (ISO 8601, e.g. 2026-12-07T10:00:00Z)`, USAGE);
  return t;
}

const FIX_FLAGS = ['set', 'remove', 'rename', 'set-schema', 'script'];

/** The quick fixes in argv order (parseArgs keeps each flag's values in order, not the order between flags). */
function fixesInOrder(argv: readonly string[]): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=([\s\S]*))?$/.exec(argv[i]!);
    if (m === null || !FIX_FLAGS.includes(m[1]!)) continue;
    const value = m[2] ?? argv[++i];
    if (value !== undefined) out.push({ name: m[1]!, value });
  }
  return out;
}

function buildConfig(a: ReturnType<typeof parseCommandArgs>, argv: readonly string[]): RecoveryConfig {
  const steps: unknown[] = [];
  for (const t of fixesInOrder(argv)) {
    const v = t.value;
    switch (t.name) {
      case 'set': {
        const [path, value] = splitAssignment(v, '--set');
        steps.push({ op: 'Set', path, value: jsonOrText(value) });
        break;
      }
      case 'remove':
        steps.push({ op: 'Remove', path: v });
        break;
      case 'rename': {
        const [path, to] = splitAssignment(v, '--rename');
        steps.push({ op: 'Rename', path, to });
        break;
      }
      case 'set-schema': {
        const [from, to] = splitAssignment(v, '--set-schema');
        steps.push({ op: 'SetSchema', from, to });
        break;
      }
      case 'script':
        steps.push({ op: 'Script', file: v });
        break;
    }
  }
  const file = str(a, 'config');
  if (file !== undefined && steps.length > 0) throw usageError('--config and quick fixes (--set, --remove, --rename, --set-schema, --script) cannot be combined', USAGE);
  if (file !== undefined) return readRecoveryConfig(file);
  // No fix at all: every selected row is sent again as it is (Snowplow's "passthrough", e.g. a schema added since).
  return singleFlowConfig('command line', steps);
}

function buildSelection(a: ReturnType<typeof parseCommandArgs>): Selection {
  const types = list(a, 'type').flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  for (const t of types) if (!isRecoverableType(t)) throw usageError(`--type ${t}: not a bad-row type recovery handles`, USAGE);
  const errors = list(a, 'error').map((e) => {
    try {
      return new RegExp(e);
    } catch (x) {
      throw usageError(`--error ${e}: ${(x as Error).message}`, USAGE);
    }
  });
  return {
    types,
    schemas: list(a, 'schema').map((s) => schemaPattern(s, '--schema')),
    errors,
    since: time(str(a, 'since'), '--since'),
    until: time(str(a, 'until'), '--until'),
  };
}

const KINESIS = 'kinesis://';

function source(input: string, a: ReturnType<typeof parseCommandArgs>): BadRowSource {
  const region = str(a, 'region');
  if (input.startsWith(KINESIS)) {
    const since = time(str(a, 'since-record'), '--since-record');
    const client = createKinesisClient({ region, endpoint: str(a, 'kinesis-endpoint') });
    return kinesisSource(client, { streamName: input.slice(KINESIS.length), since: since === null ? null : new Date(since) });
  }
  if (input.startsWith('s3://')) return s3Source(input, createS3Client({ region, endpoint: str(a, 's3-endpoint') }));
  if (/^[a-z0-9]+:\/\//.test(input)) throw usageError(`--input ${input}: expected a file, a folder, '-', s3://… or kinesis://…`, USAGE);
  return localSource(input);
}

function sink(dest: string, base64: boolean, a: ReturnType<typeof parseCommandArgs>, log: Logger): RecordSink {
  if (dest.startsWith(KINESIS)) return kinesisSink(createKinesisClient({ region: str(a, 'region'), endpoint: str(a, 'kinesis-endpoint') }), dest.slice(KINESIS.length), log);
  if (/^[a-z0-9]+:\/\//.test(dest)) throw usageError(`${dest}: expected a file, '-' or kinesis://…`, USAGE);
  return fileSink(dest, base64);
}

async function buildValidate(a: ReturnType<typeof parseCommandArgs>, log: Logger): Promise<{ validate: Validate | null; close: () => Promise<void> }> {
  if (a.values['no-validate'] === true) return { validate: null, close: async () => {} };
  const { DEFAULT_ENRICH_CONFIG } = await import('../../enricher/config.js');
  const { createBuiltinResolver, createResolverFromFile } = await import('../../iglu-resolver/index.js');
  const { createEnricher } = await import('../../enricher/enricher-factory.js');
  const igluConfig = str(a, 'iglu-config') ?? str(a, 'resolver');
  const resolverOptions = { offline: a.values['offline'] === true, logger: log };
  const resolver = igluConfig === undefined ? await createBuiltinResolver(resolverOptions) : await createResolverFromFile(igluConfig, resolverOptions);
  let pipeline = null;
  const dir = str(a, 'enrichments');
  if (dir !== undefined) {
    const { buildEnrichments, loadEnrichmentsDir } = await import('../../enricher/enrichments/registry.js');
    const assetsDir = str(a, 'assets-dir') ?? join(tmpdir(), 'furrow-assets');
    mkdirSync(assetsDir, { recursive: true });
    const c = DEFAULT_ENRICH_CONFIG;
    pipeline = await buildEnrichments(await loadEnrichmentsDir(dir), {
      resolver, logger: log, assetsDir, fetch: globalThis.fetch, assetsUpdatePeriodMs: c.assetsUpdatePeriodMs,
      exitOnJsCompileError: c.validation.exitOnJsCompileError, javascriptTimeoutMs: c.javascript.timeoutMs, javascriptMaxMemoryMb: c.javascript.maxMemoryMb,
    });
  }
  const { processor } = createEnricher(DEFAULT_ENRICH_CONFIG, resolver, pipeline, { emitFailed: false, onIgluOutage: 'bad-row' });
  return { validate: validateWith(processor), close: async () => { await pipeline?.close(); } };
}

function printResult(r: RowResult): void {
  const head = `${r.id} ${r.type ?? 'unreadable'} ${r.outcome}${r.flow !== null ? ` (flow "${r.flow}")` : ''}${r.reason !== null ? `: ${r.reason}` : ''}`;
  const lines = [head];
  for (const c of r.changes) lines.push(`  ${formatChange(c)}`);
  if (r.outcome === 'recovered') lines.push(`  → ${r.records.length} record${r.records.length === 1 ? '' : 's'}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function formatSummary(s: Summary, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'dry run: ' : ''}read ${s.read} bad rows: recovered ${s.recovered} (${s.records} records${dryRun ? ' not written' : ' written'}), still failing ${s.failed}, skipped ${s.skipped}`,
  ];
  for (const [t, c] of Object.entries(s.byType).sort()) lines.push(`  ${t}: recovered ${c.recovered}, still failing ${c.failed}, skipped ${c.skipped}`);
  if (Object.keys(s.reasons).length > 0) {
    lines.push('reasons (failed and skipped):');
    for (const [r, n] of Object.entries(s.reasons)) lines.push(`  ${n} × ${r}`);
  }
  return lines.join('\n');
}

export const command: Command = {
  summary: 'fix Snowplow bad rows and send their payloads through the enricher again',
  usage: USAGE,
  async run(argv) {
    const a = parseCommandArgs(argv, FLAGS, USAGE, { logLevel: 'warn' });
    const log = createLogger('recover', a.logLevel);
    const input = str(a, 'input');
    if (input === undefined) throw usageError('--input is required', USAGE);
    const dryRun = a.values['dry-run'] === true;
    const outputDest = str(a, 'output');
    const ledgerFile = str(a, 'ledger');
    if (!dryRun && outputDest === undefined) throw usageError('--output is required (or --dry-run)', USAGE);
    if (!dryRun && ledgerFile === undefined) throw usageError('--ledger FILE is required (it makes a re-run skip what was recovered); or --dry-run', USAGE);
    if (outputDest !== undefined && (outputDest === '-' || outputDest === 'stdout') && dryRun) throw usageError('--dry-run prints to stdout; give no --output', USAGE);
    if (str(a, 'since-record') !== undefined && !input.startsWith(KINESIS)) throw usageError('--since-record is for a kinesis:// input', USAGE);
    const config = buildConfig(a, argv);
    const selection = buildSelection(a);
    const src = source(input, a);
    const ledger = ledgerFile === undefined ? null : await FileLedger.open(ledgerFile);
    const { validate, close: closeValidate } = await buildValidate(a, log);
    // A Kinesis record holds at most 1 MiB: a bigger recovered record is still failing, not a reason to stop.
    const maxRecordBytes = outputDest?.startsWith(KINESIS) ? KINESIS_RECORD_MAX_BYTES : null;
    const recoverer = await Recoverer.create({ config, loadCheck: loadCollectorPayload, selection, validate, ledger, logger: log, maxRecordBytes });
    const output = dryRun || outputDest === undefined ? null : sink(outputDest, true, a, log);
    const failedDest = str(a, 'failed');
    const failed = dryRun || failedDest === undefined ? null : sink(failedDest, false, a, log);
    const ac = new AbortController();
    const stop = (): void => {
      log.warn('stopping after the current batch');
      ac.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const summary = await runRecovery({ source: src, recoverer, output, failed, ledger, dryRun, logger: log, onResult: dryRun ? printResult : undefined }, ac.signal);
      await output?.close();
      await failed?.close();
      process.stderr.write(formatSummary(summary, dryRun) + '\n');
      log.info({ summary }, 'recovery finished');
      return 0;
    } catch (e) {
      await Promise.allSettled([output?.close(), failed?.close()]);
      if (e instanceof FurrowError) throw e;
      throw e;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await recoverer.close();
      await closeValidate();
      await ledger?.close();
      await new Promise<void>((r) => log.flush(() => r()));
    }
  },
};
