import type { CallCenterDestination } from '../domain/activation/call-center';
import type { ProfileInclude } from '../domain/activation/profile-payload';
import type { AudienceJourneyDestination } from '../domain/journeys/audience-journey';
import type { AudienceTransition } from '../domain/pipeline/messages';

/**
 * Segments, their membership and their history, as the Segments API, the real-time evaluator and
 * the rebuild need them. The DynamoDB adapter keeps everything in the Profiles table
 * (functions/adapters/dynamodb-segment-store.ts `segmentKeys`).
 */

/**
 * A webhook called on enter/exit. The signing secret is never stored in the segment: `secretRef`
 * names where the activation function reads it (an SSM SecureString parameter name on AWS).
 */
export interface WebhookDestination {
  readonly type: 'webhook';
  readonly url: string;
  readonly secretRef?: string;
  /** Which transitions to deliver; both when absent. */
  readonly events?: ReadonlyArray<AudienceTransition['event']>;
  /** Profile data added to each payload as `data.profile` (e.g. a CRM push-back's CRM id and scores). */
  readonly include?: readonly ProfileInclude[];
  /** The processing purpose the receiver serves (docs/contract.md §9): only profiles that granted it are delivered. */
  readonly purpose?: string;
  /** A marketing destination: never delivered the global control group. */
  readonly marketing?: boolean;
  /** Share of members held out of this destination, to measure its lift (segment report). */
  readonly holdout?: number;
}

/**
 * The segment's hashed exports are its audience on ad platforms (`GET .../export?hash=sha256`):
 * `holdout` is the share of members left out of every such export, to measure its lift.
 */
export interface AdExportDestination {
  readonly type: 'ad_export';
  readonly holdout?: number;
}

/**
 * Entering the segment starts an audience journey (functions/domain/journeys/audience-journey.ts);
 * a call-center destination hands the person to a dialer (functions/domain/activation/call-center.ts).
 */
export type SegmentDestination = WebhookDestination | AudienceJourneyDestination | AdExportDestination | CallCenterDestination;

/** A segment as stored and as the API shows it (docs/contract.md §7), plus bookkeeping. */
export interface SegmentRecord {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  /** The definition JSON as submitted (validated with parseSegmentDefinition before saving). */
  readonly definition: unknown;
  /** EventBridge Scheduler expression of the rebuild (`rate(1 hour)`), or null for none. */
  readonly schedule: string | null;
  readonly destinations: readonly SegmentDestination[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Current member count, kept exact by applyMembership. */
  readonly size: number;
  /** Incremented by every update (optimistic locking). */
  readonly version: number;
}

/** The fields a caller sets; the store keeps `size`, `createdAt` and `version`. */
export type SegmentFields = Omit<SegmentRecord, 'size' | 'createdAt' | 'version' | 'updatedAt'>;

/** One profile's membership of one segment, kept after exit so versions keep increasing. */
export interface Membership {
  readonly segmentId: string;
  readonly profileId: string;
  readonly member: boolean;
  /** Incremented by every enter and exit: enter is odd, exit even. */
  readonly version: number;
  /** Time of the last enter or exit. */
  readonly changedAt: string;
  /** When the profile last entered (kept after exit). */
  readonly enteredAt?: string;
  readonly runId?: string;
}

export interface SegmentMember {
  readonly profileId: string;
  readonly enteredAt: string;
}

export interface MembersPage {
  readonly members: readonly SegmentMember[];
  /** Opaque cursor of the next page; undefined on the last one. */
  readonly next?: string;
}

export interface SizePoint {
  readonly at: string;
  readonly size: number;
  readonly runId?: string;
}

export type RunStatus = 'running' | 'succeeded' | 'failed';

/** One rebuild of a segment (a state machine execution). */
export interface SegmentRun {
  readonly segmentId: string;
  readonly runId: string;
  readonly status: RunStatus;
  /** What started it: the API, the schedule, or a create/update of the definition. */
  readonly trigger: 'api' | 'schedule' | 'definition';
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly executionArn?: string;
  /** Profiles evaluated, entered and exited so far (added to by each scan slice). */
  readonly evaluated: number;
  readonly entered: number;
  readonly exited: number;
  readonly size?: number;
  readonly error?: string;
}

export interface RunCounts {
  readonly evaluated: number;
  readonly entered: number;
  readonly exited: number;
}

/** A create found the id taken, or an update found another version (someone saved in between). */
export class SegmentConflictError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'SegmentConflictError';
  }
}

