import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../../../functions/http/errors';
import { parseJsonBody, readRequestBody } from '../../../functions/http/request-body';
import { apiGatewayEvent } from './api-gateway-event';

const LIMIT = 1024;
const json = JSON.stringify({ hello: 'wörld' });

function post(body: string | Buffer, headers: Record<string, string> = {}) {
  return apiGatewayEvent({ path: '/v1/track', body, headers });
}

describe('readRequestBody', () => {
  it('returns a plain text body as is', async () => {
    await expect(readRequestBody(post(json), LIMIT)).resolves.toBe(json);
  });

  it('decodes a base64 body that has no content encoding', async () => {
    await expect(readRequestBody(post(Buffer.from(json)), LIMIT)).resolves.toBe(json);
  });

  it('treats a missing body as empty', async () => {
    await expect(readRequestBody(apiGatewayEvent({ path: '/v1/track' }), LIMIT)).resolves.toBe('');
  });

  it.each([
    ['gzip', gzipSync(json)],
    ['x-gzip', gzipSync(json)],
    ['deflate', deflateSync(json)],
    ['deflate', deflateRawSync(json)],
    ['GZIP', gzipSync(json)],
    ['identity, gzip', gzipSync(json)],
  ])('inflates Content-Encoding %s', async (encoding, bytes) => {
    await expect(readRequestBody(post(bytes, { 'Content-Encoding': encoding }), LIMIT)).resolves.toBe(json);
  });

  it('undoes stacked encodings last to first', async () => {
    const twice = gzipSync(deflateSync(json));
    await expect(readRequestBody(post(twice, { 'content-encoding': 'deflate, gzip' }), LIMIT)).resolves.toBe(json);
  });

  it('accepts a compressed body that inflates to exactly the limit', async () => {
    const atLimit = gzipSync('x'.repeat(LIMIT));
    await expect(readRequestBody(post(atLimit, { 'content-encoding': 'gzip' }), LIMIT)).resolves.toHaveLength(LIMIT);
  });

  it('refuses a plain body over the limit with 413', async () => {
    await expect(readRequestBody(post('x'.repeat(LIMIT + 1)), LIMIT)).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(readRequestBody(post('x'.repeat(LIMIT)), LIMIT)).resolves.toHaveLength(LIMIT);
  });

  it('counts bytes, not characters', async () => {
    await expect(readRequestBody(post('é'.repeat(LIMIT / 2 + 1)), LIMIT)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('stops a gzip bomb at the limit instead of inflating it', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(LIMIT * 20);
    await expect(readRequestBody(post(bomb, { 'content-encoding': 'gzip' }), LIMIT)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('refuses a deflate bomb too', async () => {
    const bomb = deflateSync(Buffer.alloc(1024 * 1024));
    await expect(readRequestBody(post(bomb, { 'content-encoding': 'deflate' }), LIMIT)).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it.each([
    ['not gzip at all', Buffer.from('plain text')],
    ['truncated gzip', gzipSync(json).subarray(0, 12)],
  ])('answers 400 for %s', async (_, bytes) => {
    const error = await readRequestBody(post(bytes, { 'content-encoding': 'gzip' }), LIMIT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toBe('body is not valid gzip data');
  });

  it('answers 415 for an encoding it does not speak', async () => {
    await expect(readRequestBody(post(Buffer.from(json), { 'content-encoding': 'br' }), LIMIT)).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
  });
});

describe('parseJsonBody', () => {
  it('parses JSON', () => {
    expect(parseJsonBody('{"a":[1]}')).toEqual({ a: [1] });
  });

  it.each(['', '{', 'hello', '{"a":1,}'])('turns malformed JSON %j into a 400 that quotes nothing', (text) => {
    const error = (() => {
      try {
        return parseJsonBody(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).message).toBe('body is not valid JSON');
  });
});
