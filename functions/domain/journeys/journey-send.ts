import { hasMarketingConsent } from '../privacy/purposes';
import type { CartLine } from '../profile/activity';
import type { ProfileRecord } from '../profile/profile';
import { emailOf, traitText } from '../email/recipient';
import { bestHourStart, checkSendGuards, type BestSendHour, type RecipientState, type SkipReason } from '../email/send-guards';
import { formatPrice, renderEmail, traitValues, type RenderedEmail } from '../email/templates';
import { listUnsubscribeHeaders } from '../email/unsubscribe-token';
import { e164 } from '../sms/phone-number';
import { hasSmsConsent, phoneOf } from '../sms/recipient';
import { renderSms } from '../sms/sms-text';
import type { AudienceRun } from './audience-journey';
import { checkCartRun, type CartJourneyState, type CartRun, type CartStep } from './cart-abandonment';
import { isHoldout } from '../shared/holdout';
import type { EmailTemplate, JourneyConfig } from './journey-config';

/**
 * One send step of a journey run (a Task state): checks the run is still wanted, applies the
 * marketing guards, renders and sends, recording the outcome once per (run, step). A repeated
 * task answers the recorded outcome, so a retried or re-driven step never sends twice.
 */
export interface PromotionRun {
  readonly journey: 'product-view';
  readonly runId: string;
  readonly profileId: string;
  readonly productId: string;
  readonly productName?: string;
  readonly viewedAt: string;
}

export type JourneyRun = CartRun | PromotionRun | AudienceRun;
export type JourneyStep = CartStep | 'promotion' | 'audience';

export interface SendStepInput {
  readonly step: JourneyStep;
  readonly run: JourneyRun;
  /**
   * The run's last deferral (quiet hours, best hour), set by the state machine. The step counts
   * its `waitUntil` as reached: true on AWS, and where the local platform scales waits it keeps
   * a deferred send from being deferred again and again.
   */
  readonly deferral?: { readonly waitUntil?: string };
}

export type StepOutcome =
  | { readonly outcome: 'sent'; readonly messageId: string }
  | { readonly outcome: 'skipped'; readonly reason: SkipReason }
  | { readonly outcome: 'ended'; readonly reason: 'ordered' | 'superseded' | 'cart-empty' | 'profile-gone' | 'left-audience' }
  | { readonly outcome: 'deferred'; readonly reason: 'quiet-hours' | 'send-hour'; readonly waitUntil: string };

/** Outcomes that are final for a step (a deferral is not: the step runs again later). */
export type RecordedOutcome = Exclude<StepOutcome, { outcome: 'deferred' }>;

export interface OutgoingEmail extends RenderedEmail {
  readonly to: string;
  readonly from: string;
  readonly headers: Readonly<Record<string, string>>;
  /** SES message tags: ids only. */
  readonly tags: Readonly<Record<string, string>>;
}

/** A text message, ready for the SMS service. */
export interface OutgoingSms {
  /** E.164. */
  readonly to: string;
  readonly text: string;
  /** Ids only (journey, step, run, profile, segment): carried by the SMS service into its delivery receipts. */
  readonly context: Readonly<Record<string, string>>;
}

