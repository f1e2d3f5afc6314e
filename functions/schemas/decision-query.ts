import { PLACEMENT_PATTERN } from '../domain/personalization/offer';
import { BadRequestError } from '../http/errors';

/**
 * The query of a decision (`GET /v1/decide`, and the admin form for a profile), read without a
 * schema library: the decide function's bundle stays small (its cold start is the visitor's wait).
 */

/** Placements one request may ask for. */
export const MAX_PLACEMENTS_PER_DECISION = 10;

/** `placement=a` or `placements=a,b`: the placements of a decision request (400 naming the parameter). */
export function parsePlacements(query: Readonly<Record<string, string | undefined>>, max = MAX_PLACEMENTS_PER_DECISION): string[] {
  const raw = query.placements ?? query.placement;
  const name = query.placements !== undefined ? 'placements' : 'placement';
  const placements = [...new Set((raw ?? '').split(',').map((placement) => placement.trim()))].filter((placement) => placement !== '');
  if (placements.length === 0) throw new BadRequestError([{ path: name, reason: 'placement is required' }]);
  if (placements.length > max) throw new BadRequestError([{ path: name, reason: `at most ${max} placements` }]);
  const wrong = placements.find((placement) => !PLACEMENT_PATTERN.test(placement));
  if (wrong !== undefined) throw new BadRequestError([{ path: name, reason: 'a placement is 1-64 lower-case letters, digits, - or _' }]);
  return placements;
}
