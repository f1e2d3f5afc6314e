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
