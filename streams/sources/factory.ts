/** Builds the LineSource named by the loader config (stdin, file, or an s3:// prefix of the lake). */
import type { S3Client } from '@aws-sdk/client-s3';
import { FurrowError } from '../../common/errors.js';
import type { LoaderConfig } from '../../loaders/config.js';
import { FileLineSource } from './file-source.js';
import type { LineSource } from './line-batch.js';
import { parseS3Url, S3LineSource } from './s3-source.js';

export function createLineSource(cfg: LoaderConfig, s3: () => S3Client, encoding: 'utf8' | 'latin1' = 'utf8'): LineSource {
  const input = cfg.input;
  if (input === null) throw new FurrowError('CONFIG_MISSING_KEY', 'input is required');
  const opts = { batchSize: cfg.batchSize, maxDelayMs: cfg.batchMaxDelayMs, encoding };
  if (input.startsWith('s3://')) {
    const loc = parseS3Url(input);
    if (loc === null) throw new FurrowError('CONFIG_INVALID_VALUE', `input: '${input}' is not s3://bucket/prefix`);
    return new S3LineSource(s3(), loc, opts, cfg.streamName ?? undefined);
  }
  if (/^[a-z0-9]+:\/\//.test(input)) throw new FurrowError('CONFIG_UNSUPPORTED', `input: '${input}': only a file, '-' (stdin) or s3://… are supported`);
  return new FileLineSource(input, opts, cfg.streamName ?? undefined);
}
