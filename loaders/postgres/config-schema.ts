/** File keys (and `--kebab-case` flags) of `furrow load postgres` and, shared, `furrow load redshift`. */
import { t } from '../../config/schema.js';

export const databaseKeys = {
  url: t.optional(t.string()),
  schema: t.string({ default: 'atomic', pattern: '^[a-z_][a-z0-9_]{0,62}$', expect: 'must be a plain lower-case SQL identifier' }),
  igluConfig: t.optional(t.string()),
  retryFor: t.duration({ default: 10 * 60_000 }),
};

export const postgresKeys = { ...databaseKeys, batchSize: t.integer({ minimum: 1, default: 2000 }) };
