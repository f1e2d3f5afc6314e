import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { WebhookSender, type ResolvedAddress, type Resolver } from '../../../functions/adapters/webhook-sender';

/** A receiver on loopback that answers each path its own way. */
let server: Server;
let port: number;
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
  port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Answers from a table, counting the questions; never asks a real DNS server. */
function fakeResolver(answers: Record<string, readonly string[]>): Resolver & { readonly asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string): Promise<readonly ResolvedAddress[]> => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: net.isIP(address) === 6 ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

describe('WebhookSender', () => {
  /** Loopback allowed, as on the local platform, so the receiver above can be called. */
  const sender = new WebhookSender({ timeoutMs: 300, policy: { allowLoopback: true } });
  afterAll(() => sender.close());

  it('POSTs the body as JSON with the given headers and reports the status', async () => {
    expect(await sender.send({ url: `${baseUrl}/ok`, headers: { 'webhook-id': 'w1' }, body: '{"a":1}' })).toEqual({ status: 204 });
    expect(received.at(-1)).toMatchObject({
      path: '/ok',
      body: '{"a":1}',
      headers: { 'webhook-id': 'w1', 'content-type': 'application/json', 'content-length': '7' },
    });
    expect(await sender.send({ url: `${baseUrl}/down`, headers: {}, body: '{}' })).toEqual({ status: 503 });
  });

  it('reports a receiver that does not answer in time, or cannot be reached, without throwing', async () => {
    expect(await sender.send({ url: `${baseUrl}/slow`, headers: {}, body: '{}' })).toEqual({ error: 'timeout' });
    expect(await sender.send({ url: 'http://127.0.0.1:1/closed', headers: {}, body: '{}' })).toEqual({ error: 'network' });
  });
});

describe('WebhookSender against SSRF', () => {
  let connect: jest.SpyInstance;
  beforeEach(() => {
    connect = jest.spyOn(net.Socket.prototype, 'connect');
  });
  afterEach(() => connect.mockRestore());

  it('refuses a host name that resolves to a private or metadata address, and opens no socket', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['10.0.0.8'], 'meta.example.com': ['169.254.169.254'], 'six.example.com': ['fd00::8'] });
    const sender = new WebhookSender({ resolve });
    expect(await sender.send({ url: 'https://hooks.example.com/dmp', headers: {}, body: '{}' })).toEqual({ refused: 'private' });
    expect(await sender.send({ url: 'https://meta.example.com/latest/meta-data/', headers: {}, body: '{}' })).toEqual({ refused: 'link-local' });
    expect(await sender.send({ url: 'https://six.example.com/', headers: {}, body: '{}' })).toEqual({ refused: 'unique-local' });
    expect(resolve.asked).toEqual(['hooks.example.com', 'meta.example.com', 'six.example.com']);
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a name when any of its addresses is refused, not only the first', async () => {
    const resolve = fakeResolver({ 'mixed.example.com': ['93.184.215.14', '127.0.0.1'] });
    expect(await new WebhookSender({ resolve }).send({ url: 'https://mixed.example.com/', headers: {}, body: '{}' })).toEqual({ refused: 'loopback' });
    expect(connect).not.toHaveBeenCalled();
  });

  it('refuses a literal address or an http URL without resolving anything', async () => {
    const resolve = fakeResolver({});
    const sender = new WebhookSender({ resolve });
    for (const [url, refused] of [
      ['https://169.254.169.254/latest/meta-data/', 'link-local'],
      ['https://[::ffff:a00:8]/', 'private'],
      ['https://0x7f.1/', 'loopback'],
      ['https://2130706433/', 'loopback'],
      ['http://hooks.example.com/', 'scheme'],
      ['https://metadata.google.internal/', 'host'],
      [`${baseUrl}/ok`, 'loopback'],
    ] as const) {
      expect(await sender.send({ url, headers: {}, body: '{}' })).toEqual({ refused });
    }
    expect(resolve.asked).toEqual([]);
    expect(connect).not.toHaveBeenCalled();
  });

  it('allows loopback only under the local policy, and never private addresses', async () => {
    const resolve = fakeResolver({ 'hooks.example.com': ['10.0.0.8'] });
    const local = new WebhookSender({ resolve, policy: { allowLoopback: true } });
    expect(await local.send({ url: 'https://hooks.example.com/', headers: {}, body: '{}' })).toEqual({ refused: 'private' });
    expect(await local.send({ url: 'http://10.0.0.8/', headers: {}, body: '{}' })).toEqual({ refused: 'private' });
    expect(connect).not.toHaveBeenCalled();
  });

  it('connects to the checked address, with the original Host, whatever DNS answers afterwards (no rebinding)', async () => {
    // A rebinding name: loopback (allowed here) when checked, a private address on any later lookup.
    const asked: string[] = [];
    const rebinding: Resolver = async (hostname) => {
      asked.push(hostname);
      return [{ address: asked.length === 1 ? '127.0.0.1' : '10.0.0.8', family: 4 }];
    };
    const sender = new WebhookSender({ resolve: rebinding, policy: { allowLoopback: true } });
    try {
      expect(await sender.send({ url: `http://hooks.localhost:${port}/pinned`, headers: {}, body: '{}' })).toEqual({ status: 204 });
    } finally {
      sender.close();
    }
    expect(asked).toEqual(['hooks.localhost']);
    // The spy the refusals are checked with does see connections.
    expect(connect).toHaveBeenCalled();
    expect(received.at(-1)).toMatchObject({ path: '/pinned', headers: { host: `hooks.localhost:${port}` } });
  });

  it('sends the original host name as TLS SNI to the pinned address', async () => {
    // `crm.test` exists only in the fake resolver: the handshake can only reach this server through the pinned address.
    let serverName: string | undefined;
    // No certificate: the handshake is failed on purpose once the SNI is seen.
    const tlsServer = tls.createServer({
      SNICallback: (name, callback) => {
        serverName = name;
        callback(new Error('no certificate here'));
      },
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    const sender = new WebhookSender({ timeoutMs: 2_000, resolve: fakeResolver({ 'crm.test': ['127.0.0.1'] }), policy: { allowLoopback: true } });
    try {
      expect(await sender.send({ url: `https://crm.test:${tlsPort}/hook`, headers: {}, body: '{}' })).toEqual({ error: 'network' });
    } finally {
      sender.close();
      await new Promise((resolve) => tlsServer.close(resolve));
    }
    expect(serverName).toBe('crm.test');
  });

  it('reports a name that does not resolve as a network error (retried), not a refusal', async () => {
    expect(await new WebhookSender({ resolve: fakeResolver({}) }).send({ url: 'https://gone.example.com/', headers: {}, body: '{}' })).toEqual({
      error: 'network',
    });
    expect(connect).not.toHaveBeenCalled();
  });
});
