/**
 * The global control group (README "Global control group"): a share of people who receive no
 * marketing on any channel, so the effect of all marketing together can be measured against them.
 * Profiles fall in one of BUCKETS buckets by a stable hash of their id; a draw picks a contiguous
 * run of buckets (from `offset`, wrapping) as the control group. Buckets do not depend on the
 * draw: the population of each bucket is counted as profiles are created and merged, and stays
 * valid when the group is re-drawn, which happens only on request.
 */
import { createHash } from 'node:crypto';

export const BUCKETS = 1_000;
/** Braze's guidance: 1-15 %; the default is 5 %. */
export const DEFAULT_CONTROL_SHARE = 0.05;
export const MAX_CONTROL_SHARE = 0.5;

export interface ControlGroupDraw {
  /** Share of profiles in the control group, a multiple of 1/BUCKETS. */
  readonly share: number;
  /** First bucket of the group. */
  readonly offset: number;
  readonly drawnAt: string;
  /** Increases with every draw: reports name the draw they compared. */
  readonly version: number;
}

/** The profile's bucket, 0..BUCKETS-1: the first 32 bits of SHA-256 of the id. */
export function bucketOf(profileId: string): number {
  return createHash('sha256').update(`control-group:${profileId}`).digest().readUInt32BE(0) % BUCKETS;
}

/** Buckets of the control group, in order from the offset. */
export function controlBuckets(draw: Pick<ControlGroupDraw, 'share' | 'offset'>): number[] {
  const count = Math.round(draw.share * BUCKETS);
  return Array.from({ length: count }, (_, index) => (draw.offset + index) % BUCKETS);
}

export function isControlBucket(bucket: number, draw: Pick<ControlGroupDraw, 'share' | 'offset'>): boolean {
  return (bucket - draw.offset + BUCKETS) % BUCKETS < Math.round(draw.share * BUCKETS);
}

export function inControlGroup(profileId: string, draw: Pick<ControlGroupDraw, 'share' | 'offset'> | undefined): boolean {
  return draw !== undefined && isControlBucket(bucketOf(profileId), draw);
}

/** The share rounded to whole buckets; a share outside 0..MAX_CONTROL_SHARE throws. */
export function controlShare(share: number): number {
  if (!(Number.isFinite(share) && share >= 0 && share <= MAX_CONTROL_SHARE))
    throw new RangeError(`the control group share must be between 0 and ${MAX_CONTROL_SHARE}`);
  return Math.round(share * BUCKETS) / BUCKETS;
}

/** A new draw after `previous`: a random offset, so other people are held out. */
export function drawControlGroup(share: number, now: Date, previous: ControlGroupDraw | undefined, random: () => number = Math.random): ControlGroupDraw {
  return { share: controlShare(share), offset: Math.floor(random() * BUCKETS) % BUCKETS, drawnAt: now.toISOString(), version: (previous?.version ?? 0) + 1 };
}

/** Where the draw in force is kept (the attribution store). */
export interface ControlGroupDraws {
  currentDraw(): Promise<ControlGroupDraw | undefined>;
  saveDraw(draw: ControlGroupDraw): Promise<ControlGroupDraw>;
}

export interface ControlGroup {
  /** The draw in force; undefined while the control group is off. */
  draw(): Promise<ControlGroupDraw | undefined>;
  /** Whether this (live) profile is held out of all marketing. */
  contains(profileId: string): Promise<boolean>;
  /** Draws again (a new offset, optionally a new share): the comparison starts over from now. */
  redraw(share?: number): Promise<ControlGroupDraw>;
}

/** A redraw reaches every function within this long. */
export const DRAW_CACHE_MS = 60_000;

/**
 * The control group over its stored draw, cached DRAW_CACHE_MS per container. Off until drawn:
 * by an admin (redraw), or on first use when the deployment configured `initialShare`. Holding
 * people out of every email is a marketing decision, so an upgrade does not start it by itself.
 */
export function controlGroupOver(draws: ControlGroupDraws, initialShare: number | undefined, clock: () => Date = () => new Date()): ControlGroup {
  let cached: { readonly draw: ControlGroupDraw | undefined; readonly until: number } | undefined;
  const remember = <T extends ControlGroupDraw | undefined>(draw: T): T => {
    cached = { draw, until: clock().getTime() + DRAW_CACHE_MS };
    return draw;
  };
  const draw = async (): Promise<ControlGroupDraw | undefined> => {
    if (cached && cached.until > clock().getTime()) return cached.draw;
    const current = await draws.currentDraw();
    if (current || initialShare === undefined) return remember(current);
    return remember(await draws.saveDraw(drawControlGroup(initialShare, clock(), undefined)));
  };
  return {
    draw,
    contains: async (profileId) => inControlGroup(profileId, await draw()),
    redraw: async (share) => {
      const previous = await draws.currentDraw();
      return remember(await draws.saveDraw(drawControlGroup(share ?? previous?.share ?? initialShare ?? DEFAULT_CONTROL_SHARE, clock(), previous)));
    },
  };
}
