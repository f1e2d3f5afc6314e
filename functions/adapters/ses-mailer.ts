import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import type { OutgoingEmail } from '../domain/journeys/journey-send';

/**
 * Sends one email through SESv2 SendEmail with Simple content, so SES builds the MIME message
 * and adds the List-Unsubscribe headers given in `Headers` (RFC 8058 one-click unsubscribe).
 */
export class SesMailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly configurationSetName?: string,
  ) {}

  async send(email: OutgoingEmail): Promise<string> {
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