/** A members cursor that this store did not issue (or for another segment). */
export class InvalidCursorError extends Error {
  constructor() {
    super('invalid cursor');
    this.name = 'InvalidCursorError';
  }
}

export interface SegmentStore {
  /** Every segment, oldest first. */
  listSegments(): Promise<SegmentRecord[]>;
  /**
   * Increases with every create, update and delete of a segment (0 before the first): a reader
   * that caches the list reloads it when this moved.
   */
  catalogVersion(): Promise<number>;
  getSegment(segmentId: string): Promise<SegmentRecord | undefined>;
  /**
   * Creates (`expectedVersion` undefined: the id must be free) or updates (the stored version
   * must equal `expectedVersion`) a segment; returns it as stored. Throws SegmentConflictError.
   */
  putSegment(fields: SegmentFields, now: Date, expectedVersion?: number): Promise<SegmentRecord>;
  /** Removes the segment, its memberships, transitions, size history and runs; false when unknown. */
  deleteSegment(segmentId: string): Promise<boolean>;

  /** Ids of the segments the profile is a member of (the Profile API `segments` field). */
  segmentIdsOf(profileId: string): Promise<string[]>;
  getMembership(segmentId: string, profileId: string): Promise<Membership | undefined>;
  /**
   * Makes the profile a member or not. When that changes membership, writes the membership
   * (conditional on the version read: never two enters in a row), the segment size (±1) and the
   * transitions log in one transaction, and returns the transition to emit. Returns undefined
   * when nothing changed. A retry of a call that already succeeded (same state, same `at`)
   * returns the same transition again (same deterministic `transitionId`), so a caller that
   * crashed before emitting can emit on retry; consumers dedupe on `transitionId`. Returns
   * undefined, writing nothing, when the segment no longer exists.
   */
  applyMembership(
    segment: Pick<SegmentRecord, 'id' | 'name'>,
    profileId: string,
    shouldBeMember: boolean,
    at: Date,
    runId?: string,
  ): Promise<AudienceTransition | undefined>;
  /**
   * Many changes of one segment at once, for a run that alone writes that segment's memberships
   * (a lookalike's audience): memberships read together, then the changed memberships and their
   * transitions written in batches, without transactions and without keeping `size` (the run sets
   * it when it finishes, setSize). Same retry rule as applyMembership: a change already written
   * at the same `at` returns its transition again.
   */
  applyMembershipsInBulk(
    segment: Pick<SegmentRecord, 'id' | 'name'>,
    changes: ReadonlyArray<{ readonly profileId: string; readonly shouldBeMember: boolean }>,
    at: Date,
    runId: string,
  ): Promise<AudienceTransition[]>;
  /** Sets the member count (after applyMembershipsInBulk, from countMembers). */
  setSize(segmentId: string, size: number): Promise<void>;
  /** Current members in a stable order; throws InvalidCursorError for a foreign cursor. */
  listMembers(segmentId: string, options: { readonly limit: number; readonly cursor?: string }): Promise<MembersPage>;
  /** Exact member count by scanning the membership partition (the rebuild's check of `size`). */
  countMembers(segmentId: string): Promise<number>;
  /** Newest first. */
  listTransitions(segmentId: string, limit: number): Promise<AudienceTransition[]>;

  recordSize(segmentId: string, point: SizePoint): Promise<void>;
  /** Newest first. */
  listSizes(segmentId: string, limit: number): Promise<SizePoint[]>;

  /** Creates the run record (idempotent: an existing run is left as it is). */
  putRun(run: SegmentRun): Promise<void>;
  getRun(segmentId: string, runId: string): Promise<SegmentRun | undefined>;
  /** Newest first. */
  listRuns(segmentId: string, limit: number): Promise<SegmentRun[]>;
  /** Adds a slice's counts atomically (slices run in parallel). */
  addRunCounts(segmentId: string, runId: string, counts: RunCounts): Promise<void>;
  /**
   * Records a run's end. With `audience`, the run's entries and exits are added to the segment
   * report's counters of the finishing day in the same write, once: only a running run finishes.
   */
  finishRun(
    segmentId: string,
    runId: string,
    outcome: {
      readonly status: Exclude<RunStatus, 'running'>;
      readonly finishedAt: string;
      readonly size?: number;
      readonly error?: string;
      readonly audience?: { readonly entered: number; readonly exited: number };
    },
  ): Promise<void>;

  /**
   * Erasure: removes every membership and transition of the profile, decrementing the sizes of
   * the segments it was a member of, without emitting exits.
   */
  removeProfile(profileId: string): Promise<{ readonly memberships: number }>;
}
