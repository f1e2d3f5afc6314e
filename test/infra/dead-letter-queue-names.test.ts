import type { CfnElement } from 'aws-cdk-lib';
import { cloudFormationQueuePrefixes } from '../../functions/adapters/sqs-dead-letter-replay';
import { QUEUES } from '../../lib/definitions/queues';
import { StorageStack } from '../../lib/stacks/storage-stack';
import { newTestApp, required } from './platform-fixture';

/**
 * `npm run dlq` finds a deployed queue pair by the names CloudFormation generates from the stack
 * name and logical ids (`<stack>-<logical id>-<random>`): the logical ids must keep the shape it
 * looks for, and no queue's prefix may match another queue.
 */
describe('queue names npm run dlq looks up on AWS', () => {
  const storage = new StorageStack(newTestApp(), 'DmpStorage');
  const physicalNamePrefix = (element: { node: { defaultChild?: unknown } }): string =>
    `${storage.stackName}-${storage.getLogicalId(element.node.defaultChild as CfnElement)}`;
  const allPrefixes = QUEUES.flatMap((definition) => {
    const pair = required(storage.queues, definition.id);
    return [physicalNamePrefix(pair.queue), physicalNamePrefix(pair.deadLetterQueue)];
  });

  it.each(QUEUES)('$id: the queue and its DLQ are named by the prefixes, which match nothing else', (definition) => {
    const pair = required(storage.queues, definition.id);
    const prefixes = cloudFormationQueuePrefixes(storage.stackName, definition.id);
    expect(physicalNamePrefix(pair.deadLetterQueue)).toMatch(new RegExp(`^${prefixes.deadLetter}[0-9A-F]{8}$`));
    expect(physicalNamePrefix(pair.queue)).toMatch(new RegExp(`^${prefixes.source}[0-9A-F]{8}$`));
    expect(allPrefixes.filter((name) => name.startsWith(prefixes.deadLetter))).toHaveLength(1);
    // CloudFormation keeps generated names within SQS's 80 characters by shortening long ones.
    expect(`${physicalNamePrefix(pair.deadLetterQueue)}-XXXXXXXXXXXXX`.length).toBeLessThanOrEqual(80);
  });
});
