/**
 * Training labels computed from what a profile did after a cut-off date, for the predictive
 * scores the platform ships: each looks at a fixed horizon of events strictly after the cut-off.
 */
import { channelOf } from '../profile/activity';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { asObject } from '../tracking/json';
import { MARKETING_PURPOSES, purposesOfCategory } from '../privacy/purposes';

export type PredictiveScoreName = 'propensity' | 'churn' | 'complaint';

export const PREDICTIVE_SCORE_NAMES: readonly PredictiveScoreName[] = ['propensity', 'churn', 'complaint'];

export interface LabelDefinition {
  readonly score: PredictiveScoreName;
  /** The CSV column holding the label (1 = positive, 0 = negative). */
  readonly column: string;
  readonly horizonDays: number;
  readonly description: string;
  /** Whether the events after the cut-off (within the horizon) make the label positive. */
  readonly isPositive: (after: readonly AcceptedMessage[]) => boolean;
}

/** A visit: a page or screen view, or an event sent from the web or an app (not email or server side). */
export function isVisit(message: AcceptedMessage): boolean {
  if (message.type === 'page' || message.type === 'screen') return true;
  if (message.type !== 'track') return false;
  const channel = channelOf(message);
  return channel === 'web' || channel === 'mobile';
}

const isOrder = (message: AcceptedMessage): boolean => message.type === 'track' && message.event === 'Order Completed';

/** Segment's email spec names, and the platform's own unsubscribe event. */
const COMPLAINT_EVENTS = new Set(['Email Marked as Spam', 'Unsubscribed', 'Email Unsubscribed']);

/** A spam complaint, or an unsubscribe: event, `unsubscribed: true` trait, or a marketing consent withdrawn. */
export function isComplaint(message: AcceptedMessage): boolean {
  if (message.type === 'track' && message.event !== undefined && COMPLAINT_EVENTS.has(message.event)) return true;
  const traits = { ...asObject(message.context.traits), ...message.traits };
  if (traits.unsubscribed === true) return true;
  const preferences = asObject(asObject(message.context.consent).categoryPreferences);
  return Object.entries(preferences).some(
    ([category, granted]) => granted === false && purposesOfCategory(category).some((purpose) => MARKETING_PURPOSES.includes(purpose)),
  );
}

export const LABELS: Readonly<Record<PredictiveScoreName, LabelDefinition>> = {
  propensity: {
    score: 'propensity',
    column: 'ordered_within_30d',
    horizonDays: 30,
    description: 'placed an order (Order Completed) within 30 days after the cut-off',
    isPositive: (after) => after.some(isOrder),
  },
  churn: {
    score: 'churn',
    column: 'churned_90d',
    horizonDays: 90,
    description: 'neither visited nor ordered within 90 days after the cut-off',
    isPositive: (after) => !after.some((message) => isVisit(message) || isOrder(message)),
  },
  complaint: {
    score: 'complaint',
    column: 'complained_30d',
    horizonDays: 30,
    description: 'marked an email as spam or unsubscribed within 30 days after the cut-off',
    isPositive: (after) => after.some(isComplaint),
  },
};

const DAY_MS = 86_400_000;

/** The label of one profile: 1 or 0 from its events in (asOf, asOf + horizon]. */
export function labelOf(definition: LabelDefinition, messages: readonly AcceptedMessage[], asOf: Date): 0 | 1 {
  const from = asOf.toISOString();
  const until = new Date(asOf.getTime() + definition.horizonDays * DAY_MS).toISOString();
  const after = messages.filter((message) => message.timestamp > from && message.timestamp <= until);
  return definition.isPositive(after) ? 1 : 0;
}

/** Labels need the whole horizon observed: the cut-off plus the horizon must not be in the future. */
export function labelWindowEnd(definition: LabelDefinition, asOf: Date): Date {
  return new Date(asOf.getTime() + definition.horizonDays * DAY_MS);
}
