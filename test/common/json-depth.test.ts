import t from 'tap';
import { DOWNSTREAM_MAX_JSON_DEPTH, exceedsDepth, parseJsonWithin, valueExceedsDepth } from '../../common/json-depth.js';

const nested = (depth: number, leaf = '1'): string => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

t.test('text depth counts every node, scalars included, as Snowplow does', async (t) => {
  t.notOk(exceedsDepth('{"a":{"b":1}}', 3));
  t.ok(exceedsDepth('{"a":{"b":1}}', 2), 'the scalar is level 3');
  t.notOk(exceedsDepth('[[]]', 2));
  t.ok(exceedsDepth('[[[]]]', 2));
  t.notOk(exceedsDepth('"' + '['.repeat(5000) + '"', 3), 'brackets inside a string do not count');
  t.notOk(exceedsDepth('"\\"' + '['.repeat(5000) + '"', 3), 'nor after an escaped quote');
  t.ok(exceedsDepth('['.repeat(5000), 1000), 'unbalanced text is bounded too (a parser of it would build as deep)');
  t.notOk(exceedsDepth('1', 1));
  t.ok(exceedsDepth('[1]', 1));
  // Each level takes a character: a text no longer than the limit cannot exceed it.
  for (let max = 1; max <= 6; max++) {
    t.notOk(exceedsDepth('['.repeat(max), max), `${max} brackets, limit ${max}`);
    t.ok(exceedsDepth('['.repeat(max) + '1', max), `${max} brackets and a scalar, limit ${max}`);
  }
  t.notOk(exceedsDepth(nested(999), DOWNSTREAM_MAX_JSON_DEPTH), '999 objects + the scalar = 1,000 levels');
  t.ok(exceedsDepth(nested(1000), DOWNSTREAM_MAX_JSON_DEPTH));
});

t.test('value depth: the same count, iteratively, on values far deeper than the stack allows a recursion', async (t) => {
  t.notOk(valueExceedsDepth({ a: { b: 1 } }, 3));
  t.ok(valueExceedsDepth({ a: { b: 1 } }, 2));
  t.notOk(valueExceedsDepth({ a: { b: {} } }, 3), 'an empty container has no level below it');
  t.notOk(valueExceedsDepth('x', 1));
  t.ok(valueExceedsDepth([[1], 2], 2));
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  t.ok(valueExceedsDepth(deep, DOWNSTREAM_MAX_JSON_DEPTH));
  t.notOk(valueExceedsDepth(deep, 200_001));
  for (const text of ['{"a":[1,{"b":[[2]]}],"c":"d"}', nested(40), '[]', '{}', '[[[[]]]]']) {
    for (let max = 1; max <= 45; max++) t.equal(valueExceedsDepth(JSON.parse(text), max), exceedsDepth(text, max), `${text.slice(0, 20)} at ${max}`);
  }
});

t.test('parseJsonWithin never throws and says why', async (t) => {
  t.same(parseJsonWithin('{"a":[1]}', 3), { ok: true, value: { a: [1] } });
  t.same(parseJsonWithin(nested(60), 50), { ok: false, error: 'invalid json: maximum allowed JSON depth exceeded' });
  t.match(parseJsonWithin('{"a":', 50), { ok: false, error: /^invalid json: / });
});
