import type { AudienceTransition } from '../../pipeline/messages';
import type { ProfileRecord } from '../../profile/profile';
import type { AcceptedMessage } from '../../tracking/accepted-message';
import { eventsWithin, historyFor, membershipChanges, qualifyingSegmentIds, type EvaluableSegment, type ProfileEvidence } from './membership-diff';
import { evaluationNeeds, type ScanSlice } from './plan';
import { mapConcurrently } from '../../shared/concurrency';

/** Membership writes, or event-history reads, in flight at once. */
const IO_CONCURRENCY = 16;

/** Where a parallel scan stopped (DynamoDB's LastEvaluatedKey), opaque to the domain. */
export type ScanCursor = Readonly<Record<string, unknown>>;

export interface SegmentCounts {
  readonly evaluated: number;
  readonly entered: number;
  readonly exited: number;
}

/** What a slice has committed: the next page to scan and what it found so far, per segment. */
export interface SliceProgress {
  readonly pages: number;
  readonly cursor?: ScanCursor;
  readonly done: boolean;
  readonly counts: Readonly<Record<string, SegmentCounts>>;
  /** Other figures a kind of run adds up over its slices (a lookalike run's scored candidates per band). */
  readonly tallies?: Readonly<Record<string, number>>;
}

/** A membership change decided but maybe not yet applied and emitted: the outbox entry. */
export interface MembershipIntent {
  readonly segmentId: string;
  readonly profileId: string;
  readonly shouldBeMember: boolean;
}

/** The outbox of one slice (or of the finishing sweep) of a run. */
export interface IntentOutbox {
  pending(): Promise<MembershipIntent[]>;
  record(intents: readonly MembershipIntent[]): Promise<void>;
  clear(intents: readonly MembershipIntent[]): Promise<void>;
}

/** What applying a membership needs of its segment. */
export type SegmentIdentity = Pick<EvaluableSegment, 'id' | 'name'>;

export interface MembershipWriter {
  /** SegmentStore.applyMembership: the same change at the same `at` again returns the same transition. */
  applyMembership(segment: SegmentIdentity, profileId: string, shouldBeMember: boolean, at: Date, runId: string): Promise<AudienceTransition | undefined>;
  /**
   * SegmentStore.applyMembershipsInBulk, for a run that alone writes its segment's memberships:
   * when given, a batch of intents is applied with it (same retry rule).
   */
  applyMembershipsInBulk?(segment: SegmentIdentity, intents: readonly MembershipIntent[], at: Date, runId: string): Promise<AudienceTransition[]>;
  emit(transitions: readonly AudienceTransition[]): Promise<void>;
}

export interface SliceDependencies extends MembershipWriter {
  readonly outbox: IntentOutbox;
  loadProgress(): Promise<SliceProgress | undefined>;
  /** Saves only if the stored progress is still at `previousPages` pages; throws otherwise. */
  saveProgress(previousPages: number, progress: SliceProgress): Promise<void>;
  /** One page of live PROFILE items of this slice, from `cursor`. */
  scanPage(cursor: ScanCursor | undefined): Promise<{ readonly profiles: readonly ProfileRecord[]; readonly next?: ScanCursor }>;
  /** profileId → ids (among `segmentIds`) of the segments it is a member of now. */
  memberships(segmentIds: readonly string[], profileIds: readonly string[]): Promise<ReadonlyMap<string, ReadonlySet<string>>>;
  scores(profileIds: readonly string[]): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
  listEvents(profile: ProfileRecord): Promise<readonly AcceptedMessage[]>;
  /** False when the invocation should stop after the current page (its time is running out). */
  hasTimeForAnotherPage(): boolean;
}

/**
 * Applies the outbox: each intent through applyMembership (a retried intent returns its
 * transition again, an overtaken one returns nothing), emits, then clears the entries. A crash
 * anywhere leaves the entries for the next attempt; only a crash between emit and clear re-emits,
 * with the same transition ids, which consumers dedupe on.
 */
export async function flushIntents(
  intents: readonly MembershipIntent[],
  segments: readonly SegmentIdentity[],
  runId: string,
  at: Date,
  deps: MembershipWriter & { readonly outbox: IntentOutbox },
): Promise<AudienceTransition[]> {
  if (intents.length === 0) return [];
  const byId = new Map(segments.map((segment) => [segment.id, segment]));
  let transitions: AudienceTransition[];
  const bulk = deps.applyMembershipsInBulk?.bind(deps);
  if (bulk) {
    const applied = await Promise.all(
      segments.map((segment) =>
        bulk(
          segment,
          intents.filter((intent) => intent.segmentId === segment.id),
          at,
          runId,
        ),
      ),
    );
    transitions = applied.flat();
  } else {
    // Intents touch distinct memberships: they are applied several at a time.
    const applied = await mapConcurrently(intents, IO_CONCURRENCY, async (intent) => {
      const segment = byId.get(intent.segmentId);
      // A segment deleted during the run: its memberships are gone with it.
      return segment && deps.applyMembership(segment, intent.profileId, intent.shouldBeMember, at, runId);
    });
    transitions = applied.filter((transition): transition is AudienceTransition => transition !== undefined);
  }
  await deps.emit(transitions);
  await deps.outbox.clear(intents);
  return transitions;
}

