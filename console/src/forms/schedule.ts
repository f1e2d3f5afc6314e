import { wholeNumber } from './numbers';

/**
 * A segment's scheduled rebuild as the form holds it: none, or every N minutes, hours or days,
 * which the Segments API takes as an EventBridge Scheduler `rate(N unit)` expression (null: none).
 */
export type ScheduleUnit = 'minutes' | 'hours' | 'days';

export interface ScheduleForm {
  /** '' for no scheduled rebuild. */
  readonly every: string;
  readonly unit: ScheduleUnit;
}

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
export function scheduleOf(form: ScheduleForm): { readonly ok: true; readonly schedule: string | null } | { readonly ok: false; readonly reason: string } {
  const every = wholeNumber(form.every, 1, MAX_EVERY);
  if (!every.ok) return { ok: false, reason: `Rebuild every: ${every.reason}, or empty for no scheduled rebuild` };
  if (every.value === undefined) return { ok: true, schedule: null };
  // Scheduler wants the singular for one: rate(1 hour), rate(2 hours).
  return { ok: true, schedule: `rate(${every.value} ${every.value === 1 ? form.unit.slice(0, -1) : form.unit})` };
}
