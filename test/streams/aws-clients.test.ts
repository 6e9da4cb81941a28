/**
 * AWS client factories: AWS_ENDPOINT_URL_KINESIS / _DYNAMODB / AWS_ENDPOINT_URL point unchanged configs at local
 * stand-ins, and a loopback endpoint gets dummy credentials however it was set; a remote one keeps the default chain.
 */
import t from 'tap';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient, createKinesisClient, isLoopbackEndpoint } from '../../streams/aws-clients.js';

const require = createRequire(import.meta.url);
const kinesalite = require('kinesalite') as (o: object) => Server;
const dynalite = require('dynalite') as (o: object) => Server;

async function listen(s: Server): Promise<string> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

t.test('AWS_ENDPOINT_URL_KINESIS / _DYNAMODB reach local stand-ins without credentials in the environment', async (t) => {
  const k = kinesalite({});
  const d = dynalite({});
  t.teardown(() => Promise.all([k, d].map((s) => new Promise((r) => s.close(r)))));
  const env = { AWS_ENDPOINT_URL_KINESIS: await listen(k), AWS_ENDPOINT_URL_DYNAMODB: await listen(d), AWS_REGION: 'eu-west-1' };
  const kinesis = createKinesisClient({}, env);
  const dynamodb = createDynamoDbClient({}, env);
  t.teardown(() => (kinesis.destroy(), dynamodb.destroy()));
  t.same((await kinesis.send(new ListStreamsCommand({}))).StreamNames, []);
  t.same((await dynamodb.send(new ListTablesCommand({}))).TableNames, []);
  t.equal((await kinesis.config.credentials()).accessKeyId, 'furrow-local');
});

t.test('AWS_ENDPOINT_URL applies to every service; an explicit endpoint wins; a remote endpoint gets no dummy credentials', async (t) => {
  const generic = createKinesisClient({}, { AWS_ENDPOINT_URL: 'http://localhost:4566' });
  t.equal((await generic.config.endpoint!()).hostname, 'localhost');
  t.equal((await generic.config.credentials()).accessKeyId, 'furrow-local');
  const explicit = createKinesisClient({ endpoint: 'http://127.0.0.1:1' }, { AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.2:2' });
  t.equal((await explicit.config.endpoint!()).port, 1);
  const remote = createKinesisClient({ endpoint: 'https://vpce-1.kinesis.eu-west-1.vpce.amazonaws.com' }, {});
  const remoteKey = await remote.config.credentials().then((c) => c.accessKeyId, () => 'none from the default chain');
  t.not(remoteKey, 'furrow-local', 'a remote endpoint (e.g. a VPC endpoint) never gets dummy credentials');
  for (const c of [generic, explicit, remote]) c.destroy();
  t.ok(isLoopbackEndpoint('http://127.1.2.3:9'));
  t.ok(isLoopbackEndpoint('http://[::1]:9'));
  t.notOk(isLoopbackEndpoint('http://localstack:4566'));
});
