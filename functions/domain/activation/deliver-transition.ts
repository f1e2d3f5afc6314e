import type { AudienceTransition } from '../pipeline/messages';
import { destinationKey, destinationsFor, isDelivered, isRefused, webhookPayload, type AttemptResult, type EventFilter } from './delivery';
import { webhookProfile, type ProfileInclude, type ProfileSnapshot } from './profile-payload';
import { webhookHeaders } from './standard-webhooks';

/** A segment's webhook as stored: the secret itself is looked up by reference. */
export interface WebhookTarget extends EventFilter {
  readonly type: 'webhook';
  readonly url: string;
  readonly secretRef?: string;
  /** Profile data added to the payload as `data.profile` (read at delivery time). */
  readonly include?: readonly ProfileInclude[];
}

export interface WebhookCall {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface AttemptRecord {
  readonly transitionId: string;
  readonly segmentId: string;
  readonly destination: string;
  readonly at: string;
  readonly receiveCount: number;
  readonly result: AttemptResult;
}

export interface DeliveryDependencies {
  /** The segment's current destinations; undefined when the segment was deleted meanwhile. */
  destinationsOf(segmentId: string): Promise<readonly WebhookTarget[] | undefined>;
  /** The `whsec_` secret a destination's `secretRef` names. */
  secretOf(secretRef: string): Promise<string>;
  /** The live profile (merges followed) and its scores; undefined once it was erased. */
  profileOf(profileId: string): Promise<ProfileSnapshot | undefined>;
  call(request: WebhookCall): Promise<AttemptResult>;
  isDelivered(transitionId: string, destination: string): Promise<boolean>;
  recordAttempt(attempt: AttemptRecord, delivered: boolean): Promise<void>;
  now(): Date;
}

export interface DeliveryReport {
  readonly delivered: number;
  /** Destinations that already had this transition (a redelivered message). */
  readonly alreadyDelivered: number;
  /** Failed for now: the message is retried for these. */
  readonly failed: number;
  /**
   * Destinations whose URL or address may not be called (see outbound-address.ts): nothing was
   * sent, and they do not make the message retry (a retry for another destination checks them again).
   */
  readonly refused: number;
}

/**
 * Delivers one transition to every webhook of its segment that wants it, signed per Standard
 * Webhooks with `webhook-id` = transitionId. Each destination is called at most once per
 * transition successfully: destinations delivered on an earlier receive are skipped.
 * A destination with `include` gets its own body, with the profile as it is now; the profile is
 * read at most once per call, and only when such a destination is due.
 */
export async function deliverTransition(transition: AudienceTransition, receiveCount: number, deps: DeliveryDependencies): Promise<DeliveryReport> {
  const destinations = (await deps.destinationsOf(transition.segmentId)) ?? [];
  const plainBody = JSON.stringify(webhookPayload(transition));
  let snapshot: Promise<ProfileSnapshot | undefined> | undefined;
  const bodyFor = async (include: readonly ProfileInclude[] | undefined): Promise<string> => {
    if (include === undefined || include.length === 0) return plainBody;
    snapshot ??= deps.profileOf(transition.profileId);
    return JSON.stringify(webhookPayload(transition, webhookProfile(include, await snapshot)));
  };
  let delivered = 0;
  let alreadyDelivered = 0;
  let failed = 0;
  let refused = 0;
  const wanted = destinationsFor(
    destinations.map((destination, position) => ({ ...destination, key: destinationKey(position, destination.url) })),
    transition.event,
  );
  for (const destination of wanted) {
    if (await deps.isDelivered(transition.transitionId, destination.key)) {
      alreadyDelivered += 1;
      continue;
    }
    const body = await bodyFor(destination.include);
    const now = deps.now();
    const timestampSeconds = Math.floor(now.getTime() / 1000);
    const headers =
      destination.secretRef === undefined
        ? { 'webhook-id': transition.transitionId, 'webhook-timestamp': String(timestampSeconds) }
        : webhookHeaders({ id: transition.transitionId, timestampSeconds, body, secret: await deps.secretOf(destination.secretRef) });
    const result = await deps.call({ url: destination.url, headers, body });
    const ok = isDelivered(result);
    await deps.recordAttempt(
      { transitionId: transition.transitionId, segmentId: transition.segmentId, destination: destination.key, at: now.toISOString(), receiveCount, result },
      ok,
    );
    if (ok) delivered += 1;
    else if (isRefused(result)) refused += 1;
    else failed += 1;
  }
  return { delivered, alreadyDelivered, failed, refused };
}
