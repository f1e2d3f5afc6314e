import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { FUNCTIONS, functionDefinition, type FunctionId } from '../definitions/functions';
import { QUEUES } from '../definitions/queues';
import { DmpFunction, type DataResources } from '../constructs/dmp-function';
import { INGESTION_FUNCTION_IDS } from './ingestion-stack';

/** AWS guidance for SQS event sources: visibility timeout at least six times the function timeout. */
const VISIBILITY_TO_TIMEOUT_RATIO = 6;

export interface ProcessingStackProps extends StackProps {
  /** Tables, queues and secret parameters of the storage stack. */
  readonly resources: DataResources;
}

/**
 * Every function that is not on the ingestion path: the queue consumers, each draining its queue
 * through an SQS event source with partial batch failures, and the admin APIs.
 */
export class ProcessingStack extends Stack {
  public readonly functions: ReadonlyMap<FunctionId, IFunction>;

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const functions = new Map<FunctionId, IFunction>();
    for (const definition of FUNCTIONS.filter((candidate) => !INGESTION_FUNCTION_IDS.includes(candidate.id))) {
      const { function: fn } = new DmpFunction(this, definition.id, { definition, resources: props.resources });
      functions.set(definition.id, fn);
    }

    for (const queueDefinition of QUEUES) {
      const { consumer } = queueDefinition;
      const consumerFunction = functions.get(consumer.functionId);
      const queue: IQueue | undefined = props.resources.queues.get(queueDefinition.id);
      if (!consumerFunction || !queue) {
        throw new Error(`queue ${queueDefinition.id} or its consumer ${consumer.functionId} is not in this stack`);
      }
      const consumerTimeoutSeconds = functionDefinition(consumer.functionId).timeoutSeconds;
      if (queueDefinition.visibilityTimeoutSeconds < VISIBILITY_TO_TIMEOUT_RATIO * consumerTimeoutSeconds) {
        throw new Error(`queue ${queueDefinition.id}: visibility timeout must be at least ${VISIBILITY_TO_TIMEOUT_RATIO}x the ${consumer.functionId} timeout`);
      }
      if (consumer.batchSize > 10 && consumer.maxBatchingWindowSeconds < 1) {
        throw new Error(`queue ${queueDefinition.id}: a batch of more than 10 messages needs a batching window of at least 1 s (SQS event sources)`);
      }
      consumerFunction.addEventSource(
        new SqsEventSource(queue, {
          batchSize: consumer.batchSize,
          maxBatchingWindow: Duration.seconds(consumer.maxBatchingWindowSeconds),
          maxConcurrency: consumer.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
    }
    this.functions = functions;
  }
}
