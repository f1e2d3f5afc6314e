import { InternalServiceErrorException, MessageRejected, SESv2Client, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { SesMailer } from '../../../functions/adapters/ses-mailer';
import { EmailNotSentError, EmailRejectedError, type OutgoingEmail } from '../../../functions/domain/journeys/journey-send';

const email: OutgoingEmail = {
  to: 'ana@shop.test',
  from: 'shop@example.com',
  subject: 'Hi',
  html: '<p>Hi</p>',
  text: 'Hi',
  headers: { 'List-Unsubscribe': '<https://cdp.test/u>' },
  tags: { journey: 'cart-abandonment', run: 'cart-1', step: 'email1', profile: 'p 1' },
};

function mailerAnswering(answer: () => Promise<unknown>): { mailer: SesMailer; sent: unknown[] } {
  const client = new SESv2Client({ region: 'us-east-1' });
  const sent: unknown[] = [];
  jest.spyOn(client, 'send').mockImplementation(async (command: { input: unknown }) => {
    sent.push(command.input);
    return answer();
  });
  return { mailer: new SesMailer(client, 'dmp-email'), sent };
}

const metadata = { $metadata: {}, message: 'test' };

describe('SES mailer', () => {
  test('sends through the configuration set with sanitized id tags and the unsubscribe headers', async () => {
    const { mailer, sent } = mailerAnswering(async () => ({ MessageId: 'ses-1' }));
    expect(await mailer.send(email)).toBe('ses-1');
    expect(sent[0]).toMatchObject({
      ConfigurationSetName: 'dmp-email',
      Destination: { ToAddresses: ['ana@shop.test'] },
      Content: { Simple: { Headers: [{ Name: 'List-Unsubscribe', Value: '<https://cdp.test/u>' }] } },
    });
    expect((sent[0] as { EmailTags: unknown[] }).EmailTags).toContainEqual({ Name: 'profile', Value: 'p_1' });
  });

  test('tells a rejection from a certain non-send from a failure that may have sent', async () => {
    await expect(mailerAnswering(() => Promise.reject(new MessageRejected(metadata))).mailer.send(email)).rejects.toBeInstanceOf(EmailRejectedError);
    await expect(mailerAnswering(() => Promise.reject(new TooManyRequestsException(metadata))).mailer.send(email)).rejects.toBeInstanceOf(EmailNotSentError);
    await expect(mailerAnswering(() => Promise.reject(new InternalServiceErrorException(metadata))).mailer.send(email)).rejects.toBeInstanceOf(
      InternalServiceErrorException,
    );
    const network = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    await expect(mailerAnswering(() => Promise.reject(network)).mailer.send(email)).rejects.toBe(network);
  });
});
