import { createHash } from 'node:crypto';
import { openCartLines, type Activity, type CartLine } from '../profile/activity';
import { CART_CHANGES, type JourneyEvent } from './journey-event';

/**
 * Cart abandonment (docs/contract.md §6): one run per profile and cart version. A cart change starts
 * a new run and stops the previous one; an order stops the run. Before each send the run checks
 * the profile again, so no email follows a purchase even when a stop was missed.
 */
export type JourneyId = 'cart-abandonment' | 'product-view' | 'audience-email' | 'audience-sms';
export type CartStep = 'email1' | 'email2';

/** The input of a cart-abandonment execution: deterministic for a given triggering event. */
export interface CartRun {
  readonly journey: 'cart-abandonment';
  readonly runId: string;
  readonly profileId: string;
  /** Event time of the cart change that started this run. */
  readonly cartChangedAt: string;
  readonly cartId?: string;
}

/** The run currently responsible for a profile's cart (one item per profile). */
export interface CartJourneyState {
  readonly runId: string;
  readonly executionArn: string;
  readonly cartChangedAt: string;
}

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

/** Step Functions execution name (≤ 80 characters): the same event always names the same run. */
export function runName(prefix: 'cart' | 'view' | 'aud', ...parts: string[]): string {
  return `${prefix}-${digest(...parts).slice(0, 48)}`;
}

export type CartTrigger =
  | { readonly kind: 'start'; readonly run: CartRun; readonly supersedes?: CartJourneyState }
  | { readonly kind: 'stop'; readonly current: CartJourneyState }
  | { readonly kind: 'ignore'; readonly reason: 'not-a-cart-event' | 'older-than-current-run' | 'no-run' };

/**
 * What a cart event does to the profile's journey. Events older than the current run's change
 * (late or re-delivered) change nothing; the current run's own event starts it again, which is a
 * no-op for Step Functions (same name, same input) and repairs a start that was interrupted.
 */
export function decideCartTrigger(event: JourneyEvent, current: CartJourneyState | undefined): CartTrigger {
  if (event.event === 'Order Completed') {
    return current && event.at >= current.cartChangedAt ? { kind: 'stop', current } : { kind: 'ignore', reason: 'no-run' };
  }
  if (!CART_CHANGES.includes(event.event)) return { kind: 'ignore', reason: 'not-a-cart-event' };
  const run: CartRun = {
    journey: 'cart-abandonment',
    runId: runName('cart', event.profileId, event.messageId),
    profileId: event.profileId,
    cartChangedAt: event.at,
    ...(event.cartId && { cartId: event.cartId }),
  };
  if (current && current.runId !== run.runId && event.at <= current.cartChangedAt) return { kind: 'ignore', reason: 'older-than-current-run' };
  return { kind: 'start', run, ...(current && current.runId !== run.runId && { supersedes: current }) };
}

export type CartCheck =
  { readonly kind: 'continue'; readonly lines: readonly CartLine[] } | { readonly kind: 'end'; readonly reason: 'ordered' | 'superseded' | 'cart-empty' };

/** Before a send: an order since the cart change, a newer run or an empty cart ends this run. */
export function checkCartRun(run: CartRun, activity: Activity, current: CartJourneyState | undefined): CartCheck {
  if (activity.lastOrderAt && activity.lastOrderAt >= run.cartChangedAt) return { kind: 'end', reason: 'ordered' };
  if (current && current.runId !== run.runId) return { kind: 'end', reason: 'superseded' };
  const lines = openCartLines(activity);
  return lines.length === 0 ? { kind: 'end', reason: 'cart-empty' } : { kind: 'continue', lines };
}
