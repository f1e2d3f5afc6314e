import { Tags, Validations, type App } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FUNCTIONS, type FunctionId } from '../definitions/functions';
import { IngestionStack } from './ingestion-stack';
import { ObservabilityStack } from './observability-stack';
import { ProcessingStack } from './processing-stack';
import { StorageStack } from './storage-stack';

export interface Platform {
  readonly storage: StorageStack;
  readonly processing: ProcessingStack;
  readonly ingestion: IngestionStack;
  readonly observability: ObservabilityStack;
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
  const unbuilt = FUNCTIONS.filter((definition) => !functions.has(definition.id));
  if (unbuilt.length > 0) throw new Error(`functions not placed in any stack: ${unbuilt.map(({ id }) => id).join(', ')}`);
  const observability = new ObservabilityStack(app, 'DmpObservability', {
    description: 'Customer data platform: alarms, alarm topic and dashboard',
    queues: storage.queues,
    functions,
    httpApi: ingestion.httpApi,
  });

  Tags.of(app).add('project', 'serverless-cdp');
  Tags.of(storage).add('data-classification', 'personal-data');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { storage, processing, ingestion, observability };
}
