import type { IdentityConfig } from '../identity/identity-config';
import type { ConsentRegion, PurposeConfig } from '../privacy/purposes';
import type { StateScoreRule } from '../scoring/state-scores';
import { PREDICTIVE_SCORE_NAMES } from '../scoring/training-labels';

/**
 * What a client needs to write valid segment definitions and destinations (`GET /v1/settings`):
 * the deployment's consent purposes, score names and identifier types, from the same settings the
 * Segments API validates with (functions/schemas/segments.ts), so a choice offered is a choice
 * accepted. Names and mappings only: no secret is part of these settings.
 */
export interface DeploymentSettings {
  readonly purposes: readonly PurposeSetting[];
  readonly scores: { readonly predictive: readonly string[]; readonly state: readonly string[] };
  /** The scores a call-center destination may show its agent. */
  readonly callCenterScores: readonly string[];
  /** Identifier types a profile is known by (exports, profile references), most trusted first. */
  readonly identifierTypes: readonly string[];
}

export interface PurposeSetting {
  readonly name: string;
  /** The consent categories (`categoryPreferences`) that decide it, besides a category of its own name. */
  readonly categories: readonly string[];
  /** The regions where a person has it until they decide otherwise (opt-out); empty: opt-in everywhere. */
  readonly grantedByDefault: readonly ConsentRegion[];
}

/**
 * The scores a call-center agent may be shown: the predictive scores and the deployment's state
 * scores. Not the send hour (it says when, not why), nor a lookalike's score (a similarity, not a
 * reason to call). The one list the destination schema checks against and the settings offer.
 */
export function callCenterScoreNames(stateRules: readonly StateScoreRule[]): string[] {
  return [...PREDICTIVE_SCORE_NAMES, ...stateRules.map((rule) => rule.name)];
}

const REGIONS: readonly ConsentRegion[] = ['eu', 'other'];

export function deploymentSettings(settings: {
  readonly purposeConfig: PurposeConfig;
  readonly stateRules: readonly StateScoreRule[];
  readonly identityConfig: IdentityConfig;
}): DeploymentSettings {
  const { purposeConfig, stateRules, identityConfig } = settings;
  return {
    purposes: purposeConfig.purposes.map((name) => ({
      name,
      categories: Object.entries(purposeConfig.categoryPurposes)
        .filter(([, purposes]) => purposes.includes(name))
        .map(([category]) => category),
      grantedByDefault: REGIONS.filter((region) => purposeConfig.grantedByDefault[region].includes(name)),
    })),
    scores: { predictive: [...PREDICTIVE_SCORE_NAMES], state: stateRules.map((rule) => rule.name) },
    callCenterScores: callCenterScoreNames(stateRules),
    // The ranked types, then the external id types traits carry (crm_id...).
    identifierTypes: [...new Set([...identityConfig.priority, ...Object.values(identityConfig.externalIdTraits)])],
  };
}
