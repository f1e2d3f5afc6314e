import { describePlaceholders, renderText, unknownPlaceholders, type TemplateValues } from '../email/templates';
import { normalizeReply } from './reply-keywords';

/**
 * SMS text: the template language of email (`{{firstName}}`, `{{traits.plan}}`,
 * `{{name|fallback}}`, no cart sections), the opt-out hint, and the length in segments.
 *
 * Opt-out rule (one rule, everywhere): a text that does not already name its opt-out keyword (the
 * word STOP, or ARRET/ARRÊT) gets the configured hint appended on a line of its own, by default
 * "Reply STOP to opt out". The hint counts in the length.
 *
 * Length: a text in the GSM 03.38 alphabet is GSM-7 (160 characters in one segment, 153 per
 * segment once split; `^{}\[~]|€` take two); anything else is sent as UCS-2 (70, then 67 per
 * segment, counted in UTF-16 units: an emoji takes two). A text over the cap is never sent.
 */
export interface SmsTemplate {
  readonly text: string;
}

export const DEFAULT_OPT_OUT_HINT = 'Reply STOP to opt out';
/** Carriers reassemble up to about 10 parts reliably, and each part is billed: the hard cap. */
export const MAX_SMS_SEGMENTS = 10;

/** The values an audience SMS may use: no links to unsubscribe, the reply keyword does that. */
export const SMS_TEMPLATE_VALUES: readonly string[] = ['firstName', 'segmentName', 'traits.*'];

const GSM7_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM7_EXTENSION = '^{}\\[~]|€\f';
const GSM7 = new Set([...GSM7_BASIC]);
const GSM7_EXT = new Set([...GSM7_EXTENSION]);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  readonly encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  readonly units: number;
  readonly segments: number;
}

export function smsLength(text: string): SmsLength {
  let septets = 0;
  for (const character of text) {
    if (GSM7.has(character)) septets += 1;
    else if (GSM7_EXT.has(character)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

/** Whether the text already names its opt-out keyword (STOP, ARRET or ARRÊT as a word). */
export function mentionsOptOut(text: string): boolean {
  return normalizeReply(text)
    .split(' ')
    .some((word) => word === 'STOP' || word === 'ARRET');
}

/** The text with the opt-out hint appended, unless it names its opt-out keyword already. */
export function withOptOutHint(text: string, hint: string = DEFAULT_OPT_OUT_HINT): string {
  const trimmed = text.trimEnd();
  return mentionsOptOut(trimmed) ? trimmed : `${trimmed}\n${hint}`;
}

export type RenderedSms = { readonly ok: true; readonly text: string; readonly length: SmsLength } | { readonly ok: false; readonly length: SmsLength };

/** The text to send, hint included; refused (`ok: false`) when it takes more than `maxSegments`. */
export function renderSms(template: SmsTemplate, values: TemplateValues, hint: string = DEFAULT_OPT_OUT_HINT, maxSegments = MAX_SMS_SEGMENTS): RenderedSms {
  const text = withOptOutHint(renderText(template.text, { values, cart: [] }).trim(), hint);
  const length = smsLength(text);
  return length.segments <= maxSegments ? { ok: true, text, length } : { ok: false, length };
}

/**
 * What is wrong with a template as configured (none: it may be saved): placeholders not among
 * `allowed`, an empty text, or more than `maxSegments` before any value is inserted (values only
 * make a text longer than its placeholders when they are long, which the send checks again).
 */
export function smsTemplateProblems(
  template: SmsTemplate,
  allowed: readonly string[] = SMS_TEMPLATE_VALUES,
  hint = DEFAULT_OPT_OUT_HINT,
  maxSegments = MAX_SMS_SEGMENTS,
): string[] {
  if (template.text.trim() === '') return ['text must not be empty'];
  const problems = unknownPlaceholders({ subject: '', html: '', text: template.text }, allowed).map(
    (name) => `{{${name}}} is not a template value; use ${describePlaceholders(allowed)}`,
  );
  const length = smsLength(withOptOutHint(template.text.trim(), hint));
  if (length.segments > maxSegments) {
    problems.push(`text takes ${length.segments} SMS segments (${length.encoding}, opt-out hint included), more than ${maxSegments}`);
  }
  return problems;
}
