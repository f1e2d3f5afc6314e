import type { SmsEventsDependencies } from '../handlers/sms-events';
import { eventsQueue } from './pipeline-queues';
import { journeyStoreFromEnvironment } from './journey-environment';
import { profileEnvironment } from './profile-environment';

let cached: SmsEventsDependencies | undefined;

/** The SmsEvents function's: the profile and journey stores (pseudonym secret, for the opt-out list) and the Events queue. */
export function smsEventsDependencies(env: NodeJS.ProcessEnv = process.env): SmsEventsDependencies {
  if (cached) return cached;
  const { store } = profileEnvironment(env);
  const journeys = journeyStoreFromEnvironment(env);
  const events = eventsQueue(env);
  cached = {
    loadProfile: (profileId) => store.getProfile(profileId),
    findProfileByPhone: (phone) => store.findProfile({ type: 'phone', value: phone }),
    optOutNumber: (phone, now) => journeys.optOutNumber(phone, now),
    optInNumber: (phone) => journeys.optInNumber(phone),
    suppressNumber: (phone, now) => journeys.optOutNumber(phone, now, 'undeliverable'),
    enqueue: (messages) => events.enqueue(messages),
    countReceipt: (count, now) => journeys.recordFeedback(count, now),
    quarantineMessage: (entry) => store.quarantineMessage(entry),
    now: () => new Date(),
  };
  return cached;
}
