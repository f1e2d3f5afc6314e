/**
 * The Lambda functions of the platform: where each handler lives and what it may touch.
 * CDK builds `DmpFunction`s from these; the local platform imports the same entry files.
 */
export type FunctionId =
  | 'ingest'
  | 'reconcile'
  | 'profileApi'
  | 'importApi'
  | 'score'
  | 'segmentEvaluator'
  | 'activation'
  | 'segmentApi'
  | 'segmentRebuild'
  | 'scoreRecompute'
  | 'journeyTrigger'
  | 'journeySend'
  | 'unsubscribe'
  | 'emailFeedback'
  | 'reportApi';

export interface FunctionDefinition {
  readonly id: FunctionId;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** Table ids (see tables.ts) the function reads and writes. */
  readonly tables: readonly string[];
  /** Queue ids (see queues.ts) the function sends to. */
  readonly sendsTo: readonly string[];
  /** Secrets the function verifies against (hashes only), see lib/definitions/secrets.ts. */
  readonly verifies: readonly ('writeKeys' | 'adminTokens')[];
}

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    id: 'ingest',
    entry: 'functions/handlers/ingest.ts',
    description: 'Tracking API: authenticates, validates and durably enqueues Segment-compatible messages',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: [],
    sendsTo: ['Events'],
    verifies: ['writeKeys'],
  },
  {
    id: 'reconcile',
    entry: 'functions/handlers/reconcile.ts',
    description: 'Consumes accepted events: resolves identities, updates profiles, stores event history',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: ['ProfileChanges', 'JourneyEvents'],
    verifies: [],
  },
  {
    id: 'profileApi',
    entry: 'functions/handlers/profile-api.ts',
    description: 'Admin Profile API: profiles, their events and merge log, un-merge, erasure',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: ['Profiles'],
    sendsTo: ['ProfileChanges'],
    verifies: ['adminTokens'],
  },
  {
    id: 'importApi',
    entry: 'functions/handlers/import-api.ts',
    description: 'Admin Import API: maps CRM, partner and third-party files to identify messages and queues them',
    memorySize: 1024,
    timeoutSeconds: 29,
    tables: [],
    sendsTo: ['Events'],
    verifies: ['adminTokens'],
  },
  {
    id: 'score',
    entry: 'functions/handlers/score.ts',
    description: 'Consumes profile changes: state scores, predictive scores and send hour, then asks for segment evaluation',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: ['SegmentEvaluation'],
    verifies: [],
  },
  {
    id: 'segmentEvaluator',
    entry: 'functions/handlers/segment-evaluator.ts',
    description: 'Real-time segment membership: re-evaluates changed profiles, records and emits audience transitions',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: ['Activation'],
    verifies: [],
  },
  {
    id: 'activation',
    entry: 'functions/handlers/activation.ts',
    description: 'Delivers audience transitions to destinations: signed webhooks',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: [],
  },
  {
    id: 'segmentApi',
    entry: 'functions/handlers/segment-api.ts',
    description: 'Admin Segments API: definitions, preview, members, export, rebuild runs',
    memorySize: 1024,
    timeoutSeconds: 29,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: ['adminTokens'],
  },
  {
    id: 'segmentRebuild',
    entry: 'functions/handlers/segment-rebuild.ts',
    description: 'Tasks of the segment rebuild state machine: plan scan slices, evaluate a slice, finish the run',
    memorySize: 1024,
    timeoutSeconds: 300,
    tables: ['Profiles'],
    sendsTo: ['Activation'],
    verifies: [],
  },
  {
    id: 'scoreRecompute',
    entry: 'functions/handlers/score-recompute.ts',
    description: 'Task of the nightly score recompute: scans a slice of profiles and queues a recompute change for each',
    memorySize: 512,
    timeoutSeconds: 300,
    tables: ['Profiles'],
    sendsTo: ['ProfileChanges'],
    verifies: [],
  },
  {
    id: 'journeyTrigger',
    entry: 'functions/handlers/journey-trigger.ts',
    description: 'Consumes journey events: starts, restarts and stops cart-abandonment runs, starts capped product-view promotions',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: [],
  },
  {
    id: 'journeySend',
    entry: 'functions/handlers/journey-send.ts',
    description: 'Task of the journey state machines: checks the run, applies the marketing guards and sends one email through SES',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: [],
  },
  {
    id: 'unsubscribe',
    entry: 'functions/handlers/unsubscribe.ts',
    description: 'Public one-click unsubscribe (RFC 8058): verifies the signed token and unsubscribes the profile at once',
    memorySize: 256,
    timeoutSeconds: 10,
    tables: ['Profiles'],
    sendsTo: ['Events'],
    verifies: [],
  },
  {
    id: 'emailFeedback',
    entry: 'functions/handlers/email-feedback.ts',
    description: 'Consumes SES events: suppresses bounced and complaining addresses, records each outcome as a profile event',
    memorySize: 256,
    timeoutSeconds: 30,
    tables: ['Profiles'],
    sendsTo: ['Events'],
    verifies: [],
  },
  {
    id: 'reportApi',
    entry: 'functions/handlers/report-api.ts',
    description: 'Admin report API: journey entrants, sends, engagement and conversions per group, lift over the holdout',
    memorySize: 512,
    timeoutSeconds: 29,
    tables: ['Profiles'],
    sendsTo: [],
    verifies: ['adminTokens'],
  },
];

export function functionDefinition(id: FunctionId): FunctionDefinition {
  const found = FUNCTIONS.find((f) => f.id === id);
  if (!found) throw new Error(`unknown function ${id}`);
  return found;
}
