/** `target { type = kinesis, ... }`: another Kinesis stream (TSV or JSON records). Implementation: kinesis.ts. */
import { t } from '../../config/schema.js';
import { targetConfig } from './target-config.js';

export interface KinesisTargetConfig {
  readonly type: 'kinesis';
  readonly streamName: string;
  readonly region: string | null;
  readonly endpoint: string | null;
  readonly partitionKeyField: string;
  readonly format: 'tsv' | 'json';
}

const schema = t.object({
  stream_name: t.string(),
  region: t.optional(t.string()),
  endpoint: t.optional(t.httpUrl()),
  partition_key_field: t.string({ default: 'event_id' }),
  format: t.enum(['tsv', 'json'], { default: 'tsv' }),
});

export const kinesisConfig = targetConfig({
  schema,
  // PutRecords: 500 records, 5 MiB
  limits: { maxEvents: 500, maxBytes: 5 * 1024 * 1024 },
  build: (b): KinesisTargetConfig => ({
    type: 'kinesis',
    streamName: b.stream_name,
    region: b.region ?? null,
    endpoint: b.endpoint ?? null,
    partitionKeyField: b.partition_key_field,
    format: b.format,
  }),
});
