import t from 'tap';
import { atomicBinaryBuffer, atomicRow, escapeCopy, shredRow } from '../../loaders/postgres/copy-text.js';
import { flattenSchema, parseTableKey } from '../../loaders/schema-ddl.js';
import { atomicTsvOf, columnsOf, shredLine } from '../../loaders/shred.js';
import { ENRICHED_INDEX as F, generateColumns } from '../support/enriched-generator.js';

t.test('atomic rows: runs joined by TAB, empty columns stay empty (NULL \'\'), backslash and CR escaped', async (t) => {
  t.equal(atomicRow(['\ta\t\t\tb\\c\t', '', 'x\ry', 'z']), '\ta\t\t\tb\\\\c\t\t\tx\\ry\tz\n');
  t.equal(escapeCopy('a\tb\nc\\'), 'a\\tb\\nc\\\\');
  // binary lines: the same bytes in one buffer, UTF-8 untouched
  const bin = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
  const buf = atomicBinaryBuffer([['\ta\t\t\tb\\c\t', '', 'x\ry', 'z'], [bin('Grüße\t🎉'), 'b', 'c', '']]);
  t.equal(buf.toString('utf8'), '\ta\t\t\tb\\\\c\t\t\tx\\ry\tz\nGrüße\t🎉\tb\tc\t\n');
});

t.test('shredLine keeps the 128 atomic columns in order and the three JSON columns out', async (t) => {
  const cols = generateColumns(4, { seed: 1 });
  cols[F.app_id] = '';
  cols[F.true_tstamp] = '2024-01-01 00:00:00.000';
  const out = shredLine(cols.join('\t'));
  if (!out.ok) throw new Error(out.badRow);
  const atomic = atomicTsvOf(out.event).split('\t');
  t.equal(atomic.length, 128);
  t.equal(atomic[0], '');
  t.equal(atomic[127], '2024-01-01 00:00:00.000');
  t.notOk(atomicTsvOf(out.event).includes('iglu:'), 'no JSON column left');
  t.same(columnsOf(out.event), cols);
  t.equal(out.event.entities.length, 2);
  const extra = shredLine(cols.join('\t') + '\tmore');
  t.match(extra, { ok: false, badRow: /"fieldCount":132/ });
});

t.test('per-schema rows render each JSON type for its column kind', async (t) => {
  const cols = flattenSchema({
    type: 'object',
    properties: { s: { type: 'string' }, n: { type: 'number' }, b: { type: 'boolean' }, j: { type: 'array' }, o: { type: 'object', properties: { x: { type: 'integer' } } } },
  });
  const key = parseTableKey('iglu:com.acme/x/jsonschema/1-0-2')!;
  const row = shredRow({ key, data: { s: 'a\tb', n: 1.5, b: false, j: [1, 'x\\y'], o: { x: 3 } } }, 'id', 'ts', cols);
  t.equal(row, 'com.acme\tx\tjsonschema\t1-0-2\tid\tts\tf\t[1,"x\\\\\\\\y"]\t1.5\t3\ta\\tb\n');
  t.equal(shredRow({ key, data: {} }, 'id', 'ts', cols), 'com.acme\tx\tjsonschema\t1-0-2\tid\tts\t\\N\t\\N\t\\N\t\\N\t\\N\n');
});
