import t from 'tap';
import { formDecode, isValidOriginForm, queryParam, redirectTargetHost, withQueryParam } from '../../collector/request-target.js';

t.test('request-target validation (RFC 3986 origin-form)', async (t) => {
  for (const ok of ['/i', '/i?', '/i?e=pv&url=https%3A%2F%2Fa.b%2F', '/a/b?x=[1]&y=/?z', "/p!$&'()*+,;=:@-._~", '/%41%7e']) t.ok(isValidOriginForm(ok, 0), ok);
  for (const bad of ['/i?a=b|c', '/i?a=%zz', '/i?a=%4', '/i%', '/i?x=é', '/a b', '/i#frag', '/i?a="x"', '/[x]', '/i?a=^', '/i?a=`', '/i?a={}', '/i?a=\\']) t.notOk(isValidOriginForm(bad, 0), bad);
  t.ok(isValidOriginForm('http://h/i?e=pv', 8));
});

t.test('query helpers', async (t) => {
  t.equal(queryParam('a=1&nuid=x%20y+z&nuid=2', 'nuid'), 'x y z');
  t.equal(queryParam('nuid=&a=1', 'nuid'), '');
  t.equal(queryParam('nuid', 'nuid'), '');
  t.equal(queryParam('a=1', 'nuid'), null);
  t.equal(queryParam('nuid=%E0%A4', 'nuid'), null, 'invalid UTF-8 escape');
  t.equal(formDecode('a+b%2B'), 'a b+');
  t.equal(withQueryParam('e=pv', 'n3pc', 'true'), 'e=pv&n3pc=true');
  t.equal(withQueryParam('', 'n3pc', 'true'), 'n3pc=true');
  t.equal(withQueryParam('n3pc=false&e=pv', 'n3pc', 'true'), 'n3pc=true&e=pv');
  t.equal(withQueryParam('url=https%3A%2F%2Fa.b%2F&x=a+b', 'n3pc', 'true'), 'url=https://a.b/&x=a%20b&n3pc=true', 're-rendered from decoded pairs');
});

t.test('redirect targets', async (t) => {
  t.equal(redirectTargetHost('https://Example.com/x?y=1'), 'example.com');
  t.equal(redirectTargetHost('/relative/path'), '');
  t.equal(redirectTargetHost('https://ex ample.com'), null);
  t.equal(redirectTargetHost(''), null);
  t.equal(redirectTargetHost('javascript:alert(1)'), '');
});
