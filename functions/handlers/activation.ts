import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { sqsConsumer } from '../adapters/poison-message-quarantine';
import { activationEnvironment, type ActivationEnvironment } from '../composition/activation';
import { profileEnvironment } from '../composition/profile-environment';
import { isRefused, retryDelaySeconds, WEBHOOK_RETRY_POLICY } from '../domain/activation/delivery';
import { callCenterTarget } from '../domain/activation/call-center';
import { deliverTransition, deliveryTouches, type DeliveryTarget } from '../domain/activation/deliver-transition';
import { attributionEnvironment } from '../composition/attribution';
import { audienceJourneyStart } from '../domain/journeys/audience-journey';
import type { ActivationMessage, AudienceTransition } from '../domain/pipeline/messages';

const logger = new Logger({ serviceName: 'activation' });

class WebhookDeliveryFailedError extends Error {
  constructor(transitionId: string, failed: number) {
    super(`${failed} webhook destination(s) did not accept transition ${transitionId}`);
    this.name = 'WebhookDeliveryFailedError';
  }
}

/**
 * Starts the segment's audience journeys for an entry. The execution name is derived from the
 * transition, so a redelivered transition starts nothing twice.
 */
async function startAudienceJourneys(transition: AudienceTransition, environment: ActivationEnvironment): Promise<number> {
  const journeys = (await environment.segmentDestinations(transition.segmentId))?.filter((destination) => destination.type === 'journey') ?? [];
  const starts = journeys.flatMap((destination, position) => audienceJourneyStart(transition, destination, position) ?? []);
  for (const start of starts) await environment.audienceJourneys.start(start.name, start.input);
  return starts.length;
}

async function activateRecord(record: SQSRecord): Promise<void> {
  const environment = activationEnvironment();
  const message = JSON.parse(record.body) as ActivationMessage;
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const { attribution, controlGroup } = attributionEnvironment();
  const journeysStarted = await startAudienceJourneys(message, environment);
  const report = await deliverTransition(message, receiveCount, {
    // Webhooks and call centers, in the segment's order (their delivery keys count positions among them).
    destinationsOf: async (segmentId) =>
      (await environment.segmentDestinations(segmentId))?.flatMap((destination): DeliveryTarget[] =>
        destination.type === 'webhook' ? [destination] : destination.type === 'call_center' ? [callCenterTarget(destination)] : [],
      ),
    secretOf: environment.secretOf,
    profileOf: environment.profileOf,
    purposeConfig: environment.purposeConfig,
    inControlGroup: (profileId) => controlGroup.contains(profileId),
    call: (request) => environment.webhooks.send(request),
    isDelivered: (transitionId, destination) => environment.log.isDelivered(transitionId, destination),
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
      await environment.log.recordAttempt({ transitionId, ...attempt }, delivered);
    },
    now: () => new Date(),
  });
  // The segment report's reach per channel: the entry delivered to a destination, or held out of one.
  const touches = deliveryTouches(message, report, new Date());
  if (touches.length > 0) await attribution.recordTouches(touches);
  // Ids and counts only: never profile data.
  logger.info('transition delivered', {
    transitionId: message.transitionId,
    segmentId: message.segmentId,
    profileId: message.profileId,
    event: message.event,
    receiveCount,
    journeysStarted,
    ...report,
    // Destinations skipped because the person did not grant the purpose they serve.
    withoutConsent: report.withoutConsent ?? 0,
    heldOut: report.heldOut ?? 0,
    controlGroup: report.controlGroup ?? 0,
    // Call-center destinations skipped: the person has no callable phone (never the number itself).
    withoutPhone: report.withoutPhone ?? 0,
  });
  if (report.failed > 0) {
    const delay = retryDelaySeconds(receiveCount, WEBHOOK_RETRY_POLICY, environment.timeScale);
    await environment.postpone(record, delay).catch((error: unknown) => logger.warn('could not postpone the retry', { error }));
    throw new WebhookDeliveryFailedError(message.transitionId, report.failed);
  }
}

/** A transition that can never be delivered (malformed) is quarantined instead of retried into the DLQ. */
export const handler = sqsConsumer({ consumer: 'activation', logger, sink: () => profileEnvironment().store }, activateRecord);
