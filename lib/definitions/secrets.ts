/**
 * Credentials are never stored in clear: functions receive SHA-256 hashes of the accepted write
 * keys and admin tokens. Several hashes may be active at once so a key can be rotated without
 * downtime. On AWS the hashes live in an SSM parameter (comma-separated) whose name is passed in
 * `<envPrefix>_PARAMETER_NAME`; locally they are passed directly in `<envPrefix>_HASHES`.
 */
export interface SecretDefinition {
  readonly id: 'writeKeys' | 'adminTokens';
  readonly envPrefix: string;
  /** Name of the CDK context value holding the initial comma-separated hashes. */
  readonly contextKey: string;
  readonly description: string;
}

export const SECRETS: readonly SecretDefinition[] = [
  {
    id: 'writeKeys',
    envPrefix: 'WRITE_KEY',
    contextKey: 'dmp:writeKeyHashes',
    description: 'SHA-256 hashes (hex, comma-separated) of the Tracking API write keys',
  },
  {
    id: 'adminTokens',
    envPrefix: 'ADMIN_TOKEN',
    contextKey: 'dmp:adminTokenHashes',
    description: 'SHA-256 hashes (hex, comma-separated) of the admin API bearer tokens',
  },
];

/**
 * Secrets the functions hold as keys (not hashes): SSM SecureString parameters the operator
 * creates (never in a template, so never in CloudFormation). On AWS a function receives the
 * parameter's name in `<envName>_PARAMETER` and may read that parameter only; the local platform
 * passes the value itself in `<envName>`.
 */
export interface SecureParameterDefinition {
  readonly id: 'unsubscribeSecret' | 'pseudonymSecret';
  readonly envName: string;
  /** CDK context naming the parameter. */
  readonly contextKey: string;
  readonly defaultName: string;
  readonly description: string;
}

export type SecureParameterId = SecureParameterDefinition['id'];

export const SECURE_PARAMETERS: readonly SecureParameterDefinition[] = [
  {
    id: 'unsubscribeSecret',
    envName: 'DMP_UNSUBSCRIBE_SECRET',
    contextKey: 'dmp:unsubscribeSecretParameter',
    defaultName: '/dmp/unsubscribe-secret',
    description: 'HMAC key of the unsubscribe links (rotating it invalidates the links of emails already sent)',
  },
  {
    id: 'pseudonymSecret',
    envName: 'DMP_PSEUDONYM_SECRET',
    contextKey: 'dmp:pseudonymSecretParameter',
    defaultName: '/dmp/pseudonym-secret',
    description: 'HMAC key of the identifier pseudonyms in the erasure, unsubscribe and bounce lists (never change it once records exist)',
  },
];
