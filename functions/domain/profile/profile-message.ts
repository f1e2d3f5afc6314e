import type { AcceptedMessage, JsonObject } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';
import { newestIdentity, type ProfileRecord } from './profile';

/**
 * Messages the platform itself addresses to a known profile (an unsubscribe, an email outcome),
 * sent through the Events queue so reconcile applies them like any tracked message: the same
 * dedupe by messageId, identity resolution, history and downstream scoring and segments.
 */
export interface ProfileMessageFields {
  readonly type: 'track' | 'identify';
  /** Idempotency key: derive it from what caused the message, so a retry is counted once. */
  readonly messageId: string;
  /** `track` only. */
  readonly event?: string;
  readonly properties?: JsonObject;
  readonly traits?: JsonObject;
  readonly context?: JsonObject;
  /** Event time, ISO 8601. */
  readonly timestamp: string;
}

type Routing = { readonly userId: string } | { readonly anonymousId: string } | { readonly contextTraits: Readonly<Record<string, string>> };

/**
 * What routes a message to the profile: its user id, else its most recently seen anonymous id
 * (older ones may have expired off the identity graph), else its newest email or phone as
 * `context.traits`, which reconcile resolves like an import row's (a CRM contact known only by
 * its address). None for a profile known only by other identifiers.
 */
function routingOf(profile: ProfileRecord): Routing | undefined {
  const userId = newestIdentity(profile.identities, 'user_id');
  if (userId) return { userId };
  const anonymousId = newestIdentity(profile.identities, 'anonymous_id');
  if (anonymousId) return { anonymousId };
  const email = newestIdentity(profile.identities, 'email');
  const phone = newestIdentity(profile.identities, 'phone');
  if (email) return { contextTraits: { email } };
  return phone ? { contextTraits: { phone } } : undefined;
}

/** The message addressed to `profile`, received at `receivedAt`; undefined when nothing can route it. */
export function profileMessage(profile: ProfileRecord, fields: ProfileMessageFields, receivedAt: Date): AcceptedMessage | undefined {
  const routing = routingOf(profile);
  if (!routing) return undefined;
  const context = fields.context ?? {};
  return {
    type: fields.type,
    messageId: fields.messageId,
    ...('userId' in routing && { userId: routing.userId }),
    ...('anonymousId' in routing && { anonymousId: routing.anonymousId }),
    ...(fields.event !== undefined && { event: fields.event }),
    properties: fields.properties ?? {},
    traits: fields.traits ?? {},
    context: 'contextTraits' in routing ? { ...context, traits: { ...asObject(context.traits), ...routing.contextTraits } } : context,
    timestamp: fields.timestamp,
    receivedAt: receivedAt.toISOString(),
  };
}

/** What a channel reports back about a send (an email bounce, an SMS receipt) as an event of the person it went to. */
export interface DeliveryOutcomeEvent {
  /** The profile the send was for (from its tags or context); absent when the send carried none. */
  readonly profileId?: string;
  readonly messageId: string;
  readonly event: string;
  readonly properties: JsonObject;
  readonly channel: string;
  readonly occurredAt: string;
}

export type DeliveryOutcomeRecording =
  | { readonly recorded: true; readonly survivorId: string; readonly messageId: string }
  | { readonly recorded: false; readonly reason: 'no-profile-context' | 'unroutable'; readonly profileFound: boolean };

/**
 * Sends a delivery outcome on to the profile as a tracked event (through the Events queue, so a
 * redelivered outcome is counted once): the profile is loaded by id (a merged-away id resolves to
 * its survivor); nothing is sent when the send named no profile, or when the profile is gone or
 * has no identifier a message can be routed by.
 */
export async function recordDeliveryOutcome(
  outcome: DeliveryOutcomeEvent,
  deps: {
    readonly loadProfile: (profileId: string) => Promise<ProfileRecord | undefined>;
    readonly enqueue: (messages: readonly AcceptedMessage[]) => Promise<void>;
  },
  now: Date,
): Promise<DeliveryOutcomeRecording> {
  if (!outcome.profileId) return { recorded: false, reason: 'no-profile-context', profileFound: false };
  const profile = await deps.loadProfile(outcome.profileId);
  const message =
    profile &&
    profileMessage(
      profile,
      {
        type: 'track',
        messageId: outcome.messageId,
        event: outcome.event,
        properties: { ...outcome.properties },
        context: { channel: outcome.channel },
        timestamp: outcome.occurredAt,
      },
      now,
    );
  if (!profile || !message) return { recorded: false, reason: 'unroutable', profileFound: profile !== undefined };
  await deps.enqueue([message]);
  return { recorded: true, survivorId: profile.profileId, messageId: message.messageId };
}
