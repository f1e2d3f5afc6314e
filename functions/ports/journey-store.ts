import type { SuppressionReason } from '../domain/email/feedback';
import type { CartJourneyState } from '../domain/journeys/cart-abandonment';
import type { JourneyRun, JourneyStep, RecordedOutcome } from '../domain/journeys/journey-send';
import type { FeedbackCount, JourneyEntry } from '../domain/reports/journey-counters';

/**
 * A journey fact was counted now, or had been already (its marker was there); `uncounted`: the
 * facts were recorded but the report counter stayed busy (one count lost, see recordOutcome).
 */
export type CountResult = 'counted' | 'already-counted' | 'uncounted';

/**
 * Journey state: the cart run of each profile, send claims and outcomes (each step's idempotency
 * record), frequency caps, unsubscribes and mail suppressions (addresses as keyed pseudonyms
 * only), and the journey report's counters, each fact counted once.
 */
/** Why a number is on the SMS opt-out list: it replied STOP, or its texts fail for the number itself. */
export type SmsOptOutReason = 'stop' | 'undeliverable';

export interface JourneyStore {
  cartState(profileId: string): Promise<CartJourneyState | undefined>;
  /** Writes the cart run unless a newer one is there; false when it was not written. */
  setCartState(profileId: string, state: CartJourneyState): Promise<boolean>;
  /** Claims the product-view promotion for `capDays`; false while an earlier claim holds. */
  claimPromotion(profileId: string, productId: string, messageId: string, capDays: number, now: Date): Promise<boolean>;
  recordedOutcome(runId: string, step: JourneyStep): Promise<RecordedOutcome | undefined>;
  /** Claims the (run, step) send; false while another attempt holds a fresh claim. */
  claimSend(runId: string, step: JourneyStep, now: Date): Promise<boolean>;
  releaseSend(runId: string, step: JourneyStep): Promise<void>;
  /** Records a step's final outcome, the send's frequency-cap entry, and counts it in the report. */
  recordOutcome(run: JourneyRun, step: JourneyStep, outcome: RecordedOutcome, now: Date, frequencyWindowHours: number): Promise<CountResult>;
  /** Counts an order as the conversion of each journey the profiles entered within the attribution window. */
  recordConversions(
    profileIds: readonly string[],
    orderAt: string,
    revenue: number,
    now: Date,
  ): Promise<Array<JourneyEntry & { readonly result: CountResult }>>;
  /** Counts one SES outcome of a journey email once per (SES message, kind). */
  recordFeedback(count: FeedbackCount, now: Date): Promise<CountResult>;
  /** Marketing sends to the profile since `since` (ISO 8601), any journey. */
  recentSends(profileId: string, since: string): Promise<string[]>;
  recipientFlags(profileId: string, email: string): Promise<{ suppressed: boolean; unsubscribed: boolean }>;
  unsubscribe(profileId: string, emails: readonly string[], now: Date): Promise<void>;
  /** The journey runs the profile entered (their ids and journey keys), from its entry records. */
  runsOf(profileId: string): Promise<Array<{ readonly runId: string; readonly journeyKey: string }>>;
  /** Deletes the send claims, outcomes and conversions of these runs (they name the profile); how many items. */
  forgetRuns(runIds: readonly string[]): Promise<number>;
  /** Whether the number (E.164) is suppressed (an erased identifier, or undeliverable) and whether it replied STOP. */
  smsRecipientFlags(phone: string): Promise<{ suppressed: boolean; unsubscribed: boolean }>;
  /**
   * The number replied STOP (`stop`), or cannot receive texts (`undeliverable`): never texted
   * again until it replies START (keyed pseudonym only). The first reason is kept.
   */
  optOutNumber(phone: string, now: Date, reason?: SmsOptOutReason): Promise<void>;
  /** The number replied START: its STOP no longer bars it (consent still decides). */
  optInNumber(phone: string): Promise<void>;
  /** Addresses never mailed again (bounces, complaints). */
  suppress(emails: readonly string[], reason: SuppressionReason, now: Date): Promise<void>;
}
