/**
 * A segment's destinations (README "Segments": webhooks, call centers, hashed exports for ad
 * platforms, audience journeys by email or SMS) as the console's forms edit them, and back: what
 * the API gave is what the form saves when nothing was changed. Pure, unit-tested.
 */
import { type FieldProblems, fieldProblems, type Problem } from './api-problems';
import { percentText, shareOfPercent } from './numbers';

type AudienceEvent = 'Audience Entered' | 'Audience Exited';

/** A destination as the Segments API takes it (functions/schemas/segments.ts). */
export type Destination =
  | {
      readonly type: 'webhook' | 'call_center';
      readonly url: string;
      readonly secretRef?: string;
      readonly events?: readonly AudienceEvent[];
      readonly include?: readonly ('crmId' | 'scores')[];
      readonly purpose?: string;
      readonly marketing?: boolean;
      readonly holdout?: number;
      readonly reason?: string;
      readonly score?: string;
    }
  | { readonly type: 'ad_export'; readonly holdout?: number }
  | {
      readonly type: 'journey';
      readonly journey: 'audience-email';
      readonly template: { readonly subject: string; readonly html: string; readonly text: string };
      readonly delaySeconds?: number;
    }
  | { readonly type: 'journey'; readonly journey: 'audience-sms'; readonly template: { readonly text: string }; readonly delaySeconds?: number };

export type DestinationKind = 'webhook' | 'call_center' | 'ad_export' | 'audience-email' | 'audience-sms';

export const DESTINATION_KINDS: readonly { readonly kind: DestinationKind; readonly label: string }[] = [
  { kind: 'webhook', label: 'Webhook (your system is called)' },
  { kind: 'call_center', label: 'Call center (a dialer is called)' },
  { kind: 'ad_export', label: 'Ad platform export (hashed)' },
  { kind: 'audience-email', label: 'Email journey' },
  { kind: 'audience-sms', label: 'SMS journey' },
];

/** Which membership changes a receiver hears of; "default" leaves it to the platform. */
export type EventsChoice = 'default' | 'entered' | 'exited' | 'both';
/** Whether the global control group is kept out; "default" leaves it to the platform. */
export type MarketingChoice = 'default' | 'yes' | 'no';

/** Every field of every kind as text typed or a choice made; a kind uses its own. */
export interface DestinationForm {
  readonly kind: DestinationKind;
  readonly url: string;
  readonly secretRef: string;
  readonly events: EventsChoice;
  readonly includeCrmId: boolean;
  readonly includeScores: boolean;
  readonly purpose: string;
  readonly marketing: MarketingChoice;
  readonly holdoutPercent: string;
  readonly reason: string;
  readonly score: string;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly delayMinutes: string;
}

export type DestinationField = Exclude<keyof DestinationForm, 'kind'>;

/** The fields a kind shows, in the order of its form. */
export const FIELDS_OF: Readonly<Record<DestinationKind, readonly DestinationField[]>> = {
  webhook: ['url', 'secretRef', 'events', 'includeCrmId', 'includeScores', 'purpose', 'marketing', 'holdoutPercent'],
  call_center: ['url', 'secretRef', 'reason', 'score', 'events', 'purpose', 'marketing', 'holdoutPercent'],
  ad_export: ['holdoutPercent'],
  'audience-email': ['subject', 'html', 'text', 'delayMinutes'],
  'audience-sms': ['text', 'delayMinutes'],
};

export function emptyDestination(kind: DestinationKind): DestinationForm {
  return {
    kind,
    url: '',
    secretRef: '',
    events: 'default',
    includeCrmId: false,
    includeScores: false,
    purpose: '',
    marketing: 'default',
    holdoutPercent: '',
    reason: '',
    score: '',
    subject: '',
    html: '',
    text: '',
    delayMinutes: '',
  };
}

const EVENTS_OF: Readonly<Record<Exclude<EventsChoice, 'default'>, readonly AudienceEvent[]>> = {
  entered: ['Audience Entered'],
  exited: ['Audience Exited'],
  both: ['Audience Entered', 'Audience Exited'],
};

function eventsChoice(events: readonly AudienceEvent[] | undefined): EventsChoice {
  if (events === undefined) return 'default';
  const entered = events.includes('Audience Entered');
  const exited = events.includes('Audience Exited');
  return entered && exited ? 'both' : exited ? 'exited' : 'entered';
}

const delayText = (seconds: number | undefined): string => (seconds === undefined ? '' : String(Math.round((seconds / 60) * 100) / 100));

export function destinationForm(destination: Destination): DestinationForm {
  if (destination.type === 'ad_export') return { ...emptyDestination('ad_export'), holdoutPercent: percentText(destination.holdout) };
  if (destination.type === 'journey') {
    const delayMinutes = delayText(destination.delaySeconds);
    return destination.journey === 'audience-email'
      ? { ...emptyDestination('audience-email'), ...destination.template, delayMinutes }
      : { ...emptyDestination('audience-sms'), text: destination.template.text, delayMinutes };
  }
  return {
    ...emptyDestination(destination.type),
    url: destination.url,
    secretRef: destination.secretRef ?? '',
    events: eventsChoice(destination.events),
    includeCrmId: destination.include?.includes('crmId') ?? false,
    includeScores: destination.include?.includes('scores') ?? false,
    purpose: destination.purpose ?? '',
    marketing: destination.marketing === undefined ? 'default' : destination.marketing ? 'yes' : 'no',
    holdoutPercent: percentText(destination.holdout),
    reason: destination.reason ?? '',
    score: destination.score ?? '',
  };
}

