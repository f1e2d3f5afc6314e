/**
 * Labelled examples of the platform's own profiles for retraining a predictive score: a profile's
 * features as they were at a cut-off (rebuilt from its events, the function online scoring uses)
 * and its label from what it did within the horizon after. Retraining validates on time: the
 * candidate learns from the examples of an earlier cut-off and is judged on those of the latest
 * one, as a model in service is judged on a future it never saw.
 */
import type { AcceptedMessage } from '../tracking/accepted-message';
import { type ModelFeatureRow, modelFeatureNames, modelFeatureRow } from './model-features';
import { featureSourceAsOf } from './profile-features';
import type { LabeledTable } from './table';
import { labeledTableFromCsv } from './table';
import { type LabelDefinition, labelOf } from './training-labels';

export interface TrainingExample {
  readonly row: ModelFeatureRow;
  readonly label: 0 | 1;
}

const DAY_MS = 86_400_000;

/** One profile's example at `asOf`; undefined when it had no event by then (nothing to learn from). */
export function trainingExampleOf(
  messages: readonly AcceptedMessage[],
  definition: LabelDefinition,
  asOf: Date,
  traits: readonly string[],
): TrainingExample | undefined {
  const cutOff = asOf.toISOString();
  if (!messages.some((message) => message.timestamp <= cutOff)) return undefined;
  return { row: modelFeatureRow(featureSourceAsOf(messages, asOf), asOf, traits), label: labelOf(definition, messages, asOf) };
}

export interface TrainingCutOffs {
  /** The candidate learns from features at this cut-off and labels in the horizon after it. */
  readonly train: Date;
  /** Candidate and model in service are compared on features here and labels after it. */
  readonly holdout: Date;
}

/** The latest cut-off whose labels are fully observed by `now`: a whole UTC day, `horizon` days back. */
export function latestCutOff(definition: LabelDefinition, now: Date): Date {
  const day = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(day - definition.horizonDays * DAY_MS);
}

/** The two cut-offs of a time split ending at `asOf`: the holdout at `asOf`, training one horizon earlier, so their label windows do not overlap. */
export function trainingCutOffs(definition: LabelDefinition, asOf: Date): TrainingCutOffs {
  return { train: new Date(asOf.getTime() - definition.horizonDays * DAY_MS), holdout: asOf };
}

/** Examples as the learner's table: one column per model feature (text cells, as from a CSV file), the label last. */
export function labeledTableOf(examples: readonly TrainingExample[], traits: readonly string[], labelColumn: string): LabeledTable {
  const columns = modelFeatureNames(traits);
  return labeledTableFromCsv(
    {
      header: [...columns, labelColumn],
      rows: examples.map((example) => [...columns.map((column) => cellOf(example.row[column])), String(example.label)]),
      rowLines: examples.map((_, index) => index + 2),
    },
    { label: { column: labelColumn, positive: '1' } },
  );
}

/** The training CSV of examples (scripts/export-features.ts): the same columns and cells as labeledTableOf reads. */
export function trainingCsv(examples: readonly TrainingExample[], traits: readonly string[], labelColumn: string): string {
  const columns = modelFeatureNames(traits);
  const lines = [[...columns, labelColumn].map(csvField).join(',')];
  for (const example of examples) lines.push([...columns.map((column) => csvField(cellOf(example.row[column]))), String(example.label)].join(','));
  return `${lines.join('\n')}\n`;
}

const cellOf = (value: ModelFeatureRow[string] | undefined): string => (value === null || value === undefined ? '' : String(value));

/** RFC 4180 quoting where a category holds a separator, quote or line break. */
const csvField = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
