import type { Activity } from '../profile/activity';
import { computeTraits } from '../profile/computed-traits';
import { hasMarketingConsent } from '../privacy/purposes';
import type { ProfileRecord } from '../profile/profile';
import type { AcceptedMessage } from '../tracking/accepted-message';
import type { CountRange, DateBound, PropertyFilter, Scalar, SegmentCondition, SegmentDefinition, ValueTest } from './definition';
import { subtractDuration } from './duration';

/**
 * Segment evaluation: does one profile belong to a segment at time `now`? Pure and deterministic
 * (the clock is a parameter), so the real-time evaluator, the rebuild and the preview agree.
 */

/** What a definition is evaluated against: the profile as the Profile API shows it, plus history. */
export interface SegmentSubject {
  readonly profileId: string;
  /** Trait values by name (ProfileView.traits). */
  readonly traits: Readonly<Record<string, unknown>>;
  /** Computed traits at `now` (ProfileView.computed). */
  readonly computed: Readonly<Record<string, unknown>>;
  /** Scores by name: predictive `{probability, band, ...}`, or a state score's string or number. */
  readonly scores: Readonly<Record<string, unknown>>;
  readonly consent: {
    readonly categoryPreferences: Readonly<Record<string, boolean>>;
    /** hasMarketingConsent of the profile. */
    readonly marketing: boolean;
  };
  readonly identities: ReadonlyArray<{ readonly type: string; readonly value: string }>;
  /** Per track event name: total count and last time (Activity.events), for conditions answered without history. */
  readonly eventTotals: Activity['events'];
  /**
   * Stored events, newest first, at least back to `historyNeeded(definition, now).since`.
   * Required when `historyNeeded` is not undefined; evaluating without them throws.
   */
  readonly events?: readonly AcceptedMessage[];
}

/** How much event history a definition needs; `since` absent means every stored event. */
export interface HistoryNeed {
  readonly since?: Date;
}

export class MissingEventHistoryError extends Error {
  constructor() {
    super('this segment definition needs the profile event history (see historyNeeded)');
    this.name = 'MissingEventHistoryError';
  }
}

/** The subject of a stored profile: its view at `now`, with scores and events when the caller loaded them. */
export function segmentSubject(
  profile: ProfileRecord,
  options: { readonly now: Date; readonly scores?: Readonly<Record<string, unknown>>; readonly events?: readonly AcceptedMessage[] },
): SegmentSubject {
  const traits: Record<string, unknown> = {};
  for (const [name, { value }] of Object.entries(profile.traits)) traits[name] = value;
  return {
    profileId: profile.profileId,
    traits,
    computed: computeTraits(profile.activity, options.now) as unknown as Record<string, unknown>,
    scores: options.scores ?? {},
    consent: {
      categoryPreferences: Object.fromEntries(Object.entries(profile.consent.categories).map(([name, decision]) => [name, decision.granted])),
      marketing: hasMarketingConsent(profile.consent),
    },
    identities: profile.identities,
    eventTotals: profile.activity.events,
    ...(options.events && { events: options.events }),
  };
}

// ---------------------------------------------------------------------------------------------
// History: which behaviour conditions need stored events, and how far back.

/**
 * Existence questions ("did X in the last 30 days", "never did X") without property filters are
 * answered from the profile's aggregates (count and last time per event name); anything else
 * counts stored events.
 */
/**
 * Page and screen calls are the behaviour events `Page Viewed` and `Screen Viewed`, their
 * properties (`path`, `url`, `title`, `name`...) open to `where`, beside track events of that name.
 */
const VIEW_EVENTS: Readonly<Record<string, AcceptedMessage['type']>> = { 'Page Viewed': 'page', 'Screen Viewed': 'screen' };

/** Whether a message is an occurrence of the behaviour event `name`. */
function isBehaviourEvent(message: AcceptedMessage, name: string): boolean {
  if (message.type === 'track') return message.event === name;
  return Object.hasOwn(VIEW_EVENTS, name) && VIEW_EVENTS[name] === message.type;
}

function answeredFromAggregates(condition: Extract<SegmentCondition, { kind: 'behaviour' }>): boolean {
  // The profile's per-name totals count track events only: views are read from the history.
  if (condition.where.length > 0 || condition.after !== undefined || Object.hasOwn(VIEW_EVENTS, condition.event)) return false;
  if (condition.within === undefined) return true;
  return existenceQuestion(condition.count) !== undefined;
}

