import { DynamoReportStore } from '../adapters/dynamodb-report-store';
import type { ReportStore } from '../ports/report-store';
import { profileEnvironment } from './profile-environment';

let cached: ReportStore | undefined;

/**
 * The report counters on the profiles table (`PROFILES_TABLE_NAME`), built on first read: a
 * request refused before it reads (token, parameters) needs no table.
 */
export function reportStoreFromEnvironment(env: NodeJS.ProcessEnv = process.env): ReportStore {
  const store = (): ReportStore => {
    if (cached) return cached;
    const { dynamo, tableName } = profileEnvironment(env);
    cached = new DynamoReportStore(dynamo, tableName);
    return cached;
  };
  return { listCounters: (range) => store().listCounters(range) };
}
