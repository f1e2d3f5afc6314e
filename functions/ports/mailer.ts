import type { OutgoingEmail } from '../domain/journeys/journey-send';

/**
 * Sends one email; answers the mail service's message id. Throws EmailRejectedError when retrying
 * cannot help, EmailNotSentError when it certainly did not go out.
 */
export interface Mailer {
  send(email: OutgoingEmail): Promise<string>;
}
