import * as z from 'zod';
import { OFFER_ID_PATTERN, PERSONALIZATION_PURPOSE, PLACEMENT_PATTERN } from '../domain/personalization/offer';
import { purpose } from './segments';

/**
 * Request bodies of the offers API (docs/contract.md §10, README "Personalization"). An inline
 * `definition` is checked by the segments domain, which names the JSON path of every wrong part.
 */

/** The content a site renders; the decide function sends it to every visitor: kept small. */
export const MAX_CONTENT_BYTES = 8 * 1024;

/** The host a path is resolved against: a path stays on it, a protocol-relative or backslash trick (`//x`, `/\\x`) leaves it. */
const SITE_PLACEHOLDER = 'https://site.invalid';

/** Links and images a page follows or loads: http(s), or a path on the site itself (resolved as browsers do). */
const siteUrl = z
  .string()
  .max(2_048)
  .refine((value) => {
    try {
      if (value.startsWith('/')) return new URL(value, SITE_PLACEHOLDER).origin === SITE_PLACEHOLDER;
      const url = new URL(value);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL or a path starting with /');

/** Schemes that run code or embed documents when a page uses a string as a URL (checked without the blanks and controls browsers strip). */
const SCRIPTING_SCHEME = /^(?:javascript|vbscript|data):/i;
/** Fields checked on their own: words (a title may well start with "Data:") and the two URLs (siteUrl). */
const KNOWN_FIELDS = new Set(['title', 'text', 'code', 'image', 'link']);

/** The text without spaces and control characters, which browsers strip from URLs (`java\nscript:`). */
const withoutBlanks = (text: string): string =>
  Array.from(text)
    .filter((char) => char > ' ' && !/\s/.test(char))
    .join('');

/** Paths of the content's strings (its extra fields included) that are scripting URLs a site could render as a link. */
function scriptingUrlPaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return SCRIPTING_SCHEME.test(withoutBlanks(value)) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => scriptingUrlPaths(item, [...path, index]));
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value)
    .filter(([key]) => path.length > 0 || !KNOWN_FIELDS.has(key))
    .flatMap(([key, item]) => scriptingUrlPaths(item, [...path, key]));
}

const content = z
  .looseObject({
    title: z.string().max(200).optional(),
    text: z.string().max(2_000).optional(),
    image: siteUrl.optional(),
    link: siteUrl.optional(),
    code: z.string().max(64).optional(),
  })
  .superRefine((value, context) => {
    if (Buffer.byteLength(JSON.stringify(value), 'utf8') > MAX_CONTENT_BYTES)
      context.addIssue({ code: 'custom', message: `content is at most ${MAX_CONTENT_BYTES} bytes of JSON` });
    for (const path of scriptingUrlPaths(value)) context.addIssue({ code: 'custom', path, message: 'javascript:, vbscript: and data: URLs are refused' });
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
  /** A share of the eligible people (docs/contract.md §10: 0..1); 1 holds everyone out, measuring what not showing it does. */
  holdout: z.number().min(0, 'holdout is a share between 0 and 1').max(1, 'holdout is a share between 0 and 1').optional(),
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
