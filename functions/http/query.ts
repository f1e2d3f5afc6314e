import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from 'zod';
import { BadRequestError } from './errors';

/** A whole-number query parameter from 1 to `max`, `fallback` when absent; 400 naming it otherwise. */
export function integerQueryParameter(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>, name: string, fallback: number, max: number): number {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadRequestError([{ path: name, reason: `${name} must be an integer from 1 to ${max}` }]);
  return value;
}

/** The 400 of a query that failed its (strict) schema: each wrong parameter named, an unknown one told which are `allowed`. */
export function invalidQuery(error: z.ZodError, allowed: readonly string[]): BadRequestError {
  return new BadRequestError(
    error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ path: key, reason: `unknown parameter: use ${allowed.join(', ')}` }))
        : [{ path: String(issue.path[0] ?? 'query'), reason: `${String(issue.path[0] ?? 'query')} ${issue.message}` }],
    ),
  );
}
