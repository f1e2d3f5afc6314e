import { createHash } from 'node:crypto';
import type { AudienceTransition } from '../pipeline/messages';
import type { OutboundUrlCheck } from './outbound-address';
import type { WebhookProfile } from './profile-payload';

export type AudienceEvent = AudienceTransition['event'];

/** What decides whether a destination receives a transition: its `events`, both when absent. */
export interface EventFilter {
  readonly events?: readonly AudienceEvent[];
}

/** What a webhook receives: Standard Webhooks' recommended `{type, timestamp, data}` envelope. */
export interface AudienceWebhookPayload {
  readonly type: 'audience.entered' | 'audience.exited' | 'profile.deleted';
  readonly timestamp: string;
  readonly data: {
    readonly event: AudienceEvent;
    readonly transitionId: string;
    readonly segmentId: string;
    readonly segmentName: string;
    readonly profileId: string;
    readonly runId?: string;
    /** An exit because the person withdrew these purposes (they may still match the segment's criteria). */
    readonly reason?: 'consent-withdrawn';
    readonly withdrawnPurposes?: readonly string[];
    /** Only for destinations with `include`: what they asked for, null once the profile is gone. */
    readonly profile?: WebhookProfile | null;
  };
}

const PAYLOAD_TYPES: Readonly<Record<AudienceEvent, AudienceWebhookPayload['type']>> = {
  'Audience Entered': 'audience.entered',
  'Audience Exited': 'audience.exited',
  'Profile Deleted': 'profile.deleted',
};

export function webhookPayload(transition: AudienceTransition, profile?: WebhookProfile | null): AudienceWebhookPayload {
  return {
    type: PAYLOAD_TYPES[transition.event],
    timestamp: transition.at,
    data: {
      event: transition.event,
      transitionId: transition.transitionId,
      segmentId: transition.segmentId,
      segmentName: transition.segmentName,
      profileId: transition.profileId,
      ...(transition.runId !== undefined && { runId: transition.runId }),
      ...(transition.withdrawnPurposes !== undefined && { reason: 'consent-withdrawn' as const, withdrawnPurposes: transition.withdrawnPurposes }),
      ...(profile !== undefined && { profile }),
    },
  };
}

export function destinationsFor<D extends EventFilter>(destinations: readonly D[], event: AudienceEvent): D[] {
  return destinations.filter((destination) => destination.events === undefined || destination.events.includes(event));
}

/** Why a destination's URL or address may not be called (see outbound-address.ts). */
export type WebhookRefusal = Extract<OutboundUrlCheck, { ok: false }>['refused'];

/**
 * The result of one HTTP attempt: a status code, or no answer at all; or `refused`: the URL, or
 * an address its host resolves to, may not be called (loopback, private...). Nothing was sent,
 * and retrying would not change that: it is a permanent failure of this delivery.
 */
export type AttemptResult = { readonly status: number } | { readonly error: 'timeout' | 'network' } | { readonly refused: WebhookRefusal };

/** Only a 2xx answer is a delivery; anything else but a refusal is retried (receivers dedupe on `webhook-id`). */
export function isDelivered(result: AttemptResult): boolean {
  return 'status' in result && result.status >= 200 && result.status < 300;
}

/** A permanent failure: retrying the transition would be refused again. */
export function isRefused(result: AttemptResult): result is { readonly refused: WebhookRefusal } {
  return 'refused' in result;
}

export interface RetryPolicy {
  /** Wait after the first failed attempt. */
  readonly baseDelaySeconds: number;
  /** SQS caps a message's visibility timeout at 12 hours. */
  readonly maxDelaySeconds: number;
}

export const WEBHOOK_RETRY_POLICY: RetryPolicy = { baseDelaySeconds: 30, maxDelaySeconds: 43_200 };

/**
 * How long the message stays invisible after its `receiveCount`-th attempt failed: doubling
 * from the base, capped, divided by the local time scale (1 on AWS), whole seconds as SQS takes.
 */
export function retryDelaySeconds(receiveCount: number, policy: RetryPolicy, timeScale = 1): number {
  const exponent = Math.max(0, receiveCount - 1);
  const delay = Math.min(policy.maxDelaySeconds, policy.baseDelaySeconds * 2 ** exponent);
  return Math.min(policy.maxDelaySeconds, Math.round(delay / timeScale));
}

/** Time from the first attempt to the last before the queue gives the message to its DLQ. */
export function retryWindowSeconds(maxReceiveCount: number, policy: RetryPolicy): number {
  let total = 0;
  for (let receive = 1; receive < maxReceiveCount; receive += 1) total += retryDelaySeconds(receive, policy);
  return total;
}

/**
 * Names one destination of a segment in the delivery log, stable while the segment keeps it:
 * its position and URL (a changed URL is a new destination and is delivered to afresh).
 */
export function destinationKey(position: number, url: string): string {
  return `${position}:${createHash('sha256').update(url).digest('hex').slice(0, 16)}`;
}