/** `some` for "at least once", `none` for "never"; undefined for any other count. */
function existenceQuestion(count: CountRange): 'some' | 'none' | undefined {
  const { gte, lte, eq } = count;
  if (eq === undefined && lte === undefined && gte === 1) return 'some';
  if (gte === undefined && ((eq === 0 && lte === undefined) || (lte === 0 && eq === undefined) || (eq === 0 && lte === 0))) return 'none';
  return undefined;
}

function behaviourConditions(condition: SegmentCondition): Array<Extract<SegmentCondition, { kind: 'behaviour' }>> {
  switch (condition.kind) {
    case 'and':
    case 'or':
      return condition.conditions.flatMap(behaviourConditions);
    case 'not':
      return behaviourConditions(condition.condition);
    case 'behaviour':
      return [condition];
    default:
      return [];
  }
}

/**
 * Whether evaluating `definition` at `now` needs the profile's stored events, and since when:
 * undefined when it needs none (read no events then); `{}` when it needs them all (a condition
 * without a window); else `{since}`, the earliest window start.
 */
export function historyNeeded(definition: SegmentDefinition, now: Date): HistoryNeed | undefined {
  const needing = behaviourConditions(definition).filter((condition) => !answeredFromAggregates(condition));
  if (needing.length === 0) return undefined;
  let since: Date | undefined;
  for (const condition of needing) {
    // "After the latest Y" within a window only looks inside the window: earlier anchors cannot exclude anything in it.
    if (!condition.within) return {};
    const start = subtractDuration(now, condition.within);
    if (!since || start < since) since = start;
  }
  return since ? { since } : {};
}

/** The widest of several needs (one profile evaluated against many segments). */
export function combineHistoryNeeds(needs: ReadonlyArray<HistoryNeed | undefined>): HistoryNeed | undefined {
  const present = needs.filter((need): need is HistoryNeed => need !== undefined);
  if (present.length === 0) return undefined;
  if (present.some((need) => need.since === undefined)) return {};
  return { since: new Date(Math.min(...present.map((need) => (need.since as Date).getTime()))) };
}

// ---------------------------------------------------------------------------------------------
// Values.

/**
 * Values at a dotted path: an exact key first (trait names may contain dots), else a walk
 * into objects; an array met on the way fans out to its elements (`products.category`).
 */
export function valuesAt(root: unknown, path: string): unknown[] {
  if (root !== null && typeof root === 'object' && !Array.isArray(root) && Object.hasOwn(root, path)) {
    return [(root as Record<string, unknown>)[path]];
  }
  let current: unknown[] = [root];
  for (const segment of path.split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      const containers = Array.isArray(value) ? value : [value];
      for (const container of containers) {
        if (container !== null && typeof container === 'object' && !Array.isArray(container) && Object.hasOwn(container, segment)) {
          next.push((container as Record<string, unknown>)[segment]);
        }
      }
    }
    current = next;
  }
  return current;
}

function numberOf(value: unknown): number | undefined {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
}

function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

const present = (value: unknown): boolean => value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0);

/** Equality as marketers expect it: numbers match numeric strings ("5" = 5); strings are case-sensitive. */
function matches(actual: unknown, expected: Scalar): boolean {
  if (Array.isArray(actual)) return actual.some((element) => matches(element, expected));
  if (actual === expected) return true;
  if (typeof expected === 'number') return numberOf(actual) === expected;
  if (typeof actual === 'number' && typeof expected === 'string') return numberOf(expected) === actual;
  return false;
}

function contains(actual: unknown, expected: Scalar): boolean {
  if (Array.isArray(actual)) return actual.some((element) => matches(element, expected));
  if (typeof actual === 'string') return actual.toLowerCase().includes(String(expected).toLowerCase());
  return false;
}

function boundTime(bound: DateBound, now: Date): number {
  return bound.kind === 'absolute' ? bound.at.getTime() : subtractDuration(now, bound.ago).getTime();
}

/** One value against a test (the value is present unless the op is `exists`). */
function passes(actual: unknown, test: ValueTest, now: Date): boolean {
  switch (test.op) {
    case 'eq':
      return matches(actual, test.value);
    case 'neq':
      return !matches(actual, test.value);
    case 'in':
      return test.value.some((expected) => matches(actual, expected));
    case 'contains':
      return contains(actual, test.value);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const number = numberOf(actual);
      if (number === undefined) return false;
      return test.op === 'gt' ? number > test.value : test.op === 'gte' ? number >= test.value : test.op === 'lt' ? number < test.value : number <= test.value;
    }
    case 'before':
    case 'after': {
      const time = timeOf(actual);
      if (time === undefined) return false;
      const bound = boundTime(test.value, now);
      return test.op === 'before' ? time < bound : time > bound;
    }
    case 'within': {
      const time = timeOf(actual);
      return time !== undefined && time >= subtractDuration(now, test.value).getTime() && time <= now.getTime();
    }
    case 'exists':
      return present(actual) === test.value;
  }
}

