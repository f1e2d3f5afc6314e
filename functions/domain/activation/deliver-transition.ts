import type { AudienceTransition } from '../pipeline/messages';
import { isHoldout } from '../shared/holdout';
import type { Touch } from '../reports/attribution';
import type { Group } from '../reports/journey-counters';
import { DEFAULT_PURPOSE_CONFIG, purposeGranted, type PurposeConfig } from '../privacy/purposes';
import { EMPTY_CONSENT } from '../profile/consent';
import { callCenterContact, type CallCenterTarget } from './call-center';
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
  /**
   * The processing purpose the receiver uses the data for (docs/contract.md §9): only people who
   * granted it are delivered. Without it, every transition the destination asked for is.
   */
  readonly purpose?: string;
  /** A marketing destination: the global control group is never delivered to it. */
  readonly marketing?: boolean;
  /**
   * Share of the segment's members held out of this destination (by a stable hash of segment and
   * profile, the same for all its transitions), to measure its lift in the segment report.
   */
  readonly holdout?: number;
}

/** What deliverTransition calls: webhooks, and call-center destinations (their defaults applied, call-center.ts). */
export type DeliveryTarget = WebhookTarget | CallCenterTarget;

/** The report channel of a delivery destination: a call center is reported apart from other webhooks. */
export type DeliveryChannel = DeliveryTarget['type'];

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
  destinationsOf(segmentId: string): Promise<readonly DeliveryTarget[] | undefined>;
  /** The `whsec_` secret a destination's `secretRef` names. */
  secretOf(secretRef: string): Promise<string>;
  /** The live profile (merges followed), its scores, consent and region; undefined once it was erased. */
  profileOf(profileId: string): Promise<ProfileSnapshot | undefined>;
  /** The deployment's purposes and their defaults (DMP_PRIVACY_CONFIG); DEFAULT_PURPOSE_CONFIG when absent. */
  readonly purposeConfig?: PurposeConfig;
  /** Whether the person is in the global control group (marketing destinations skip them). */
  inControlGroup(profileId: string): Promise<boolean>;
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
  /**
   * Destinations serving a purpose the person has not granted (denied, never decided under
   * opt-in, or the profile erased or unknown): nothing was sent and no attempt recorded, so they
   * do not make the message retry; a retry for another destination checks their consent again.
   * Absent when there were none.
   */
  readonly withoutConsent?: number;
  /** Destinations the person is held out of (their `holdout`); absent when none. */
  readonly heldOut?: number;
  /** Marketing destinations skipped because the person is in the global control group; absent when none. */
  readonly controlGroup?: number;
  /**
   * Call-center destinations skipped because the person has no phone a dialer can call (none, or
   * not a valid number): nothing sent, no attempt recorded, no retry. Absent when none.
   */
  readonly withoutPhone?: number;
  /**
   * Per channel, whether the person was reached (`treatment`: a destination of that channel has
   * the transition, now or from an earlier receive) or only held out of it (`holdout`); absent
   * when no destination did either. The segment report's touches come from it.
   */
  readonly touched?: Partial<Record<DeliveryChannel, Group>>;
}

/** Whether the person is in the holdout of the segment's webhooks of this share: stable for all their transitions. */
export const isWebhookHoldout = (transition: Pick<AudienceTransition, 'segmentId' | 'profileId'>, share: number | undefined): boolean =>
  share !== undefined && isHoldout(`webhook:${transition.segmentId}:${transition.profileId}`, share);

/**
 * Delivers one transition to every webhook of its segment that wants it, signed per Standard
 * Webhooks with `webhook-id` = transitionId. Each destination is called at most once per
 * transition successfully: destinations delivered on an earlier receive are skipped.
 * A destination with `include` gets its own body, with the profile as it is now.
 *
 * A destination with a `purpose` gets the transition only if the person granted that purpose,
 * decided on the live profile at delivery time (a grant or withdrawal since the transition counts):
 * - granted (explicitly, or by their region's default): delivered as any other destination;
 * - denied, or never decided where the purpose is opt-in: skipped and counted in `withoutConsent`.
 *   This holds for exits too: someone who withdrew is not sent their exit either (a receiver that
 *   got their entry keeps them until it learns otherwise; a withdrawal is not itself an exit);
 * - the profile was erased (or is unknown): nobody's consent to rely on, skipped likewise
 *   (whereas a destination without a purpose still gets the transition, with `profile: null`).
 * Destinations without a purpose are delivered exactly as before, whatever the person's consent.
 * A `Profile Deleted` goes to every webhook of the segment, without profile data, whatever its
 * event filter or purpose. An exit for withdrawn purposes (`withdrawnPurposes`) goes only to the
 * destinations serving one of them, without a consent check: it tells them to stop.
 * The profile is read at most once per call, and only when a destination that includes profile
 * data or serves a purpose is due (not already delivered); a read failure fails the call, so the
 * message is retried and nothing is sent to a destination whose consent could not be checked.
 *
 * A call-center destination (always serving a purpose) gets, for an entry, the person to call
 * (callCenterContact) instead of the transition: someone without a callable phone is skipped and
 * counted in `withoutPhone`. Its other transitions (exits it asked for, notices) are the plain
 * webhook body, with no profile data; an exit for a withdrawal of its purpose reaches it whatever
 * its event filter, so a dialer drops the person from its call list.
 */
