import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { attributionEnvironment } from '../composition/attribution';
import { journeyEnvironment } from '../composition/journey-environment';
import { audienceEmailTouch } from '../domain/reports/journey-counters';
import { profileEnvironment } from '../composition/profile-environment';
import { unsubscribeToken } from '../domain/email/unsubscribe-token';
import { sendHourOf } from '../domain/scoring/profile-scores';
import { runSendStep, type SendStepInput, type StepOutcome } from '../domain/journeys/journey-send';

const logger = new Logger({ serviceName: 'journeySend' });

/** Task of the journey state machines: one send step of one run (see runSendStep). */
export const handler = async (event: SendStepInput, context: Context): Promise<StepOutcome> => {
  logger.addContext(context);
  const { config, journeys, scores, segments, mailer, sms, publicUrl, unsubscribeSecret } = journeyEnvironment();
  const { store } = profileEnvironment();
  const { attribution, controlGroup } = attributionEnvironment();
  const secret = await unsubscribeSecret();
  const outcome = await runSendStep(
    event,
    {
      config,
      loadProfile: (profileId) => store.getProfile(profileId),
      cartState: (profileId) => journeys.cartState(profileId),
      inControlGroup: (profileId) => controlGroup.contains(profileId),
      isMember: async (segmentId, profileId) => (await segments.getMembership(segmentId, profileId))?.member === true,
      recordedOutcome: (runId, step) => journeys.recordedOutcome(runId, step),
      recipientFlags: (profileId, email) => journeys.recipientFlags(profileId, email),
      smsRecipientFlags: (phone) => journeys.smsRecipientFlags(phone),
      bestSendHour: async (profileId) => sendHourOf(await scores.getScores(profileId)),
      recentSends: (profileId, since) => journeys.recentSends(profileId, since),
      claimSend: (runId, step, now) => journeys.claimSend(runId, step, now),
      releaseSend: (runId, step) => journeys.releaseSend(runId, step),
      send: (email) => mailer.send(email),
      sendSms: (message) => sms.send(message),
      optOutNumber: (phone, now) => journeys.optOutNumber(phone, now),
      recordOutcome: async (run, step, recorded, now) => {
        // Already counted means a concurrent attempt recorded it first: the outcome stands either way.
        const counted = await journeys.recordOutcome(run, step, recorded, now, config.frequencyCap.windowHours);
        if (counted === 'uncounted') logger.warn('step recorded without its report count: the day counter stayed contended', { runId: run.runId, step });
      },
      unsubscribeUrl: (profileId) => `${publicUrl}/v1/unsubscribe?token=${encodeURIComponent(unsubscribeToken(secret, profileId))}`,
    },
    new Date(),
  );
  // The segment report's reach, once per run whichever attempt recorded the outcome.
  const touch = outcome.outcome === 'deferred' ? undefined : audienceEmailTouch(event.run, event.step, outcome, new Date().toISOString());
  if (touch) await attribution.recordTouches([touch]);
  // Ids, step and outcome only: never the address or the content.
  logger.info('journey step', { journey: event.run.journey, runId: event.run.runId, profileId: event.run.profileId, step: event.step, ...outcome });
  return outcome;
};
