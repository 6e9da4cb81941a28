/**
 * Writes docs/errors.md from common/errors.ts (the one table of error codes).
 * `npx tsx scripts/errors-doc.ts` regenerates it; test/common/errors.test.ts checks it is current.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES } from '../common/errors.js';

export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    'Every error furrow raises carries one of these codes (`common/errors.ts`); messages start with the code.',
    'Data problems in events are not errors: they become Snowplow bad rows.',
    '',
    '| code | meaning |',
    '|---|---|',
  ];
  for (const [code, meaning] of Object.entries(ERROR_CODES)) lines.push(`| \`${code}\` | ${meaning} |`);
  return lines.join('\n') + '\n';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(join(import.meta.dirname, '../docs/errors.md'), renderErrorsDoc());
}
