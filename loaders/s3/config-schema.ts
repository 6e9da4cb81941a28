/** File keys (and `--kebab-case` flags) of `furrow load s3`. */
import { t } from '../../config/schema.js';

export const s3Keys = {
  batchSize: t.integer({ minimum: 1, default: 1000 }),
  output: t.optional(t.string()),
  rollBytes: t.integer({ minimum: 1, default: 64 * 1024 * 1024 }),
  rollTime: t.duration({ default: 5 * 60_000 }),
  purpose: t.enum(['enriched', 'bad'], { default: 'enriched' }),
};
