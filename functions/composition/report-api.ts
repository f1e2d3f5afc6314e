import { DynamoReportStore } from '../adapters/dynamodb-report-store';
import { DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import type { OfferStore } from '../ports/offer-store';
import type { AttributionConfig } from '../domain/reports/attribution';
import type { ControlGroup } from '../domain/reports/control-group';
import type { AttributionStore } from '../ports/attribution-store';
import type { ReportStore } from '../ports/report-store';
import type { SegmentStore } from '../ports/segment-store';
import { journeyConfigFrom } from '../domain/journeys/journey-config';
import { journeyCatalog, type JourneyCatalog } from '../domain/journeys/journey-catalog';
import { attributionEnvironment } from './attribution';
import { profileEnvironment } from './profile-environment';

/** What the report API reads: journey counters, segment and offer counters, the segments and offers, the control group and the journeys' configuration. */
export interface ReportApiEnvironment {
  readonly journeys: ReportStore;
  readonly attribution: Pick<AttributionStore, 'listSegmentCounters' | 'listBuyerDays' | 'bucketPopulations'>;
  readonly segments: Pick<SegmentStore, 'listSegments'>;
  readonly offers: Pick<OfferStore, 'listOffers'>;
  readonly controlGroup: ControlGroup;
  readonly attributionConfig: AttributionConfig;
  /** The triggered journeys as `DMP_JOURNEY_CONFIG` (or the defaults) runs them. */
  readonly journeyCatalog: JourneyCatalog;
}

let cached: ReportApiEnvironment | undefined;

/**
 * The report stores on the profiles table (`PROFILES_TABLE_NAME`), built on first read: a request
 * refused before it reads (token, parameters) needs no table.
 */
export function reportApiEnvironment(env: NodeJS.ProcessEnv = process.env): ReportApiEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, segments } = profileEnvironment(env);
  const { attribution, attributionConfig, controlGroup } = attributionEnvironment(env);
  cached = {
    journeys: new DynamoReportStore(dynamo, tableName),
    attribution,
    segments,
    offers: new DynamoOfferStore(dynamo, tableName),
    controlGroup,
    attributionConfig,
    journeyCatalog: journeyCatalog(journeyConfigFrom(env.DMP_JOURNEY_CONFIG), env.DMP_JOURNEY_CONFIG?.trim() ? 'configured' : 'defaults'),
  };
  return cached;
}
