import * as z from 'zod';
import { CALL_CENTER_DEFAULT_PURPOSE, CALL_CENTER_REASON_MAX_LENGTH } from '../domain/activation/call-center';
import { checkOutboundUrl, outboundUrlPolicyFromEnv } from '../domain/activation/outbound-address';
import { PROFILE_INCLUDES } from '../domain/activation/profile-payload';
import { describePlaceholders, unknownPlaceholders } from '../domain/email/templates';
import { AUDIENCE_TEMPLATE_VALUES } from '../domain/journeys/audience-journey';
import { parsePurposeConfig } from '../domain/privacy/purposes';
import { smsTemplateProblems } from '../domain/sms/sms-text';
import { AD_PLATFORMS, type AdPlatform, type ExportFormat } from '../domain/segments/export';
import { ratePeriodSeconds } from '../domain/segments/rebuild/plan';
import { callCenterScoreNames } from '../domain/segments/deployment-settings';
import { stateScoreRulesOf } from '../domain/scoring/state-scores';
import { BadRequestError, type ErrorDetail } from '../http/errors';

/**
 * Request bodies of the Segments API (docs/contract.md §7): the segment's fields, its destinations
 * (webhooks, audience journeys) and the preview. The definition itself is checked by the domain
 * (functions/domain/segments/definition.ts), which names the JSON path of every wrong part.
 */

/** Profiles a preview may show at most. */
export const MAX_PREVIEW_SAMPLE_SIZE = 50;

/**
 * A receiver the platform may call: https to a public host (http and loopback too on the local
 * platform). Host names are checked again, on every address they resolve to, at each call.
 */
const webhookUrl = z
  .string()
  .max(2_048)
  .superRefine((raw, context) => {
    const check = checkOutboundUrl(raw, outboundUrlPolicyFromEnv());
    if (!check.ok) context.addIssue({ code: 'custom', message: `webhook url ${check.reason}` });
  });

/**
 * The processing purposes a destination may serve: the deployment's (DMP_PRIVACY_CONFIG, read at
 * validation time like the URL policy), DEFAULT_PURPOSE_CONFIG's unless it changes them.
 */
export const purpose = z
  .string()
  .max(64)
  .superRefine((name, context) => {
    const { purposes } = parsePurposeConfig(process.env.DMP_PRIVACY_CONFIG);
    if (!purposes.includes(name)) context.addIssue({ code: 'custom', message: `purpose must be one of ${purposes.join(', ')}` });
  });

/** A share of the audience held out of a destination, to measure its lift: at most half. */
const holdoutShare = z.number().min(0, 'holdout is a share between 0 and 0.5').max(0.5, 'holdout is a share between 0 and 0.5');

const secretRef = z.string().regex(/^[A-Za-z0-9_./:-]{1,512}$/, 'secretRef names a secret (an SSM parameter name), never the secret itself');

const audienceEvents = z.array(z.enum(['Audience Entered', 'Audience Exited'])).min(1);

const webhookDestination = z.strictObject({
  type: z.literal('webhook'),
  url: webhookUrl,
  secretRef: secretRef.optional(),
  events: audienceEvents.optional(),
  include: z
    .array(z.enum(PROFILE_INCLUDES))
    .min(1)
    .refine((include) => new Set(include).size === include.length, 'include lists each item once')
    .optional(),
  /** Only profiles that granted this purpose are delivered (docs/contract.md §9). */
  purpose: purpose.optional(),
  /** Marketing destinations never receive the global control group. */
  marketing: z.boolean().optional(),
  holdout: holdoutShare.optional(),
});

/**
 * The scores a call-center agent may be shown (callCenterScoreNames, also what GET /v1/settings
 * offers), with the deployment's state scores read at validation time like the purposes.
 */
const callCenterScore = z
  .string()
  .max(64)
  .superRefine((name, context) => {
    if (name.startsWith('lookalike:')) {
      context.addIssue({ code: 'custom', message: 'score must be a predictive or state score, not a lookalike score' });
      return;
    }
    const names = callCenterScoreNames(stateScoreRulesOf(process.env.DMP_STATE_SCORE_RULES));
    if (!names.includes(name)) context.addIssue({ code: 'custom', message: `score must be one of ${names.join(', ')}` });
  });

/** A dialer's endpoint, called like a webhook with the person to call (functions/domain/activation/call-center.ts). */
const callCenterDestination = z
  .strictObject({
    type: z.literal('call_center'),
    url: webhookUrl,
    secretRef: secretRef.optional(),
    /** What the agent reads: one line. */
    reason: z
      .string({ error: 'reason is required: the line the agent reads' })
      .trim()
      .min(1, 'reason is required: the line the agent reads')
      .max(CALL_CENTER_REASON_MAX_LENGTH, `reason is at most ${CALL_CENTER_REASON_MAX_LENGTH} characters`)
      .refine((reason) => !/[\p{Cc}\u2028\u2029]/u.test(reason), 'reason is one line, without control characters'),
    score: callCenterScore.optional(),
    /** Default `["Audience Entered"]`: a dialer calls people who entered. */
    events: audienceEvents.optional(),
    /** Default `phone_marketing`: a call-center destination is always consent-gated. */
    purpose: purpose.optional(),
    /** Default true: the global control group is never called. */
    marketing: z.boolean().optional(),
    holdout: holdoutShare.optional(),
  })
  .superRefine((destination, context) => {
    if (destination.purpose !== undefined) return;
    const { purposes } = parsePurposeConfig(process.env.DMP_PRIVACY_CONFIG);
    if (!purposes.includes(CALL_CENTER_DEFAULT_PURPOSE)) {
      context.addIssue({
        code: 'custom',
        path: ['purpose'],
        message: `purpose is required: this deployment has no ${CALL_CENTER_DEFAULT_PURPOSE} purpose (one of ${purposes.join(', ')})`,
      });
    }
  });

