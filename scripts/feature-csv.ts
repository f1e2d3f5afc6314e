import { PROFILE_FEATURE_NAMES, type ProfileFeatures } from '../functions/domain/scoring/profile-features';

/** The training CSV: one column per profile feature (empty when missing), then the 0/1 label column. */
export function featureCsv(labelColumn: string, rows: ReadonlyArray<{ readonly features: ProfileFeatures; readonly label: 0 | 1 }>): string {
  const lines = [[...PROFILE_FEATURE_NAMES, labelColumn].join(',')];
  for (const { features, label } of rows) {
    lines.push([...PROFILE_FEATURE_NAMES.map((name) => (features[name] === null ? '' : String(features[name]))), String(label)].join(','));
  }
  return `${lines.join('\n')}\n`;
}
