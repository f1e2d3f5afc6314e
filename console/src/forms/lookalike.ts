/**
 * A lookalike (README "Lookalikes", docs/contract.md §11) as the console's form edits it, and
 * back, with its scheduled refresh and its destinations (copied by the API to its audience
 * segment) in the segment editor's forms. What the form does not edit (description, features) is
 * kept as read, since a PUT replaces every field. Pure, unit-tested.
 */
import type { Json } from '../segment-builder/model';
import { type FieldProblems, fieldProblems, type Problem } from './api-problems';
import { type Destination, type DestinationForm, destinationForm, destinationOf, destinationProblems } from './destination';
import { percentText, shareOfPercent, wholeNumber } from './numbers';
import { type ScheduleForm, scheduleForm, scheduleOf } from './schedule';

export type AudienceSize = { readonly share: number } | { readonly count: number } | { readonly minBand: 'medium' | 'high' };

/** The fields PUT /v1/lookalikes/{id} takes that the form leaves as they are. */
interface KeptFields {
  readonly description?: string;
  readonly features?: Json;
}

/** A lookalike as the Lookalikes API answers it (the fields the console uses). */
export interface Lookalike extends KeptFields {
  readonly id: string;
  readonly name: string;
  readonly seed: string;
  readonly candidates?: string;
  readonly size: AudienceSize;
  /** `rate(...)`, or null for no scheduled refresh; the API answers it always. */
  readonly schedule?: string | null;
  readonly destinations?: readonly Destination[];
  readonly version?: number;
}

/**
 * The API's schedule of a lookalike given none (functions/schemas/lookalikes.ts): a new form
 * shows it, and a lookalike read without one is saved with it, as the API would store it.
 */
export const DEFAULT_LOOKALIKE_SCHEDULE = 'rate(1 day)';

/** A destination being edited, with a key that stays when others are removed (its fields' ids and problems follow it). */
export interface KeyedDestination {
  readonly key: number;
  readonly form: DestinationForm;
}

export type SizeChoice = 'share' | 'count' | 'minBand';

export interface LookalikeForm {
  /** Only when creating: its audience segment is `lookalike-<id>`. */
  readonly id: string;
  readonly name: string;
  readonly seed: string;
  /** '' for every profile. */
  readonly candidates: string;
  readonly size: SizeChoice;
  readonly sharePercent: string;
  readonly count: string;
  readonly minBand: 'medium' | 'high';
  readonly schedule: ScheduleForm;
  readonly destinations: readonly KeyedDestination[];
  readonly kept: KeptFields;
}

export type LookalikeField = Exclude<keyof LookalikeForm, 'kept' | 'destinations'>;

export const EMPTY_LOOKALIKE_FORM: LookalikeForm = {
  id: '',
  name: '',
  seed: '',
  candidates: '',
  size: 'share',
  sharePercent: '10',
  count: '',
  minBand: 'high',
  schedule: scheduleForm(DEFAULT_LOOKALIKE_SCHEDULE),
  destinations: [],
  kept: {},
};

export function lookalikeForm(lookalike: Lookalike): LookalikeForm {
  const { size } = lookalike;
  return {
    id: lookalike.id,
    name: lookalike.name,
    seed: lookalike.seed,
    candidates: lookalike.candidates ?? '',
    size: 'share' in size ? 'share' : 'count' in size ? 'count' : 'minBand',
    sharePercent: 'share' in size ? percentText(size.share) : '',
    count: 'count' in size ? String(size.count) : '',
    minBand: 'minBand' in size ? size.minBand : 'high',
    schedule: scheduleForm(lookalike.schedule === undefined ? DEFAULT_LOOKALIKE_SCHEDULE : lookalike.schedule),
    destinations: (lookalike.destinations ?? []).map((destination, index) => ({ key: index + 1, form: destinationForm(destination) })),
    kept: {
      ...(lookalike.description !== undefined && { description: lookalike.description }),
      ...(lookalike.features !== undefined && { features: lookalike.features }),
    },
  };
}

/** What POST or PUT /v1/lookalikes takes (without the id and version, which the page adds). */
export type LookalikeBody = Omit<Lookalike, 'id' | 'version'>;

