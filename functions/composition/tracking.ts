import { randomUUID } from 'node:crypto';
import { SECRETS } from '../../lib/definitions/secrets';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import type { ImportDependencies } from '../domain/imports/import-file-use-case';
import type { IngestDependencies } from '../handlers/ingest';
import { identityConfigFromEnv } from './profile-environment';
import { eventsQueue } from './pipeline-queues';

const writeKeySecret = SECRETS.find((secret) => secret.id === 'writeKeys');

let cached: IngestDependencies | undefined;

/** The Tracking API's: the Events queue (`EVENTS_QUEUE_URL`) and the write key hashes (credential-hashes.ts). */
export function ingestDependencies(env: NodeJS.ProcessEnv = process.env): IngestDependencies {
  if (cached) return cached;
  if (writeKeySecret === undefined) throw new Error('writeKeys secret is not defined');
  cached = {
    queue: eventsQueue(env),
    writeKeyHashes: () => loadCredentialHashes(writeKeySecret.envPrefix),
    now: () => new Date(),
    newMessageId: randomUUID,
  };
  return cached;
}

let imports: ImportDependencies | undefined;

/** The Import API's: the Events queue and the identity settings rows are checked with (profile-environment.ts). */
export function importDependencies(env: NodeJS.ProcessEnv = process.env): ImportDependencies {
  imports ??= { queue: eventsQueue(env), config: identityConfigFromEnv(env), now: () => new Date() };
  return imports;
}
