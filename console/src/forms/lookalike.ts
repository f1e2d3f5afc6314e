/**
 * A lookalike (README "Lookalikes", docs/contract.md §11) as the console's form edits it, and
 * back. What the form does not edit (description, features, schedule, destinations) is kept as
 * read, since a PUT replaces every field. Pure, unit-tested.
 */
import type { Json } from '../segment-builder/model';
import { type FieldProblems, fieldProblems, type Problem } from './api-problems';
import { percentText, shareOfPercent, wholeNumber } from './numbers';

export type AudienceSize = { readonly share: number } | { readonly count: number } | { readonly minBand: 'medium' | 'high' };

/** The fields PUT /v1/lookalikes/{id} takes that the form leaves as they are. */
interface KeptFields {
  readonly description?: string;
  readonly features?: Json;
  readonly schedule?: string | null;
  readonly destinations?: Json;
}

/** A lookalike as the Lookalikes API answers it (the fields the console uses). */
export interface Lookalike extends KeptFields {
  readonly id: string;
  readonly name: string;
  readonly seed: string;
  readonly candidates?: string;
  readonly size: AudienceSize;
  readonly version?: number;
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
  readonly kept: KeptFields;
}

export type LookalikeField = Exclude<keyof LookalikeForm, 'kept'>;

export const EMPTY_LOOKALIKE_FORM: LookalikeForm = {
  id: '',
  name: '',
  seed: '',
  candidates: '',
  size: 'share',
  sharePercent: '10',
  count: '',
  minBand: 'high',
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
    kept: {
      ...(lookalike.description !== undefined && { description: lookalike.description }),
      ...(lookalike.features !== undefined && { features: lookalike.features }),
      ...(lookalike.schedule !== undefined && { schedule: lookalike.schedule }),
      ...(lookalike.destinations !== undefined && { destinations: lookalike.destinations }),
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
  if (Object.keys(problems).length > 0 || size === undefined) return { ok: false, problems };
  return {
    ok: true,
    body: { name: form.name.trim(), seed: form.seed, ...(form.candidates !== '' && { candidates: form.candidates }), size, ...form.kept },
  };
}

const FIELD_OF_API_PATH: Readonly<Record<string, LookalikeField>> = {
  id: 'id',
  name: 'name',
  seed: 'seed',
  candidates: 'candidates',
  'size.share': 'sharePercent',
  'size.count': 'count',
  size: 'size',
};

/** The problems of the API's answer, by form field ('' for the rest, such as a version conflict). */
export const lookalikeProblems = (problems: readonly Problem[]): FieldProblems => fieldProblems(problems, FIELD_OF_API_PATH);
