import t from 'tap';
import net from 'node:net';
import { spawnSync } from 'node:child_process';

t.test('connections off loopback are refused in tests, loopback works', async (t) => {
  const server = net.createServer((s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = await new Promise<string>((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let data = '';
    c.on('data', (d) => (data += d));
    c.on('end', () => resolve(data));
    c.on('error', reject);
  });
  t.equal(got, 'hi');
  server.close();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    const c = net.connect(80, '192.0.2.1');
    c.on('error', resolve);
    c.on('connect', () => resolve(new Error('connected') as NodeJS.ErrnoException));
  });
  t.match(err.message, /must stay on loopback/);
  await t.rejects(fetch('http://iglucentral.com/schemas/x'), /fetch failed/);
});

t.test('child node processes inherit the guard', async (t) => {
  const r = spawnSync(process.execPath, ['-e', "require('net').connect(80,'192.0.2.1').on('error',e=>{console.log(e.message)})"], { encoding: 'utf8', timeout: 20_000 });
  t.match(r.stdout, /must stay on loopback/);
});
