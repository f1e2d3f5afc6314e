import { wholeNumber } from './numbers';

/**
 * A segment's scheduled rebuild, or a lookalike's scheduled refresh, as the form holds it: none, or
 * every N minutes, hours or days, which both APIs take as the same `schedule` field, an EventBridge
 * Scheduler `rate(N unit)` expression (null: none).
 */
export type ScheduleUnit = 'minutes' | 'hours' | 'days';

export interface ScheduleForm {
  /** '' for no scheduled rebuild. */
  readonly every: string;
  readonly unit: ScheduleUnit;
}

/** What a schedule starts: a segment's rebuild or a lookalike's refresh (only the words differ). */
export type ScheduleKind = 'rebuild' | 'refresh';

/** The label of the "every" field of a kind: "Rebuild every", "Refresh every". */
export const everyLabel = (kind: ScheduleKind): string => `${kind === 'rebuild' ? 'Rebuild' : 'Refresh'} every`;

/** EventBridge Scheduler's largest rate value is far above this; a year of days is plenty for a rebuild. */
const MAX_EVERY = 365;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;

/** The form of a stored schedule: a rate the form cannot show (none exist today) reads as none. */
export function scheduleForm(schedule: string | null | undefined): ScheduleForm {
  const match = RATE.exec(schedule?.trim() ?? '');
  if (!match) return { every: '', unit: 'hours' };
  const unit = (match[2]?.endsWith('s') ? match[2] : `${match[2]}s`) as ScheduleUnit;
  return { every: match[1] ?? '', unit };
}

/** The API's schedule of the form (null for none), or the sentence saying what to type. */
export function scheduleOf(
  form: ScheduleForm,
  kind: ScheduleKind,
): { readonly ok: true; readonly schedule: string | null } | { readonly ok: false; readonly reason: string } {
  const every = wholeNumber(form.every, 1, MAX_EVERY);
  if (!every.ok) return { ok: false, reason: `${everyLabel(kind)}: ${every.reason}, or empty for no scheduled ${kind}` };
  if (every.value === undefined) return { ok: true, schedule: null };
  // Scheduler wants the singular for one: rate(1 hour), rate(2 hours).
  return { ok: true, schedule: `rate(${every.value} ${every.value === 1 ? form.unit.slice(0, -1) : form.unit})` };
}
