/**
 * An offer (README "Personalization", docs/contract.md §10) as the console's form edits it, and
 * back: its content and an inline eligibility definition as JSON text, shares as percentages,
 * times in the browser's time zone. Pure, unit-tested.
 */
import type { Json, JsonObject } from '../segment-builder/model';
import { type FieldProblems, fieldProblems, type Problem } from './api-problems';
import { percentText, shareOfPercent, wholeNumber } from './numbers';

/** An offer as the Offers API answers it (the fields the form edits, and its version). */
export interface Offer {
  readonly id: string;
  readonly name?: string;
  readonly placement: string;
  readonly content: JsonObject;
  readonly segment?: string;
  readonly definition?: Json;
  readonly priority?: number;
  readonly default?: boolean;
  readonly holdout?: number;
  readonly cap?: { readonly perDay: number };
  readonly startAt?: string;
  readonly endAt?: string;
  readonly purpose?: string;
  readonly version?: number;
}

/** Who sees the offer: a segment's members, everyone else of its placement, or an inline definition (kept as JSON). */
export type AudienceChoice = 'segment' | 'default' | 'definition';

export interface OfferForm {
  /** Only when creating: the id is the offer's name in URLs and reports. */
  readonly id: string;
  readonly name: string;
  readonly placement: string;
  readonly contentText: string;
  readonly audience: AudienceChoice;
  readonly segment: string;
  readonly definitionText: string;
  readonly priority: string;
  readonly holdoutPercent: string;
  readonly capPerDay: string;
  /** `datetime-local` values, in the browser's time zone. */
  readonly startAt: string;
  readonly endAt: string;
  readonly purpose: string;
}

export type OfferField = keyof OfferForm;

export const EMPTY_OFFER_FORM: OfferForm = {
  id: '',
  name: '',
  placement: '',
  contentText: '{\n  "title": "",\n  "text": ""\n}',
  audience: 'segment',
  segment: '',
  definitionText: '',
  priority: '0',
  holdoutPercent: '',
  capPerDay: '',
  startAt: '',
  endAt: '',
  purpose: '',
};

const twoDigits = (value: number): string => String(value).padStart(2, '0');

/** An ISO time as a `datetime-local` value in the browser's time zone (seconds only when there are some). */
export function localDateTime(iso: string | undefined): string {
  if (!iso) return '';
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return '';
  const minutes = `${time.getFullYear()}-${twoDigits(time.getMonth() + 1)}-${twoDigits(time.getDate())}T${twoDigits(time.getHours())}:${twoDigits(time.getMinutes())}`;
  return time.getSeconds() === 0 ? minutes : `${minutes}:${twoDigits(time.getSeconds())}`;
}

/** A `datetime-local` value (the browser's time zone) as an ISO time; undefined for none or no date. */
export function isoOfLocal(local: string): string | undefined {
  if (local.trim() === '') return undefined;
  // Without an offset, a date-time is read in the local time zone (ECMAScript Date.parse).
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

export function offerForm(offer: Offer): OfferForm {
  return {
    id: offer.id,
    name: offer.name ?? '',
    placement: offer.placement,
    contentText: JSON.stringify(offer.content, null, 2),
    audience: offer.default ? 'default' : offer.definition !== undefined ? 'definition' : 'segment',
    segment: offer.segment ?? '',
    definitionText: offer.definition === undefined ? '' : JSON.stringify(offer.definition, null, 2),
    priority: String(offer.priority ?? 0),
    holdoutPercent: percentText(offer.holdout),
    capPerDay: offer.cap === undefined ? '' : String(offer.cap.perDay),
    startAt: localDateTime(offer.startAt),
    endAt: localDateTime(offer.endAt),
    purpose: offer.purpose ?? '',
  };
}

/** The JSON of a text field, or why it is none. */
function parseJson(text: string): { ok: true; value: Json } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(text) as Json };
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Why a JSON text does not parse, as it is typed; undefined when it does. */
export function jsonProblem(text: string): string | undefined {
  const parsed = parseJson(text);
  return parsed.ok ? undefined : parsed.reason;
}

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What POST or PUT /v1/offers takes (without the id and version, which the page adds). */
export type OfferBody = Omit<Offer, 'id' | 'version'>;

