import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { credentialMatches, parseAuthorizationHeader } from '../domain/auth/credentials';
import { UnauthorizedError } from './errors';
import { requestHeader } from './headers';

type RequestHeaders = Pick<APIGatewayProxyEventV2, 'headers'>;

/** The user name of an HTTP Basic `Authorization` header: where Segment clients put the write key. */
export function basicAuthUser(event: RequestHeaders): string | undefined {
  const credential = parseAuthorizationHeader(requestHeader(event, 'authorization'));
  return credential?.scheme === 'basic' ? credential.user : undefined;
}

/** Throws 401 unless the credential hashes to one of the accepted (active) hashes. */
export function requireCredential(credential: string | undefined, acceptedHashes: readonly string[], kind: 'write key' | 'admin token'): void {
  if (credential === undefined || credential === '') throw new UnauthorizedError(`missing ${kind}`);
  if (!credentialMatches(credential, acceptedHashes)) throw new UnauthorizedError(`invalid ${kind}`);
}

/** Admin APIs: `Authorization: Bearer <token>` checked against the admin token hashes, else 401. */
export function requireAdminToken(event: RequestHeaders, acceptedHashes: readonly string[]): void {
  const credential = parseAuthorizationHeader(requestHeader(event, 'authorization'));
  requireCredential(credential?.scheme === 'bearer' ? credential.token : undefined, acceptedHashes, 'admin token');
}
