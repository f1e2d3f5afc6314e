import { Annotations, CfnOutput, Stack, Tags, Validations, type App } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Function as LambdaFunction, type IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS, type FunctionId } from '../definitions/functions';
import { deadLetterEnvNameOf, OPERATIONS_WORKFLOWS } from '../definitions/operations';
import { EMAIL_FEEDBACK_QUEUE, QUEUES, SMS_EVENTS_QUEUE } from '../definitions/queues';
import {
  AUDIENCE_EMAIL_STATE_MACHINE,
  CART_ABANDONMENT_STATE_MACHINE,
  ERASURE_STATE_MACHINE,
  LOOKALIKE_STATE_MACHINE,
  MODEL_TRAINING_STATE_MACHINE,
  PRODUCT_VIEW_STATE_MACHINE,
  SCORE_RECOMPUTE_STATE_MACHINE,
  SEGMENT_REBUILD_STATE_MACHINE,
  STATE_MACHINES,
  type StateMachineDefinition,
} from '../definitions/state-machines';
import type { DataResources } from '../constructs/dmp-function';
import { EmailFeedback } from '../constructs/email-feedback';
import { SmsConfiguration, SmsEventTopics } from '../constructs/sms-channel';
import { ErasureStateMachine } from '../constructs/erasure-state-machine';
import { ModelTrainingStateMachine } from '../constructs/model-training-state-machine';
import { ScoreRecomputeStateMachine } from '../constructs/score-recompute-state-machine';
import { PREDICTIVE_SCORE_NAMES } from '../../functions/domain/scoring/training-labels';
import { journeyConfigFrom } from '../../functions/domain/journeys/journey-config';
import { JourneyStateMachine } from '../constructs/journey-state-machine';
import { SegmentRebuildStateMachine } from '../constructs/segment-rebuild-state-machine';
import { LookalikeStateMachine } from '../constructs/lookalike-state-machine';
import { ConsoleStack } from './console-stack';
import { IngestionStack } from './ingestion-stack';
import { ObservabilityStack } from './observability-stack';
import { ProcessingStack } from './processing-stack';
import { StorageStack } from './storage-stack';

export interface Platform {
  readonly storage: StorageStack;
  readonly processing: ProcessingStack;
  readonly ingestion: IngestionStack;
  readonly observability: ObservabilityStack;
  readonly console: ConsoleStack;
}

/**
 * Defines the platform's stacks in `app` and checks them with cdk-nag (an error fails the synth).
 * Stacks are environment-agnostic, so synth needs neither credentials nor network.
 */
export function definePlatform(app: App): Platform {
  const storage = new StorageStack(app, 'DmpStorage', {
    description: 'Customer data platform: tables, queues, encryption key and credential hashes (stateful)',
  });
  const processing = new ProcessingStack(app, 'DmpProcessing', {
    description: 'Customer data platform: queue consumers and admin API functions',
    resources: storage.dataResources,
  });
  const ingestion = new IngestionStack(app, 'DmpIngestion', {
    description: 'Customer data platform: public HTTP API and ingest function',
    resources: storage.dataResources,
    functions: processing.functions,
  });
  const functions = new Map<FunctionId, IFunction>([...processing.functions, ...ingestion.functions]);
  const rebuild = addSegmentRebuild(processing, functions);
  const lookalike = addLookalike(processing, functions);
  const recompute = addScoreRecompute(processing, functions);
  const training = addModelTraining(processing, functions);
  const erasure = addErasure(processing, functions);
  allowWebhookSecrets(processing, functions);
  const journeys = addJourneys(app, processing, functions);
  const emailFeedback = addEmailFeedback(app, processing, storage.dataResources, functions);
  addSmsChannel(app, storage, processing, functions);
  const stateMachines = new Map<string, IStateMachine>([
    [SEGMENT_REBUILD_STATE_MACHINE.id, rebuild.stateMachine],
    [LOOKALIKE_STATE_MACHINE.id, lookalike.stateMachine],
    [SCORE_RECOMPUTE_STATE_MACHINE.id, recompute.stateMachine],
    [MODEL_TRAINING_STATE_MACHINE.id, training.stateMachine],
    [ERASURE_STATE_MACHINE.id, erasure.stateMachine],
    ...journeys,
  ]);
  allowOperations(storage, stateMachines, functions);
  const unmonitored = STATE_MACHINES.filter((definition) => !stateMachines.has(definition.id));
  if (unmonitored.length > 0) throw new Error(`state machines not built: ${unmonitored.map(({ id }) => id).join(', ')}`);
  const unbuilt = FUNCTIONS.filter((definition) => !functions.has(definition.id));
  if (unbuilt.length > 0) throw new Error(`functions not placed in any stack: ${unbuilt.map(({ id }) => id).join(', ')}`);
  const observability = new ObservabilityStack(app, 'DmpObservability', {
    description: 'Customer data platform: alarms, alarm topic and dashboard',
    queues: storage.queues,
    functions,
    httpApi: ingestion.httpApi,
    stateMachines,
    eventRules: new Map([['SesEvents', emailFeedback.rule]]),
  });
  const marketerConsole = new ConsoleStack(app, 'DmpConsole', {
    description: 'Customer data platform: marketer console (S3 and CloudFront, which also routes /v1/* to the HTTP API)',
    httpApi: ingestion.httpApi,
  });

  Tags.of(app).add('project', 'serverless-cdp');
  Tags.of(storage).add('data-classification', 'personal-data');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { storage, processing, ingestion, observability, console: marketerConsole };
}