export interface JourneySendDependencies {
  readonly config: JourneyConfig;
  loadProfile(profileId: string): Promise<ProfileRecord | undefined>;
  cartState(profileId: string): Promise<CartJourneyState | undefined>;
  /** Whether the profile is in the global control group: it gets no marketing email. */
  inControlGroup(profileId: string): Promise<boolean>;
  /** Whether the profile is still a member of the segment (audience journeys). */
  isMember(segmentId: string, profileId: string): Promise<boolean>;
  recordedOutcome(runId: string, step: JourneyStep): Promise<RecordedOutcome | undefined>;
  /** Whether the address is suppressed (erased, bounced) and whether the profile or address unsubscribed. */
  recipientFlags(profileId: string, email: string): Promise<{ readonly suppressed: boolean; readonly unsubscribed: boolean }>;
  /** Whether the number (E.164) is suppressed (an erased identifier, or undeliverable) and whether it replied STOP. */
  smsRecipientFlags(phone: string): Promise<{ readonly suppressed: boolean; readonly unsubscribed: boolean }>;
  /** The profile's `send_hour` score, when scoring produced one. */
  bestSendHour(profileId: string): Promise<BestSendHour | undefined>;
  /** Marketing sends to the profile since `since` (ISO 8601), any journey. */
  recentSends(profileId: string, since: string): Promise<readonly string[]>;
  /** Claims the (run, step) send; false while another attempt holds a fresh claim. */
  claimSend(runId: string, step: JourneyStep, now: Date): Promise<boolean>;
  /** Gives the claim up when the send certainly did not happen, so a retry may send at once. */
  releaseSend(runId: string, step: JourneyStep): Promise<void>;
  send(email: OutgoingEmail): Promise<string>;
  /** Sends one text message; answers the SMS service's message id (errors as for email: SmsRejectedError, SmsNotSentError). */
  sendSms(sms: OutgoingSms): Promise<string>;
  /** Puts the number (E.164) on the platform's SMS opt-out list, as a STOP reply does. */
  optOutNumber(phone: string, now: Date): Promise<void>;
  /** Records the final outcome (and, for a send, the profile's frequency-cap entry). */
  recordOutcome(run: JourneyRun, step: JourneyStep, outcome: RecordedOutcome, now: Date): Promise<void>;
  unsubscribeUrl(profileId: string): string;
}

/** The mail service refused this message for good (e.g. a malformed address): retrying cannot help. */
export class EmailRejectedError extends Error {
  constructor(readonly code: string) {
    super(`the mail service rejected the message (${code})`);
    this.name = 'EmailRejectedError';
  }
}

/** The mail service answered with an error (throttling, a paused account...): nothing was sent. */
export class EmailNotSentError extends Error {
  constructor(readonly code: string) {
    super(`the mail service did not send the message (${code})`);
    this.name = 'EmailNotSentError';
  }
}

/** The SMS service refused this message for good (an opted-out or unreachable number...): retrying cannot help. */
export class SmsRejectedError extends Error {
  constructor(
    readonly code: string,
    /** The number is on the SMS service's own opt-out list (it replied STOP to the origination number). */
    readonly optedOut = false,
  ) {
    super(`the SMS service rejected the message (${code})`);
    this.name = 'SmsRejectedError';
  }
}

/** The SMS service answered with an error (throttling, a quota...): nothing was sent. */
export class SmsNotSentError extends Error {
  constructor(readonly code: string) {
    super(`the SMS service did not send the message (${code})`);
    this.name = 'SmsNotSentError';
  }
}

export class SendInProgressError extends Error {
  constructor(runId: string, step: string) {
    super(`another attempt is sending step ${step} of run ${runId}`);
    this.name = 'SendInProgressError';
  }
}

function cartView(lines: readonly CartLine[], currency: string | undefined) {
  return lines.map((line) => ({
    name: line.name ?? line.productId,
    quantity: line.quantity,
    price: formatPrice(line.price, currency),
    productId: line.productId,
  }));
}

interface Content {
  readonly template: EmailTemplate;
  readonly cart: readonly CartLine[];
}

type StepFinish = (outcome: RecordedOutcome) => Promise<RecordedOutcome>;

