import { SendEmailCommand, SESv2ServiceException, type SESv2Client } from '@aws-sdk/client-sesv2';
import { EmailNotSentError, EmailRejectedError, type OutgoingEmail } from '../domain/journeys/journey-send';
import type { Mailer } from '../ports/mailer';

/** SES errors about this message itself: it will never be sent as it is. */
const REJECTIONS = new Set(['MessageRejected', 'BadRequestException']);
/** An internal error does not tell whether the message went out. */
const AMBIGUOUS = new Set(['InternalServiceErrorException']);

/**
 * Sends one email through SESv2 SendEmail with Simple content, so SES builds the MIME message
 * and adds the List-Unsubscribe headers given in `Headers` (RFC 8058 one-click unsubscribe).
 */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly configurationSetName?: string,
  ) {}

  /**
   * Throws EmailRejectedError when SES refuses the message for good, EmailNotSentError when it
   * answered with another error (throttling, quotas, a paused account); anything else (no answer,
   * an internal error) as is: the message may have been sent.
   */
  async send(email: OutgoingEmail): Promise<string> {
    try {
      return await this.sendOnce(email);
    } catch (error) {
      if (!(error instanceof SESv2ServiceException) || AMBIGUOUS.has(error.name)) throw error;
      throw REJECTIONS.has(error.name) ? new EmailRejectedError(error.name) : new EmailNotSentError(error.name);
    }
  }

  private async sendOnce(email: OutgoingEmail): Promise<string> {
    const output = await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: email.from,
        Destination: { ToAddresses: [email.to] },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Html: { Data: email.html, Charset: 'UTF-8' }, Text: { Data: email.text, Charset: 'UTF-8' } },
            Headers: Object.entries(email.headers).map(([Name, Value]) => ({ Name, Value })),
          },
        },
        EmailTags: Object.entries(email.tags).map(([Name, Value]) => ({ Name, Value: sesTagValue(Value) })),
        ...(this.configurationSetName && { ConfigurationSetName: this.configurationSetName }),
      }),
    );
    if (!output.MessageId) throw new Error('SES answered without a MessageId');
    return output.MessageId;
  }
}

/** SES tag values allow only ASCII letters, digits, `_`, `-`, `.` and `@`, up to 256 characters. */
function sesTagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_\-.@]/g, '_').slice(0, 256);
}
