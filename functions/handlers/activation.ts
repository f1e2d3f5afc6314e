import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { AUDIENCE_EMAIL_STATE_MACHINE } from '../../lib/definitions/state-machines';
import { createDynamoDbClient } from '../adapters/dynamodb-client';
import { DynamoDeliveryLog } from '../adapters/dynamodb-delivery-log';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { DynamoSegmentStore } from '../adapters/dynamodb-segment-store';
import { profileEnvironment } from '../adapters/profile-environment';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { startRunOnce, stateMachineArnFromEnv } from '../adapters/step-functions-runs';
import { WebhookSender } from '../adapters/webhook-sender';
import { isRefused, retryDelaySeconds, WEBHOOK_RETRY_POLICY } from '../domain/activation/delivery';
import { deliverTransition, type WebhookTarget } from '../domain/activation/deliver-transition';
import { outboundUrlPolicyFromEnv } from '../domain/activation/outbound-address';
import type { ProfileSnapshot } from '../domain/activation/profile-payload';
import { audienceJourneyStart } from '../domain/journeys/audience-journey';
import type { ActivationMessage, AudienceTransition } from '../domain/pipeline/messages';
import type { SegmentDestination } from '../ports/segment-store';

const logger = new Logger({ serviceName: 'activation' });
const processor = new BatchProcessor(EventType.SQS);

/** Segments change rarely; a short cache spares a read per transition. */
const SEGMENT_CACHE_MS = 10_000;
/** Secrets are re-read now and then so a rotated secret is picked up without a deploy. */
const SECRET_CACHE_MS = 300_000;

class WebhookDeliveryFailedError extends Error {
  constructor(transitionId: string, failed: number) {
    super(`${failed} webhook destination(s) did not accept transition ${transitionId}`);
    this.name = 'WebhookDeliveryFailedError';
  }
}

interface Environment {
  readonly segments: DynamoSegmentStore;
  readonly log: DynamoDeliveryLog;
  readonly scores: DynamoScoreStore;
  readonly sender: WebhookSender;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  readonly sfn: SFNClient;
  /** Set locally; on AWS the URL is derived from the record's queue ARN. */
  readonly queueUrl: string | undefined;
  readonly timeScale: number;
}

let cachedEnvironment: Environment | undefined;

function environment(): Environment {
  if (cachedEnvironment) return cachedEnvironment;
  const tableName = process.env.PROFILES_TABLE_NAME;
  if (!tableName) throw new Error('PROFILES_TABLE_NAME is not set');
  const dynamo = createDynamoDbClient();
  const timeScale = Number(process.env.DMP_TIME_SCALE ?? '1');
  cachedEnvironment = {
    segments: new DynamoSegmentStore(dynamo, { tableName }),
    log: new DynamoDeliveryLog(dynamo, tableName),
    scores: new DynamoScoreStore(dynamo, tableName),
    // Public https receivers only; loopback too on the local platform (DMP_ALLOW_LOOPBACK_WEBHOOKS).
    sender: new WebhookSender({ policy: outboundUrlPolicyFromEnv() }),
    sqs: new SQSClient({}),
    ssm: new SSMClient({}),
    sfn: new SFNClient({}),
    queueUrl: process.env.ACTIVATION_QUEUE_URL,
    timeScale: Number.isFinite(timeScale) && timeScale > 0 ? timeScale : 1,
  };
  return cachedEnvironment;
}

const segmentCache = new Map<string, { readonly until: number; readonly destinations: readonly SegmentDestination[] | undefined }>();
const secretCache = new Map<string, { readonly until: number; readonly secret: string }>();

/** All destinations of the segment; undefined when it was deleted meanwhile. */
async function segmentDestinations(segmentId: string): Promise<readonly SegmentDestination[] | undefined> {
  const cached = segmentCache.get(segmentId);
  if (cached && cached.until > Date.now()) return cached.destinations;
  const destinations = (await environment().segments.getSegment(segmentId))?.destinations;
  segmentCache.set(segmentId, { until: Date.now() + SEGMENT_CACHE_MS, destinations });
  return destinations;
}

async function destinationsOf(segmentId: string): Promise<readonly WebhookTarget[] | undefined> {
  return (await segmentDestinations(segmentId))?.filter((destination) => destination.type === 'webhook');
}

/**
 * Starts the segment's audience journeys for an entry. The execution name is derived from the
 * transition, so a redelivered transition starts nothing twice.
 */