/** The one task function of a state machine, as built. */
function taskFunctionOf(definition: StateMachineDefinition, functions: ReadonlyMap<FunctionId, IFunction>): IFunction {
  const [taskFunctionId] = definition.taskFunctions;
  const taskFunction = taskFunctionId && functions.get(taskFunctionId);
  if (!taskFunction) throw new Error(`state machine ${definition.id}: task function ${String(taskFunctionId)} is not built`);
  return taskFunction;
}

/** A function that starts a state machine, as built (its environment and role get the machine). */
function starterOf(definition: StateMachineDefinition, starterId: FunctionId, functions: ReadonlyMap<FunctionId, IFunction>): LambdaFunction {
  const starter = functions.get(starterId);
  if (!(starter instanceof LambdaFunction)) throw new Error(`state machine ${definition.id}: starter ${starterId} is not built`);
  return starter;
}

/** Gives each starter of a state machine its ARN and the right to start it. */
function allowStarters(definition: StateMachineDefinition, stateMachine: IStateMachine, functions: ReadonlyMap<FunctionId, IFunction>): void {
  for (const starterId of definition.startedBy) {
    const starter = starterOf(definition, starterId, functions);
    starter.addEnvironment(definition.envName, stateMachine.stateMachineArn);
    stateMachine.grantStartExecution(starter);
  }
}

/** The nightly score recompute (state machine and its 03:00 UTC schedule), beside its task function; a model promotion or rollback starts it too. */
function addScoreRecompute(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): ScoreRecomputeStateMachine {
  const definition = SCORE_RECOMPUTE_STATE_MACHINE;
  const taskFunction = taskFunctionOf(definition, functions);
  const recompute = new ScoreRecomputeStateMachine(processing, definition.id, { taskFunction, logicalId: definition.id });
  allowStarters(definition, recompute.stateMachine, functions);
  return recompute;
}

/** Retraining the predictive scores (state machine and a weekly schedule per score), beside its task function and its starter (the Models API). */
function addModelTraining(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): ModelTrainingStateMachine {
  const definition = MODEL_TRAINING_STATE_MACHINE;
  const taskFunction = taskFunctionOf(definition, functions);
  const training = new ModelTrainingStateMachine(processing, definition.id, { taskFunction, logicalId: definition.id, scores: PREDICTIVE_SCORE_NAMES });
  allowStarters(definition, training.stateMachine, functions);
  return training;
}

/** The erasure job's state machine, beside its task function and its starter (the Profile API). */
function addErasure(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): ErasureStateMachine {
  const definition = ERASURE_STATE_MACHINE;
  const taskFunction = taskFunctionOf(definition, functions);
  const erasure = new ErasureStateMachine(processing, definition.id, { taskFunction, logicalId: definition.id });
  allowStarters(definition, erasure.stateMachine, functions);
  return erasure;
}

/**
 * The segment rebuild state machine and its schedule group live in the processing stack, beside
 * their task function and their starter: in a stack of their own they would reference the task
 * function's ARN while the starter (segmentApi) references the state machine's, a cycle.
 */
