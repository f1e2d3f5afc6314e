import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { segmentEvaluationEnvironment, type SegmentEvaluationEnvironment } from '../composition/segment-evaluation-environment';
import { grantedPurposesOf } from '../domain/privacy/purposes';
import type { ProfileRecord } from '../domain/profile/profile';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { PoisonMessageError } from '../domain/shared/poison-message';
import type { ProfileChange } from '../domain/pipeline/messages';
import { evaluateProfileChange } from '../domain/segments/rebuild/evaluate-profile-change';

const logger = new Logger({ serviceName: 'segmentEvaluator' });
const processor = new BatchProcessor(EventType.SQS);

/**
 * Keeps what personalization decisions read up to date (README "Personalization"): the purposes
 * the person granted, decided here with the deployment's consent rules, and where the decisions
 * of profiles merged into this one now come from. Memberships, just written, are read as they are.
 */
async function saveDecisionFacts(environment: SegmentEvaluationEnvironment, change: ProfileChange, profile: ProfileRecord | undefined): Promise<void> {
  if (!profile) return;
  const now = new Date();
  const absorbed = [...(change.absorbedProfileIds ?? []), change.profileId].filter((profileId) => profileId !== profile.profileId);
  if (absorbed.length > 0) await environment.decisionFacts.markMerged(absorbed, profile.profileId, now);
  await environment.decisionFacts.saveGrantedPurposes(
    profile.profileId,
    grantedPurposesOf(profile.consent, profile.traits.country?.value, environment.profiles.purposeConfig),
    now,
  );
}

async function evaluateRecord(record: SQSRecord, catalogVersion: number): Promise<void> {
  const change = JSON.parse(record.body) as ProfileChange;
  if (change?.kind !== 'profile-change' || typeof change.profileId !== 'string') throw new PoisonMessageError('not a profile change');
  const environment = segmentEvaluationEnvironment();
  const { store } = environment.profiles;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  // The profile as evaluated, for its decision facts below (one read).
  let evaluated: ProfileRecord | undefined;
  const transitions = await evaluateProfileChange(change, receiveCount > 1, {
    segments: () => environment.evaluableSegments(catalogVersion),
    getProfile: async (profileId) => (evaluated = await store.getProfile(profileId)),
    getScores: async (profileId) => (await environment.scores.getScores(profileId)) as Readonly<Record<string, unknown>> | undefined,
    listEvents: async (profile, limit) => (await store.listEvents(profile, limit)).map((stored) => stored.message),
    segmentIdsOf: (profileId) => environment.segments.segmentIdsOf(profileId),
    applyMembership: (segment, profileId, shouldBeMember, at) => environment.segments.applyMembership(segment, profileId, shouldBeMember, at),
    now: () => new Date(),
  });
  await environment.activation.send(transitions);
  // Without any segment the evaluation reads no profile: the facts (consent, merges) are kept all the same.
  await saveDecisionFacts(environment, change, evaluated ?? (await store.getProfile(change.profileId)));
  // Ids and counts only: never traits or identifiers.
  logger.info('profile evaluated', {
    profileId: change.profileId,
    reason: change.reason,
    receiveCount,
    entered: transitions.filter((t) => t.event === 'Audience Entered').map((t) => t.segmentId),
    exited: transitions.filter((t) => t.event === 'Audience Exited').map((t) => t.segmentId),
  });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  // Read after the batch's changes were committed: a segment created before any of them is evaluated.
  const catalogVersion = await segmentEvaluationEnvironment().segments.catalogVersion();
  // A message that can never be evaluated is quarantined instead of being retried into the DLQ.
  const record = quarantinePoisonMessages({ consumer: 'segmentEvaluator', logger, sink: () => segmentEvaluationEnvironment().profiles.store }, (received) =>
    evaluateRecord(received, catalogVersion),
  );
  return processPartialResponse(event, record, processor, { context });
};