function addCounts(
  counts: Readonly<Record<string, SegmentCounts>>,
  segments: readonly EvaluableSegment[],
  evaluated: number,
  intents: readonly MembershipIntent[],
): Record<string, SegmentCounts> {
  const next: Record<string, SegmentCounts> = { ...counts };
  for (const segment of segments) {
    const mine = intents.filter((intent) => intent.segmentId === segment.id);
    const previous = next[segment.id] ?? { evaluated: 0, entered: 0, exited: 0 };
    next[segment.id] = {
      evaluated: previous.evaluated + evaluated,
      entered: previous.entered + mine.filter((intent) => intent.shouldBeMember).length,
      exited: previous.exited + mine.filter((intent) => !intent.shouldBeMember).length,
    };
  }
  return next;
}

/** The intents of one page of profiles: evaluate each against the run's segments at the run's time. */
export async function pageIntents(
  profiles: readonly ProfileRecord[],
  segments: readonly EvaluableSegment[],
  at: Date,
  deps: SliceDependencies,
): Promise<MembershipIntent[]> {
  if (profiles.length === 0) return [];
  const profileIds = profiles.map((profile) => profile.profileId);
  const need = historyFor(segments, at);
  const [current, scores] = await Promise.all([
    deps.memberships(
      segments.map((segment) => segment.id),
      profileIds,
    ),
    evaluationNeeds(segments.map((segment) => segment.definition)).scores
      ? deps.scores(profileIds)
      : Promise.resolve(new Map<string, Readonly<Record<string, unknown>>>()),
  ]);
  // Behaviour conditions need each profile's events: one query per profile, several at a time.
  const histories = need ? await mapConcurrently(profiles, IO_CONCURRENCY, (profile) => deps.listEvents(profile)) : undefined;
  const intents: MembershipIntent[] = [];
  for (const [index, profile] of profiles.entries()) {
    const score = scores.get(profile.profileId);
    const history = histories?.[index];
    const evidence: ProfileEvidence = {
      profile,
      ...(score && { scores: score }),
      ...(need && history && { events: eventsWithin(history, need) }),
    };
    const qualifying = qualifyingSegmentIds(evidence, segments, at);
    for (const change of membershipChanges(profile.profileId, segments, qualifying, current.get(profile.profileId) ?? new Set())) {
      intents.push({ segmentId: change.segment.id, profileId: change.profileId, shouldBeMember: change.shouldBeMember });
    }
  }
  return intents;
}

/**
 * Evaluates a slice page by page from its last committed page until it is done or out of time.
 * Per page: decide intents → record them in the outbox → commit progress → apply and emit. A
 * retried invocation first finishes the outbox, then resumes after the last committed page, so
 * no enter or exit is applied or emitted twice.
 */
export async function evaluateSlice(slice: ScanSlice, segments: readonly EvaluableSegment[], deps: SliceDependencies): Promise<ScanSlice> {
  const at = new Date(slice.run.at);
  await flushIntents(await deps.outbox.pending(), segments, slice.run.runId, at, deps);
  let progress: SliceProgress = (await deps.loadProgress()) ?? { pages: 0, done: false, counts: {} };
  const scan = (cursor: ScanCursor | undefined): ReturnType<SliceDependencies['scanPage']> => {
    const reading = deps.scanPage(cursor);
    // Awaited in its turn; a read-ahead left behind when the time runs out must not be reported as unhandled.
    reading.catch(() => undefined);
    return reading;
  };
  let upcoming = progress.done || segments.length === 0 ? undefined : scan(progress.cursor);
  while (upcoming) {
    const page = await upcoming;
    // Read ahead: the next page is scanned while this one is evaluated and written.
    upcoming = page.next ? scan(page.next) : undefined;
    const intents = await pageIntents(page.profiles, segments, at, deps);
    await deps.outbox.record(intents);
    const next: SliceProgress = {
      pages: progress.pages + 1,
      ...(page.next && { cursor: page.next }),
      done: page.next === undefined,
      counts: addCounts(progress.counts, segments, page.profiles.length, intents),
    };
    await deps.saveProgress(progress.pages, next);
    progress = next;
    await flushIntents(intents, segments, slice.run.runId, at, deps);
    if (!deps.hasTimeForAnotherPage()) break;
  }
  return { ...slice, done: progress.done || segments.length === 0 };
}