function addSegmentRebuild(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): SegmentRebuildStateMachine {
  const definition = SEGMENT_REBUILD_STATE_MACHINE;
  const taskFunction = taskFunctionOf(definition, functions);
  const rebuild = new SegmentRebuildStateMachine(processing, definition.id, { taskFunction, logicalId: definition.id });
  for (const starterId of definition.startedBy) {
    const starter = starterOf(definition, starterId, functions);
    starter.addEnvironment(definition.envName, rebuild.stateMachine.stateMachineArn);
    starter.addEnvironment('SEGMENT_SCHEDULE_GROUP', rebuild.scheduleGroup.scheduleGroupName);
    starter.addEnvironment('SCHEDULER_ROLE_ARN', rebuild.schedulerRole.roleArn);
    rebuild.stateMachine.grantStartExecution(starter);
    // Run status for GET /v1/segments/{id}/runs/{runId}.
    rebuild.stateMachine.grantExecution(starter, 'states:DescribeExecution');
    // Per-segment schedules: create, update, read and delete them in the group, as the scheduler role.
    rebuild.scheduleGroup.grantWriteSchedules(starter);
    rebuild.scheduleGroup.grantReadSchedules(starter);
    rebuild.scheduleGroup.grantDeleteSchedules(starter);
    rebuild.schedulerRole.grantPassRole(starter.grantPrincipal);
    const groupName = String(processing.resolve(rebuild.scheduleGroup.scheduleGroupName));
    Validations.of(starter.role ?? starter).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${definition.id}"}]}]}:*]`,
        reason: 'Describes executions of the rebuild state machine only; their names are chosen per run.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${groupName}/*]`,
        reason: "Manages the per-segment rebuild schedules, only inside the platform's own schedule group.",
      },
    );
  }
  return rebuild;
}

/**
 * The lookalike state machine, beside its task function and its starter (the segments API, which
 * also keeps each lookalike's refresh schedule in the segments' schedule group).
 */
function addLookalike(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): LookalikeStateMachine {
  const definition = LOOKALIKE_STATE_MACHINE;
  const taskFunction = taskFunctionOf(definition, functions);
  const lookalike = new LookalikeStateMachine(processing, definition.id, { taskFunction, logicalId: definition.id });
  for (const starterId of definition.startedBy) {
    const starter = starterOf(definition, starterId, functions);
    starter.addEnvironment(definition.envName, lookalike.stateMachine.stateMachineArn);
    starter.addEnvironment('LOOKALIKE_SCHEDULER_ROLE_ARN', lookalike.schedulerRole.roleArn);
    lookalike.stateMachine.grantStartExecution(starter);
    lookalike.schedulerRole.grantPassRole(starter.grantPrincipal);
    // The schedules live in the rebuild's group, which the starter already manages.
    if (!definition.startedBy.every((id) => SEGMENT_REBUILD_STATE_MACHINE.startedBy.includes(id))) {
      throw new Error('lookalike schedules share the segment schedule group: their starters must be the rebuild starters');
    }
  }
  return lookalike;
}

/**
 * The journey state machines, beside their send task and their starter in the processing stack
 * (same cycle reasoning as the rebuild). The public URL of unsubscribe links comes from context
 * `dmp:publicUrl` (the API's custom domain): the API's own URL would make processing depend on
 * ingestion, which already depends on processing.
 */
