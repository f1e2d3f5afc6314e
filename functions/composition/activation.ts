import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AUDIENCE_EMAIL_STATE_MACHINE } from '../../lib/definitions/state-machines';
import { DynamoDeliveryLog } from '../adapters/dynamodb-delivery-log';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { webhookSecretsFromEnvironment } from '../adapters/secure-parameter';
import { stateMachineArnFromEnv, StepFunctionsWorkflow } from '../adapters/step-functions-runs';
import { WebhookSender } from '../adapters/webhook-sender';
import { outboundUrlPolicyFromEnv } from '../domain/activation/outbound-address';
import { contactOf } from '../domain/activation/call-center';
import type { ProfileSnapshot } from '../domain/activation/profile-payload';
import { consentRegion, type PurposeConfig } from '../domain/privacy/purposes';
import type { DeliveryLog } from '../ports/delivery-log';
import type { SegmentDestination } from '../ports/segment-store';
import type { WebhookTransport } from '../ports/webhook-transport';
import type { WorkflowRuns } from '../ports/workflow-runs';
import { profileEnvironment } from './profile-environment';

/** Segments change rarely; a short cache spares a read per transition. */
const SEGMENT_CACHE_MS = 10_000;

/**
 * What the Activation function needs, from its environment: the profiles table
 * (`PROFILES_TABLE_NAME`), webhook secrets (secure-parameter.ts), the audience journey state
 * machine, `ACTIVATION_QUEUE_URL` (local; on AWS derived from the record) and `DMP_TIME_SCALE`.
 */
export interface ActivationEnvironment {
  readonly log: DeliveryLog;
  readonly webhooks: WebhookTransport;
  /** All destinations of the segment (cached briefly); undefined when it was deleted meanwhile. */
  segmentDestinations(segmentId: string): Promise<readonly SegmentDestination[] | undefined>;
  secretOf(secretRef: string): Promise<string>;
  /**
   * The live profile (a merged-away id resolves to the survivor): its identities, scores, consent,
   * the region of its `country` trait and its contact traits (call centers); undefined once erased.
   */
  profileOf(profileId: string): Promise<Required<ProfileSnapshot> | undefined>;
  /** Which purposes exist and which a person has by default (`DMP_PRIVACY_CONFIG`): decides the destinations that serve a purpose. */
  readonly purposeConfig: PurposeConfig;
  /** Audience journey runs, started once per name (a redelivered transition starts nothing twice). */
  readonly audienceJourneys: WorkflowRuns;
  /** Keeps a failed message invisible for `delaySeconds` (exponential backoff per message). */
  postpone(receipt: { readonly receiptHandle: string; readonly eventSourceARN: string }, delaySeconds: number): Promise<void>;
  readonly timeScale: number;
}

/** `arn:aws:sqs:<region>:<account>:<name>` → its URL (the SDK resolves the endpoint). */
function queueUrlOf(queueArn: string): string {
  const [, , , region, account, name] = queueArn.split(':');
  return `https://sqs.${region}.amazonaws.com/${account}/${name}`;
}

let cached: ActivationEnvironment | undefined;

export function activationEnvironment(env: NodeJS.ProcessEnv = process.env): ActivationEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, store, purposeConfig, segments, retention } = profileEnvironment(env);
  const scores = new DynamoScoreStore(dynamo, tableName);
  const sqs = new SQSClient({});
  const timeScale = Number(env.DMP_TIME_SCALE ?? '1');
  const segmentCache = new Map<string, { readonly until: number; readonly destinations: readonly SegmentDestination[] | undefined }>();
  cached = {
    log: new DynamoDeliveryLog(dynamo, tableName, retention.deliveryLog),
    // Public https receivers only; loopback too on the local platform (DMP_ALLOW_LOOPBACK_WEBHOOKS).
    webhooks: new WebhookSender({ policy: outboundUrlPolicyFromEnv() }),
    async segmentDestinations(segmentId) {
      const hit = segmentCache.get(segmentId);
      if (hit && hit.until > Date.now()) return hit.destinations;
      const destinations = (await segments.getSegment(segmentId))?.destinations;
      segmentCache.set(segmentId, { until: Date.now() + SEGMENT_CACHE_MS, destinations });
      return destinations;
    },
    secretOf: webhookSecretsFromEnvironment(env),
    async profileOf(profileId) {
      const profile = await store.getProfile(profileId);
      if (!profile) return undefined;
      return {
        identities: profile.identities,
        scores: (await scores.getScores(profile.profileId)) ?? {},
        consent: profile.consent,
        region: consentRegion(profile.traits.country?.value),
        contact: contactOf(profile.traits),
      };
    },
    purposeConfig,
    audienceJourneys: new StepFunctionsWorkflow(new SFNClient({}), () => stateMachineArnFromEnv(AUDIENCE_EMAIL_STATE_MACHINE.envName, env)),
    async postpone(receipt, delaySeconds) {
      const queueUrl = env.ACTIVATION_QUEUE_URL ?? queueUrlOf(receipt.eventSourceARN);
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt.receiptHandle, VisibilityTimeout: delaySeconds }));
    },
    timeScale: Number.isFinite(timeScale) && timeScale > 0 ? timeScale : 1,
  };
  return cached;
}
