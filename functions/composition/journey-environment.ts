import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { journeyConfigFrom, type JourneyConfig } from '../domain/journeys/journey-config';
import { DynamoJourneyStore } from '../adapters/dynamodb-journey-store';
import { DynamoScoreStore } from '../adapters/dynamodb-score-store';
import { profileEnvironment } from './profile-environment';
import { pseudonymsFromEnvironment, secretFromEnvironment } from '../adapters/secure-parameter';
import { SesMailer } from '../adapters/ses-mailer';
import { SmsVoiceSender } from '../adapters/sms-voice-sender';
import { stateMachineArnFromEnv, StepFunctionsWorkflow } from '../adapters/step-functions-runs';
import { CART_ABANDONMENT_STATE_MACHINE, PRODUCT_VIEW_STATE_MACHINE } from '../../lib/definitions/state-machines';
import type { WorkflowRuns } from '../ports/workflow-runs';
import type { JourneyStore } from '../ports/journey-store';
import type { Mailer } from '../ports/mailer';
import type { SmsSender } from '../ports/sms-sender';
import type { ScoreStore } from '../ports/score-store';
import type { SegmentStore } from '../ports/segment-store';

/**
 * What the journey functions need, from their environment:
 * - `DMP_JOURNEY_CONFIG`: JSON overriding the journey configuration (validated at load);
 * - `DMP_PUBLIC_URL`: base URL of the public API, for unsubscribe links;
 * - `DMP_UNSUBSCRIBE_SECRET` (local) or `DMP_UNSUBSCRIBE_SECRET_PARAMETER` (an SSM SecureString on AWS);
 * - `DMP_PSEUDONYM_SECRET` (local) or `DMP_PSEUDONYM_SECRET_PARAMETER` (idem), keying the address
 *   pseudonyms of unsubscribe and suppression records (see secure-parameter.ts);
 * - `SES_CONFIGURATION_SET` (optional), the state machine ARNs and the profiles table;
 * - `SMS_ORIGINATION_IDENTITY` (the phone number, sender id or pool texts go out from; without it
 *   End User Messaging SMS picks one of the account's) and `SMS_CONFIGURATION_SET` (whose event
 *   destination publishes the delivery receipts), both optional.
 */
export interface JourneyEnvironment {
  readonly config: JourneyConfig;
  readonly journeys: JourneyStore;
  readonly scores: ScoreStore;
  readonly segments: SegmentStore;
  readonly mailer: Mailer;
  readonly sms: SmsSender;
  readonly cartRuns: WorkflowRuns;
  readonly promotionRuns: WorkflowRuns;
  readonly publicUrl: string;
  unsubscribeSecret(): Promise<string>;
}

let journeyStore: DynamoJourneyStore | undefined;

/** The journey store alone (the email feedback function needs no sender settings), once per container. */
export function journeyStoreFromEnvironment(env: NodeJS.ProcessEnv = process.env): JourneyStore {
  if (journeyStore) return journeyStore;
  const { dynamo, tableName, retention } = profileEnvironment(env);
  journeyStore = new DynamoJourneyStore(dynamo, tableName, pseudonymsFromEnvironment(env), retention.journeySteps);
  return journeyStore;
}

let cached: JourneyEnvironment | undefined;

export function journeyEnvironment(env: NodeJS.ProcessEnv = process.env): JourneyEnvironment {
  if (cached) return cached;
  const { dynamo, tableName, segments } = profileEnvironment(env);
  const publicUrl = env.DMP_PUBLIC_URL;
  if (!publicUrl) throw new Error('DMP_PUBLIC_URL is not set');
  const unsubscribeSecret = secretFromEnvironment(env, 'DMP_UNSUBSCRIBE_SECRET');
  const sfn = new SFNClient({});
  cached = {
    config: journeyConfigFrom(env.DMP_JOURNEY_CONFIG),
    journeys: journeyStoreFromEnvironment(env),
    scores: new DynamoScoreStore(dynamo, tableName),
    segments: segments,
    mailer: new SesMailer(new SESv2Client({}), env.SES_CONFIGURATION_SET || undefined),
    sms: new SmsVoiceSender(new PinpointSMSVoiceV2Client({}), {
      ...(env.SMS_ORIGINATION_IDENTITY && { originationIdentity: env.SMS_ORIGINATION_IDENTITY }),
      ...(env.SMS_CONFIGURATION_SET && { configurationSetName: env.SMS_CONFIGURATION_SET }),
    }),
    cartRuns: new StepFunctionsWorkflow(sfn, () => stateMachineArnFromEnv(CART_ABANDONMENT_STATE_MACHINE.envName, env)),
    promotionRuns: new StepFunctionsWorkflow(sfn, () => stateMachineArnFromEnv(PRODUCT_VIEW_STATE_MACHINE.envName, env)),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    unsubscribeSecret,
  };
  return cached;
}
