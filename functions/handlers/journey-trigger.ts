import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { attributionEnvironment } from '../composition/attribution';
import { journeyEnvironment } from '../composition/journey-environment';
import { attributeOrder } from '../domain/reports/attribution';
import { profileEnvironment } from '../composition/profile-environment';
import { quarantinePoisonMessages } from '../adapters/poison-message-quarantine';
import { PoisonMessageError } from '../domain/shared/poison-message';
import { decideCartTrigger, runName } from '../domain/journeys/cart-abandonment';
import { canReceiveMarketingEmail } from '../domain/email/recipient';
import { OFFER_EVENTS, type JourneyEvent } from '../domain/journeys/journey-event';
import { recordOfferEvent } from '../domain/personalization/offer-events';
import { offerEventsEnvironment } from '../composition/offer-events';
import type { PromotionRun } from '../domain/journeys/journey-send';

const logger = new Logger({ serviceName: 'journeyTrigger' });
const processor = new BatchProcessor(EventType.SQS);

/** What reconcile said, else (a re-announced duplicate) what the profile says now. */
async function emailable(event: JourneyEvent): Promise<boolean> {
  if (event.emailable !== undefined) return event.emailable;
  const profile = await profileEnvironment().store.getProfile(event.profileId);
  return profile !== undefined && canReceiveMarketingEmail(profile);
}

async function handleCartEvent(event: JourneyEvent): Promise<string> {
  const { journeys, cartRuns } = journeyEnvironment();
  const decision = decideCartTrigger(event, await journeys.cartState(event.profileId));
  switch (decision.kind) {
    case 'ignore':
      return decision.reason;
    case 'stop':
      await cartRuns.stop(decision.current.executionArn, 'order completed');
      return 'stopped';
    case 'start': {
      if (!(await emailable(event))) return 'not-emailable';
      const { firstDelaySeconds, secondDelaySeconds } = journeyEnvironment().config.cartAbandonment;
      const input = { run: decision.run, delays: { firstSeconds: firstDelaySeconds, secondSeconds: secondDelaySeconds } };
      const executionArn = await cartRuns.start(decision.run.runId, input);
      const current = await journeys.setCartState(event.profileId, { runId: decision.run.runId, executionArn, cartChangedAt: decision.run.cartChangedAt });
      // A newer cart change won the race: this run is already stale.
      if (!current) {
        await cartRuns.stop(executionArn, 'superseded by a newer cart change');
        return 'superseded';
      }
      if (decision.supersedes) await cartRuns.stop(decision.supersedes.executionArn, 'cart changed');
      return decision.supersedes ? 'restarted' : 'started';
    }
  }
}

/** An order converts the journeys the profile entered shortly before; it also ends the cart's run. */
async function handleOrder(event: JourneyEvent): Promise<string> {
  const profile = await profileEnvironment().store.getProfile(event.profileId);
  const profileIds = profile ? [profile.profileId, ...profile.mergedFrom] : [event.profileId];
  const conversions = await journeyEnvironment().journeys.recordConversions(profileIds, event.at, event.revenue ?? 0, new Date());
  for (const { journeyKey, runId, group, result } of conversions)
    logger.info('journey conversion', { journeyKey, runId, group, result, messageId: event.messageId });
  const { attribution, attributionConfig } = attributionEnvironment();
  const { credited } = await attributeOrder(
    { orderKey: event.orderId ?? event.messageId, at: event.at, revenue: event.revenue ?? 0, ...(event.currency && { currency: event.currency }) },
    { profileId: profileIds[0] ?? event.profileId, mergedFrom: profileIds.slice(1) },
    {
      config: attributionConfig,
      touchesOf: (ids) => attribution.touchesOf(ids),
      recordOrder: (order, buyer, touches) => attribution.recordOrder(order, buyer, touches),
    },
  );
  for (const touch of credited)
    logger.info('segment conversion', { segmentId: touch.segmentId, channel: touch.channel, group: touch.group, messageId: event.messageId });
  return handleCartEvent(event);
}

async function handleProductView(event: JourneyEvent): Promise<string> {
  if (!event.productId) return 'no-product';
  if (!(await emailable(event))) return 'not-emailable';
  const { journeys, config } = journeyEnvironment();
  if (!(await journeys.claimPromotion(event.profileId, event.productId, event.messageId, config.productView.capDays, new Date()))) return 'capped';
  const run: PromotionRun = {
    journey: 'product-view',
    runId: runName('view', event.profileId, event.productId, event.messageId),
    profileId: event.profileId,
    productId: event.productId,
    ...(event.productName && { productName: event.productName }),
    viewedAt: event.at,
  };
  await journeyEnvironment().promotionRuns.start(run.runId, { run });
  return 'started';
}

/** Events of one profile run one after the other: their decisions read and write the same state. */
const inFlightByProfile = new Map<string, Promise<unknown>>();

function serializedByProfile<T>(profileId: string, work: () => Promise<T>): Promise<T> {
  const next = (inFlightByProfile.get(profileId) ?? Promise.resolve()).then(work, work);
  const settled = next.catch(() => undefined);
  inFlightByProfile.set(profileId, settled);
  void settled.then(() => {
    if (inFlightByProfile.get(profileId) === settled) inFlightByProfile.delete(profileId);
  });
  return next;
}

async function triggerRecord(record: SQSRecord): Promise<void> {
  const event = JSON.parse(record.body) as JourneyEvent;
  if (event?.kind !== 'journey-event' || typeof event.profileId !== 'string' || typeof event.messageId !== 'string' || typeof event.at !== 'string') {
    throw new PoisonMessageError('not a journey event');
  }
  const handle = OFFER_EVENTS.includes(event.event)
    ? (offerEvent: JourneyEvent) => recordOfferEvent(offerEvent, offerEventsEnvironment())
    : event.event === 'Product Viewed'
      ? handleProductView
      : event.event === 'Order Completed'
        ? handleOrder
        : handleCartEvent;
  const result = await serializedByProfile(event.profileId, () => handle(event));
  logger.info('journey event', { event: event.event, profileId: event.profileId, messageId: event.messageId, result });
}

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  logger.addContext(context);
  // A message that can never start its journey (malformed, input refused) is quarantined instead of retried into the DLQ.
  const record = quarantinePoisonMessages({ consumer: 'journeyTrigger', logger, sink: () => profileEnvironment().store }, triggerRecord);
  return processPartialResponse(event, record, processor, { context });
};