/** The segment's hashed exports for ad platforms, with the share of members left out of them. */
const adExportDestination = z.strictObject({
  type: z.literal('ad_export'),
  holdout: holdoutShare.optional(),
});

/** Subject one line; bodies up to what one SES message comfortably holds. */
const emailTemplate = z
  .strictObject({
    subject: z
      .string()
      .trim()
      .min(1)
      .max(998)
      .refine((subject) => !/[\r\n]/.test(subject), 'subject is one line'),
    html: z.string().min(1).max(200_000),
    text: z.string().min(1).max(200_000),
  })
  .superRefine((template, context) => {
    for (const name of unknownPlaceholders(template, AUDIENCE_TEMPLATE_VALUES)) {
      context.addIssue({ code: 'custom', message: `{{${name}}} is not a template value; use ${describePlaceholders(AUDIENCE_TEMPLATE_VALUES)}` });
    }
  });

/** Up to 14 days: well inside the journeys' 30-day execution timeout, quiet hours included. */
const journeyDelaySeconds = z
  .number()
  .int()
  .min(0)
  .max(14 * 86_400)
  .optional();

/** One text: the email placeholders that make sense in an SMS, at most 10 segments with the opt-out hint (domain/sms/sms-text.ts). */
const smsTemplate = z.strictObject({ text: z.string().min(1).max(2_000) }).superRefine((template, context) => {
  for (const message of smsTemplateProblems(template)) context.addIssue({ code: 'custom', path: ['text'], message });
});

/** A segment's journey: an email (`audience-email`) or a text message (`audience-sms`) on entering it. */
const journeyDestination = z.discriminatedUnion('journey', [
  z.strictObject({ type: z.literal('journey'), journey: z.literal('audience-email'), template: emailTemplate, delaySeconds: journeyDelaySeconds }),
  z.strictObject({ type: z.literal('journey'), journey: z.literal('audience-sms'), template: smsTemplate, delaySeconds: journeyDelaySeconds }),
]);

export const schedule = z
  .string()
  .refine((expression) => ratePeriodSeconds(expression) !== undefined, 'schedule must be rate(N minutes|hours|days), or null for no scheduled rebuild')
  .nullable();

/** Where a segment's members go: webhooks, a journey, hashed exports for ad platforms, call centers. */
export const destinations = z.array(z.discriminatedUnion('type', [webhookDestination, journeyDestination, adExportDestination, callCenterDestination])).max(10);

/** Segment ids: 1-48 lower-case letters, digits, - or _. */
export const segmentId = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,47}$/, 'id is 1-48 lower-case letters, digits, - or _');

const segmentBody = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2_000).optional(),
  definition: z.unknown().refine((value) => value !== undefined, 'definition is required'),
  schedule: schedule.optional(),
  destinations: destinations.optional(),
};

export const createBody = z.strictObject({
  id: segmentId.optional(),
  ...segmentBody,
});

export const updateBody = z.strictObject({
  ...segmentBody,
  /** Optimistic locking: the version the client read; 409 when the segment changed since. */
  version: z.number().int().positive().optional(),
});

export const previewBody = z.strictObject({
  definition: z.unknown().refine((value) => value !== undefined, 'definition is required'),
  sampleSize: z.number().int().min(0).max(MAX_PREVIEW_SAMPLE_SIZE).optional(),
});

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((text, key) => (typeof key === 'number' ? `${text}[${key}]` : text === '' ? String(key) : `${text}.${String(key)}`), '');

export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details: ErrorDetail[] = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), reason: 'unknown field' }))
      : [{ path: formatPath(issue.path) || 'body', reason: issue.message }],
  );
  throw new BadRequestError(details);
}

/** The fields of a create or update request. */
export type SegmentRequestBody = z.infer<typeof createBody> | z.infer<typeof updateBody>;

const IDENTIFIER_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/** `GET /v1/segments/{id}/export`: the file's format, hashing and extra identifier columns (400 naming the wrong parameter). */
export interface ExportQuery {
  readonly format: ExportFormat;
  readonly hash: boolean;
  readonly identifierTypes: readonly string[];
  /** The ad platform whose normalization applies before hashing (hashing implied). */
  readonly platform?: AdPlatform;
}

export function parseExportQuery(query: Readonly<Record<string, string | undefined>>): ExportQuery {
  const format = query.format ?? 'csv';
  if (format !== 'csv' && format !== 'ndjson') throw new BadRequestError([{ path: 'format', reason: 'format must be csv or ndjson' }]);
  if (query.hash !== undefined && query.hash !== 'sha256') throw new BadRequestError([{ path: 'hash', reason: 'hash must be sha256' }]);
  const platform = query.platform;
  if (platform !== undefined && !(AD_PLATFORMS as readonly string[]).includes(platform)) {
    throw new BadRequestError([{ path: 'platform', reason: `platform must be one of ${AD_PLATFORMS.join(', ')}` }]);
  }
  const identifierTypes = (query.identifiers ?? '')
    .split(',')
    .map((type) => type.trim())
    .filter((type) => type !== '');
  const wrongType = identifierTypes.find((type) => !IDENTIFIER_TYPE.test(type));
  if (wrongType !== undefined) throw new BadRequestError([{ path: 'identifiers', reason: `not an identifier type: ${wrongType.slice(0, 64)}` }]);
  return {
    format,
    hash: query.hash === 'sha256' || platform !== undefined,
    identifierTypes,
    ...(platform !== undefined && { platform: platform as AdPlatform }),
  };
}