function addJourneys(app: App, processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): Map<string, IStateMachine> {
  const built = (id: FunctionId): LambdaFunction => {
    const fn = functions.get(id);
    if (!(fn instanceof LambdaFunction)) throw new Error(`journeys: function ${id} is not built`);
    return fn;
  };
  const sender = built('journeySend');
  const journeys = [
    {
      definition: CART_ABANDONMENT_STATE_MACHINE,
      steps: [
        { step: 'email1', delaySecondsPath: '$.delays.firstSeconds' },
        { step: 'email2', delaySecondsPath: '$.delays.secondSeconds' },
      ],
    },
    { definition: PRODUCT_VIEW_STATE_MACHINE, steps: [{ step: 'promotion' }] },
    { definition: AUDIENCE_EMAIL_STATE_MACHINE, steps: [{ step: 'audience', delaySecondsPath: '$.delays.seconds' }] },
  ];
  const stateMachines = new Map<string, IStateMachine>();
  for (const { definition, steps } of journeys) {
    const journey = new JourneyStateMachine(processing, definition.id, { sendFunction: sender, logicalId: definition.id, steps });
    stateMachines.set(definition.id, journey.stateMachine);
    for (const starterId of definition.startedBy) {
      const starter = built(starterId);
      starter.addEnvironment(definition.envName, journey.stateMachine.stateMachineArn);
      journey.stateMachine.grantStartExecution(starter);
      journey.stateMachine.grantExecution(starter, 'states:StopExecution');
      Validations.of(starter.role ?? starter).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${definition.id}"}]}]}:*]`,
        reason: 'Stops runs of this journey only; their names are derived per profile and cart.',
      });
    }
    for (const stopperId of definition.stoppedBy ?? []) {
      const stopper = built(stopperId);
      stopper.addEnvironment(definition.envName, journey.stateMachine.stateMachineArn);
      journey.stateMachine.grantExecution(stopper, 'states:StopExecution');
      Validations.of(stopper.role ?? stopper).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${definition.id}"}]}]}:*]`,
        reason: "Stops runs of this journey only (an erased person's); their names are derived per profile and cart.",
      });
    }
  }
  const journeyConfig = journeyConfigOf(app);
  if (journeyConfig !== undefined) {
    for (const id of JOURNEY_CONFIG_READERS) built(id).addEnvironment('DMP_JOURNEY_CONFIG', journeyConfig);
  }
  const publicUrl = app.node.tryGetContext('dmp:publicUrl') as string | undefined;
  if (!publicUrl)
    Annotations.of(processing).addWarning('context dmp:publicUrl is not set: journey emails cannot carry unsubscribe links, so journey sends fail until it is');
  // The unsubscribe and pseudonym secrets come with the functions' definitions (secureParameters).
  for (const fn of [sender, built('unsubscribe')]) fn.addEnvironment('DMP_PUBLIC_URL', publicUrl ?? '');
  allowSendingFrom(app, processing, sender, journeyConfigFrom(journeyConfig).from);
  return stateMachines;
}

/** The journeys' configuration on AWS (DMP_JOURNEY_CONFIG locally): context `dmp:journeyConfig`, an object in cdk.json or JSON text with `-c`. */
export const JOURNEY_CONFIG_CONTEXT = 'dmp:journeyConfig';

/**
 * Lambda holds at most 4 KB of environment per function, names and the other variables included:
 * the configuration gets the share the functions' own settings leave (templates of a few
 * paragraphs each fit).
 */
export const JOURNEY_CONFIG_MAX_BYTES = 3_000;

/** The functions that read the journeys' configuration: the sends, the trigger's delays and cap, the unsubscribe page, the Journeys API. */
const JOURNEY_CONFIG_READERS: readonly FunctionId[] = ['journeySend', 'journeyTrigger', 'unsubscribe', 'reportApi'];

/** The configured journeys as DMP_JOURNEY_CONFIG's JSON, validated here so a wrong one fails the synth, not a send. */
function journeyConfigOf(app: App): string | undefined {
  const value: unknown = app.node.tryGetContext(JOURNEY_CONFIG_CONTEXT);
  if (value === undefined) return undefined;
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  try {
    journeyConfigFrom(json);
  } catch (error) {
    throw new Error(`context ${JOURNEY_CONFIG_CONTEXT}: ${(error as Error).message}`);
  }
  const minified = JSON.stringify(JSON.parse(json));
  const bytes = Buffer.byteLength(minified);
  if (bytes > JOURNEY_CONFIG_MAX_BYTES) {
    throw new Error(
      `context ${JOURNEY_CONFIG_CONTEXT} takes ${bytes} bytes, more than the ${JOURNEY_CONFIG_MAX_BYTES} a Lambda environment leaves it: shorten the templates`,
    );
  }
  return minified;
}

/** The SES identity journey emails are sent from: context `dmp:sesIdentity` (a verified domain or address). */
export const SES_IDENTITY_CONTEXT = 'dmp:sesIdentity';

/**
 * SESv2 SendEmail is authorized on the sending identity (and on the configuration set, see
 * EmailFeedback.grantSendThrough). Only the configured identity: for an address, the address and
 * its domain (SES authorizes on the address when it is verified itself, else on its domain).
 * Without the context the sender may send from no identity and a warning says so.
 */
