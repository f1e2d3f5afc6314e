import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSender } from '../../../functions/adapters/webhook-sender';

/** A receiver on loopback that answers each path its own way. */
let server: Server;
let baseUrl: string;
const received: Array<{ path: string; headers: Record<string, unknown>; body: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      if (request.url === '/slow') return; // never answers
      response.writeHead(request.url === '/down' ? 503 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('WebhookSender', () => {
  const sender = new WebhookSender({ timeoutMs: 300 });

  it('POSTs the body as JSON with the given headers and reports the status', async () => {
    expect(await sender.send({ url: `${baseUrl}/ok`, headers: { 'webhook-id': 'w1' }, body: '{"a":1}' })).toEqual({ status: 204 });
    expect(received.at(-1)).toMatchObject({ path: '/ok', body: '{"a":1}', headers: { 'webhook-id': 'w1', 'content-type': 'application/json' } });
    expect(await sender.send({ url: `${baseUrl}/down`, headers: {}, body: '{}' })).toEqual({ status: 503 });
  });

  it('reports a receiver that does not answer in time, or cannot be reached, without throwing', async () => {
    expect(await sender.send({ url: `${baseUrl}/slow`, headers: {}, body: '{}' })).toEqual({ error: 'timeout' });
    expect(await sender.send({ url: 'http://127.0.0.1:1/closed', headers: {}, body: '{}' })).toEqual({ error: 'network' });
  });
});
