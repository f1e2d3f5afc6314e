import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SqsJsonQueue } from '../functions/adapters/sqs-message-queue';
import type { SesEvent } from '../functions/domain/email/feedback';
import { LOCAL_ACCOUNT_ID } from './lambda-runtime';

/**
 * SES event publishing for the local platform. The SES emulator publishes no events, so after
 * each send through the platform's configuration set this publishes what SES would (the same JSON
 * the EventBridge rule puts on the EmailFeedback queue on AWS), with SES's mailbox simulator
 * outcomes; opens and clicks are published on request (`POST /dev/outbox/{messageId}/open|click`).
 */

/** The configuration set the local platform's functions send through (SES_CONFIGURATION_SET). */
export const LOCAL_CONFIGURATION_SET = 'dmp-local';

const SIMULATOR_DOMAIN = 'simulator.amazonses.com';

/** A send the SES proxy recorded. */
export interface SentEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: readonly string[];
  /** The send's own tags (SES adds its `ses:*` ones to the events). */
  readonly tags: Readonly<Record<string, string>>;
  readonly sentAt: string;
  readonly configurationSet?: string;
}

export type Engagement = { readonly kind: 'open' } | { readonly kind: 'click'; readonly link: string };

export type EngagementResult = 'published' | 'unknown-message' | 'no-configuration-set';

function mailOf(sent: SentEmail) {
  const tags: Record<string, string[]> = Object.fromEntries(Object.entries(sent.tags).map(([name, value]) => [name, [value]]));
  return {
    timestamp: sent.sentAt,
    source: sent.from,
    sendingAccountId: LOCAL_ACCOUNT_ID,
    messageId: sent.messageId,
    destination: [...sent.destination],
    headersTruncated: false,
    tags: {
      ...tags,
      'ses:configuration-set': [sent.configurationSet ?? ''],
      'ses:from-domain': [sent.from.split('@').pop()?.replace(/>$/, '') ?? ''],
      'ses:caller-identity': ['dmp-local'],
    },
  };
}

/** The mailbox simulator's behaviour for one recipient (`bounce+label@…` behaves as `bounce@…`). */
function simulatorOutcome(recipient: string): 'bounce' | 'complaint' | 'suppressionlist' | 'delivery' {
  const [local = '', domain = ''] = recipient.trim().toLowerCase().split('@');
  if (domain !== SIMULATOR_DOMAIN) return 'delivery';
  const box = local.split('+')[0];
  return box === 'bounce' || box === 'complaint' || box === 'suppressionlist' ? box : 'delivery';
}

/**
 * What SES publishes after a send, per recipient: Bounce (Permanent/General) for
 * `bounce@simulator.amazonses.com`, Delivery then Complaint for `complaint@…`, Bounce
 * (Permanent/OnAccountSuppressionList) for `suppressionlist@…`, Delivery for anyone else.
 */
export function deliveryEvents(sent: SentEmail, at: Date): SesEvent[] {
  const mail = mailOf(sent);
  const timestamp = at.toISOString();
  const bounce = (emailAddress: string, bounceSubType: string): SesEvent => {
    const detail = {
      bounceType: 'Permanent' as const,
      bounceSubType,
      bouncedRecipients: [{ emailAddress, action: 'failed', status: '5.1.1' }],
      timestamp,
      feedbackId: `local-${sent.messageId}`,
    };
    return { eventType: 'Bounce', mail, bounce: detail };
  };
  const delivery = (recipient: string): SesEvent => {
    const detail = {
      timestamp,
      processingTimeMillis: Math.max(0, at.getTime() - Date.parse(sent.sentAt)),
      recipients: [recipient],
      smtpResponse: '250 2.6.0 Message received',
    };
    return { eventType: 'Delivery', mail, delivery: detail };
  };
  // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch covers every outcome (TypeScript checks it)
  return sent.destination.flatMap((recipient): SesEvent[] => {
    switch (simulatorOutcome(recipient)) {
      case 'bounce':
        return [bounce(recipient, 'General')];
      case 'suppressionlist':
        return [bounce(recipient, 'OnAccountSuppressionList')];
      case 'complaint': {
        const detail = {
          complainedRecipients: [{ emailAddress: recipient }],
          complaintFeedbackType: 'abuse',
          timestamp,
          feedbackId: `local-${sent.messageId}`,
        };
        return [delivery(recipient), { eventType: 'Complaint', mail, complaint: detail }];
      }
      case 'delivery':
        return [delivery(recipient)];
    }
  });
}

/** The Open or Click event SES publishes when the recipient opens the email or follows a link. */
export function engagementEvent(sent: SentEmail, engagement: Engagement, at: Date): SesEvent {
  const mail = mailOf(sent);
  const seen = { timestamp: at.toISOString(), ipAddress: '127.0.0.1', userAgent: 'dmp-local' };
  if (engagement.kind === 'open') return { eventType: 'Open', mail, open: seen };
  const click = { ...seen, link: engagement.link, linkTags: {} };
  return { eventType: 'Click', mail, click };
}

export interface LocalSesEventsOptions {
  readonly sqs: SQSClient;
  /** The EmailFeedback queue. */
  readonly queueUrl: string;
  /** Only sends through this configuration set publish events (the EventBridge rule's filter on AWS). */
  readonly configurationSet: string;
  readonly logger: Logger;
}

export class LocalSesEvents {
  private readonly queue: SqsJsonQueue<SesEvent>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: LocalSesEventsOptions) {
    // Attributes as EventBridge sets them: none.
    this.queue = new SqsJsonQueue<SesEvent>({ client: options.sqs, queueUrl: options.queueUrl, attributesOf: () => ({}) });
  }

  private publishes(sent: SentEmail): boolean {
    return sent.configurationSet === this.options.configurationSet;
  }

  /** After a successful send: publishes its delivery outcome in the background, as SES does. */
  sent(sent: SentEmail): void {
    if (!this.publishes(sent)) return;
    const publishing = this.queue.send(deliveryEvents(sent, new Date())).catch((error: unknown) => {
      this.options.logger.error('publishing SES events failed', { messageId: sent.messageId, error });
    });
    this.pending.add(publishing);
    void publishing.finally(() => this.pending.delete(publishing));
  }

  /** A simulated open or click of a sent email (`undefined`: no such message). */
  async engage(sent: SentEmail | undefined, engagement: Engagement): Promise<EngagementResult> {
    if (!sent) return 'unknown-message';
    if (!this.publishes(sent)) return 'no-configuration-set';
    await this.queue.send([engagementEvent(sent, engagement, new Date())]);
    return 'published';
  }

  /** Waits for background publishing, so a stop does not cut it off. */
  async settle(): Promise<void> {
    await Promise.all(this.pending);
  }
}