export type OfferResult = { readonly ok: true; readonly body: OfferBody } | { readonly ok: false; readonly problems: FieldProblems };

const PLACEMENT = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const OFFER_ID = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** The request body a form describes, or the problems of its fields. */
export function offerBodyOf(form: OfferForm): OfferResult {
  const problems: Record<string, string> = {};
  if (form.id !== '' && !OFFER_ID.test(form.id)) problems.id = '1-40 lower-case letters, digits, - or _ (or empty: one is made up)';
  if (!PLACEMENT.test(form.placement.trim())) problems.placement = 'required: 1-64 lower-case letters, digits, - or _';
  const content = parseJson(form.contentText);
  if (!content.ok) problems.contentText = content.reason;
  else if (!isObject(content.value)) problems.contentText = 'a JSON object, such as {"title": "…", "text": "…"}';
  let definition: Json | undefined;
  if (form.audience === 'definition') {
    const parsed = parseJson(form.definitionText);
    if (parsed.ok) definition = parsed.value;
    else problems.definitionText = parsed.reason;
  }
  if (form.audience === 'segment' && form.segment === '') problems.segment = 'choose a segment';
  const priority = wholeNumber(form.priority, -1_000, 1_000);
  if (!priority.ok) problems.priority = priority.reason;
  const holdout = shareOfPercent(form.holdoutPercent, 0, 100);
  if (!holdout.ok) problems.holdoutPercent = holdout.reason;
  else if (form.audience === 'default' && holdout.value !== undefined) problems.holdoutPercent = 'a default offer has no holdout: leave it empty';
  const cap = wholeNumber(form.capPerDay, 1, 1_000);
  if (!cap.ok) problems.capPerDay = cap.reason;
  const startAt = isoOfLocal(form.startAt);
  const endAt = isoOfLocal(form.endAt);
  if (startAt !== undefined && endAt !== undefined && Date.parse(endAt) <= Date.parse(startAt)) problems.endAt = 'after the start';
  if (Object.keys(problems).length > 0 || !content.ok || !isObject(content.value) || !priority.ok || !holdout.ok || !cap.ok) return { ok: false, problems };
  return {
    ok: true,
    body: {
      ...(form.name.trim() !== '' && { name: form.name.trim() }),
      placement: form.placement.trim(),
      content: content.value,
      ...(form.audience === 'segment' && { segment: form.segment }),
      ...(definition !== undefined && { definition }),
      ...(priority.value !== undefined && { priority: priority.value }),
      ...(form.audience === 'default' && { default: true }),
      ...(holdout.value !== undefined && { holdout: holdout.value }),
      ...(cap.value !== undefined && { cap: { perDay: cap.value } }),
      ...(startAt !== undefined && { startAt }),
      ...(endAt !== undefined && { endAt }),
      ...(form.purpose.trim() !== '' && { purpose: form.purpose.trim() }),
    },
  };
}

/** The form field each API path of an offer is shown by. */
const FIELD_OF_API_PATH: Readonly<Record<string, OfferField>> = {
  id: 'id',
  name: 'name',
  placement: 'placement',
  content: 'contentText',
  segment: 'segment',
  definition: 'definitionText',
  default: 'audience',
  priority: 'priority',
  holdout: 'holdoutPercent',
  cap: 'capPerDay',
  startAt: 'startAt',
  endAt: 'endAt',
  purpose: 'purpose',
};

/** The problems of the API's answer, by form field ('' for the rest, such as a version conflict). */
export const offerProblems = (problems: readonly Problem[]): FieldProblems => fieldProblems(problems, FIELD_OF_API_PATH);
