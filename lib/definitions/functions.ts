import type { SecureParameterId } from './secrets';

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
  | 'lookalike'
  | 'modelApi'
  | 'modelTraining'
  | 'scoreRecompute'
  | 'journeyTrigger'
  | 'journeySend'
  | 'unsubscribe'
  | 'emailFeedback'
  | 'smsEvents'
  | 'reportApi'
  | 'operationsApi'
  | 'erasure'
  | 'decide';

/** DynamoDB item actions a function may be granted (IAM `dynamodb:<action>`). */
export type ItemAction = 'GetItem' | 'BatchGetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem' | 'ConditionCheckItem';

/**
 * Some actions on the items of some partitions: one IAM statement whose condition
 * `ForAllValues:StringLike` on `dynamodb:LeadingKeys` (the partition key values of the request)
 * allows only these patterns. A batch request must fall entirely within one grant, so a batch that
 * mixes prefixes (a BatchGetItem of identity and profile items) needs a grant naming them all.
 * A transaction is authorized item by item, as the Put/Update/Delete/ConditionCheck it contains.
 */
export interface KeyGrant {
  readonly actions: readonly ItemAction[];
  /** Partition key patterns (`P#*`, or an exact value such as `QUARANTINE`). */
  readonly keys: readonly string[];
}

/** What a function does in one table, by partition key prefix (the key design: PARTITIONS below). */
export interface TableAccess {
  /** Table id (see tables.ts). */
  readonly table: string;
  readonly grants: readonly KeyGrant[];
  /** Queries of global secondary indexes: index name → patterns of the index partition key. */
  readonly indexQueries?: Readonly<Record<string, readonly string[]>>;
  /** Scans the whole table (parallel scans of profiles): no partition key to restrict a Scan by. */
  readonly scan?: boolean;
  /** Reads the table description (its approximate item count). */
  readonly describe?: boolean;
}

export interface FunctionDefinition {
  readonly id: FunctionId;
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeoutSeconds: number;
  /** The tables the function uses and, in each, the partitions and actions it may touch (least privilege). */
  readonly tables: readonly TableAccess[];
  /** Queue ids (see queues.ts) the function sends to. */
  readonly sendsTo: readonly string[];
  /** Secrets the function verifies against (hashes only), see lib/definitions/secrets.ts. */
  readonly verifies: readonly ('writeKeys' | 'adminTokens')[];
  /** Operator-created SSM SecureStrings the function reads (lib/definitions/secrets.ts). */
  readonly secureParameters: readonly SecureParameterId[];
}

