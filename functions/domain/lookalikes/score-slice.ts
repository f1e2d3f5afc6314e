/**
 * Scoring one parallel scan slice of the profiles for a lookalike run: every live profile is read
 * once; a candidate (not in the seed, in the candidate segment if there is one, not objecting to
 * analytics) is scored and kept in or out of the audience segment by the run's rule; anyone else
 * leaves the audience. Membership changes go through the rebuild's outbox (recorded, applied,
 * emitted, cleared), so journeys and webhooks see them like any segment's.
 *
 * Scores are written once per invocation, in large items (LookalikeStore.writeScores), before the
 * slice's progress is committed: a retried invocation starts again from the last committed page,
 * scores the same pages the same way and writes the same keys; memberships it already applied
 * produce no second change.
 */
import type { ProfileRecord } from '../profile/profile';
import type {
  ScanCursor,
  SliceDependencies,
  SliceProgress,
  IntentOutbox,
  MembershipIntent,
  MembershipWriter,
  SegmentCounts,
} from '../segments/rebuild/evaluate-slice';
import { flushIntents } from '../segments/rebuild/evaluate-slice';
import { isInAudience, type AudienceRule, type LookalikeScore } from './audience';
import { featureRowOf, type FeatureRow } from './feature-rows';

/** What every slice of a run shares (kept with the run: the state machine passes only the slices' numbers). */
export interface LookalikeRunPlan {
  readonly lookalikeId: string;
  readonly runId: string;
  /** The run's clock: computed traits are read as of it, transitions stamped with it. */
  readonly at: string;
  readonly seed: string;
  readonly candidates?: string;
  readonly audience: { readonly id: string; readonly name: string };
  readonly rule: AudienceRule;
}

/** One parallel scan segment of a run, as the state machine's Map passes it. */
export interface LookalikeSlice {
  readonly lookalikeId: string;
  readonly runId: string;
  readonly segment: number;
  readonly totalSegments: number;
  readonly done: boolean;
}

export interface LookalikeSliceDependencies extends MembershipWriter {
  readonly outbox: IntentOutbox;
  loadProgress(): Promise<SliceProgress | undefined>;
  saveProgress(previousPages: number, progress: SliceProgress): Promise<void>;
  scanPage: SliceDependencies['scanPage'];
  memberships: SliceDependencies['memberships'];
  /** The SCORES items of these profiles; only called when the model reads scores. */
  scores(profileIds: readonly string[]): Promise<ReadonlyMap<string, Readonly<Record<string, unknown>>>>;
  readonly readsScores: boolean;
  score(row: FeatureRow): LookalikeScore;
  /** False for a person who objects to analytics (never scored, never in the audience). */
  mayBeScored(profile: ProfileRecord): boolean;
  writeScores(startPage: number, scores: ReadonlyArray<readonly [string, number]>): Promise<void>;
  hasTimeForAnotherPage(): boolean;
}

/** Per slice and run: candidates scored per band, and profiles left out because they object to analytics. */
export type LookalikeTallies = Readonly<Record<'high' | 'medium' | 'low' | 'withheld', number>>;

const EMPTY_TALLIES: LookalikeTallies = { high: 0, medium: 0, low: 0, withheld: 0 };

export async function scoreSlice(slice: LookalikeSlice, plan: LookalikeRunPlan, deps: LookalikeSliceDependencies): Promise<LookalikeSlice> {
  const at = new Date(plan.at);
  const audience = [plan.audience];
  await flushIntents(await deps.outbox.pending(), audience, plan.runId, at, deps);
  const committed: SliceProgress = (await deps.loadProgress()) ?? { pages: 0, done: false, counts: {} };
  if (committed.done) return { ...slice, done: true };

  const tallies: Record<keyof LookalikeTallies, number> = { ...EMPTY_TALLIES, ...(committed.tallies as Partial<LookalikeTallies> | undefined) };
  let counts: SegmentCounts = committed.counts[plan.audience.id] ?? { evaluated: 0, entered: 0, exited: 0 };
  const written: Array<readonly [string, number]> = [];
  let pages = committed.pages;
  let cursor: ScanCursor | undefined = committed.cursor;
  let done = false;
  const segmentIds = [plan.seed, plan.audience.id, ...(plan.candidates === undefined ? [] : [plan.candidates])];
  const scan = (from: ScanCursor | undefined): ReturnType<LookalikeSliceDependencies['scanPage']> => {
    const reading = deps.scanPage(from);
    // Awaited in its turn; a read-ahead left behind when the time runs out must not be reported as unhandled.
    reading.catch(() => undefined);
    return reading;
  };
  // Read ahead: the next page is scanned while this one is scored and its changes written.
  let upcoming = scan(cursor);
  for (;;) {
    const page = await upcoming;
    // One decision per page: read the next one ahead, and go on to it, only while time is left.
    const more = page.next !== undefined && deps.hasTimeForAnotherPage();
    if (more && page.next) upcoming = scan(page.next);
    const ids = page.profiles.map((profile) => profile.profileId);
    const [memberships, scores] = await Promise.all([
      deps.memberships(segmentIds, ids),
      deps.readsScores ? deps.scores(ids) : Promise.resolve(new Map<string, Readonly<Record<string, unknown>>>()),
    ]);
    const intents: MembershipIntent[] = [];
    for (const profile of page.profiles) {
      const of = memberships.get(profile.profileId);
      const candidate = !of?.has(plan.seed) && (plan.candidates === undefined || of?.has(plan.candidates) === true);
      let shouldBeMember = false;
      if (candidate && !deps.mayBeScored(profile)) tallies.withheld++;
      else if (candidate) {
        const score = deps.score(featureRowOf(profile, scores.get(profile.profileId), at));
        written.push([profile.profileId, score.score]);
        tallies[score.band]++;
        shouldBeMember = isInAudience(plan.rule, score);
      }
      if (shouldBeMember !== (of?.has(plan.audience.id) ?? false)) intents.push({ segmentId: plan.audience.id, profileId: profile.profileId, shouldBeMember });
    }
    await deps.outbox.record(intents);
    await flushIntents(intents, audience, plan.runId, at, deps);
    counts = {
      evaluated: counts.evaluated + page.profiles.length,
      entered: counts.entered + intents.filter((intent) => intent.shouldBeMember).length,
      exited: counts.exited + intents.filter((intent) => !intent.shouldBeMember).length,
    };
    pages++;
    cursor = page.next;
    done = page.next === undefined;
    if (!more) break;
  }
  await deps.writeScores(committed.pages, written);
  await deps.saveProgress(committed.pages, { pages, ...(cursor && { cursor }), done, counts: { [plan.audience.id]: counts }, tallies });
  return { ...slice, done };
}

/** The slices' tallies added up. */
export function totalTallies(progress: readonly SliceProgress[]): LookalikeTallies {
  const total: Record<keyof LookalikeTallies, number> = { ...EMPTY_TALLIES };
  for (const slice of progress) {
    for (const key of Object.keys(total) as Array<keyof LookalikeTallies>) total[key] += (slice.tallies as Partial<LookalikeTallies> | undefined)?.[key] ?? 0;
  }
  return total;
}
