import type { FunctionId } from './functions';

/**
 * Step Functions state machines. Their ASL is built by CDK constructs (lib/constructs); the local
 * platform synthesizes the same app and runs the synthesized definitions with a local interpreter,
 * invoking the same task functions.
 */
export interface StateMachineDefinition {
  /** Logical id of the state machine in CDK. */
  readonly id: string;
  /** Environment variable through which starters receive the state machine ARN. */
  readonly envName: string;
  readonly description: string;
  /** Functions its Task states invoke. */
  readonly taskFunctions: readonly FunctionId[];
  /** Functions allowed to start (and describe) executions. */
  readonly startedBy: readonly FunctionId[];
  /** Functions allowed only to stop executions (they receive the ARN too). */
  readonly stoppedBy?: readonly FunctionId[];
}

export const SEGMENT_REBUILD_STATE_MACHINE: StateMachineDefinition = {
  id: 'SegmentRebuild',
  envName: 'SEGMENT_REBUILD_STATE_MACHINE_ARN',
  description: 'Rebuilds segment membership: plans scan slices, evaluates them in a Map state, writes diffs and counts, records the run',
  taskFunctions: ['segmentRebuild'],
  startedBy: ['segmentApi'],
};

/** Nightly refresh of time-based scores (recency decays even when nobody acts). */
export const SCORE_RECOMPUTE_STATE_MACHINE: StateMachineDefinition = {
  id: 'ScoreRecompute',
  envName: 'SCORE_RECOMPUTE_STATE_MACHINE_ARN',
  description: "Recomputes every profile's scores: maps over parallel scan slices of the profiles, queueing a recompute change per profile",
  taskFunctions: ['scoreRecompute'],
  // A promoted or rolled-back model rescores everyone (docs/contract.md §14).
  startedBy: ['modelTraining', 'modelApi'],
};

/** Retraining a predictive score on the customer's own data (docs/contract.md §14), by API or weekly. */
export const MODEL_TRAINING_STATE_MACHINE: StateMachineDefinition = {
  id: 'ModelTraining',
  envName: 'MODEL_TRAINING_STATE_MACHINE_ARN',
  description:
    'Retrains a predictive score: exports examples at two cut-offs in scan slices, trains a candidate, compares it with the model in service on the same holdout, promotes it only when at least as good',
  taskFunctions: ['modelTraining'],
  startedBy: ['modelApi'],
};

/** Cart abandonment (docs/contract.md §6): wait, check, email 1, wait, check, email 2 with the incentive. */
export const CART_ABANDONMENT_STATE_MACHINE: StateMachineDefinition = {
  id: 'CartAbandonment',
  envName: 'CART_ABANDONMENT_STATE_MACHINE_ARN',
  description: "Cart abandonment journey: waits after the cart's last change, checks for an order, sends email 1, waits, checks again, sends email 2",
  taskFunctions: ['journeySend'],
  startedBy: ['journeyTrigger'],
  stoppedBy: ['erasure'],
};

/** Product-view promotion (docs/contract.md §6): one guarded send, waiting out quiet hours. */
export const PRODUCT_VIEW_STATE_MACHINE: StateMachineDefinition = {
  id: 'ProductViewPromotion',
  envName: 'PRODUCT_VIEW_STATE_MACHINE_ARN',
  description: 'Product-view promotion journey: one guarded promotion email for a viewed product',
  taskFunctions: ['journeySend'],
  startedBy: ['journeyTrigger'],
  stoppedBy: ['erasure'],
};

/** A segment used as a journey entry: entering it sends the destination's email (issue 5 §5). */
export const AUDIENCE_EMAIL_STATE_MACHINE: StateMachineDefinition = {
  id: 'AudienceEmail',
  envName: 'AUDIENCE_EMAIL_STATE_MACHINE_ARN',
  description:
    'Audience journey: on entering a segment, waits the configured delay and sends one guarded email or text (audience-sms) if the profile is still a member',
  taskFunctions: ['journeySend'],
  startedBy: ['activation'],
  stoppedBy: ['erasure'],
};

/** Erasure (GDPR art. 17) as a durable job: suppress, stop journeys, delete the data, memberships, quarantine (docs/contract.md §9). */
export const ERASURE_STATE_MACHINE: StateMachineDefinition = {
  id: 'Erasure',
  envName: 'ERASURE_STATE_MACHINE_ARN',
  description:
    "Erases a person: suppresses their identifiers, stops their journeys, deletes their profiles' data, memberships and quarantine entries, records the job",
  taskFunctions: ['erasure'],
  startedBy: ['profileApi'],
};

/** A lookalike run (docs/contract.md §11): sample, train, score slices, keep the audience segment. */
export const LOOKALIKE_STATE_MACHINE: StateMachineDefinition = {
  id: 'Lookalike',
  envName: 'LOOKALIKE_STATE_MACHINE_ARN',
  description: "Trains a lookalike model on a seed segment and scores every candidate in parallel scan slices, keeping the lookalike's audience segment",
  taskFunctions: ['lookalike'],
  startedBy: ['segmentApi'],
};

export const STATE_MACHINES: readonly StateMachineDefinition[] = [
  SEGMENT_REBUILD_STATE_MACHINE,
  LOOKALIKE_STATE_MACHINE,
  SCORE_RECOMPUTE_STATE_MACHINE,
  MODEL_TRAINING_STATE_MACHINE,
  CART_ABANDONMENT_STATE_MACHINE,
  PRODUCT_VIEW_STATE_MACHINE,
  AUDIENCE_EMAIL_STATE_MACHINE,
  ERASURE_STATE_MACHINE,
];
