import { DynamoReportStore } from '../adapters/dynamodb-report-store';
import { DynamoOfferStore } from '../adapters/dynamodb-offer-store';
import type { OfferStore } from '../ports/offer-store';
import type { AttributionConfig } from '../domain/reports/attribution';
import type { ControlGroup } from '../domain/reports/control-group';
import type { AttributionStore } from '../ports/attribution-store';
import type { ReportStore } from '../ports/report-store';
import type { SegmentStore } from '../ports/segment-store';
import { attributionEnvironment } from './attribution';
import { profileEnvironment } from './profile-environment';

/** What the report API reads: journey counters, segment and offer counters, the segments and offers, and the control group. */
export interface ReportApiEnvironment {
  readonly journeys: ReportStore;
  readonly attribution: Pick<AttributionStore, 'listSegmentCounters' | 'listBuyerDays' | 'bucketPopulations'>;
  readonly segments: Pick<SegmentStore, 'listSegments'>;
  readonly offers: Pick<OfferStore, 'listOffers'>;
  readonly controlGroup: ControlGroup;
  readonly attributionConfig: AttributionConfig;
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
  };
  return cached;
}