export type LookalikeResult = { readonly ok: true; readonly body: LookalikeBody } | { readonly ok: false; readonly problems: FieldProblems };

const LOOKALIKE_ID = /^[a-z0-9][a-z0-9_-]{0,37}$/;

/** The request body a form describes, or the problems of its fields. */
export function lookalikeBodyOf(form: LookalikeForm): LookalikeResult {
  const problems: Record<string, string> = {};
  if (form.id !== '' && !LOOKALIKE_ID.test(form.id)) problems.id = '1-38 lower-case letters, digits, - or _ (or empty: one is made up)';
  if (form.name.trim() === '') problems.name = 'required';
  if (form.seed === '') problems.seed = 'choose the segment the audience should resemble';
  if (form.candidates !== '' && form.candidates === form.seed) problems.candidates = 'the seed is never a candidate: choose another segment or everyone';
  let size: AudienceSize | undefined;
  if (form.size === 'share') {
    const share = shareOfPercent(form.sharePercent, 0.01, 100);
    if (!share.ok || share.value === undefined) problems.sharePercent = share.ok ? 'required' : share.reason;
    else size = { share: share.value };
  } else if (form.size === 'count') {
    const count = wholeNumber(form.count, 1, Number.MAX_SAFE_INTEGER);
    if (!count.ok || count.value === undefined) problems.count = count.ok ? 'required' : 'a whole number of people, at least 1';
    else size = { count: count.value };
  } else size = { minBand: form.minBand };
  const schedule = scheduleOf(form.schedule, 'refresh');
  if (!schedule.ok) problems.schedule = schedule.reason;
  const destinations: Destination[] = [];
  for (const entry of form.destinations) {
    const result = destinationOf(entry.form);
    if (result.ok) destinations.push(result.destination);
    else for (const [field, reason] of Object.entries(result.problems)) problems[destinationProblemKey(entry.key, field)] = reason;
  }
  if (Object.keys(problems).length > 0 || size === undefined || !schedule.ok) return { ok: false, problems };
  return {
    ok: true,
    body: {
      name: form.name.trim(),
      seed: form.seed,
      ...(form.candidates !== '' && { candidates: form.candidates }),
      size,
      schedule: schedule.schedule,
      destinations,
      ...form.kept,
    },
  };
}

/**
 * A destination's problems live among the form's as `destinations.<key>.<field>` (by its key, not
 * its place, so they stay on it when another is removed); '' for the destination as a whole.
 */
const destinationProblemKey = (key: number, field: string): string => `destinations.${key}.${field}`;

/** The problems of each destination, by key, as the destinations editor shows them. */
export function destinationProblemsByKey(form: LookalikeForm, problems: FieldProblems): Readonly<Record<number, FieldProblems>> {
  return Object.fromEntries(
    form.destinations.map(({ key }) => {
      const prefix = destinationProblemKey(key, '');
      return [
        key,
        Object.fromEntries(Object.entries(problems).flatMap(([field, reason]) => (field.startsWith(prefix) ? [[field.slice(prefix.length), reason]] : []))),
      ];
    }),
  );
}

const FIELD_OF_API_PATH: Readonly<Record<string, LookalikeField>> = {
  id: 'id',
  name: 'name',
  seed: 'seed',
  candidates: 'candidates',
  'size.share': 'sharePercent',
  'size.count': 'count',
  size: 'size',
  schedule: 'schedule',
};

const IN_A_DESTINATION = /^destinations\[\d+\]/;

/**
 * The problems of the API's answer, by form field ('' for the rest, such as a version conflict):
 * those of `destinations[i]` go to the destination the form sent at place i.
 */
export function lookalikeProblems(problems: readonly Problem[], form: LookalikeForm): FieldProblems {
  const found: Record<string, string> = fieldProblems(
    problems.filter((problem) => !IN_A_DESTINATION.test(problem.path)),
    FIELD_OF_API_PATH,
  );
  form.destinations.forEach(({ key }, index) => {
    for (const [field, reason] of Object.entries(destinationProblems(problems, index))) found[destinationProblemKey(key, field)] ??= reason;
  });
  return found;
}