/**
 * A test over every value found at a path. `exists` asks whether any is present; `neq` needs a
 * present value and none equal (a missing trait is not "not gold": use `not` + `eq` for that);
 * every other test needs one present value that passes.
 */
export function testValues(values: readonly unknown[], test: ValueTest, now: Date): boolean {
  const found = values.filter(present);
  if (test.op === 'exists') return found.length > 0 === test.value;
  if (test.op === 'neq') return found.length > 0 && found.every((value) => passes(value, test, now));
  return found.some((value) => passes(value, test, now));
}

// ---------------------------------------------------------------------------------------------
// Conditions.

function scoreValue(score: unknown): unknown {
  if (score !== null && typeof score === 'object' && !Array.isArray(score) && 'probability' in score) return (score as { probability: unknown }).probability;
  return score;
}

function scoreBand(score: unknown): unknown {
  if (score !== null && typeof score === 'object' && !Array.isArray(score)) return (score as { band?: unknown }).band;
  return score;
}

function consentHolds(subject: SegmentSubject, category: string, granted: boolean): boolean {
  if (category.toLowerCase() === 'marketing') return subject.consent.marketing === granted;
  const wanted = category.toLowerCase();
  const decision = Object.entries(subject.consent.categoryPreferences).find(([name]) => name.toLowerCase() === wanted)?.[1];
  // `granted: false` means "not granted": denied, or never asked.
  return granted ? decision === true : decision !== true;
}

function inRange(count: number, range: CountRange): boolean {
  return (range.gte === undefined || count >= range.gte) && (range.lte === undefined || count <= range.lte) && (range.eq === undefined || count === range.eq);
}

function filtersPass(message: AcceptedMessage, filters: readonly PropertyFilter[], now: Date): boolean {
  return filters.every((filter) => testValues(valuesAt(message.properties, filter.path), filter.test, now));
}

function behaviourHolds(condition: Extract<SegmentCondition, { kind: 'behaviour' }>, subject: SegmentSubject, now: Date): boolean {
  const since = condition.within ? subtractDuration(now, condition.within).getTime() : undefined;
  if (answeredFromAggregates(condition)) {
    const totals = subject.eventTotals[condition.event];
    if (since === undefined) return inRange(totals?.count ?? 0, condition.count);
    const happened = totals !== undefined && Date.parse(totals.last) >= since;
    return existenceQuestion(condition.count) === 'some' ? happened : !happened;
  }
  if (!subject.events) throw new MissingEventHistoryError();
  let anchor = Number.NEGATIVE_INFINITY;
  if (condition.after !== undefined) {
    for (const message of subject.events) {
      if (isBehaviourEvent(message, condition.after)) anchor = Math.max(anchor, Date.parse(message.timestamp));
    }
  }
  let count = 0;
  for (const message of subject.events) {
    if (!isBehaviourEvent(message, condition.event)) continue;
    const time = Date.parse(message.timestamp);
    if (since !== undefined && time < since) continue;
    if (time <= anchor) continue;
    if (filtersPass(message, condition.where, now)) count += 1;
  }
  return inRange(count, condition.count);
}

function holds(condition: SegmentCondition, subject: SegmentSubject, now: Date): boolean {
  switch (condition.kind) {
    case 'and':
      return condition.conditions.every((c) => holds(c, subject, now));
    case 'or':
      return condition.conditions.some((c) => holds(c, subject, now));
    case 'not':
      return !holds(condition.condition, subject, now);
    case 'trait':
      return testValues(valuesAt(subject.traits, condition.name), condition.test, now);
    case 'computed':
      return testValues(valuesAt(subject.computed, condition.name), condition.test, now);
    case 'score':
      return testValues([scoreValue(subject.scores[condition.name])], condition.test, now);
    case 'score-band': {
      const band = scoreBand(subject.scores[condition.name]);
      return typeof band === 'string' && condition.bands.includes(band);
    }
    case 'consent':
      return consentHolds(subject, condition.category, condition.granted);
    case 'has':
      return subject.identities.some((identity) => identity.type === condition.identifierType);
    case 'behaviour':
      return behaviourHolds(condition, subject, now);
  }
}

/**
 * Whether `subject` belongs to the segment at `now`. Throws MissingEventHistoryError when the
 * definition needs stored events (historyNeeded) and `subject.events` is absent.
 */
export function evaluateSegment(definition: SegmentDefinition, subject: SegmentSubject, now: Date): boolean {
  return holds(definition, subject, now);
}
