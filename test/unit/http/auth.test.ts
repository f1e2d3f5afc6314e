import { credentialMatches, parseAuthorizationHeader, parseCredentialHashes, sha256Hex } from '../../../functions/domain/auth/credentials';
import { basicAuthUser, requireAdminToken, requireCredential } from '../../../functions/http/auth';
import { UnauthorizedError } from '../../../functions/http/errors';
import { apiGatewayEvent, basicAuthorization } from './api-gateway-event';

const currentKey = 'write-key-2026';
const previousKey = 'write-key-2025';
const hashes = [sha256Hex(previousKey), sha256Hex(currentKey)];

function withAuthorization(value: string) {
  return apiGatewayEvent({ method: 'GET', path: '/v1/profiles/user_id:1', headers: { Authorization: value } });
}

function thrown(action: () => void): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('credentialMatches', () => {
  it('accepts every active hash during a rotation', () => {
    expect(credentialMatches(currentKey, hashes)).toBe(true);
    expect(credentialMatches(previousKey, hashes)).toBe(true);
  });

  it('rejects anything else, including the hash itself and near misses', () => {
    expect(credentialMatches('write-key-2024', hashes)).toBe(false);
    expect(credentialMatches(sha256Hex(currentKey), hashes)).toBe(false);
    expect(credentialMatches(`${currentKey} `, hashes)).toBe(false);
    expect(credentialMatches(currentKey, [])).toBe(false);
  });
});

describe('parseCredentialHashes', () => {
  it('reads a comma-separated list, tolerating spaces, case and empty entries', () => {
    const upper = sha256Hex('a').toUpperCase();
    expect(parseCredentialHashes(` ${upper} ,, ${sha256Hex('b')},`)).toEqual([sha256Hex('a'), sha256Hex('b')]);
    expect(parseCredentialHashes('')).toEqual([]);
  });

  it('fails loudly on an entry that is not a SHA-256 hex digest (e.g. a clear-text key)', () => {
    expect(() => parseCredentialHashes(`${sha256Hex('a')},dev-write-key`)).toThrow('not a hex SHA-256');
  });
});

describe('parseAuthorizationHeader', () => {
  it('reads Basic user and password, with or without a colon', () => {
    expect(parseAuthorizationHeader(basicAuthorization('key'))).toEqual({ scheme: 'basic', user: 'key', password: '' });
    expect(parseAuthorizationHeader(basicAuthorization('key', 'p:w'))).toEqual({
      scheme: 'basic',
      user: 'key',
      password: 'p:w',
    });
    expect(parseAuthorizationHeader(`basic ${Buffer.from('key').toString('base64')}`)).toEqual({
      scheme: 'basic',
      user: 'key',
      password: '',
    });
  });

  it('reads a Bearer token', () => {
    expect(parseAuthorizationHeader('Bearer abc.def')).toEqual({ scheme: 'bearer', token: 'abc.def' });
  });

  it.each([undefined, '', 'Basic', 'Digest abc', 'Bearer a b'])('sees no credential in %j', (header) => {
    expect(parseAuthorizationHeader(header)).toBeUndefined();
  });
});

describe('basicAuthUser', () => {
  it('finds the write key in the Basic user name, whatever the header case', () => {
    expect(basicAuthUser(withAuthorization(basicAuthorization(currentKey)))).toBe(currentKey);
    expect(basicAuthUser({ headers: { AUTHORIZATION: basicAuthorization(currentKey) } })).toBe(currentKey);
  });

  it('ignores other schemes', () => {
    expect(basicAuthUser(withAuthorization('Bearer token'))).toBeUndefined();
  });
});

describe('requireCredential', () => {
  it('passes a valid credential', () => {
    expect(() => requireCredential(currentKey, hashes, 'write key')).not.toThrow();
  });

  it.each([
    [undefined, 'missing write key'],
    ['', 'missing write key'],
    ['wrong', 'invalid write key'],
  ])('answers 401 for %j', (credential, reason) => {
    const error = thrown(() => requireCredential(credential, hashes, 'write key'));
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).statusCode).toBe(401);
    expect((error as UnauthorizedError).details).toEqual([{ reason }]);
  });
});

describe('requireAdminToken', () => {
  const adminHashes = [sha256Hex('admin-token')];

  it('accepts the Bearer admin token', () => {
    expect(() => requireAdminToken(withAuthorization('Bearer admin-token'), adminHashes)).not.toThrow();
  });

  it.each([
    ['no header', undefined],
    ['a wrong token', 'Bearer other'],
    ['the token sent as Basic', basicAuthorization('admin-token')],
  ])('answers 401 for %s', (_, header) => {
    const event = header === undefined ? apiGatewayEvent({ method: 'GET', path: '/v1/segments' }) : withAuthorization(header);
    expect(thrown(() => requireAdminToken(event, adminHashes))).toBeInstanceOf(UnauthorizedError);
  });
});
