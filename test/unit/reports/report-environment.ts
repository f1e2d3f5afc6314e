import { DEFAULT_ATTRIBUTION } from '../../../functions/domain/reports/attribution';
import { journeyCatalog } from '../../../functions/domain/journeys/journey-catalog';
import { DEFAULT_JOURNEY_CONFIG } from '../../../functions/domain/journeys/journey-config';
import { controlGroupOver, type ControlGroupDraw } from '../../../functions/domain/reports/control-group';
import type { ReportApiEnvironment } from '../../../functions/composition/report-api';
import type { BuyerDay, SegmentCounterItem } from '../../../functions/ports/attribution-store';
import type { SegmentRecord } from '../../../functions/ports/segment-store';
import type { Offer } from '../../../functions/domain/personalization/offer';

/** The report API's environment over in-memory data: counters, buyer-days, populations, segments and a draw. */
export function reportEnvironment(
  data: {
    readonly journeys?: ReportApiEnvironment['journeys'];
    readonly segmentCounters?: SegmentCounterItem[];
    readonly buyerDays?: BuyerDay[];
    readonly populations?: Map<number, number>;
    readonly segments?: SegmentRecord[];
    readonly offers?: Offer[];
    readonly draw?: ControlGroupDraw;
  } = {},
): ReportApiEnvironment & { readonly ranges: Array<{ from: string; to: string; segmentId?: string }> } {
  const ranges: Array<{ from: string; to: string; segmentId?: string }> = [];
  let draw = data.draw;
  return {
    ranges,
    journeys: data.journeys ?? { listCounters: async () => [] },
    attribution: {
      listSegmentCounters: async (range) => {
        ranges.push(range);
        return (data.segmentCounters ?? []).filter(
          (item) => item.day >= range.from && item.day <= range.to && (range.segmentId === undefined || item.segmentId === range.segmentId),
        );
      },
      listBuyerDays: async (range) => (data.buyerDays ?? []).filter((day) => day.day >= range.from && day.day <= range.to),
      bucketPopulations: async () => data.populations ?? new Map(),
    },
    segments: { listSegments: async () => data.segments ?? [] },
    offers: { listOffers: async () => data.offers ?? [] },
    controlGroup: controlGroupOver(
      {
        currentDraw: async () => draw,
        saveDraw: async (next) => {
          draw = next;
          return next;
        },
      },
      undefined,
    ),
    attributionConfig: DEFAULT_ATTRIBUTION,
    journeyCatalog: journeyCatalog(DEFAULT_JOURNEY_CONFIG, 'defaults'),
  };
}