/** The Profiles table's partitions, the key design: what each key prefix holds. */
const PROFILE = 'P#*'; // a profile, its events, merge log, scores, journey items, unsubscribe
const IDENTITY = 'ID#*'; // identity links (pseudonymized identifiers)
const ERASED = 'SUP#*'; // erasure (suppression) records
const DEDUPE = 'MSG#*'; // message ids seen within 24 h
const QUARANTINE = 'QUARANTINE*'; // rejected values and messages (sharded `QUARANTINE#<n>`, and the unsharded partition of earlier versions)
const SEGMENT = 'SEG#*'; // segment definitions, runs, sizes
const MEMBERS = 'S#*'; // memberships and transitions of a segment
const REBUILD = 'REBUILD#*'; // rebuild progress and outbox
const WEBHOOK = 'WH#*'; // webhook delivery log
const JOURNEY_RUN = 'JRUN#*'; // send-step claims and outcomes, conversions
const REPORT = 'RPT#*'; // journey report day counters
const EMAIL_FEEDBACK = 'EMAILFB#*'; // SES events counted once
const UNSUBSCRIBED = 'UNSUB#*'; // unsubscribed addresses (keyed pseudonyms)
const BOUNCED = 'MAILSUP#*'; // bounced and complaining addresses (keyed pseudonyms)
const SMS_OPT_OUT = 'SMSOPTOUT#*'; // numbers that replied STOP (keyed pseudonyms)
const SMS_FEEDBACK = 'SMSFB#*'; // SMS receipts counted once
const ERASURE_JOB = 'ERASURE#*'; // erasure jobs (ids and counts)
const ERASURE_REF = 'ERASUREREF#*'; // erased profile (keyed pseudonym of its id) → its erasure job
const SEGMENT_REPORT = 'SRPT#*'; // segment × channel report day counters
const ORDER = 'ORDER#*'; // an order's markers: counted once per order_id for buyers and each credited touch
const BUYERS = 'BUY#*'; // a day's buyers: orders and revenue per person (control-group report)
const BUYER_MONTHS = 'BUYM#*'; // a month's buyers: the rollup of its days
const POPULATION = 'POP'; // live profiles per control-group bucket
const CONTROL_GROUP = 'CONTROL'; // the global control group's draw in force
const OFFER = 'OFFER#*'; // offer definitions
const LOOKALIKE = 'LAL#*'; // lookalike definitions, runs and model parts
const LOOKALIKE_SCORES = 'LALS#*'; // a lookalike run's scores, one partition per bucket of profiles
const MODEL = 'MODEL#*'; // a predictive score's trait features, versions (artifact parts), retraining jobs and their exported examples
const MODEL_SERVING = 'MODELSERVING'; // which version serves each predictive score
const ACTIVITY = 'STATS#activity'; // events and merges per hour, an item per day (reconcile counts, the Operations API reads)
/** GSI1 partitions: the segment catalog, everything of one profile, the report counters. */
const SEGMENT_CATALOG = 'SEGMENTS';
const OFFER_CATALOG = 'OFFERS';
const LOOKALIKE_CATALOG = 'LOOKALIKES';
const MEMBER_INDEX = 'MEMBER#*';
const REPORT_INDEX = 'RPT';
const SEGMENT_REPORT_INDEX = 'SRPT';

const profiles = (access: Omit<TableAccess, 'table'>): TableAccess => ({ table: 'Profiles', ...access });

