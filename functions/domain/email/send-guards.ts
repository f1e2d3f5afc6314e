import { normalizeEmail } from '../identity/identifiers';
import type { JourneyConfig } from '../journeys/journey-config';
import { e164 } from '../sms/phone-number';

/**
 * The guards every marketing send passes (issue 6 §4), email and SMS alike, in order: a valid
 * address (an email address, or an E.164 number), the channel's marketing consent, not
 * suppressed, not unsubscribed (for SMS: the number never replied STOP), under the frequency cap,
 * outside quiet hours. The frequency cap and quiet hours are per person across channels: the
 * recent sends are the profile's marketing messages of every channel. A failed guard skips the
 * send with its reason; quiet hours defer it to the end of the quiet window instead.
 */
export type SkipReason =
  | 'no-email'
  | 'invalid-email'
  | 'no-phone'
  | 'invalid-phone'
  | 'no-consent'
  | 'suppressed'
  | 'unsubscribed'
  | 'frequency-cap'
  | 'holdout'
  | 'control-group'
  | 'too-long'
  | 'rejected';

/** The channels marketing messages go out on. */
export type SendChannel = 'email' | 'sms';

export type GuardDecision =
  { readonly kind: 'send' } | { readonly kind: 'skip'; readonly reason: SkipReason } | { readonly kind: 'defer'; readonly until: string };

export interface RecipientState {
  /** Default `email`. */
  readonly channel?: SendChannel;
  readonly email?: string;
  /** The number an SMS goes to (E.164 only). */
  readonly phone?: string;
  /** The channel's consent: `email_marketing` for email, `sms_marketing` for SMS. */
  readonly marketingConsent: boolean;
  readonly suppressed: boolean;
  readonly unsubscribed: boolean;
  /** When the profile was last sent a marketing message (any journey, any channel), ISO 8601. */
  readonly recentSends: readonly string[];
  /** IANA time zone of the profile, when known. */
  readonly timeZone?: string;
}

export function checkSendGuards(
  recipient: RecipientState,
  config: Pick<JourneyConfig, 'frequencyCap' | 'quietHours' | 'defaultTimeZone'>,
  now: Date,
): GuardDecision {
  const unreachable = addressProblem(recipient);
  if (unreachable) return { kind: 'skip', reason: unreachable };
  if (!recipient.marketingConsent) return { kind: 'skip', reason: 'no-consent' };
  if (recipient.suppressed) return { kind: 'skip', reason: 'suppressed' };
  if (recipient.unsubscribed) return { kind: 'skip', reason: 'unsubscribed' };
  const windowStart = new Date(now.getTime() - config.frequencyCap.windowHours * 3_600_000).toISOString();
  if (recipient.recentSends.filter((at) => at > windowStart).length >= config.frequencyCap.maxEmails) return { kind: 'skip', reason: 'frequency-cap' };
  const until = quietHoursEnd(now, validTimeZone(recipient.timeZone) ?? config.defaultTimeZone, config.quietHours.startHour, config.quietHours.endHour);
  return until ? { kind: 'defer', until } : { kind: 'send' };
}

/** Why the recipient cannot be reached on the channel at all, if so. */
function addressProblem(recipient: RecipientState): SkipReason | undefined {
  if (recipient.channel === 'sms') {
    if (!recipient.phone) return 'no-phone';
    return e164(recipient.phone) ? undefined : 'invalid-phone';
  }
  if (!recipient.email) return 'no-email';
  return normalizeEmail(recipient.email) ? undefined : 'invalid-email';
}

/** The name when it is an IANA time zone this runtime knows, else undefined. */
export function validTimeZone(name: string | undefined): string | undefined {
  if (!name) return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return name;
  } catch {
    return undefined;
  }
}

/** Minutes since local midnight of `instant` in `timeZone`. */
function localMinuteOfDay(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).formatToParts(instant);
  const part = (type: string): number => Number(parts.find((candidate) => candidate.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/** Minutes from the local minute of day `minute` to the next `target` (both 0-1439). */
const minutesUntil = (minute: number, target: number): number => (target - minute + 1_440) % 1_440;

/** `minutes` whole minutes after the start of the current minute (ISO 8601). */
function wholeMinutesAhead(now: Date, minutes: number): string {
  const wholeMinute = now.getTime() - (now.getTime() % 60_000);
  return new Date(wholeMinute + minutes * 60_000).toISOString();
}

/**
 * When the quiet window that `now` falls in ends (ISO 8601), or undefined outside it. The window
 * may span midnight (21 → 8); equal hours mean no quiet hours.
 */
export function quietHoursEnd(now: Date, timeZone: string, startHour: number, endHour: number): string | undefined {
  if (startHour === endHour) return undefined;
  const minute = localMinuteOfDay(now, timeZone);
  const start = startHour * 60;
  const end = endHour * 60;
  const quiet = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!quiet) return undefined;
  return wholeMinutesAhead(now, minutesUntil(minute, end));
}

/** What the `send_hour` score says of a profile (functions/domain/scoring/profile-scores.ts). */
export interface BestSendHour {
  readonly hour: number;
  readonly confidence: number;
  readonly timeZone: string;
}

/**
 * When to send to catch the profile's best hour (ISO 8601, the start of that local hour), or
 * undefined to send now: already in that hour, a score resting mostly on the population prior,
 * or a best hour further away than `maxDelayHours`. A send at the returned time is in the best
 * hour, so waiting never repeats for the same score.
 */
export function bestHourStart(now: Date, best: BestSendHour, wait: Pick<JourneyConfig['sendHour'], 'maxDelayHours' | 'minConfidence'>): string | undefined {
  if (best.confidence < wait.minConfidence) return undefined;
  const timeZone = validTimeZone(best.timeZone);
  if (!timeZone || !Number.isInteger(best.hour) || best.hour < 0 || best.hour > 23) return undefined;
  const minute = localMinuteOfDay(now, timeZone);
  if (Math.floor(minute / 60) === best.hour) return undefined;
  const minutesLeft = minutesUntil(minute, best.hour * 60);
  if (minutesLeft > wait.maxDelayHours * 60) return undefined;
  return wholeMinutesAhead(now, minutesLeft);
}
