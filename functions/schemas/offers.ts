import * as z from 'zod';
import { parsePurposeConfig } from '../domain/privacy/purposes';
import { OFFER_ID_PATTERN, PERSONALIZATION_PURPOSE, PLACEMENT_PATTERN } from '../domain/personalization/offer';

/**
 * Request bodies of the offers API (docs/contract.md §10, README "Personalization"). An inline
 * `definition` is checked by the segments domain, which names the JSON path of every wrong part.
 */

/** The content a site renders; the decide function sends it to every visitor: kept small. */
export const MAX_CONTENT_BYTES = 8 * 1024;

/** Links and images a page follows or loads: http(s) or a path on the site, never `javascript:` or `data:`. */
const siteUrl = z
  .string()
  .max(2_048)
  .refine((value) => {
    if (value.startsWith('/') && !value.startsWith('//')) return true;
    try {
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL or a path starting with /');

const content = z
  .looseObject({
    title: z.string().max(200).optional(),
    text: z.string().max(2_000).optional(),
    image: siteUrl.optional(),
    link: siteUrl.optional(),
    code: z.string().max(64).optional(),
  })
  .refine((value) => Buffer.byteLength(JSON.stringify(value), 'utf8') <= MAX_CONTENT_BYTES, `content is at most ${MAX_CONTENT_BYTES} bytes of JSON`);

const purpose = z
  .string()
  .max(64)
  .superRefine((name, context) => {
    const { purposes } = parsePurposeConfig(process.env.DMP_PRIVACY_CONFIG);
    if (!purposes.includes(name)) context.addIssue({ code: 'custom', message: `purpose must be one of ${purposes.join(', ')}` });
  });

const offerBody = {
  name: z.string().trim().min(1).max(200).optional(),
  placement: z.string().regex(PLACEMENT_PATTERN, 'placement is 1-64 lower-case letters, digits, - or _'),
  content,
  segment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, 'segment is a segment id')
    .optional(),
  definition: z.unknown().optional(),
  priority: z.number().int().min(-1_000).max(1_000).optional(),
  default: z.boolean().optional(),
  /** At most half: the rest of the audience must see the offer. */
  holdout: z.number().min(0, 'holdout is a share between 0 and 0.5').max(0.5, 'holdout is a share between 0 and 0.5').optional(),
  cap: z.strictObject({ perDay: z.number().int().min(1).max(1_000) }).optional(),
  startAt: z.iso.datetime({ offset: true }).optional(),
  endAt: z.iso.datetime({ offset: true }).optional(),
  purpose: purpose.optional(),
};

/** Whom an offer targets, and when: rules across fields, each named by its path. */
function checkTargeting(body: z.infer<z.ZodObject<typeof offerBody>>, context: z.RefinementCtx): void {
  const targeted = body.segment !== undefined || body.definition !== undefined;
  if (body.segment !== undefined && body.definition !== undefined)
    context.addIssue({ code: 'custom', path: ['definition'], message: 'give a segment or a definition, not both' });
  if (body.default === true && targeted)
    context.addIssue({
      code: 'custom',
      path: [body.segment !== undefined ? 'segment' : 'definition'],
      message: 'a default offer is for everyone: no segment or definition',
    });
  if (body.default !== true && !targeted)
    context.addIssue({ code: 'custom', path: ['segment'], message: 'segment or definition is required (or default: true)' });
  if (body.default === true && body.holdout !== undefined) context.addIssue({ code: 'custom', path: ['holdout'], message: 'a default offer has no holdout' });
  if (body.startAt !== undefined && body.endAt !== undefined && Date.parse(body.endAt) <= Date.parse(body.startAt))
    context.addIssue({ code: 'custom', path: ['endAt'], message: 'endAt is after startAt' });
}

export const createOfferBody = z
  .strictObject({
    id: z.string().regex(OFFER_ID_PATTERN, 'id is 1-40 lower-case letters, digits, - or _').optional(),
    ...offerBody,
  })
  .superRefine(checkTargeting);

export const updateOfferBody = z
  .strictObject({
    ...offerBody,
    /** Optimistic locking: the version the client read; 409 when the offer changed since. */
    version: z.number().int().positive().optional(),
  })
  .superRefine(checkTargeting);

export type OfferRequestBody = z.infer<typeof createOfferBody> | z.infer<typeof updateOfferBody>;

export const DEFAULT_OFFER_PURPOSE = PERSONALIZATION_PURPOSE;
