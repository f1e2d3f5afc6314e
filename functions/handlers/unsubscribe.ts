import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { journeyEnvironment } from '../adapters/journey-environment';
import { profileEnvironment } from '../adapters/profile-environment';
import { SqsEventQueue } from '../adapters/sqs-event-queue';
import { escapeHtml } from '../domain/email/templates';
import { verifyUnsubscribeToken } from '../domain/email/unsubscribe-token';
import type { ProfileRecord } from '../domain/profile/profile';
import type { AcceptedMessage } from '../domain/tracking/accepted-message';

const logger = new Logger({ serviceName: 'unsubscribe' });

let events: SqsEventQueue | undefined;

function eventsQueue(): SqsEventQueue {
  const queueUrl = process.env.EVENTS_QUEUE_URL;
  if (!queueUrl) throw new Error('EVENTS_QUEUE_URL is not set');
  events ??= new SqsEventQueue({ client: new SQSClient({}), queueUrl });
  return events;
}

function page(statusCode: number, title: string, message: string): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    body: `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`,
  };
}

/**
 * The `unsubscribed` trait as an identify message through the normal pipeline, so the profile's
 * consent (Profile API, segments) shows it like any other consent change. Keyed on the person's
 * user id, else an anonymous id; a profile with neither keeps only the direct unsubscribe record.
 */
function unsubscribeMessage(profile: ProfileRecord, now: Date): AcceptedMessage | undefined {
  const byType = (type: string): string | undefined => profile.identities.find((identity) => identity.type === type)?.value;
  const userId = byType('user_id');
  const anonymousId = userId ? undefined : byType('anonymous_id');
  if (!userId && !anonymousId) return undefined;
  const at = now.toISOString();
  return {
    type: 'identify',
    messageId: `unsubscribe-${profile.profileId}-${now.getTime()}`,
    ...(userId ? { userId } : { anonymousId }),
    properties: {},
    traits: { unsubscribed: true },
    context: { channel: 'email' },
    timestamp: at,
    receivedAt: at,
  };
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
    if (message) await eventsQueue().enqueue([message]);
    logger.info('unsubscribed', { profileId, survivorId: profile?.profileId, addresses: emails.length, viaPipeline: message !== undefined });
    return page(200, 'You are unsubscribed', 'You will no longer receive marketing email from us.');
  } catch (error) {
    logger.error('unsubscribe failed', { error });
    return page(500, 'Something went wrong', 'We could not unsubscribe you right now. Please try again in a minute.');
  }
};