export async function runSendStep(input: SendStepInput, deps: JourneySendDependencies, clock: Date): Promise<StepOutcome> {
  const { run, step } = input;
  const resumeAt = Date.parse(input.deferral?.waitUntil ?? '');
  const now = resumeAt > clock.getTime() ? new Date(resumeAt) : clock;
  const recorded = await deps.recordedOutcome(run.runId, step);
  if (recorded) return recorded;
  const finish = async (outcome: RecordedOutcome): Promise<RecordedOutcome> => {
    await deps.recordOutcome(run, step, outcome, now);
    return outcome;
  };

  const profile = await deps.loadProfile(run.profileId);
  if (!profile) return finish({ outcome: 'ended', reason: 'profile-gone' });
  if (run.journey === 'audience-sms') return runSmsStep(run, step, profile, deps, now, finish);
  let content: Content;
  if (run.journey === 'cart-abandonment') {
    const check = checkCartRun(run, profile.activity, await deps.cartState(run.profileId));
    if (check.kind === 'end') return finish({ outcome: 'ended', reason: check.reason });
    const cartEmails = deps.config.cartAbandonment;
    content = { template: step === 'email2' ? cartEmails.secondEmail : cartEmails.firstEmail, cart: check.lines };
  } else if (run.journey === 'audience-email') {
    if (!(await deps.isMember(run.segmentId, profile.profileId))) return finish({ outcome: 'ended', reason: 'left-audience' });
    content = { template: run.template, cart: [] };
  } else {
    content = { template: deps.config.productView.promotion, cart: [] };
  }
  const excluded = await exclusion(run, profile, deps);
  if (excluded) return finish(excluded);

  const email = emailOf(profile);
  const flags = email ? await deps.recipientFlags(profile.profileId, email) : { suppressed: false, unsubscribed: false };
  const stopped = await guardedStop(profile, { ...(email && { email }), marketingConsent: hasMarketingConsent(profile.consent), ...flags }, deps, now, finish);
  if (stopped) return stopped;
  if (!email) return finish({ outcome: 'skipped', reason: 'no-email' });
  const waitUntil = await bestHourWait(step, profile.profileId, deps, now);
  if (waitUntil) return { outcome: 'deferred', reason: 'send-hour', waitUntil };

  if (!(await deps.claimSend(run.runId, step, now))) throw new SendInProgressError(run.runId, step);
  const unsubscribeUrl = deps.unsubscribeUrl(profile.profileId);
  const rendered = renderEmail(content.template, {
    values: {
      ...traitValues(profile.traits),
      firstName: traitText(profile, 'firstName', 'first_name') ?? 'there',
      incentive: deps.config.cartAbandonment.incentive,
      unsubscribeUrl,
      ...(run.journey === 'product-view' && { productName: run.productName ?? run.productId, productId: run.productId }),
      ...(run.journey === 'audience-email' && { segmentName: run.segmentName }),
    },
    cart: cartView(content.cart, profile.activity.currency),
  });
  let messageId: string;
  try {
    messageId = await deps.send({
      ...rendered,
      to: email,
      from: deps.config.from,
      headers: listUnsubscribeHeaders(unsubscribeUrl),
      tags: { journey: run.journey, step, run: run.runId, profile: profile.profileId, ...(run.journey === 'audience-email' && { segment: run.segmentId }) },
    });
  } catch (error) {
    if (error instanceof EmailRejectedError) return finish({ outcome: 'skipped', reason: 'rejected' });
    // Certainly not sent: the retry (Step Functions, with backoff) may send. Any other failure,
    // a timeout above all, may have sent: the claim stays until stale, so a retry cannot double it.
    if (error instanceof EmailNotSentError) await deps.releaseSend(run.runId, step);
    throw error;
  }
  return finish({ outcome: 'sent', messageId });
}

/** The global control group gets no marketing at all (it is no journey's holdout either); the journey's holdout gets none of its messages. */
async function exclusion(run: JourneyRun, profile: ProfileRecord, deps: JourneySendDependencies): Promise<RecordedOutcome | undefined> {
  if (await deps.inControlGroup(profile.profileId)) return { outcome: 'skipped', reason: 'control-group' };
  if (isHoldout(run.runId, deps.config.holdoutShare)) return { outcome: 'skipped', reason: 'holdout' };
  return undefined;
}

/**
 * The send guards every channel shares (consent, suppression, the frequency cap across channels,
 * quiet hours in the profile's time zone) over the channel's recipient state: the skipped outcome
 * (recorded) or the deferral that stops the step, or undefined when it may send.
 */
