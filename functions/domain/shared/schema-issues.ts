import type * as z from 'zod';

/**
 * A schema's refusal as `path: message` lines (`(root)` for the whole value). Paths and messages
 * only: zod's messages do not repeat the input's values (addresses, secrets).
 */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}