export const FUNCTIONS: readonly FunctionDefinition[] = [
  {
    id: 'ingest',
    entry: 'functions/handlers/ingest-http.ts',
    description: 'Tracking API: authenticates, validates and durably enqueues Segment-compatible messages',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: [],
    sendsTo: ['Events'],
    verifies: ['writeKeys'],
    secureParameters: [],
  },
  {
    id: 'reconcile',
    entry: 'functions/handlers/reconcile.ts',
    description: 'Consumes accepted events: resolves identities, updates profiles, stores event history',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['BatchGetItem'], keys: [DEDUPE, IDENTITY, ERASED, PROFILE] },
          { actions: ['PutItem'], keys: [DEDUPE, PROFILE, IDENTITY, QUARANTINE] },
          { actions: ['ConditionCheckItem'], keys: [ERASED] },
          { actions: ['DeleteItem'], keys: [IDENTITY] },
          { actions: ['UpdateItem'], keys: [POPULATION, ACTIVITY] },
        ],
      }),
    ],
    sendsTo: ['ProfileChanges', 'JourneyEvents'],
    verifies: [],
    secureParameters: ['pseudonymSecret'],
  },
  {
    id: 'profileApi',
    entry: 'functions/handlers/profile-api.ts',
    description: 'Admin Profile API: profiles, their events and merge log, un-merge, erasure',
    memorySize: 512,
    timeoutSeconds: 10,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [PROFILE, IDENTITY, ERASURE_JOB, ERASURE_REF, LOOKALIKE] },
          { actions: ['BatchGetItem'], keys: [PROFILE, IDENTITY, ERASED] },
          { actions: ['Query'], keys: [PROFILE, QUARANTINE, LOOKALIKE_SCORES] },
          { actions: ['PutItem'], keys: [PROFILE, IDENTITY, ERASURE_JOB, ERASURE_REF] },
          { actions: ['UpdateItem'], keys: [PROFILE, POPULATION] },
          { actions: ['DeleteItem'], keys: [PROFILE, IDENTITY] },
          { actions: ['BatchWriteItem'], keys: [PROFILE] },
        ],
        indexQueries: { GSI1: [MEMBER_INDEX, LOOKALIKE_CATALOG] },
      }),
    ],
    sendsTo: ['ProfileChanges'],
    verifies: ['adminTokens'],
    secureParameters: ['pseudonymSecret'],
  },
  {
    id: 'erasure',
    entry: 'functions/handlers/erasure.ts',
    description: "Task of the Erasure state machine: one resumable step of erasing a person's data",
    memorySize: 512,
    timeoutSeconds: 300,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem', 'Query'], keys: [PROFILE] },
          { actions: ['GetItem'], keys: [SEGMENT] },
          { actions: ['BatchGetItem'], keys: [PROFILE, ERASED] },
          { actions: ['PutItem'], keys: [ERASED, ERASURE_JOB] },
          { actions: ['UpdateItem'], keys: [POPULATION] },
          { actions: ['UpdateItem'], keys: [PROFILE, SEGMENT, ERASURE_JOB] },
          { actions: ['DeleteItem'], keys: [PROFILE, IDENTITY, MEMBERS] },
          { actions: ['BatchWriteItem'], keys: [PROFILE] },
          { actions: ['Query', 'BatchWriteItem'], keys: [QUARANTINE] },
          { actions: ['Query', 'BatchWriteItem'], keys: [JOURNEY_RUN] },
        ],
        indexQueries: { GSI1: [MEMBER_INDEX] },
      }),
    ],
    sendsTo: ['Activation'],
    verifies: [],
    secureParameters: ['pseudonymSecret'],
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
    secureParameters: [],
  },
  {
    id: 'score',
    entry: 'functions/handlers/score.ts',
    description: 'Consumes profile changes: state scores, predictive scores and send hour, then asks for segment evaluation',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'BatchWriteItem'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [QUARANTINE] },
          // The models in service, read at every batch, and their artifacts.
          { actions: ['Query'], keys: [MODEL_SERVING, MODEL] },
        ],
      }),
    ],
    sendsTo: ['SegmentEvaluation'],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'segmentEvaluator',
    entry: 'functions/handlers/segment-evaluator.ts',
    description: 'Real-time segment membership: re-evaluates changed profiles, records and emits audience transitions',
    memorySize: 1024,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [PROFILE, MEMBERS, SEGMENT] },
          { actions: ['BatchGetItem', 'Query'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [MEMBERS, QUARANTINE, PROFILE] },
          { actions: ['UpdateItem'], keys: [SEGMENT, SEGMENT_REPORT] },
        ],
        indexQueries: { GSI1: [SEGMENT_CATALOG, MEMBER_INDEX] },
      }),
    ],
    sendsTo: ['Activation'],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'activation',
    entry: 'functions/handlers/activation.ts',
    description: 'Delivers audience transitions to destinations: signed webhooks',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [SEGMENT, PROFILE, WEBHOOK] },
          { actions: ['BatchGetItem'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [WEBHOOK, QUARANTINE, CONTROL_GROUP] },
          { actions: ['GetItem'], keys: [CONTROL_GROUP] },
          { actions: ['PutItem'], keys: [PROFILE] },
          { actions: ['UpdateItem'], keys: [SEGMENT_REPORT] },
        ],
      }),
    ],
    sendsTo: [],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'segmentApi',
    entry: 'functions/handlers/segment-api.ts',
    description:
      'Admin Segments, Offers and Lookalikes API: definitions, preview, members, export, rebuild runs; offers and the decisions of a profile; lookalikes and their runs',
    memorySize: 1024,
    timeoutSeconds: 29,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [SEGMENT, PROFILE, OFFER] },
          { actions: ['BatchGetItem'], keys: [PROFILE] },
          { actions: ['BatchGetItem'], keys: [IDENTITY] },
          { actions: ['Query'], keys: [SEGMENT, MEMBERS, PROFILE] },
          { actions: ['PutItem', 'UpdateItem', 'DeleteItem'], keys: [SEGMENT] },
          { actions: ['PutItem', 'DeleteItem'], keys: [OFFER] },
          { actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'], keys: [LOOKALIKE] },
          { actions: ['BatchWriteItem'], keys: [LOOKALIKE] },
          { actions: ['Query', 'BatchWriteItem'], keys: [LOOKALIKE_SCORES] },
          { actions: ['BatchWriteItem'], keys: [SEGMENT, MEMBERS] },
          { actions: ['GetItem', 'PutItem'], keys: [CONTROL_GROUP] },
          { actions: ['PutItem'], keys: [PROFILE] },
          { actions: ['UpdateItem'], keys: [SEGMENT_REPORT] },
        ],
        indexQueries: { GSI1: [SEGMENT_CATALOG, OFFER_CATALOG, LOOKALIKE_CATALOG, MEMBER_INDEX] },
        scan: true,
        describe: true,
      }),
    ],
    sendsTo: [],
    verifies: ['adminTokens'],
    secureParameters: [],
  },
  {
    id: 'segmentRebuild',
    entry: 'functions/handlers/segment-rebuild.ts',
    description: 'Tasks of the segment rebuild state machine: plan scan slices, evaluate a slice, finish the run',
    memorySize: 1024,
    timeoutSeconds: 300,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [SEGMENT, MEMBERS, REBUILD] },
          { actions: ['BatchGetItem'], keys: [PROFILE, MEMBERS] },
          { actions: ['Query'], keys: [PROFILE, MEMBERS, REBUILD] },
          { actions: ['PutItem'], keys: [SEGMENT, MEMBERS, REBUILD] },
          { actions: ['UpdateItem'], keys: [SEGMENT, SEGMENT_REPORT] },
          { actions: ['BatchWriteItem'], keys: [REBUILD] },
        ],
        indexQueries: { GSI1: [SEGMENT_CATALOG] },
        scan: true,
        describe: true,
      }),
    ],
    sendsTo: ['Activation'],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'lookalike',
    entry: 'functions/handlers/lookalike.ts',
    description: 'Tasks of the lookalike state machine: plan, sample and train, score a slice, finish the run',
    memorySize: 2048,
    timeoutSeconds: 900,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [SEGMENT, MEMBERS, REBUILD, LOOKALIKE] },
          { actions: ['BatchGetItem'], keys: [PROFILE, MEMBERS] },
          { actions: ['Query'], keys: [PROFILE, MEMBERS, REBUILD, LOOKALIKE, LOOKALIKE_SCORES] },
          { actions: ['PutItem'], keys: [SEGMENT, MEMBERS, REBUILD, LOOKALIKE] },
          { actions: ['UpdateItem'], keys: [SEGMENT, SEGMENT_REPORT, LOOKALIKE] },
          { actions: ['BatchWriteItem'], keys: [REBUILD] },
          { actions: ['BatchWriteItem'], keys: [LOOKALIKE] },
          { actions: ['BatchWriteItem'], keys: [LOOKALIKE_SCORES] },
        ],
        indexQueries: { GSI1: [SEGMENT_CATALOG] },
        scan: true,
        describe: true,
      }),
    ],
    sendsTo: ['Activation'],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'modelApi',
    entry: 'functions/handlers/model-api.ts',
    description: 'Admin Models API: the models in service, their trait features, retraining jobs (started here) and rollback',
    memorySize: 1024,
    timeoutSeconds: 29,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem', 'Query', 'PutItem'], keys: [MODEL] },
          { actions: ['Query', 'PutItem'], keys: [MODEL_SERVING] },
        ],
      }),
    ],
    sendsTo: [],
    verifies: ['adminTokens'],
    secureParameters: [],
  },
  {
    id: 'modelTraining',
    entry: 'functions/handlers/model-training.ts',
    description: 'Tasks of the model training state machine: plan, export a slice of examples, train and compare, promote or keep, fail',
    // Training holds every example in memory (MAX_EXAMPLES of each cut-off at most).
    memorySize: 3008,
    timeoutSeconds: 900,
    tables: [
      profiles({
        grants: [
          { actions: ['Query'], keys: [PROFILE] },
          { actions: ['GetItem', 'Query', 'PutItem', 'BatchWriteItem'], keys: [MODEL] },
          { actions: ['Query', 'PutItem'], keys: [MODEL_SERVING] },
        ],
        scan: true,
      }),
    ],
    sendsTo: [],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'scoreRecompute',
    entry: 'functions/handlers/score-recompute.ts',
    description: 'Task of the nightly score recompute: scans a slice of profiles and queues a recompute change for each',
    memorySize: 512,
    timeoutSeconds: 300,
    tables: [profiles({ grants: [], scan: true })],
    sendsTo: ['ProfileChanges'],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'journeyTrigger',
    entry: 'functions/handlers/journey-trigger.ts',
    description:
      'Consumes journey events: starts, restarts and stops cart-abandonment runs, starts capped product-view promotions, attributes orders, records offers shown and clicked',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem', 'BatchGetItem', 'Query'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [PROFILE, JOURNEY_RUN, QUARANTINE] },
          { actions: ['UpdateItem'], keys: [REPORT, SEGMENT_REPORT, BUYERS, BUYER_MONTHS, PROFILE] },
          { actions: ['PutItem'], keys: [ORDER] },
          { actions: ['GetItem', 'PutItem'], keys: [CONTROL_GROUP] },
        ],
        indexQueries: { GSI1: [OFFER_CATALOG, MEMBER_INDEX] },
      }),
    ],
    sendsTo: [],
    verifies: [],
    secureParameters: [],
  },
  {
    id: 'journeySend',
    entry: 'functions/handlers/journey-send.ts',
    description:
      'Task of the journey state machines: checks the run, applies the marketing guards and sends one email (SES) or text message (End User Messaging SMS)',
    memorySize: 512,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [PROFILE, MEMBERS, JOURNEY_RUN, ERASED, BOUNCED, UNSUBSCRIBED, SMS_OPT_OUT] },
          { actions: ['BatchGetItem', 'Query'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [PROFILE, JOURNEY_RUN] },
          { actions: ['DeleteItem'], keys: [JOURNEY_RUN] },
          // SMS_OPT_OUT: a number the SMS service reports opted out joins the platform's list.
          { actions: ['UpdateItem'], keys: [REPORT, SEGMENT_REPORT, SMS_OPT_OUT] },
          { actions: ['GetItem', 'PutItem'], keys: [CONTROL_GROUP] },
        ],
      }),
    ],
    sendsTo: [],
    verifies: [],
    secureParameters: ['unsubscribeSecret', 'pseudonymSecret'],
  },
  {
    id: 'unsubscribe',
    entry: 'functions/handlers/unsubscribe.ts',
    description: 'Public one-click unsubscribe (RFC 8058): verifies the signed token and unsubscribes the profile at once',
    memorySize: 256,
    timeoutSeconds: 10,
    tables: [
      profiles({
        grants: [
          { actions: ['BatchGetItem'], keys: [PROFILE] },
          { actions: ['PutItem'], keys: [PROFILE, UNSUBSCRIBED] },
          { actions: ['DeleteItem'], keys: [UNSUBSCRIBED] },
        ],
      }),
    ],
    sendsTo: ['Events'],
    verifies: [],
    secureParameters: ['unsubscribeSecret', 'pseudonymSecret'],
  },
  {
    id: 'emailFeedback',
    entry: 'functions/handlers/email-feedback.ts',
    description: 'Consumes SES events: suppresses bounced and complaining addresses, records each outcome as a profile event',
    memorySize: 256,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['BatchGetItem'], keys: [PROFILE] },
          { actions: ['GetItem', 'DeleteItem'], keys: [BOUNCED] },
          { actions: ['UpdateItem'], keys: [BOUNCED, REPORT, SEGMENT_REPORT] },
          { actions: ['PutItem'], keys: [EMAIL_FEEDBACK, QUARANTINE] },
        ],
      }),
    ],
    sendsTo: ['Events'],
    verifies: [],
    secureParameters: ['pseudonymSecret'],
  },
  {
    id: 'smsEvents',
    entry: 'functions/handlers/sms-events.ts',
    description: 'Consumes End User Messaging SMS events: delivery receipts as profile events, STOP and START replies as SMS opt-out and consent',
    memorySize: 256,
    timeoutSeconds: 30,
    tables: [
      profiles({
        grants: [
          { actions: ['GetItem'], keys: [IDENTITY] },
          { actions: ['BatchGetItem'], keys: [PROFILE] },
          { actions: ['UpdateItem', 'DeleteItem'], keys: [SMS_OPT_OUT] },
          { actions: ['UpdateItem'], keys: [REPORT, SEGMENT_REPORT] },
          { actions: ['PutItem'], keys: [SMS_FEEDBACK, QUARANTINE] },
        ],
      }),
    ],
    sendsTo: ['Events'],
    verifies: [],
    secureParameters: ['pseudonymSecret'],
  },
  {
    id: 'reportApi',
    entry: 'functions/handlers/report-api.ts',
    description:
      'Admin report API: journeys, segments × channels and the global control group, lift with its interval; the control group draw; the journeys as configured',
    memorySize: 512,
    timeoutSeconds: 29,
    tables: [
      profiles({
        grants: [
          { actions: ['Query'], keys: [REPORT, SEGMENT_REPORT, BUYERS, BUYER_MONTHS, POPULATION] },
          { actions: ['GetItem', 'PutItem'], keys: [CONTROL_GROUP] },
        ],
        indexQueries: { GSI1: [REPORT_INDEX, SEGMENT_REPORT_INDEX, SEGMENT_CATALOG, OFFER_CATALOG] },
      }),
    ],
    sendsTo: [],
    verifies: ['adminTokens'],
    secureParameters: [],
  },
  {
    id: 'operationsApi',
    entry: 'functions/handlers/operations-api.ts',
    description: 'Admin Operations API (read-only): events and merges per hour, queue depths and dead letters, the latest batch workflow runs',
    memorySize: 256,
    timeoutSeconds: 10,
    // Queues (sqs:GetQueueAttributes) and workflows (states:ListExecutions) are granted in lib/stacks/platform.ts, with their URLs and ARNs.
    tables: [profiles({ grants: [{ actions: ['Query'], keys: [ACTIVITY] }] })],
    sendsTo: [],
    verifies: ['adminTokens'],
    secureParameters: [],
  },
  {
    id: 'decide',
    entry: 'functions/handlers/decide.ts',
    description: 'Public decisions: the offer a visitor sees in each placement, from their precomputed facts (write key)',
    // More memory is more CPU: the cold start (module load) and each answer's JSON work are CPU-bound.
    memorySize: 1024,
    timeoutSeconds: 5,
    tables: [
      profiles({
        grants: [
          { actions: ['BatchGetItem'], keys: [IDENTITY] },
          { actions: ['GetItem'], keys: [CONTROL_GROUP] },
        ],
        indexQueries: { GSI1: [OFFER_CATALOG, MEMBER_INDEX] },
      }),
    ],
    sendsTo: [],
    verifies: ['writeKeys'],
    secureParameters: [],
  },
];

export function functionDefinition(id: FunctionId): FunctionDefinition {
  const found = FUNCTIONS.find((f) => f.id === id);
  if (!found) throw new Error(`unknown function ${id}`);
  return found;
}
