import type { PlatformOptions } from './platform';

/**
 * `npm start`'s configuration from the environment (docs/contract.md §2), all optional:
 * PORT, DMP_WRITE_KEY, DMP_ADMIN_TOKEN, DMP_DATA_DIR, DMP_TIME_SCALE.
 */
export function platformOptionsFromEnv(env: NodeJS.ProcessEnv): PlatformOptions {
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  const timeScale = Number(env.DMP_TIME_SCALE || 1);
  if (!Number.isFinite(timeScale) || timeScale <= 0) throw new Error(`DMP_TIME_SCALE must be a positive number, got "${env.DMP_TIME_SCALE}"`);
  return {
    port,
    writeKey: env.DMP_WRITE_KEY || 'dev-write-key',
    adminToken: env.DMP_ADMIN_TOKEN || 'dev-admin-token',
    dataDir: env.DMP_DATA_DIR || '.dmp',
    timeScale,
  };
}
