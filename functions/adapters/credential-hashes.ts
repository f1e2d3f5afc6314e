import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import { parseCredentialHashes } from '../domain/auth/credentials';

/** Rotation takes effect within a minute without an SSM call per request. */
const PARAMETER_CACHE_SECONDS = 60;

/**
 * The accepted SHA-256 hashes of a credential kind (`envPrefix` from lib/definitions/secrets.ts):
 * `<envPrefix>_HASHES` (comma-separated hex, the local platform) or else the SSM parameter named
 * by `<envPrefix>_PARAMETER_NAME` (AWS), cached by Powertools for 60 s.
 */
export async function loadCredentialHashes(envPrefix: string): Promise<readonly string[]> {
  const inline = process.env[`${envPrefix}_HASHES`];
  if (inline !== undefined) return parseCredentialHashes(inline);
  const parameterName = process.env[`${envPrefix}_PARAMETER_NAME`];
  if (parameterName === undefined || parameterName === '') {
    throw new Error(`${envPrefix}_HASHES or ${envPrefix}_PARAMETER_NAME must be set`);
  }
  const value = await getParameter(parameterName, { maxAge: PARAMETER_CACHE_SECONDS });
  if (value === undefined) throw new Error(`SSM parameter for ${envPrefix} hashes has no value`);
  return parseCredentialHashes(value);
}
