import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedMediaTypeError,
} from '../../../functions/http/errors';
import { jsonResponse, toHttpResponse } from '../../../functions/http/responses';

function bodyOf(response: { body?: string }): unknown {
  return JSON.parse(response.body ?? 'null');
}

describe('toHttpResponse', () => {
  it.each([
    [new BadRequestError('bad'), 400],
    [new UnauthorizedError('missing write key'), 401],
    [new NotFoundError('unknown'), 404],
    [new PayloadTooLargeError('too large'), 413],
    [new UnsupportedMediaTypeError('br'), 415],
    [new ServiceUnavailableError('later'), 503],
  ])('maps %p to its status with the shared error body', (error, status) => {
    const response = toHttpResponse(error);
    expect(response.statusCode).toBe(status);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    expect(bodyOf(response)).toEqual({ success: false, errors: [{ reason: error.message }] });
  });

  it('carries per-message details and extra fields', () => {
    const error = new BadRequestError([{ index: 2, messageId: 'm-2', reason: 'event: required for track' }], {
      accepted: 4,
    });
    expect(bodyOf(toHttpResponse(error))).toEqual({
      success: false,
      accepted: 4,
      errors: [{ index: 2, messageId: 'm-2', reason: 'event: required for track' }],
    });
  });

  it('asks clients to retry after a 503', () => {
    expect(toHttpResponse(new ServiceUnavailableError('later')).headers?.['retry-after']).toBe('1');
  });

  it('hides everything about an unexpected error behind a bare 500', () => {
    const response = toHttpResponse(new Error('connect ECONNREFUSED 10.0.0.1:443 secret-table'));
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toMatch(/ECONNREFUSED|secret/);
    expect(bodyOf(response)).toEqual({ success: false, errors: [{ reason: 'internal error' }] });
    expect(toHttpResponse('a string').statusCode).toBe(500);
  });
});

describe('jsonResponse', () => {
  it('serializes the body and merges headers', () => {
    expect(jsonResponse(201, { id: 'x' }, { location: '/x' })).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'application/json; charset=utf-8', location: '/x' },
      body: '{"id":"x"}',
    });
  });
});
