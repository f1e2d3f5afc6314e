import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { journeyEnvironment } from '../adapters/journey-environment';
import { profileEnvironment } from '../adapters/profile-environment';
import { eventsQueueFromEnvironment } from '../adapters/events-queue-environment';
import { escapeHtml } from '../domain/email/templates';
import { verifyUnsubscribeToken } from '../domain/email/unsubscribe-token';
import type { ProfileRecord } from '../domain/profile/profile';
import { profileMessage } from '../domain/profile/profile-message';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

const logger = new Logger({ serviceName: 'unsubscribe' });

function page(statusCode: number, title: string, message: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
  };
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
 * `GET|POST /v1/unsubscribe?token=...` (public; the token is the credential). RFC 8058 one-click
 * clients POST `List-Unsubscribe=One-Click`; people follow the link (GET). Both unsubscribe at
 * once: a direct record every later send checks, then the trait through the pipeline.
 */
export const handler = async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
  logger.addContext(context);
  try {
    const { journeys, unsubscribeSecret } = journeyEnvironment();
    const token = event.queryStringParameters?.token ?? '';
    const profileId = verifyUnsubscribeToken(await unsubscribeSecret(), token);
    if (!profileId) return page(400, 'Invalid link', 'This unsubscribe link is not valid. Please use the link from a recent email.');
    const now = new Date();
    const profile = await profileEnvironment().store.getProfile(profileId);
    const emails = [
      ...(profile?.identities.filter((identity) => identity.type === 'email').map((identity) => identity.value) ?? []),
      ...(typeof profile?.traits.email?.value === 'string' ? [profile.traits.email.value] : []),
    ];
    await journeys.unsubscribe(profileId, emails, now);
    if (profile && profile.profileId !== profileId) await journeys.unsubscribe(profile.profileId, [], now);
    const message = profile && unsubscribeMessage(profile, now);
    if (message) await eventsQueueFromEnvironment().enqueue([message]);
    logger.info('unsubscribed', { profileId, survivorId: profile?.profileId, addresses: emails.length, viaPipeline: message !== undefined });
    return page(200, 'You are unsubscribed', 'You will no longer receive marketing email from us.');
  } catch (error) {
    logger.error('unsubscribe failed', { error });
    return page(500, 'Something went wrong', 'We could not unsubscribe you right now. Please try again in a minute.');
  }
};
