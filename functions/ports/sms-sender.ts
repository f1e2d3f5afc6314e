import type { OutgoingSms } from '../domain/journeys/journey-send';

/**
 * Sends one text message; answers the SMS service's message id. Throws SmsRejectedError when
 * retrying cannot help, SmsNotSentError when it certainly did not go out (see the Mailer port).
 */
export interface SmsSender {
  send(sms: OutgoingSms): Promise<string>;
}