function allowSendingFrom(app: App, processing: ProcessingStack, sender: LambdaFunction, from: string): void {
  const identity = (app.node.tryGetContext(SES_IDENTITY_CONTEXT) as string | undefined)?.trim().toLowerCase();
  if (!identity) {
    Annotations.of(processing).addWarning(
      `context ${SES_IDENTITY_CONTEXT} is not set: journeySend may send from no SES identity, so journey emails fail until it is (the verified domain or address of DMP_JOURNEY_CONFIG's from)`,
    );
    return;
  }
  if (!/^([^\s@*]+@)?[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(identity))
    throw new Error(`context ${SES_IDENTITY_CONTEXT} must be a domain or an email address, not ${identity}`);
  const domain = identity.includes('@') ? identity.slice(identity.indexOf('@') + 1) : identity;
  const identities = [...new Set([identity, domain])];
  const address = from.trim().toLowerCase();
  if (address !== identity && !address.endsWith(`@${domain}`)) {
    Annotations.of(processing).addWarning(
      `the journeys send from ${from} (context ${JOURNEY_CONFIG_CONTEXT}'s from), which context ${SES_IDENTITY_CONTEXT} (${identity}) does not cover: journey emails fail until one of them changes`,
    );
  }
  sender.addToRolePolicy(
    new PolicyStatement({
      actions: ['ses:SendEmail'],
      resources: identities.map((name) => Stack.of(processing).formatArn({ service: 'ses', resource: 'identity', resourceName: name })),
    }),
  );
}

/**
 * The SES configuration set journey emails go through and its feedback path to the emailFeedback
 * function (EventBridge rule → EmailFeedback queue). The name comes from context
 * `dmp:sesConfigurationSet`, else CloudFormation generates one.
 */
function addEmailFeedback(app: App, processing: ProcessingStack, resources: DataResources, functions: ReadonlyMap<FunctionId, IFunction>): EmailFeedback {
  const queue = resources.queues.get(EMAIL_FEEDBACK_QUEUE.id);
  const sender = functions.get('journeySend');
  if (!queue || !(sender instanceof LambdaFunction)) throw new Error('email feedback: the EmailFeedback queue or the journeySend function is not built');
  const configurationSetName = app.node.tryGetContext('dmp:sesConfigurationSet') as string | undefined;
  const feedback = new EmailFeedback(processing, 'EmailFeedbackEvents', { queue, ...(configurationSetName && { configurationSetName }) });
  sender.addEnvironment('SES_CONFIGURATION_SET', feedback.configurationSet.configurationSetName);
  feedback.grantSendThrough(sender);
  return feedback;
}

/** The End User Messaging SMS origination identity texts go out from: context `dmp:smsOriginationIdentity`. */
export const SMS_ORIGINATION_IDENTITY_CONTEXT = 'dmp:smsOriginationIdentity';

/**
 * The ARN SendTextMessage is authorized on for an origination identity: an ARN as given, or the
 * id of a phone number (`phone-…`) or a pool (`pool-…`). A bare number or sender id cannot name
 * its ARN (its id is not the number): refused, naming what to give instead.
 */
export function originationIdentityArn(stack: Stack, identity: string): string {
  if (/^arn:aws[a-z-]*:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool|sender-id)\/\S+$/.test(identity)) return identity;
  const [, kind] = /^(phone|pool)-[a-z0-9]+$/i.exec(identity) ?? [];
  if (!kind) {
    throw new Error(
      `context ${SMS_ORIGINATION_IDENTITY_CONTEXT} must be a phone number id (phone-…), a pool id (pool-…) or an origination identity ARN, not ${identity}`,
    );
  }
  return stack.formatArn({ service: 'sms-voice', resource: kind === 'pool' ? 'pool' : 'phone-number', resourceName: identity });
}

/**
 * The SMS channel (README "SMS"): the receipts and inbound topics beside the SmsEvents queue, the
 * configuration set journeySend texts through (context `dmp:smsConfigurationSet` names it), and
 * journeySend's right to send through it from the configured origination identity only. The
 * inbound topic's ARN is an output: the origination number's two-way channel is set to it (numbers
 * are bought and registered outside CloudFormation).
 */
