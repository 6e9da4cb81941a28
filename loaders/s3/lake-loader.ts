/**
 * The S3 loader (the data lake), like Snowplow's S3 loader: lines from a stream into gzipped objects under
 * date-partitioned prefixes, rolled by size and time. The stream checkpoint advances only after the object
 * holding a batch's lines was uploaded.
 *
 *   batch(lines, commit) ──gzip into current file──> [uncompressed bytes >= rollBytes  or  age >= rollMs]
 *        │                                                        │ roll
 *        └─ commit kept pending ──────────────────────────────────┴─ PutObject (retried) ── ok ──> commit() each
 *                                                                                    └─ fails ──> LOADER_UPLOAD,
 *                                                                                       nothing checkpointed
 *   key: <prefix>/YYYY/MM/DD/HH/<purpose>-<YYYYMMDDTHHmmssSSS>-<seq>-<writer>.gz   (UTC of the file's opening;
 *        keys sort in time order, which is the replay order of `furrow load postgres --input s3://…`)
 *
 * purpose enriched: lines that are not 131-column TSV go to the `bad` prefix as loader_parsing_error rows
 * (or stay in the good file when no bad prefix is configured: nothing is dropped).
 */
import { backoffMs, sleep } from '../../common/timing.js';
import { randomBytes } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createGzip, type Gzip } from 'node:zlib';
import { FurrowError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { ENRICHED_FIELDS } from '../../formats/enriched-event.js';
import { parsingBadRow } from '../bad-rows.js';
import type { LoaderConfig } from '../config.js';
import type { Registry } from 'prom-client';
import type { LoaderMetrics } from '../metrics.js';
import { parseS3Url, type S3Location } from '../../streams/sources/s3-source.js';

export interface LakeWriterOptions {
  readonly location: S3Location;
  readonly purpose: 'enriched' | 'bad';
  readonly rollBytes: number;
  readonly rollMs: number;
  /** Upload attempts before giving up. */
  readonly uploadAttempts: number;
  readonly now: () => number;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** One open (not yet uploaded) gzipped file and the checkpoints waiting on it. */
class OpenFile {
  readonly chunks: Buffer[] = [];
  readonly gzip: Gzip = createGzip();
  readonly commits: Array<() => Promise<void>> = [];
  bytes = 0;
  lines = 0;
  constructor(readonly openedAt: number) {
    this.gzip.on('data', (c: Buffer) => this.chunks.push(c));
  }
  async finish(): Promise<Buffer> {
    await new Promise<void>((resolve, reject) => {
      this.gzip.once('end', resolve);
      this.gzip.once('error', reject);
      this.gzip.end();
    });
    return Buffer.concat(this.chunks);
  }
}

export class LakeWriter {
  private file: OpenFile | null = null;
  private seq = 0;
  private readonly writerId = randomBytes(4).toString('hex');
  /** Serializes add/tick/close (a timer and the source may both call in). */
  private chain: Promise<void> = Promise.resolve();
  uploaded: string[] = [];

  constructor(
    private readonly s3: S3Client,
    private readonly opts: LakeWriterOptions,
    private readonly logger: Logger,
    private readonly metrics: LoaderMetrics | null = null,
  ) {}

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.then(() => undefined, () => undefined);
    return run;
  }

  /** Appends lines; `commit` (the batch's checkpoint) runs once they are uploaded. Rolls by size. */
  add(lines: readonly string[], commit: () => Promise<void>): Promise<void> {
    return this.serialize(async () => {
      if (lines.length > 0) {
        const f = (this.file ??= new OpenFile(this.opts.now()));
        const text = lines.join('\n') + '\n';
        f.gzip.write(text);
        f.bytes += Buffer.byteLength(text);
        f.lines += lines.length;
      }
      if (this.file === null) {
        await commit(); // nothing to wait for
        return;
      }
      this.file.commits.push(commit);
      if (this.file.bytes >= this.opts.rollBytes) await this.roll();
    });
  }

  /** Rolls the open file when it is older than rollMs (call periodically). */
  tick(): Promise<void> {
    return this.serialize(async () => {
      if (this.file !== null && this.opts.now() - this.file.openedAt >= this.opts.rollMs) await this.roll();
    });
  }

  /** Uploads what is open (end of input or shutdown). */
  close(): Promise<void> {
    return this.serialize(() => this.roll());
  }

  private keyFor(openedAt: number): string {
    const d = new Date(openedAt);
    const y = d.getUTCFullYear();
    const mo = pad(d.getUTCMonth() + 1);
    const day = pad(d.getUTCDate());
    const h = pad(d.getUTCHours());
    const stamp = `${y}${mo}${day}T${h}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}${pad(d.getUTCMilliseconds(), 3)}`;
    const prefix = this.opts.location.prefix.replace(/\/+$/, '');
    const name = `${this.opts.purpose}-${stamp}-${pad(this.seq++, 6)}-${this.writerId}.gz`;
    return `${prefix === '' ? '' : `${prefix}/`}${y}/${mo}/${day}/${h}/${name}`;
  }

  private async roll(): Promise<void> {
    const f = this.file;
    if (f === null) return;
    this.file = null;
    const body = await f.finish();
    const key = this.keyFor(f.openedAt);
    let lastErr: unknown;
    for (let attempt = 1; attempt <= this.opts.uploadAttempts; attempt++) {
      try {
        await this.s3.send(new PutObjectCommand({ Bucket: this.opts.location.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
        lastErr = undefined;
        break;
      } catch (err) {
        lastErr = err;
        this.logger.warn({ key, attempt, err: (err as Error).message }, 'upload failed');
        if (attempt < this.opts.uploadAttempts) await sleep(backoffMs(attempt, 200, 5000));
      }
    }
    if (lastErr !== undefined) {
      throw new FurrowError('LOADER_UPLOAD', `s3://${this.opts.location.bucket}/${key}: ${(lastErr as Error).message}`, { cause: lastErr });
    }
    this.uploaded.push(key);
    this.metrics?.upload(f.lines, body.length);
    this.logger.info({ key, lines: f.lines, bytes: f.bytes, gzipBytes: body.length }, 'uploaded');
    for (const c of f.commits) await c();
  }
}

const TSV_TABS = ENRICHED_FIELDS.length - 1;

function isEnrichedTsv(line: string): boolean {
  let tabs = 0;
  for (let i = line.indexOf('\t'); i !== -1; i = line.indexOf('\t', i + 1)) tabs++;
  return tabs === TSV_TABS;
}

/** Splits an enriched batch into good lines and loader_parsing_error rows for lines that are not enriched TSV. */
export function splitEnriched(lines: readonly string[]): { good: string[]; bad: string[] } {
  const good: string[] = [];
  const bad: string[] = [];
  for (const l of lines) {
    if (isEnrichedTsv(l)) good.push(l);
    else bad.push(parsingBadRow(l, l.includes('\t') ? { type: 'FieldNumberMismatch', fieldCount: l.split('\t').length } : { type: 'NotTSV' }));
  }
  return { good, bad };
}

/** `furrow load s3`: wires the configured source to a LakeWriter (and one for bad rows). */
export async function runLakeLoader(
  cfg: LoaderConfig,
  s3: S3Client,
  logger: Logger,
  signal: AbortSignal,
  metrics: LoaderMetrics | null = null,
  registry: Registry | null = null,
): Promise<void> {
  const out = parseS3Url(cfg.output!);
  if (out === null) throw new FurrowError('CONFIG_INVALID_VALUE', `output: '${cfg.output}' is not s3://bucket/prefix`);
  const badLoc = cfg.bad.startsWith('s3://') ? parseS3Url(cfg.bad) : null;
  if (cfg.bad !== '-' && badLoc === null) throw new FurrowError('CONFIG_INVALID_VALUE', `bad: for furrow load s3 use s3://bucket/prefix (got ${cfg.bad})`);
  const common = { rollBytes: cfg.rollBytes, rollMs: cfg.rollMs, uploadAttempts: 5, now: Date.now };
  const good = new LakeWriter(s3, { ...common, location: out, purpose: cfg.purpose }, logger, metrics);
  const bad = badLoc !== null && cfg.purpose === 'enriched' ? new LakeWriter(s3, { ...common, location: badLoc, purpose: 'bad' }, logger, metrics) : null;
  const noop = async (): Promise<void> => {};
  const write = async (lines: readonly string[], commit: () => Promise<void>): Promise<void> => {
    if (bad === null) return good.add(lines, commit);
    const split = splitEnriched(lines);
    // The checkpoint waits for both files: the good file's commit fires after the bad one is uploaded too.
    let waiting = 2;
    const both = async (): Promise<void> => {
      if (--waiting === 0) await commit();
    };
    await bad.add(split.bad, both);
    await good.add(split.good, both);
  };
  const timer = setInterval(() => {
    good.tick().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'roll failed'));
    bad?.tick().catch((e: unknown) => logger.error({ err: (e as Error).message }, 'roll failed'));
  }, Math.max(50, Math.min(1000, cfg.rollMs / 4)));
  try {
    if (cfg.kinesis !== null) {
      const { createLoaderKinesisSource } = await import('../kinesis-input.js');
      const source = await createLoaderKinesisSource(cfg, logger, registry);
      await source.run((batch) => write(batch.records.map((r) => r.toString('utf8').replace(/\r?\n$/, '')), () => batch.commit()), signal);
    } else {
      const { createLineInput } = await import('../../streams/factory.js');
      // A file/stdin source has no checkpoint: it is read once, start to end.
      const source = createLineInput({ ...cfg, streamName: null }, () => s3);
      await source.run((b) => write(b.records, noop), signal);
    }
  } finally {
    clearInterval(timer);
  }
  await good.close();
  await bad?.close();
  logger.info({ files: good.uploaded.length + (bad?.uploaded.length ?? 0) }, 'input finished');
}
