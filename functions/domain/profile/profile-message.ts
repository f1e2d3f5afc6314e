import type { AcceptedMessage, JsonObject } from '../tracking/accepted-message';
import type { ProfileRecord } from './profile';

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

/**
 * The identity that routes a message to the profile: its user id, else its most recently seen
 * anonymous id (older ones may have expired off the identity graph). None for a profile known only
 * by other identifiers (an email): the Tracking API accepts no message keyed on those.
 */
export function profileRoutingIdentity(profile: ProfileRecord): { readonly userId: string } | { readonly anonymousId: string } | undefined {
  const userId = profile.identities.find((identity) => identity.type === 'user_id')?.value;
  if (userId) return { userId };
  const anonymous = profile.identities.filter((identity) => identity.type === 'anonymous_id').sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1))[0];
  return anonymous ? { anonymousId: anonymous.value } : undefined;
}

/** The message addressed to `profile`, received at `receivedAt`; undefined when the profile has no routing identity. */
export function profileMessage(profile: ProfileRecord, fields: ProfileMessageFields, receivedAt: Date): AcceptedMessage | undefined {
  const identity = profileRoutingIdentity(profile);
  if (!identity) return undefined;
  return {
    type: fields.type,
    messageId: fields.messageId,
    ...identity,
    ...(fields.event !== undefined && { event: fields.event }),
    properties: fields.properties ?? {},
    traits: fields.traits ?? {},
    context: fields.context ?? {},
    timestamp: fields.timestamp,
    receivedAt: receivedAt.toISOString(),
  };
}
