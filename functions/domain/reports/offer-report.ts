/**
 * The report per offer (README "Personalization"): the people shown each offer and those held
 * out of it, clicks, the orders attributed to each group and the lift over the holdout, with the
 * segment report's figures and interval (segment-report.ts), over the offer's own counters.
 */
import type { SegmentCounterItem } from '../../ports/attribution-store';
import { offerIdOfReportKey, offerReportKey, type Offer } from '../personalization/offer';
import { OFFER_CLICKED_COUNTER } from '../personalization/offer-events';
import type { AttributionConfig, AttributionModel } from './attribution';
import { ratio, roundOrNull } from './figures';
import { buildSegmentReport, type AttributedOutcome } from './segment-report';

export interface OfferRow extends AttributedOutcome {
  readonly offerId: string;
  /** Null for an offer deleted since (its counters stay until they expire). */
  readonly offerName: string | null;
  readonly placement: string | null;
  /** People shown the offer, once per day each. */
  readonly shown: number;
  /** People shown the default instead (its holdout), once per day each. */
  readonly heldOut: number;
  readonly clicked: number;
  /** Clicks per person shown. */
  readonly clickRate: number | null;
}

export interface OfferReport {
  readonly from: string;
  readonly to: string;
  readonly currency: string;
  readonly attributionModel: AttributionModel;
  readonly rows: OfferRow[];
}

const CLICKED = OFFER_CLICKED_COUNTER.slice('engaged:'.length);

/** A row per offer that can show (not the defaults) and per offer with counts in the period; `offerId` narrows it. */
export function buildOfferReport(
  items: readonly SegmentCounterItem[],
  offers: readonly Offer[],
  range: { readonly from: string; readonly to: string; readonly offerId?: string },
  config: AttributionConfig,
): OfferReport {
  const byId = new Map(offers.map((offer) => [offer.id, offer]));
  const report = buildSegmentReport(
    items.filter((item) => offerIdOfReportKey(item.segmentId) !== undefined),
    [],
    offers
      .filter((offer) => !offer.default)
      .map((offer) => ({ id: offerReportKey(offer.id), name: offer.name ?? offer.id, size: 0, channels: ['personalization'] })),
    { from: range.from, to: range.to, channel: 'personalization', ...(range.offerId !== undefined && { segmentId: offerReportKey(range.offerId) }) },
    config,
  );
  return {
    from: report.from,
    to: report.to,
    currency: report.currency,
    attributionModel: report.attributionModel,
    rows: report.rows.map(({ segmentId, reached, heldOut, engagement, audience: _audience, segmentName: _name, channel: _channel, ...figures }) => {
      const offerId = offerIdOfReportKey(segmentId) ?? segmentId;
      const offer = byId.get(offerId);
      const clicked = engagement[CLICKED] ?? 0;
      return {
        offerId,
        offerName: offer ? (offer.name ?? offer.id) : null,
        placement: offer?.placement ?? null,
        shown: reached,
        heldOut,
        clicked,
        clickRate: roundOrNull(ratio(clicked, reached)),
        ...figures,
      };
    }),
  };
}
