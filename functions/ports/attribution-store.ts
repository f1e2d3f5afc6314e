import type { Channel, Order, StoredTouch, Touch } from '../domain/reports/attribution';
import type { ControlGroupDraw } from '../domain/reports/control-group';
import type { Group } from '../domain/reports/journey-counters';

/** One daily counter item of a segment: its channel (or `audience`) and every counter. */
export interface SegmentCounterItem {
  readonly segmentId: string;
  readonly channel: string;
  readonly day: string;
  readonly counters: Readonly<Record<string, number>>;
}

/** One person's orders of one UTC day, for the control-group report. */
export interface BuyerDay {
  readonly profileId: string;
  readonly bucket: number;
  readonly day: string;
  readonly orders: number;
  readonly revenue: number;
}

export interface CreditedOrder {
  readonly segmentId: string;
  readonly channel: Channel;
  readonly group: Group;
  readonly result: 'counted' | 'already-counted';
}

/**
 * Touches, orders and the daily counters of the segment × channel and control-group reports.
 * Every count is written once per fact, in one transaction with the fact's marker.
 */
export interface AttributionStore {
  /**
   * Records each person reached (or held out) on a channel: the newest touch per person, segment
   * and channel is kept, and one reach counted per `touchKey`. Returns how many were new.
   */
  recordTouches(touches: readonly Touch[]): Promise<number>;
  /**
   * Counts one engagement of a person with a channel of a segment (`engaged:offer_clicked`) on
   * its day, once per `onceKey` (the tracking message): false when it was counted already.
   */
  recordEngagement(engagement: {
    readonly profileId: string;
    readonly segmentId: string;
    readonly channel: Channel;
    readonly at: string;
    readonly counter: string;
    readonly onceKey: string;
  }): Promise<boolean>;
  /** The stored touches of these profiles (a person and those merged into it). */
  touchesOf(profileIds: readonly string[]): Promise<StoredTouch[]>;
  /**
   * Counts an order once per `orderKey`: for the control-group report under the buyer
   * (`profileId`, the live profile), and as the conversion of each credited touch.
   */
  recordOrder(
    order: Order,
    profileId: string,
    credited: readonly StoredTouch[],
  ): Promise<{ readonly buyer: 'counted' | 'already-counted'; readonly credits: CreditedOrder[] }>;
  /** The segment counters of days `from`..`to`, of every segment or one. */
  listSegmentCounters(range: { readonly from: string; readonly to: string; readonly segmentId?: string }): Promise<SegmentCounterItem[]>;
  /** Every buyer-day of days `from`..`to`. */
  listBuyerDays(range: { readonly from: string; readonly to: string }): Promise<BuyerDay[]>;
  /** Live profiles per bucket (control-group population), counted as profiles are created, merged, split and erased. */
  bucketPopulations(): Promise<Map<number, number>>;
  /** The control group in force; undefined before the first draw. */
  currentDraw(): Promise<ControlGroupDraw | undefined>;
  /** Puts a draw in force unless another draw of the same or a later version already is; the draw in force is returned. */
  saveDraw(draw: ControlGroupDraw): Promise<ControlGroupDraw>;
}
