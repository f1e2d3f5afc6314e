import type { Offer } from '../../../functions/domain/personalization/offer';

/** A targeted offer of `home-hero` for the `gold` segment, with `fields` changed. */
export function offer(id: string, fields: Partial<Offer> = {}, createdAt = '2026-05-01T00:00:00.000Z'): Offer {
  return {
    id,
    placement: 'home-hero',
    content: { title: id },
    segment: 'gold',
    priority: 0,
    default: false,
    purpose: 'personalization',
    createdAt,
    updatedAt: createdAt,
    version: 1,
    ...fields,
  };
}
