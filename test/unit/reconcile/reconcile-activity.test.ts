import type { Context, SQSEvent } from 'aws-lambda';
import type { DayIncrements } from '../../../functions/domain/operations/activity';
import { DEFAULT_IDENTITY_CONFIG } from '../../../functions/domain/identity/identity-config';
import { parsePurposeConfig } from '../../../functions/domain/privacy/purposes';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import { handler } from '../../../functions/handlers/reconcile';
import { InMemoryReconcileStore } from '../../helpers/in-memory-reconcile-store';
import { acceptedMessage } from '../../helpers/messages';

/**
 * The reconcile consumer's activity counters: one write per batch and UTC day with the applied
 * messages and the profiles they merged, never failing the batch when the write fails.
 */
const store = new InMemoryReconcileStore();
const added: DayIncrements[][] = [];
const addActivity = jest.fn(async (days: readonly DayIncrements[]) => {
  added.push([...days]);
});
const sent = jest.fn(async () => undefined);

jest.mock('../../../functions/composition/profile-environment', () => ({
  profileEnvironment: () => ({ store, identityConfig: DEFAULT_IDENTITY_CONFIG, purposeConfig: parsePurposeConfig(undefined) }),
}));
jest.mock('../../../functions/composition/operations', () => ({ activityCounters: () => ({ add: addActivity }) }));
jest.mock('../../../functions/composition/pipeline-queues', () => ({
  profileChangesQueue: () => ({ send: sent }),
  journeyEventsQueue: () => ({ send: sent }),
}));

const context = { functionName: 'reconcile', awsRequestId: 'test' } as Context;

function batch(messages: readonly AcceptedMessage[]): SQSEvent {
  return {
    Records: messages.map((message, index) => ({
      messageId: `sqs-${message.messageId}-${index}`,
      receiptHandle: 'r',
      body: JSON.stringify(message),
      attributes: {} as SQSEvent['Records'][number]['attributes'],
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:Events',
      awsRegion: 'eu-west-1',
    })),
  };
}

beforeEach(() => {
  added.length = 0;
  addActivity.mockClear();
  sent.mockClear();
});

const at = '2026-11-20T10:15:00.000Z';

test('one write per batch: applied messages in the hour they were received, merges counted, duplicates not', async () => {
  const anonymous = acceptedMessage({ type: 'page', anonymousId: 'anon-activity', receivedAt: at });
  const known = acceptedMessage({ type: 'identify', userId: 'u-activity', receivedAt: at });
  const first = await handler(batch([anonymous, known]), context);
  expect(first.batchItemFailures).toEqual([]);
  expect(added).toEqual([[{ day: '2026-11-20', increments: { 'events:10': 2 } }]]);

  // The login links both: one profile merges into the other. The page again is a duplicate.
  const login = acceptedMessage({ type: 'identify', userId: 'u-activity', anonymousId: 'anon-activity', receivedAt: '2026-11-20T11:00:00.000Z' });
  await handler(batch([login, anonymous]), context);
  expect(addActivity).toHaveBeenCalledTimes(2);
  expect(added[1]).toEqual([{ day: '2026-11-20', increments: { 'events:11': 1, 'merges:11': 1 } }]);
});

test('a failed counter write is swallowed: the batch succeeds and its changes are still sent', async () => {
  addActivity.mockRejectedValueOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
  const response = await handler(batch([acceptedMessage({ type: 'track', event: 'Viewed', anonymousId: 'anon-failing', receivedAt: at })]), context);
  expect(response.batchItemFailures).toEqual([]);
  expect(addActivity).toHaveBeenCalledTimes(1);
  expect(sent).toHaveBeenCalled();
});

test('a batch with nothing applied writes nothing', async () => {
  const message = acceptedMessage({ type: 'track', event: 'Viewed', anonymousId: 'anon-twice', receivedAt: at });
  await handler(batch([message]), context);
  addActivity.mockClear();
  await handler(batch([message]), context);
  expect(addActivity).not.toHaveBeenCalled();
});
