import type { QueueDefinition } from './queues';
import { LOOKALIKE_STATE_MACHINE, MODEL_TRAINING_STATE_MACHINE, SCORE_RECOMPUTE_STATE_MACHINE, SEGMENT_REBUILD_STATE_MACHINE } from './state-machines';

/**
 * What the Operations API (`operationsApi`) watches besides the activity counters: every queue
 * of QUEUES with its dead-letter queue, and the runs of the batch workflows below. The CDK app
 * gives the function their URLs and ARNs (lib/stacks/platform.ts) with read-only rights on exactly
 * these; the local platform sets the same variables.
 */

/** The batch workflows whose latest runs the console shows (journeys and erasures are per person: not listed). */
export const OPERATIONS_WORKFLOWS = [SCORE_RECOMPUTE_STATE_MACHINE, SEGMENT_REBUILD_STATE_MACHINE, MODEL_TRAINING_STATE_MACHINE, LOOKALIKE_STATE_MACHINE];

/** The variable holding a queue's dead-letter queue URL: `EVENTS_QUEUE_URL` → `EVENTS_QUEUE_DLQ_URL`. */
export const deadLetterEnvNameOf = (queue: QueueDefinition): string => `${queue.envName.replace(/_URL$/, '')}_DLQ_URL`;