async function startAudienceJourneys(transition: AudienceTransition): Promise<number> {
  const journeys = (await segmentDestinations(transition.segmentId))?.filter((destination) => destination.type === 'journey') ?? [];
  const starts = journeys.flatMap((destination, position) => audienceJourneyStart(transition, destination, position) ?? []);
  if (starts.length === 0) return 0;
  const machineArn = stateMachineArnFromEnv(AUDIENCE_EMAIL_STATE_MACHINE.envName);
  for (const start of starts) await startRunOnce(environment().sfn, machineArn, start.name, start.input);
  return starts.length;
}

/**
 * A `secretRef` names an SSM SecureString parameter on AWS. Locally (no SSM), and for tests,
 * `DMP_WEBHOOK_SECRETS` may map references to secrets as JSON: `{"<ref>": "whsec_..."}`.
 */
async function secretOf(secretRef: string): Promise<string> {
  const local = process.env.DMP_WEBHOOK_SECRETS ? (JSON.parse(process.env.DMP_WEBHOOK_SECRETS) as Record<string, unknown>)[secretRef] : undefined;
  if (typeof local === 'string') return local;
  const cached = secretCache.get(secretRef);
  if (cached && cached.until > Date.now()) return cached.secret;
  const { Parameter } = await environment().ssm.send(new GetParameterCommand({ Name: secretRef, WithDecryption: true }));
  if (!Parameter?.Value) throw new Error('webhook secret parameter has no value');
  secretCache.set(secretRef, { until: Date.now() + SECRET_CACHE_MS, secret: Parameter.Value });
  return Parameter.Value;
}

/** For destinations with `include`: the live profile (a merged-away id resolves to the survivor) and its scores. */
async function profileOf(profileId: string): Promise<ProfileSnapshot | undefined> {
  const profile = await profileEnvironment().store.getProfile(profileId);
  if (!profile) return undefined;
  const scores = await environment().scores.getScores(profile.profileId);
  return { identities: profile.identities, scores: scores ?? {} };
}

/** Exponential backoff per message: the failed message stays invisible longer after every receive. */
async function postponeRetry(record: SQSRecord, receiveCount: number): Promise<void> {
  const { sqs, queueUrl, timeScale } = environment();
  const url = queueUrl ?? queueUrlOf(record.eventSourceARN);
  const delay = retryDelaySeconds(receiveCount, WEBHOOK_RETRY_POLICY, timeScale);
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay }));
}

/** `arn:aws:sqs:<region>:<account>:<name>` → its URL (the SDK resolves the endpoint). */
function queueUrlOf(queueArn: string): string {
  const [, , , region, account, name] = queueArn.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

async function activateRecord(record: SQSRecord): Promise<void> {
  const message = JSON.parse(record.body) as ActivationMessage;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const { log, sender } = environment();
  const journeysStarted = await startAudienceJourneys(message);
  const report = await deliverTransition(message, receiveCount, {
    destinationsOf,
    secretOf,
    profileOf,
    call: (request) => sender.send(request),
    isDelivered: (transitionId, destination) => log.isDelivered(transitionId, destination),
    recordAttempt: async ({ transitionId, ...attempt }, delivered) => {
      // The destination's key and the reason only: never its URL (it may carry a token) nor profile data.
      if (isRefused(attempt.result)) {
        logger.warn('webhook destination refused: not a public address', {
          transitionId,
          segmentId: attempt.segmentId,
          destination: attempt.destination,
          reason: attempt.result.refused,
        });
      }
      await log.recordAttempt({ transitionId, ...attempt }, delivered);
    },
    now: () => new Date(),
  });
  // Ids and counts only: never profile data.
  logger.info('transition delivered', {
    transitionId: message.transitionId,
    segmentId: message.segmentId,
    profileId: message.profileId,
    event: message.event,
    receiveCount,
    journeysStarted,
    ...report,
  });
  if (report.failed > 0) {
    await postponeRetry(record, receiveCount).catch((error: unknown) => logger.warn('could not postpone the retry', { error }));
    throw new WebhookDeliveryFailedError(message.transitionId, report.failed);
  }
}

/** A transition that can never be delivered (malformed) is quarantined instead of retried into the DLQ. */
const activationRecord = quarantinePoisonMessages({ consumer: 'activation', logger, sink: () => profileEnvironment().store }, activateRecord);

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  return processPartialResponse(event, activationRecord, processor, { context });
};
