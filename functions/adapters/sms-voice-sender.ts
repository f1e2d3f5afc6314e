import { PinpointSMSVoiceV2ServiceException, SendTextMessageCommand, type PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SmsNotSentError, SmsRejectedError, type OutgoingSms } from '../domain/journeys/journey-send';
import type { SmsSender } from '../ports/sms-sender';

/** Errors about this message itself (an invalid or opted-out number, a body refused): it will never be sent as it is. */
const REJECTIONS = new Set(['ValidationException', 'ConflictException']);
/** An internal error does not tell whether the message went out. */
const AMBIGUOUS = new Set(['InternalServerException']);

export interface SmsSenderSettings {
  /** Phone number, sender id, pool (id or ARN) the messages go out from: `SMS_ORIGINATION_IDENTITY`. */
  readonly originationIdentity?: string;
  /** Configuration set whose event destination publishes the delivery receipts: `SMS_CONFIGURATION_SET`. */
  readonly configurationSetName?: string;
}

/** Context values: SMS allows up to 5 keys of 100 characters; ours are ids. */
const contextValue = (value: string): string => value.slice(0, 100);

/**
 * Sends one text message through AWS End User Messaging SMS (SendTextMessage), as a PROMOTIONAL
 * message (marketing: carriers and the account's spend limits treat it so), with the platform's
 * ids as `Context`, which the service copies into every delivery receipt of the message.
 */
export class SmsVoiceSender implements SmsSender {
  constructor(
    private readonly client: PinpointSMSVoiceV2Client,
    private readonly settings: SmsSenderSettings,
  ) {}

  /**
   * Throws SmsRejectedError when the service refuses the message for good (ValidationException,
   * a ConflictException such as an opted-out destination), SmsNotSentError when it answered with
   * another error (throttling, a quota, access denied, a missing identity); anything else (no
   * answer, an internal error) as is: the message may have been sent.
   */
  async send(sms: OutgoingSms): Promise<string> {
    try {
      return await this.sendOnce(sms);
    } catch (error) {
      if (!(error instanceof PinpointSMSVoiceV2ServiceException) || AMBIGUOUS.has(error.name)) throw error;
      const reason = (error as { Reason?: string }).Reason;
      const code = reason ? `${error.name}:${reason}` : error.name;
      if (!REJECTIONS.has(error.name)) throw new SmsNotSentError(code);
      throw new SmsRejectedError(code, error.name === 'ConflictException' && reason === 'DESTINATION_PHONE_NUMBER_OPTED_OUT');
    }
  }

  private async sendOnce(sms: OutgoingSms): Promise<string> {
    const output = await this.client.send(
      new SendTextMessageCommand({
        DestinationPhoneNumber: sms.to,
        MessageBody: sms.text,
        MessageType: 'PROMOTIONAL',
        Context: Object.fromEntries(
          Object.entries(sms.context)
            .slice(0, 5)
            .map(([name, value]) => [name, contextValue(value)]),
        ),
        ...(this.settings.originationIdentity && { OriginationIdentity: this.settings.originationIdentity }),
        ...(this.settings.configurationSetName && { ConfigurationSetName: this.settings.configurationSetName }),
      }),
    );
    if (!output.MessageId) throw new Error('End User Messaging SMS answered without a MessageId');
    return output.MessageId;
  }
}
