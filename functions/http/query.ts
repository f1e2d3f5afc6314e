import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BadRequestError } from './errors';

/** A whole-number query parameter from 1 to `max`, `fallback` when absent; 400 naming it otherwise. */
export function integerQueryParameter(event: Pick<APIGatewayProxyEventV2, 'queryStringParameters'>, name: string, fallback: number, max: number): number {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new BadRequestError([{ path: name, reason: `${name} must be an integer from 1 to ${max}` }]);
  return value;
}
