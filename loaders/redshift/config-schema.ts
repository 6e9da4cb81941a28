/** File keys (and `--kebab-case` flags) of `furrow load redshift`. */
import { t } from '../../config/schema.js';
import { databaseKeys } from '../postgres/config-schema.js';

export const redshiftKeys = {
  ...databaseKeys,
  batchSize: t.integer({ minimum: 1, default: 100_000 }),
  stage: t.optional(t.string()),
  iamRole: t.optional(t.string()),
  maxError: t.integer({ minimum: 0, default: 1 }),
  dryRun: t.boolean({ default: false }),
};
