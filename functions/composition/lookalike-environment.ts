import { DynamoLookalikeStore } from '../adapters/dynamodb-lookalike-store';
import type { LookalikeStore } from '../ports/lookalike-store';
import { segmentEvaluationEnvironment, type SegmentEvaluationEnvironment } from './segment-evaluation-environment';

/** What the lookalike run's tasks need: the segment machinery (scans, memberships, outbox, activation) and the lookalike store. */
export interface LookalikeEnvironment {
  readonly evaluation: SegmentEvaluationEnvironment;
  readonly lookalikes: LookalikeStore;
}

let cached: LookalikeEnvironment | undefined;

export function lookalikeEnvironment(env: NodeJS.ProcessEnv = process.env): LookalikeEnvironment {
  if (cached) return cached;
  const evaluation = segmentEvaluationEnvironment(env);
  cached = { evaluation, lookalikes: new DynamoLookalikeStore(evaluation.profiles.dynamo, evaluation.profiles.tableName) };
  return cached;
}
