import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { QueueDefinition } from '../lib/definitions/queues';
import { restoreQueueSnapshot, saveQueueSnapshot, startLocalSqs, type LocalSqs } from './sqs-local';

/** Where `npm start` saves what is left in its queues and DLQs at stop (local/platform.ts). */
export const SQS_SNAPSHOT_FILE = 'sqs-snapshot.json';

/** How long saving the queues back may take. */
const SAVE_DEADLINE_MS = 30_000;

export interface SavedQueuesOptions {
  readonly dataDir: string;
  readonly queues: readonly QueueDefinition[];
  /** Write the queues back after `operation` (false for a read-only look). */
  readonly save: boolean;
  readonly logger: Logger;
}

/**
 * Runs `operation` on the queues a stopped local platform saved in its data directory: loads
 * them into a private SQS emulator, runs it, and saves them back as the next `npm start`
 * restores them. Returns undefined, running nothing, when nothing was saved (the platform is
 * running, or stopped with empty queues). The saved file is replaced only by a complete new one.
 */
export async function withSavedQueues<T>(options: SavedQueuesOptions, operation: (sqs: LocalSqs) => Promise<T>): Promise<T | undefined> {
  const file = path.join(options.dataDir, SQS_SNAPSHOT_FILE);
  // restoreQueueSnapshot removes the file it reads: it reads a copy, so a crash loses nothing.
  const copy = `${file}.${process.pid}.reading`;
  try {
    await copyFile(file, copy);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const sqs = await startLocalSqs(options.queues);
  try {
    await restoreQueueSnapshot(sqs, copy, options.logger);
    const result = await operation(sqs);
    if (options.save) await saveQueueSnapshot(sqs, () => [], file, Date.now() + SAVE_DEADLINE_MS, options.logger);
    return result;
  } finally {
    await rm(copy, { force: true });
    await sqs.stop();
  }
}
