import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoJourneyStore } from '../../../functions/adapters/dynamodb-journey-store';

/** The cancellation reasons the counter transactions act on (DynamoDB Local never produces conflicts). */
const dynamo = mockClient(DynamoDBDocumentClient);
const store = new DynamoJourneyStore(new DynamoDBClient({}), 'profiles');
const count = { journeyKey: 'cart-abandonment', day: '2026-03-01', counter: 'opened:email1', sesMessageId: 'ses-1', kind: 'open' as const };
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({ message: 'cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });

beforeEach(() => dynamo.reset());

test('a conflict on the shared counter item is retried until the transaction goes through', async () => {
  dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('None', 'TransactionConflict')).rejectsOnce(cancelled('None', 'TransactionConflict')).resolves({});
  expect(await store.recordFeedback(count, new Date('2026-03-01T12:00:00.000Z'))).toBe('counted');
  expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
});

test('a failed marker condition is "already counted", without retrying', async () => {
  dynamo.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
  expect(await store.recordFeedback(count, new Date('2026-03-01T12:00:00.000Z'))).toBe('already-counted');
  expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
});

test('other cancellations, and conflicts that persist, are errors', async () => {
  dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ValidationError'));
  await expect(store.recordFeedback(count, new Date())).rejects.toThrow(TransactionCanceledException);
  expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  dynamo.reset();
  dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));
  await expect(store.recordFeedback(count, new Date())).rejects.toThrow(TransactionCanceledException);
  expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(6);
});

test('the counter update adds through attribute names (counter names contain ":") and sets keys, GSI1 and TTL', async () => {
  dynamo.on(TransactWriteCommand).resolves({});
  await store.recordFeedback(count, new Date('2026-03-01T12:00:00.000Z'));
  const [marker, counter] = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
  expect(marker?.Put).toMatchObject({ Item: { PK: 'EMAILFB#ses-1', SK: 'open' }, ConditionExpression: 'attribute_not_exists(PK)' });
  expect(counter?.Update).toMatchObject({
    Key: { PK: 'RPT#cart-abandonment', SK: 'D#2026-03-01' },
    UpdateExpression: 'SET #a0 = :a0, #day = :day, GSI1PK = :gsi1pk, GSI1SK = :gsi1sk, expiresAt = if_not_exists(expiresAt, :expiresAt) ADD #c0 :c0',
    ExpressionAttributeNames: { '#a0': 'journeyKey', '#day': 'day', '#c0': 'opened:email1' },
    ExpressionAttributeValues: { ':a0': 'cart-abandonment', ':gsi1pk': 'RPT', ':gsi1sk': 'D#2026-03-01#cart-abandonment', ':c0': 1 },
  });
});

test('a step outcome lands even when the counter stays contended: one count lost, never a second email', async () => {
  dynamo.on(TransactWriteCommand).callsFake((input: { TransactItems: { Update?: unknown }[] }) => {
    if (input.TransactItems.some((item) => item.Update !== undefined)) throw cancelled('None', 'TransactionConflict');
    return {};
  });
  const run = { journey: 'cart-abandonment' as const, runId: 'cart-1', profileId: 'p1', cartChangedAt: '2026-03-01T10:00:00.000Z' };
  expect(await store.recordOutcome(run, 'email1', { outcome: 'sent', messageId: 'ses-1' }, new Date('2026-03-01T12:00:00.000Z'), 24)).toBe('uncounted');
  const calls = dynamo.commandCalls(TransactWriteCommand);
  expect(calls).toHaveLength(7);
  const recorded = calls[6]?.args[0].input.TransactItems ?? [];
  expect(recorded.map((item) => item.Put?.Item?.SK)).toEqual(['STEP#email1', 'JENTRY#cart-abandonment#cart-1', expect.stringMatching(/^MAIL#/)]);
  expect(recorded[0]?.Put?.ConditionExpression).toBe('attribute_not_exists(outcome)');
});
