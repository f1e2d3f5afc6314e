import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { journeyEnvironment } from '../composition/journey-environment';
import { profileEnvironment } from '../composition/profile-environment';
import { eventsQueue } from '../composition/pipeline-queues';
import { escapeHtml } from '../domain/email/templates';
import { checkUnsubscribeToken, UNSUBSCRIBE_TOKEN_LIFETIME_DAYS } from '../domain/email/unsubscribe-token';
import type { ProfileRecord } from '../domain/profile/profile';
import { profileMessage } from '../domain/profile/profile-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

const logger = new Logger({ serviceName: 'unsubscribe' });

/**
 * An HTML answer. The token is in the page's URL: no referrer leaves the page, no frame may hold it
 * (the confirmation button cannot be clickjacked), nothing is cached, no script runs.
 */
function page(statusCode: number, title: string, body: string, extraHeaders: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: {
      ...extraHeaders,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    },
    body:
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
      `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title></head>` +
      `<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem"><h1>${escapeHtml(title)}</h1>${body}</body></html>`,
  };
}

const paragraph = (text: string): string => `<p>${escapeHtml(text)}</p>`;

/** GET: nothing changes yet; the form POSTs to the same link, as a one-click client would. */
function confirmationPage(token: string): APIGatewayProxyStructuredResultV2 {
  return page(
    200,
    'Unsubscribe from marketing email?',
    paragraph('Confirm below and we will stop sending you marketing email.') +
      `<form method="post" action="?token=${escapeHtml(encodeURIComponent(token))}">` +
      '<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
      '<button type="submit" style="font-size: 1rem; padding: 0.5rem 1rem">Unsubscribe</button></form>',
  );
}

/**
 * The `unsubscribed` trait as an identify message through the normal pipeline, so the profile's
 * consent (Profile API, segments) shows it like any other consent change. A profile with no
 * routing identity keeps only the direct unsubscribe record.
 */
function unsubscribeMessage(profile: ProfileRecord, now: Date): AcceptedMessage | undefined {
  return profileMessage(
    profile,
    {
      type: 'identify',
      messageId: `unsubscribe-${profile.profileId}-${now.getTime()}`,
      traits: { unsubscribed: true },
      context: { channel: 'email' },
      timestamp: now.toISOString(),
    },
    now,
  );
}

/**
 * `GET|POST /v1/unsubscribe?token=...` (public; the token is the credential).
 * - GET (a person following the link, or a mail scanner prefetching it) changes nothing: it shows
 *   a confirmation page whose button POSTs to the same link.
 * - POST unsubscribes: RFC 8058 one-click clients POST `List-Unsubscribe=One-Click` straight to the
 *   link from the `List-Unsubscribe` header, without any page; the confirmation form does the same.
 *   It writes a direct record every later send checks, then the trait through the pipeline.
 * A missing, forged or expired token gets a 400 page saying so; only a failure of the platform is a 500.
 */
export const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  logger.addContext(context);
  const method = event.requestContext.http.method.toUpperCase();
  try {
    if (method !== 'GET' && method !== 'POST') {
      return page(405, 'Method not allowed', paragraph('Open the unsubscribe link from your email.'), { allow: 'GET, POST' });
    }
    const { journeys, unsubscribeSecret } = journeyEnvironment();
    const token = event.queryStringParameters?.token ?? '';
    const now = new Date();
    const check = checkUnsubscribeToken(await unsubscribeSecret(), token, now);
    if (check.status === 'expired') {
      logger.info('expired unsubscribe link', { method, expiredAt: check.expiredAt });
      return page(
        400,
        'This link has expired',
        paragraph(`Unsubscribe links work for ${UNSUBSCRIBE_TOKEN_LIFETIME_DAYS} days. Please use the unsubscribe link in a more recent email from us.`),
      );
    }
    if (check.status === 'invalid') {
      return page(400, 'Invalid link', paragraph('This unsubscribe link is not valid. Please use the link from a recent email.'));
    }
    const { profileId } = check;
    if (method === 'GET') return confirmationPage(token);

    const profile = await profileEnvironment().store.getProfile(profileId);
    const emails = [
      ...(profile?.identities.filter((identity) => identity.type === 'email').map((identity) => identity.value) ?? []),
      ...(typeof profile?.traits.email?.value === 'string' ? [profile.traits.email.value] : []),
    ];
    await journeys.unsubscribe(profileId, emails, now);
    if (profile && profile.profileId !== profileId) await journeys.unsubscribe(profile.profileId, [], now);
    const message = profile && unsubscribeMessage(profile, now);
    if (message) await eventsQueue().enqueue([message]);
    logger.info('unsubscribed', { profileId, survivorId: profile?.profileId, addresses: emails.length, viaPipeline: message !== undefined });
    return page(200, 'You are unsubscribed', paragraph('You will no longer receive marketing email from us.'));
  } catch (error) {
    logger.error('unsubscribe failed', { method, error: error as Error });
    return page(500, 'Something went wrong', paragraph('We could not unsubscribe you right now. Please try again in a minute.'));
  }
};