export async function deliverTransition(transition: AudienceTransition, receiveCount: number, deps: DeliveryDependencies): Promise<DeliveryReport> {
  const destinations = (await deps.destinationsOf(transition.segmentId)) ?? [];
  const plainBody = JSON.stringify(webhookPayload(transition));
  let snapshot: Promise<ProfileSnapshot | undefined> | undefined;
  const profile = (): Promise<ProfileSnapshot | undefined> => (snapshot ??= deps.profileOf(transition.profileId));
  const bodyFor = async (include: readonly ProfileInclude[] | undefined): Promise<string> => {
    if (include === undefined || include.length === 0) return plainBody;
    return JSON.stringify(webhookPayload(transition, webhookProfile(include, await profile())));
  };
  const config = deps.purposeConfig ?? DEFAULT_PURPOSE_CONFIG;
  const granted = async (purpose: string): Promise<boolean> => {
    const current = await profile();
    return current !== undefined && purposeGranted(current.consent ?? EMPTY_CONSENT, purpose, current.region ?? 'eu', config);
  };
  let delivered = 0;
  let alreadyDelivered = 0;
  let failed = 0;
  let refused = 0;
  let withoutConsent = 0;
  let heldOut = 0;
  let controlGroup = 0;
  let withoutPhone = 0;
  const touched: Partial<Record<DeliveryChannel, Group>> = {};
  const reach = (channel: DeliveryChannel, group: Group): void => {
    if (touched[channel] !== 'treatment') touched[channel] = group;
  };
  const keyed = destinations.map((destination, position) => ({ ...destination, key: destinationKey(position, destination.url) }));
  // An erasure is told to every destination of the segment: it may have received the person.
  const erasure = transition.event === 'Profile Deleted';
  // An exit for a withdrawal goes only to the destinations serving a withdrawn purpose.
  const withdrawn = transition.withdrawnPurposes;
  const wanted = erasure
    ? keyed
    : withdrawn !== undefined
      ? keyed.filter(
          (destination) =>
            destination.purpose !== undefined &&
            withdrawn.includes(destination.purpose) &&
            (destination.type === 'call_center' || destinationsFor([destination], transition.event).length > 0),
        )
      : destinationsFor(keyed, transition.event);
  for (const destination of wanted) {
    if (await deps.isDelivered(transition.transitionId, destination.key)) {
      alreadyDelivered += 1;
      reach(destination.type, 'treatment');
      continue;
    }
    const notice = erasure || withdrawn !== undefined;
    // Held out people, and the global control group on marketing destinations, get none of the
    // segment's transitions (the receiver never learnt of them); notices still go to everyone.
    // The control group first: it is no destination's holdout either (the holdout compares like with like).
    if (!notice && destination.marketing === true && (await deps.inControlGroup(transition.profileId))) {
      controlGroup += 1;
      continue;
    }
    if (!notice && isWebhookHoldout(transition, destination.holdout)) {
      heldOut += 1;
      reach(destination.type, 'holdout');
      continue;
    }
    // The notice of a withdrawal or an erasure is due precisely because consent is gone.
    if (!notice && destination.purpose !== undefined && !(await granted(destination.purpose))) {
      withoutConsent += 1;
      continue;
    }
    // Notices of an erasure or a withdrawal carry no profile data.
    let body: string;
    if (notice) body = plainBody;
    else if (destination.type === 'call_center') {
      if (transition.event !== 'Audience Entered') body = plainBody;
      else {
        const contact = callCenterContact(transition, destination, await profile());
        if (contact === 'no-phone') {
          withoutPhone += 1;
          continue;
        }
        // Nothing about an erased person (already left out by the consent check).
        if (contact === 'erased') {
          withoutConsent += 1;
          continue;
        }
        body = JSON.stringify(contact);
      }
    } else body = await bodyFor(destination.include);
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
    if (ok) {
      delivered += 1;
      reach(destination.type, 'treatment');
    } else if (isRefused(result)) refused += 1;
    else failed += 1;
  }
  return {
    delivered,
    alreadyDelivered,
    failed,
    refused,
    ...(withoutConsent > 0 && { withoutConsent }),
    ...(heldOut > 0 && { heldOut }),
    ...(controlGroup > 0 && { controlGroup }),
    ...(withoutPhone > 0 && { withoutPhone }),
    ...(Object.keys(touched).length > 0 && { touched }),
  };
}

/**
 * The segment report's touches of an entry, one per channel (`webhook`, `call_center`): reached
 * when a destination of that channel has it (now or on an earlier receive), held out when it was
 * only held out of them. None for exits and withdrawal notices.
 */
export function deliveryTouches(transition: AudienceTransition, report: DeliveryReport, now: Date): Touch[] {
  if (transition.event !== 'Audience Entered' || transition.withdrawnPurposes !== undefined) return [];
  return Object.entries(report.touched ?? {}).map(([channel, group]) => ({
    profileId: transition.profileId,
    segmentId: transition.segmentId,
    channel: channel as DeliveryChannel,
    group,
    at: now.toISOString(),
    touchKey: transition.transitionId,
  }));
}
