import type { EmailFeedbackDependencies } from '../handlers/email-feedback';
import { eventsQueue } from './pipeline-queues';
import { journeyStoreFromEnvironment } from './journey-environment';
import { profileEnvironment } from './profile-environment';

let cached: EmailFeedbackDependencies | undefined;

/** The EmailFeedback function's: the profile and journey stores (pseudonym secret) and the Events queue. */
export function emailFeedbackDependencies(env: NodeJS.ProcessEnv = process.env): EmailFeedbackDependencies {
  if (cached) return cached;
  const { store } = profileEnvironment(env);
  const journeys = journeyStoreFromEnvironment(env);
  const events = eventsQueue(env);
  cached = {
    suppress: (emails, reason, now) => journeys.suppress(emails, reason, now),
    loadProfile: (profileId) => store.getProfile(profileId),
    enqueue: (messages) => events.enqueue(messages),
    countFeedback: (count, now) => journeys.recordFeedback(count, now),
    quarantineMessage: (entry) => store.quarantineMessage(entry),
    now: () => new Date(),
  };
  return cached;
}
