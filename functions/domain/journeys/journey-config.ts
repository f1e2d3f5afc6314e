import { validTimeZone } from '../email/send-guards';
import { describePlaceholders, unknownPlaceholders } from '../email/templates';
import { DEFAULT_OPT_OUT_HINT, MAX_SMS_SEGMENTS, smsLength } from '../sms/sms-text';

/**
 * Configuration of the triggered journeys (docs/contract.md §6): delays, incentive, templates, holdout,
 * frequency cap and quiet hours. Defaults follow the contract; `DMP_JOURNEY_CONFIG` (JSON) may
 * override any field, and the result is validated so a bad override fails at start, not at send.
 */
export interface EmailTemplate {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

export interface QuietHours {
  /** Hour of day (0-23) in the profile's time zone from which marketing email waits. */
  readonly startHour: number;
  /** Hour of day (0-23) at which sending resumes. Equal to startHour disables quiet hours. */
  readonly endHour: number;
}

/**
 * Waiting for the profile's best send hour (the `send_hour` score) before a step, when the score
 * rests on enough of the profile's own engagement and the hour comes soon enough.
 */
export interface SendHourWait {
  /** Steps that may wait (`email1`, `email2`, `promotion`); email 1 is time-critical by default. */
  readonly steps: readonly string[];
  /** The longest a send waits for the best hour; a later best hour sends at once. */
  readonly maxDelayHours: number;
  /** Minimum share of the score owed to the profile's own events (0-1), not the population prior. */
  readonly minConfidence: number;
}

export interface JourneyConfig {
  /** Sender of every journey email (a verified SES identity on AWS). */
  readonly from: string;
  readonly cartAbandonment: {
    /** From the cart's last change to email 1. */
    readonly firstDelaySeconds: number;
    /** From email 1 to email 2. */
    readonly secondDelaySeconds: number;
    readonly incentive: string;
    readonly firstEmail: EmailTemplate;
    readonly secondEmail: EmailTemplate;
  };
  readonly productView: {
    /** At most one promotion per product per profile within this many days. */
    readonly capDays: number;
    readonly promotion: EmailTemplate;
  };
  /** Share of journey entrants (0-1) that gets no email, recorded as holdout. */
  readonly holdoutShare: number;
  /** Marketing messages per profile within the window, across journeys and channels (email and SMS count together). */
  readonly frequencyCap: { readonly maxEmails: number; readonly windowHours: number };
  readonly quietHours: QuietHours;
  /** Used when the profile has no `timezone` trait (IANA name). */
  readonly defaultTimeZone: string;
  readonly sendHour: SendHourWait;
  /** SMS sends (audience-sms journeys). */
  readonly sms: {
    /** Appended to a text that does not name STOP (or ARRET) itself; see domain/sms/sms-text.ts. */
    readonly optOutHint: string;
    /** Longest text sent, in segments (the hint included); a longer one is skipped as `too-long`. */
    readonly maxSegments: number;
  };
}

/** The send steps of the journeys, as their state machines name them. */
export const JOURNEY_STEPS: readonly string[] = ['email1', 'email2', 'promotion', 'audience'];

const CART_LINES = '{{#cart}}{{name}} x {{quantity}} — {{price}}\n{{/cart}}';
const CART_LINES_HTML = '<ul>{{#cart}}<li>{{name}} × {{quantity}} — {{price}}</li>{{/cart}}</ul>';
const FOOTER_TEXT = '\n\nUnsubscribe: {{unsubscribeUrl}}';
const FOOTER_HTML = '<p><a href="{{unsubscribeUrl}}">Unsubscribe</a></p>';

export const DEFAULT_JOURNEY_CONFIG: JourneyConfig = {
  from: 'shop@example.com',
  cartAbandonment: {
    firstDelaySeconds: 3_600,
    secondDelaySeconds: 86_400,
    incentive: 'Free shipping on this order',
    firstEmail: {
      subject: 'You left something in your cart',
      html: `<p>Hi {{firstName}},</p><p>Your cart is waiting:</p>${CART_LINES_HTML}${FOOTER_HTML}`,
      text: `Hi {{firstName}},\n\nYour cart is waiting:\n${CART_LINES}${FOOTER_TEXT}`,
    },
    secondEmail: {
      subject: 'Your cart is still waiting: {{incentive}}',
      html: `<p>Hi {{firstName}},</p><p>{{incentive}}.</p>${CART_LINES_HTML}${FOOTER_HTML}`,
      text: `Hi {{firstName}},\n\n{{incentive}}.\n${CART_LINES}${FOOTER_TEXT}`,
    },
  },
  productView: {
    capDays: 7,
    promotion: {
      subject: 'Still thinking about {{productName}}?',
      html: `<p>Hi {{firstName}},</p><p>{{productName}} is waiting for you.</p>${FOOTER_HTML}`,
      text: `Hi {{firstName}},\n\n{{productName}} is waiting for you.${FOOTER_TEXT}`,
    },
  },
  holdoutShare: 0.1,
  frequencyCap: { maxEmails: 2, windowHours: 24 },
  quietHours: { startHour: 21, endHour: 8 },
  defaultTimeZone: 'UTC',
  sendHour: { steps: ['email2', 'promotion', 'audience'], maxDelayHours: 6, minConfidence: 0.3 },
  sms: { optOutHint: DEFAULT_OPT_OUT_HINT, maxSegments: MAX_SMS_SEGMENTS },
};

export class InvalidJourneyConfigError extends Error {
  constructor(problems: readonly string[]) {
    super(`invalid journey configuration: ${problems.join('; ')}`);
    this.name = 'InvalidJourneyConfigError';
  }
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge field by field; anything else in the override replaces the default. */
function deepMerge<T>(base: T, override: unknown): T {
  if (!isObject(base) || !isObject(override)) return (override === undefined ? base : override) as T;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = deepMerge((base as Record<string, unknown>)[key], value);
  return merged as T;
}

/** The values each configured template may use; cart emails also list the cart's lines. */
const CART_EMAIL_VALUES = ['firstName', 'incentive', 'unsubscribeUrl', 'traits.*'];
const CART_LINE_FIELDS = ['name', 'quantity', 'price', 'productId'];
const PROMOTION_VALUES = ['firstName', 'productName', 'productId', 'unsubscribeUrl', 'traits.*'];

function templateProblems(path: string, template: unknown, allowed: readonly string[], cartFields: readonly string[] = []): string[] {
  if (!isObject(template)) return [`${path} must be an object`];
  const missing = (['subject', 'html', 'text'] as const).filter((field) => typeof template[field] !== 'string' || template[field] === '');
  if (missing.length > 0) return missing.map((field) => `${path}.${field} must be a non-empty string`);
  return unknownPlaceholders(template as unknown as EmailTemplate, allowed, cartFields).map(
    (name) => `${path} uses {{${name}}}, which is not one of ${describePlaceholders(allowed)}`,
  );
}

export function validateJourneyConfig(config: JourneyConfig): string[] {
  const problems: string[] = [];
  const positive = (path: string, value: unknown): void => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) problems.push(`${path} must be a positive number`);
  };
  const hour = (path: string, value: unknown): void => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 23) problems.push(`${path} must be an hour from 0 to 23`);
  };
  if (typeof config.from !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(config.from)) problems.push('from must be an email address');
  positive('cartAbandonment.firstDelaySeconds', config.cartAbandonment.firstDelaySeconds);
  positive('cartAbandonment.secondDelaySeconds', config.cartAbandonment.secondDelaySeconds);
  if (typeof config.cartAbandonment.incentive !== 'string') problems.push('cartAbandonment.incentive must be a string');
  problems.push(...templateProblems('cartAbandonment.firstEmail', config.cartAbandonment.firstEmail, CART_EMAIL_VALUES, CART_LINE_FIELDS));
  problems.push(...templateProblems('cartAbandonment.secondEmail', config.cartAbandonment.secondEmail, CART_EMAIL_VALUES, CART_LINE_FIELDS));
  positive('productView.capDays', config.productView.capDays);
  problems.push(...templateProblems('productView.promotion', config.productView.promotion, PROMOTION_VALUES));
  if (typeof config.holdoutShare !== 'number' || !(config.holdoutShare >= 0 && config.holdoutShare <= 1)) problems.push('holdoutShare must be between 0 and 1');
  if (!Number.isInteger(config.frequencyCap.maxEmails) || config.frequencyCap.maxEmails < 1) problems.push('frequencyCap.maxEmails must be a positive integer');
  positive('frequencyCap.windowHours', config.frequencyCap.windowHours);
  hour('quietHours.startHour', config.quietHours.startHour);
  hour('quietHours.endHour', config.quietHours.endHour);
  if (typeof config.defaultTimeZone !== 'string' || validTimeZone(config.defaultTimeZone) === undefined)
    problems.push('defaultTimeZone must be an IANA time zone');
  const steps: unknown = config.sendHour.steps;
  if (!Array.isArray(steps) || !steps.every((step) => typeof step === 'string' && JOURNEY_STEPS.includes(step))) {
    problems.push(`sendHour.steps must list steps among ${JOURNEY_STEPS.join(', ')}`);
  }
  if (typeof config.sendHour.maxDelayHours !== 'number' || !(config.sendHour.maxDelayHours >= 0 && config.sendHour.maxDelayHours <= 23)) {
    problems.push('sendHour.maxDelayHours must be between 0 and 23');
  }
  if (typeof config.sendHour.minConfidence !== 'number' || !(config.sendHour.minConfidence >= 0 && config.sendHour.minConfidence <= 1)) {
    problems.push('sendHour.minConfidence must be between 0 and 1');
  }
  const { optOutHint, maxSegments } = config.sms;
  if (typeof optOutHint !== 'string' || !/\b(STOP|ARRET|ARRÊT)\b/i.test(optOutHint)) problems.push('sms.optOutHint must name the STOP (or ARRET) keyword');
  else if (smsLength(optOutHint).segments > 1) problems.push('sms.optOutHint must fit in one SMS segment');
  if (!Number.isInteger(maxSegments) || maxSegments < 1 || maxSegments > MAX_SMS_SEGMENTS)
    problems.push(`sms.maxSegments must be an integer from 1 to ${MAX_SMS_SEGMENTS}`);
  return problems;
}

/** The defaults with `overrideJson` (the value of `DMP_JOURNEY_CONFIG`) applied; throws when invalid. */
export function journeyConfigFrom(overrideJson: string | undefined): JourneyConfig {
  let override: DeepPartial<JourneyConfig> = {};
  if (overrideJson !== undefined && overrideJson.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(overrideJson);
    } catch {
      throw new InvalidJourneyConfigError(['DMP_JOURNEY_CONFIG is not JSON']);
    }
    if (!isObject(parsed)) throw new InvalidJourneyConfigError(['DMP_JOURNEY_CONFIG must be a JSON object']);
    override = parsed as DeepPartial<JourneyConfig>;
  }
  const config = deepMerge(DEFAULT_JOURNEY_CONFIG, override);
  const problems = validateJourneyConfig(config);
  if (problems.length > 0) throw new InvalidJourneyConfigError(problems);
  return config;
}