async function guardedStop(
  profile: ProfileRecord,
  recipient: Omit<RecipientState, 'recentSends' | 'timeZone'>,
  deps: JourneySendDependencies,
  now: Date,
  finish: StepFinish,
): Promise<StepOutcome | undefined> {
  const windowStart = new Date(now.getTime() - deps.config.frequencyCap.windowHours * 3_600_000).toISOString();
  const timeZone = traitText(profile, 'timezone', 'time_zone');
  const recentSends = await deps.recentSends(profile.profileId, windowStart);
  const decision = checkSendGuards({ ...recipient, recentSends, ...(timeZone && { timeZone }) }, deps.config, now);
  if (decision.kind === 'skip') return finish({ outcome: 'skipped', reason: decision.reason });
  if (decision.kind === 'defer') return { outcome: 'deferred', reason: 'quiet-hours', waitUntil: decision.until };
  return undefined;
}

/** When the step waits for the profile's best send hour, if it does. */
async function bestHourWait(step: JourneyStep, profileId: string, deps: JourneySendDependencies, now: Date): Promise<string | undefined> {
  if (!deps.config.sendHour.steps.includes(step)) return undefined;
  const best = await deps.bestSendHour(profileId);
  return best && bestHourStart(now, best, deps.config.sendHour);
}

/**
 * The send step of an `audience-sms` run: the same membership check, control group, holdout,
 * guards (E.164 number, `sms_marketing`, no STOP from the number, the frequency cap and quiet
 * hours shared with email) and idempotent claim as an email, then one text message.
 */
async function runSmsStep(
  run: Extract<JourneyRun, { journey: 'audience-sms' }>,
  step: JourneyStep,
  profile: ProfileRecord,
  deps: JourneySendDependencies,
  now: Date,
  finish: StepFinish,
): Promise<StepOutcome> {
  if (!(await deps.isMember(run.segmentId, profile.profileId))) return finish({ outcome: 'ended', reason: 'left-audience' });
  const excluded = await exclusion(run, profile, deps);
  if (excluded) return finish(excluded);
  const phone = phoneOf(profile);
  const number = phone === undefined ? undefined : e164(phone);
  const flags = number ? await deps.smsRecipientFlags(number) : { suppressed: false, unsubscribed: false };
  const stopped = await guardedStop(
    profile,
    { channel: 'sms', ...(phone && { phone }), marketingConsent: hasSmsConsent(profile.consent), ...flags },
    deps,
    now,
    finish,
  );
  if (stopped) return stopped;
  if (!number) return finish({ outcome: 'skipped', reason: 'invalid-phone' });
  const waitUntil = await bestHourWait(step, profile.profileId, deps, now);
  if (waitUntil) return { outcome: 'deferred', reason: 'send-hour', waitUntil };

  const rendered = renderSms(
    run.template,
    { ...traitValues(profile.traits), firstName: traitText(profile, 'firstName', 'first_name') ?? 'there', segmentName: run.segmentName },
    deps.config.sms.optOutHint,
    deps.config.sms.maxSegments,
  );
  if (!rendered.ok) return finish({ outcome: 'skipped', reason: 'too-long' });
  if (!(await deps.claimSend(run.runId, step, now))) throw new SendInProgressError(run.runId, step);
  let messageId: string;
  try {
    messageId = await deps.sendSms({
      to: number,
      text: rendered.text,
      context: { journey: run.journey, step, run: run.runId, profile: profile.profileId, segment: run.segmentId },
    });
  } catch (error) {
    if (error instanceof SmsRejectedError && error.optedOut) {
      // The service's list knew of a STOP the platform did not hear (a reply before the two-way
      // channel was set, or to another of the account's numbers): the platform's list follows.
      await deps.optOutNumber(number, now);
      return finish({ outcome: 'skipped', reason: 'unsubscribed' });
    }
    if (error instanceof SmsRejectedError) return finish({ outcome: 'skipped', reason: 'rejected' });
    // As for email: only a certain non-send gives the claim up for an immediate retry.
    if (error instanceof SmsNotSentError) await deps.releaseSend(run.runId, step);
    throw error;
  }
  return finish({ outcome: 'sent', messageId });
}
