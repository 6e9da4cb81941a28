/**
 * Recovery paths and steps on payload documents: name/value lists, filters, embedded JSON and base64 (encoded back
 * the way they came), Set creating, Rename, Replace with groups and non-string values, Cast, SetSchema with a
 * criterion, and the bounds on embedded strings.
 */
import t from 'tap';
import { compilePath, edit, locate, REMOVE } from '../../recovery/json-path.js';
import { applyStep } from '../../recovery/steps.js';
import { parseRecoveryConfig } from '../../recovery/config.js';
import { diffDocuments } from '../../recovery/diff.js';
import { readBadRow } from '../../recovery/bad-row.js';
import type { StepSpec } from '../../recovery/config.js';

function steps(list: unknown[]): StepSpec[] {
  return [...parseRecoveryConfig({ 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/*-*-*': [{ name: 'x', steps: list }] }).flows[0]!.flows[0]!.steps];
}

function doc() {
  const cx = Buffer.from(JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [{ schema: 'iglu:com.acme/a/jsonschema/1-0-0', data: { n: '5' } }, { schema: 'iglu:com.acme/b/jsonschema/2-0-0', data: { ok: 1 } }] })).toString('base64url');
  return {
    raw: {
      parameters: [
        { name: 'e', value: 'ue' },
        { name: 'aid', value: 'shop' },
        { name: 'ue_pr', value: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0', data: { schema: 'iglu:com.acme/x/jsonschema/1-0-0', data: { email: 'a@b', extra: true } } }) },
        { name: 'cx', value: cx },
      ],
    },
  };
}

t.test('paths: name/value lists, filters, embedded JSON and base64url', async (t) => {
  const d = doc();
  t.same(locate(d, compilePath('$.raw.parameters.aid')), ['shop']);
  t.same(locate(d, compilePath('$.raw.parameters.[?(@.name=~ue_pr)].value.data.data.email')), ['a@b']);
  t.same(locate(d, compilePath('$.raw.parameters.cx.data[1].data.ok')), [1]);
  t.same(locate(d, compilePath("$.raw.parameters.cx.data[?(@.schema=='iglu:com.acme/a/jsonschema/1-0-0')].data.n")), ['5']);
  t.same(locate(d, compilePath('$.raw.parameters.nope')), []);
  t.throws(() => compilePath('raw.x'), /must start with/);
  t.throws(() => compilePath('$.a[?(@.x=~[)]'), /not closed|bad regex/);
  const holder = { doc: d as unknown };
  t.equal(edit(holder, compilePath('$.raw.parameters.cx.data[0].data.n'), () => 6), 1);
  const cx = (holder.doc as ReturnType<typeof doc>).raw.parameters[3]!.value;
  t.match(cx, /^[A-Za-z0-9_-]+$/, 'still base64url');
  t.same(locate(holder.doc, compilePath('$.raw.parameters.cx.data[0].data.n')), [6]);
  t.equal(edit(holder, compilePath('$.raw.parameters.aid'), () => REMOVE), 1);
  t.same(locate(holder.doc, compilePath('$.raw.parameters[*].name')), ['e', 'ue_pr', 'cx']);
});

t.test('steps', async (t) => {
  const run = (list: unknown[]) => {
    const h = { doc: doc() as unknown };
    for (const s of steps(list)) {
      const f = applyStep(s as Exclude<StepSpec, { op: 'Script' }>, h);
      if (f !== null) return f.reason;
    }
    return h.doc;
  };
  t.same(locate(run([{ op: 'Set', path: '$.raw.parameters.tv', value: 'js-3' }]), compilePath('$.raw.parameters.tv')), ['js-3'], 'Set adds a parameter');
  t.same(locate(run([{ op: 'Rename', path: '$.raw.parameters.ue_pr.data.data.extra', to: 'bonus' }]), compilePath('$.raw.parameters.ue_pr.data.data')), [{ email: 'a@b', bonus: true }]);
  t.same(locate(run([{ op: 'Replace', path: '$.raw.parameters.aid', match: '^(s)hop$', value: '$1tore' }]), compilePath('$.raw.parameters.aid')), ['store']);
  t.same(locate(run([{ op: 'Replace', path: '$.raw.parameters.aid', match: '(?U)^.*$', value: 7 }]), compilePath('$.raw.parameters.aid')), [7]);
  t.same(locate(run([{ op: 'Replace', path: '$.raw.parameters.ue_pr.data.data', match: '^(.*)}$', value: '$1,"event":"open"}' }]), compilePath('$.raw.parameters.ue_pr.data.data.event')), ['open']);
  t.match(run([{ op: 'Replace', path: '$.raw.parameters.ue_pr.data.data', match: '}$', value: '' }]), /not JSON any more/);
  t.same(locate(run([{ op: 'Cast', path: '$.raw.parameters.cx.data[0].data.n', from: 'String', to: 'Numeric' }]), compilePath('$.raw.parameters.cx.data[0].data.n')), [5]);
  t.match(run([{ op: 'Cast', path: '$.raw.parameters.ue_pr.data.data.email', from: 'String', to: 'Numeric' }]), /is not a number/);
  const moved = run([{ op: 'SetSchema', from: 'iglu:com.acme/b/jsonschema/2-*-*', to: 'iglu:com.acme/b/jsonschema/2-1-0' }, { op: 'SetSchema', from: 'iglu:com.acme/x/jsonschema/1-0-0', to: 'iglu:com.acme/x/jsonschema/1-0-1' }]);
  t.same(diffDocuments(doc(), moved).map((c) => c.path), ['$.raw.parameters.ue_pr.data.schema', '$.raw.parameters.cx.data[1].schema']);
  t.same(diffDocuments(doc(), run([{ op: 'Remove', path: '$.raw.parameters.ue_pr.data.data.extra' }])), [{ path: '$.raw.parameters.ue_pr.data.data.extra', before: true }]);
});

t.test('embedded strings are decoded only within bounds', async (t) => {
  const deep = '['.repeat(1000) + ']'.repeat(1000);
  t.same(locate({ v: deep }, compilePath('$.v[0]')), [], 'too deep: not descended into');
  const line = JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1', data: { processor: {}, failure: {}, payload: { raw: { parameters: [{ name: 'ue_pr', value: deep }] } } } });
  const r = readBadRow(line);
  t.equal(r.usable, true, 'the row itself is shallow: usable; its deep parameter is a string');
});
