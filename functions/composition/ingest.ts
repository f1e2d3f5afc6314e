import { randomUUID } from 'node:crypto';
import { SECRETS } from '../../lib/definitions/secrets';
import { loadCredentialHashes } from '../adapters/credential-hashes';
import type { IngestDependencies } from '../handlers/ingest';
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
