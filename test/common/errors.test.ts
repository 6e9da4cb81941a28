import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CODES, FurrowError } from '../../common/errors.js';
import { renderErrorsDoc } from '../../scripts/errors-doc.js';

t.test('codes are unique, prefixed by area and described', async (t) => {
  const codes = Object.keys(ERROR_CODES);
  t.equal(new Set(codes).size, codes.length);
  for (const [code, meaning] of Object.entries(ERROR_CODES)) {
    t.match(code, /^(CONFIG|COLLECTOR|IGLU|ENRICH|LEASE|LOADER|FORWARD|MINI|RECOVER)_[A-Z0-9_]+$/, code);
    t.ok(typeof meaning === 'string' && meaning.length > 5, `${code} has a meaning`);
  }
});

t.test('docs/errors.md lists every code (regenerate with `npx tsx scripts/errors-doc.ts`)', async (t) => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/errors.md'), 'utf8');
  t.equal(doc, renderErrorsDoc());
});

t.test('FurrowError carries its code in the message', async (t) => {
  const e = new FurrowError('CONFIG_UNKNOWN_KEY', 'collector.foo is not a known key');
  t.equal(e.code, 'CONFIG_UNKNOWN_KEY');
  t.equal(e.message, 'CONFIG_UNKNOWN_KEY: collector.foo is not a known key');
});
