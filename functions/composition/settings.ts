import * as z from 'zod';
import { describeIssues } from '../domain/shared/schema-issues';

/**
 * A positive number from the function environment, `fallback` when unset or empty. A wrong value
 * stops the function at its first use with the setting's name, rather than running misconfigured.
 */
export function positiveSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, options: { readonly integer?: boolean } = {}): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  const valid = options.integer ? Number.isSafeInteger(value) && value > 0 : Number.isFinite(value) && value > 0;
  if (!valid) throw new Error(`${name} must be a positive ${options.integer ? 'integer' : 'number'}`);
  return value;
}

/**
 * How long each kind of data is kept (days, DynamoDB TTL), where the operator changed it; the
 * stores keep their documented defaults otherwise (README "Retention").
 */
export interface Retention {
  readonly quarantine?: number;
  readonly deliveryLog?: number;
  readonly journeySteps?: number;
  readonly segmentHistory?: number;
  readonly erasureJobs?: number;
}

const days = z.number().int().min(1).max(3_650);
const retentionOverrides = z.strictObject({
  quarantine: days.optional(),
  deliveryLog: days.optional(),
  // Send claims and outcomes must outlive the longest journey (30 days of waits).
  journeySteps: z.number().int().min(30).max(3_650).optional(),
  segmentHistory: days.optional(),
  // The record that an erasure was carried out: at least a year.
  erasureJobs: z.number().int().min(365).max(3_650).optional(),
});

/** `DMP_RETENTION_DAYS`: JSON of the periods to change; a wrong value stops the function with its path. */
export function retentionFromEnvironment(env: NodeJS.ProcessEnv): Retention {
  const raw = env.DMP_RETENTION_DAYS;
  if (raw === undefined || raw.trim() === '') return {};
  const parsed = retentionOverrides.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`DMP_RETENTION_DAYS: ${describeIssues(parsed.error).join('; ')}`);
  return parsed.data;
}
