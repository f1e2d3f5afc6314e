import { DynamoAttributionStore } from '../adapters/dynamodb-attribution-store';
import { parseAttributionConfig, type AttributionConfig } from '../domain/reports/attribution';
import { controlGroupOver, controlShare, type ControlGroup } from '../domain/reports/control-group';
import type { AttributionStore } from '../ports/attribution-store';
import { profileEnvironment } from './profile-environment';

/**
 * Attribution and the global control group, from the function environment:
 * - `DMP_ATTRIBUTION`: JSON changing the attribution model, windows per channel, the reports'
 *   currency and conversion rates (domain/reports/attribution.ts);
 * - `DMP_CONTROL_GROUP_SHARE`: draws the global control group with this share on first use. Unset,
 *   the group is off until an admin draws it (`POST /v1/control-group/redraw`, default share 5 %).
 *   Later draws happen only on request, so comparisons stay valid.
 */
export interface AttributionEnvironment {
  readonly attribution: AttributionStore;
  readonly attributionConfig: AttributionConfig;
  readonly controlGroup: ControlGroup;
}

let cached: AttributionEnvironment | undefined;

export function controlShareFromEnvironment(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.DMP_CONTROL_GROUP_SHARE;
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return controlShare(Number(raw));
  } catch (error) {
    throw new Error(`DMP_CONTROL_GROUP_SHARE: ${(error as Error).message}`);
  }
}

export function attributionEnvironment(env: NodeJS.ProcessEnv = process.env): AttributionEnvironment {
  if (cached) return cached;
  const { dynamo, tableName } = profileEnvironment(env);
  const attribution = new DynamoAttributionStore(dynamo, tableName);
  cached = {
    attribution,
    attributionConfig: parseAttributionConfig(env.DMP_ATTRIBUTION),
    controlGroup: controlGroupOver(attribution, controlShareFromEnvironment(env)),
  };
  return cached;
}