function addSmsChannel(app: App, storage: StorageStack, processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): void {
  const queues = storage.queues.get(SMS_EVENTS_QUEUE.id);
  const sender = functions.get('journeySend');
  if (!queues || !(sender instanceof LambdaFunction)) throw new Error('sms: the SmsEvents queue or the journeySend function is not built');
  const topics = new SmsEventTopics(storage, 'SmsEventTopics', {
    queue: queues.queue,
    deadLetterQueue: queues.deadLetterQueue,
    encryptionKey: storage.dataKey,
  });
  new CfnOutput(storage, 'SmsInboundTopicArn', {
    value: topics.inbound.topicArn,
    description: 'Set as the two-way channel (TwoWayChannelArn) of the SMS origination number: STOP replies reach the platform',
  });
  const configurationSetName = app.node.tryGetContext('dmp:smsConfigurationSet') as string | undefined;
  const sms = new SmsConfiguration(processing, 'SmsConfiguration', {
    receiptsTopicArn: topics.receipts.topicArn,
    ...(configurationSetName && { configurationSetName }),
  });
  sender.addEnvironment('SMS_CONFIGURATION_SET', sms.configurationSetName);
  const identity = (app.node.tryGetContext(SMS_ORIGINATION_IDENTITY_CONTEXT) as string | undefined)?.trim();
  if (identity) sender.addEnvironment('SMS_ORIGINATION_IDENTITY', identity);
  else {
    Annotations.of(processing).addWarning(
      `context ${SMS_ORIGINATION_IDENTITY_CONTEXT} is not set: journeySend may text from no origination identity, so SMS journeys fail until it is (a phone number or pool id, or an ARN)`,
    );
  }
  sms.grantSendThrough(sender, identity ? [originationIdentityArn(processing, identity)] : []);
}

/**
 * The Operations API reads, and only reads: the depth of every queue and its DLQ
 * (sqs:GetQueueAttributes on those queues) and the executions of the batch workflows
 * (states:ListExecutions on those state machines), their URLs and ARNs in its environment.
 */
function allowOperations(storage: StorageStack, stateMachines: ReadonlyMap<string, IStateMachine>, functions: ReadonlyMap<FunctionId, IFunction>): void {
  const reader = functions.get('operationsApi');
  if (!(reader instanceof LambdaFunction)) throw new Error('the operationsApi function is not built');
  for (const definition of QUEUES) {
    const pair = storage.queues.get(definition.id);
    if (!pair) throw new Error(`operations: queue ${definition.id} is not built`);
    reader.addEnvironment(definition.envName, pair.queue.queueUrl);
    reader.addEnvironment(deadLetterEnvNameOf(definition), pair.deadLetterQueue.queueUrl);
    for (const queue of [pair.queue, pair.deadLetterQueue]) queue.grant(reader, 'sqs:GetQueueAttributes');
  }
  for (const definition of OPERATIONS_WORKFLOWS) {
    const stateMachine = stateMachines.get(definition.id);
    if (!stateMachine) throw new Error(`operations: state machine ${definition.id} is not built`);
    reader.addEnvironment(definition.envName, stateMachine.stateMachineArn);
    stateMachine.grant(reader, 'states:ListExecutions');
  }
}

/** SSM parameters (SecureString) holding webhook signing secrets: a destination's `secretRef` names one under this path. */
export const WEBHOOK_SECRET_PARAMETER_PATH = '/dmp/webhooks/';

/** The activation function reads the signing secrets of webhook destinations, and nothing else in SSM. */
function allowWebhookSecrets(processing: ProcessingStack, functions: ReadonlyMap<FunctionId, IFunction>): void {
  const activation = functions.get('activation');
  if (!(activation instanceof LambdaFunction)) throw new Error('the activation function is not built');
  activation.addToRolePolicy(
    new PolicyStatement({
      actions: ['ssm:GetParameter'],
      resources: [processing.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${WEBHOOK_SECRET_PARAMETER_PATH.slice(1)}*` })],
    }),
  );
  Validations.of(activation.role ?? activation).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${WEBHOOK_SECRET_PARAMETER_PATH.slice(1)}*]`,
    reason: 'Webhook secrets are created per destination by operators; the function may read only that path.',
  });
}