/** What `GET /v1/settings` answers, the part the destination forms offer (functions/domain/segments/deployment-settings.ts). */
export interface DeploymentSettings {
  readonly purposes: readonly { readonly name: string }[];
  readonly callCenterScores: readonly string[];
}

/** The names a purpose or call-center score is chosen from, the deployment's own. */
export interface DestinationChoices {
  readonly purposes: readonly string[];
  readonly callCenterScores: readonly string[];
}

export const destinationChoices = (settings: DeploymentSettings): DestinationChoices => ({
  purposes: settings.purposes.map((purpose) => purpose.name),
  callCenterScores: settings.callCenterScores,
});

/**
 * The options of a choice as [value, label]: none (`""`, labelled `noneLabel`), then the
 * deployment's names. A saved value the deployment no longer lists stays shown, and said, rather
 * than silently changed: the API refuses it on save, next to the field.
 */
export function choiceOptions(names: readonly string[], current: string, noneLabel: string): [string, string][] {
  const value = current.trim();
  const kept: [string, string][] = value !== '' && !names.includes(value) ? [[value, `${value} (not offered by this deployment)`]] : [];
  return [['', noneLabel], ...names.map((name): [string, string] => [name, name]), ...kept];
}

/** The API's own rules, checked before sending so the person sees them at once (the API checks them again). */
const SECRET_REF = /^[A-Za-z0-9_./:-]{1,512}$/;
const MAX_DELAY_MINUTES = 14 * 24 * 60;
const CALL_CENTER_REASON_MAX = 200;

export type DestinationResult = { readonly ok: true; readonly destination: Destination } | { readonly ok: false; readonly problems: FieldProblems };

/** The destination a form describes, or the problems of its fields. */
export function destinationOf(form: DestinationForm): DestinationResult {
  const problems: Record<string, string> = {};
  const holdout = shareOfPercent(form.holdoutPercent, 0, 50);
  if (!holdout.ok) problems.holdoutPercent = holdout.reason;
  const delay = form.delayMinutes.trim() === '' ? undefined : Number(form.delayMinutes);
  if (delay !== undefined && !(Number.isFinite(delay) && delay >= 0 && delay <= MAX_DELAY_MINUTES))
    problems.delayMinutes = `a number of minutes from 0 to ${MAX_DELAY_MINUTES} (14 days)`;
  const delaySeconds = delay === undefined ? undefined : Math.round(delay * 60);
  const share = holdout.ok ? holdout.value : undefined;

  let destination: Destination;
  if (form.kind === 'ad_export') destination = { type: 'ad_export', ...(share !== undefined && { holdout: share }) };
  else if (form.kind === 'audience-email') {
    for (const field of ['subject', 'html', 'text'] as const) if (form[field].trim() === '') problems[field] = 'required';
    if (/[\r\n]/.test(form.subject)) problems.subject = 'one line';
    destination = {
      type: 'journey',
      journey: 'audience-email',
      template: { subject: form.subject, html: form.html, text: form.text },
      ...(delaySeconds !== undefined && { delaySeconds }),
    };
  } else if (form.kind === 'audience-sms') {
    if (form.text.trim() === '') problems.text = 'required';
    destination = { type: 'journey', journey: 'audience-sms', template: { text: form.text }, ...(delaySeconds !== undefined && { delaySeconds }) };
  } else {
    const url = form.url.trim();
    if (url === '') problems.url = 'required';
    else if (!/^https?:\/\/[^\s]+$/i.test(url)) problems.url = 'an address starting with https://';
    const secretRef = form.secretRef.trim();
    if (secretRef !== '' && !SECRET_REF.test(secretRef)) problems.secretRef = 'an SSM parameter name (letters, digits and _ . / : -), never the secret itself';
    const reason = form.reason.trim();
    if (form.kind === 'call_center') {
      if (reason === '') problems.reason = 'required: the line the agent reads';
      else if (reason.length > CALL_CENTER_REASON_MAX) problems.reason = `at most ${CALL_CENTER_REASON_MAX} characters`;
    }
    const include = [...(form.includeCrmId ? (['crmId'] as const) : []), ...(form.includeScores ? (['scores'] as const) : [])];
    destination = {
      type: form.kind,
      url,
      ...(secretRef !== '' && { secretRef }),
      ...(form.kind === 'call_center' && { reason }),
      ...(form.kind === 'call_center' && form.score.trim() !== '' && { score: form.score.trim() }),
      ...(form.events !== 'default' && { events: EVENTS_OF[form.events] }),
      ...(form.kind === 'webhook' && include.length > 0 && { include }),
      ...(form.purpose.trim() !== '' && { purpose: form.purpose.trim() }),
      ...(form.marketing !== 'default' && { marketing: form.marketing === 'yes' }),
      ...(share !== undefined && { holdout: share }),
    };
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, destination };
}

/** The form field each API path of a destination is shown by. */
const FIELD_OF_API_PATH: Readonly<Record<string, DestinationField>> = {
  url: 'url',
  secretRef: 'secretRef',
  events: 'events',
  include: 'includeCrmId',
  purpose: 'purpose',
  marketing: 'marketing',
  holdout: 'holdoutPercent',
  reason: 'reason',
  score: 'score',
  'template.subject': 'subject',
  'template.html': 'html',
  'template.text': 'text',
  delaySeconds: 'delayMinutes',
};

/** The problems of the API's answer about destination `index` (`destinations[index].url`), by form field. */
export const destinationProblems = (problems: readonly Problem[], index: number): FieldProblems =>
  fieldProblems(problems, FIELD_OF_API_PATH, `destinations[${index}]`);
