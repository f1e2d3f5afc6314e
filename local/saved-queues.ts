import { access } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { QueueDefinition } from '../lib/definitions/queues';
import { acquireDataDirLock } from './data-dir-lock';
import { SQS_JOURNAL_FILE, startLocalSqs, type LocalSqs } from './sqs-local';

export interface SavedQueuesOptions {
  readonly dataDir: string;
  readonly queues: readonly QueueDefinition[];
  readonly logger: Logger;
}

/**
 * Runs `operation` on the queues of a stopped local platform: opens its SQS journal in a
 * private local SQS, so that what the operation changes (a DLQ replay) is in the journal the
 * next `npm start` replays. Returns undefined, running nothing, when the directory has no
 * journal. Holds the directory's lock meanwhile: a running platform owns its journal, and is
 * refused (DataDirInUseError) rather than shared.
 */
export async function withSavedQueues<T>(options: SavedQueuesOptions, operation: (sqs: LocalSqs) => Promise<T>): Promise<T | undefined> {
  try {
    await access(path.join(options.dataDir, SQS_JOURNAL_FILE));
  } catch {
    return undefined;
  }
  const lock = await acquireDataDirLock(options.dataDir);
  try {
    const sqs = await startLocalSqs(options.queues, { dataDirectory: options.dataDir, logger: options.logger });
    try {
      return await operation(sqs);
    } finally {
      await sqs.stop();
    }
  } finally {
    await lock.release();
  }
}
