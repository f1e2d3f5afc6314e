import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoJourneyStore } from '../../functions/adapters/dynamodb-journey-store';
import { DynamoProfileStore } from '../../functions/adapters/dynamodb-profile-store';
import { pseudonymOf, Pseudonyms } from '../../functions/domain/identity/pseudonym';
import { reconcileMessage } from '../../functions/domain/reconcile/reconcile-message';
import type { AcceptedMessage } from '../../functions/domain/tracking/accepted-message';
import { PROFILES_TABLE } from '../../lib/definitions/tables';
import { ensureTables, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';
import { deniedRequests, recordRequests, type RecordedRequest } from '../helpers/iam-access';
import { acceptedMessage } from '../helpers/messages';
import { reconcileDependencies, eraseNow } from '../helpers/profiles-table';

/**
 * Keyed pseudonyms of the unsubscribe, bounce and erasure records against DynamoDB Local: records
 * written before the switch (unkeyed SHA-256) keep suppressing, rewriting a record replaces its
 * unkeyed twin, and an erased person stays suppressed end to end.
 */
let dynamo: DynamoDbLocal;
let tableName: string;
let doc: DynamoDBDocumentClient;
/** Each store as one function uses it, on a client whose requests are checked against that function's IAM grants. */
let sender: DynamoJourneyStore; // journeySend: recipientFlags
let unsubscriber: DynamoJourneyStore; // unsubscribe
let feedback: DynamoJourneyStore; // emailFeedback: suppress
let reconciler: DynamoProfileStore; // reconcile
let profileApi: DynamoProfileStore; // profileApi: find
let eraser: DynamoProfileStore; // erasure: the erasure job's steps
const requests = new Map<'journeySend' | 'unsubscribe' | 'emailFeedback' | 'reconcile' | 'profileApi' | 'erasure', RecordedRequest[]>();
function clientOf(role: Parameters<typeof requests.set>[0]): DynamoDBClient {
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  requests.set(role, recordRequests(client));
  return client;
}
const secret = 'test-pseudonym-secret-0123456789';
const pseudonyms = new Pseudonyms(secret);
const now = new Date();
const unique = (label: string): string => `${label}-${randomUUID().slice(0, 8)}@shop.io`;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ startTimeoutMs: 60_000, logger: new Logger({ logLevel: 'ERROR' }) });
  tableName = `profiles-${randomUUID()}`;
  await ensureTables(dynamo.client, [PROFILES_TABLE], () => tableName);
  doc = DynamoDBDocumentClient.from(dynamo.client);
  sender = new DynamoJourneyStore(clientOf('journeySend'), tableName, async () => pseudonyms);
  unsubscriber = new DynamoJourneyStore(clientOf('unsubscribe'), tableName, async () => pseudonyms);
  feedback = new DynamoJourneyStore(clientOf('emailFeedback'), tableName, async () => pseudonyms);
  const profileOptions = {
    tableName,
    eventTtlDays: 395,
    lenientIdentifierLifetimeDays: 395,
    lenientTypes: ['anonymous_id', 'device_id'],
    dedupeWindowHours: 24,
    pseudonyms: async () => pseudonyms,
  };
  reconciler = new DynamoProfileStore(clientOf('reconcile'), profileOptions);
  profileApi = new DynamoProfileStore(clientOf('profileApi'), profileOptions);
  eraser = new DynamoProfileStore(clientOf('erasure'), profileOptions);
}, 90_000);

afterAll(async () => {
  await dynamo?.stop();
});

const exists = async (PK: string, SK: string): Promise<boolean> =>
  (await doc.send(new GetCommand({ TableName: tableName, Key: { PK, SK }, ConsistentRead: true }))).Item !== undefined;
const legacyOf = (email: string): string => pseudonymOf({ type: 'email', value: email });

/** Reconcile on the store with reconcile's grants, retrying at once. */
const reconcilerDeps = () => reconcileDependencies(() => reconciler, { maxAttempts: 10, backoff: () => Promise.resolve() });

describe('keyed pseudonyms in the table', () => {
  it('records written before the switch (unkeyed SHA-256) keep suppressing and refusing', async () => {
    const [bounced, erased, unsubscribed] = [unique('bounced'), unique('erased'), unique('unsub')];
    // As the previous version wrote them.
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { PK: `MAILSUP#${legacyOf(bounced)}`, SK: 'MAILSUP', reason: 'bounce', suppressedAt: '2026-01-01T00:00:00.000Z' },
      }),
    );
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { PK: `SUP#${legacyOf(erased)}`, SK: 'SUP', idType: 'email', suppressedAt: '2026-01-01T00:00:00.000Z' } }),
    );
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { PK: `UNSUB#${legacyOf(unsubscribed)}`, SK: 'UNSUB', unsubscribedAt: '2026-01-01T00:00:00.000Z' } }),
    );

    expect(await sender.recipientFlags('p-1', bounced.toUpperCase())).toEqual({ suppressed: true, unsubscribed: false });
    expect(await sender.recipientFlags('p-1', erased)).toEqual({ suppressed: true, unsubscribed: false });
    expect(await sender.recipientFlags('p-1', unsubscribed)).toEqual({ suppressed: false, unsubscribed: true });
    expect(await sender.recipientFlags('p-1', unique('fine'))).toEqual({ suppressed: false, unsubscribed: false });
  });

  it('writes new records under the keyed pseudonym only, and a rewrite replaces the unkeyed twin keeping the first reason', async () => {
    const [bounced, unsubscribed] = [unique('bounced'), unique('unsub')];
    await doc.send(
      new PutCommand({
        TableName: tableName,
        Item: { PK: `MAILSUP#${legacyOf(bounced)}`, SK: 'MAILSUP', reason: 'complaint', suppressedAt: '2026-01-01T00:00:00.000Z' },
      }),
    );
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { PK: `UNSUB#${legacyOf(unsubscribed)}`, SK: 'UNSUB', unsubscribedAt: '2026-01-01T00:00:00.000Z' } }),
    );

    await feedback.suppress([bounced], 'bounce', now);
    await unsubscriber.unsubscribe('p-2', [unsubscribed], now);

    const keyedBounce = await doc.send(new GetCommand({ TableName: tableName, Key: { PK: `MAILSUP#${pseudonyms.email(bounced).keyed}`, SK: 'MAILSUP' } }));
    expect(keyedBounce.Item).toEqual({
      PK: `MAILSUP#${pseudonyms.email(bounced).keyed}`,
      SK: 'MAILSUP',
      reason: 'complaint',
      suppressedAt: '2026-01-01T00:00:00.000Z',
    });
    expect(await exists(`MAILSUP#${legacyOf(bounced)}`, 'MAILSUP')).toBe(false);
    expect(await exists(`UNSUB#${pseudonyms.email(unsubscribed).keyed}`, 'UNSUB')).toBe(true);
    expect(await exists(`UNSUB#${legacyOf(unsubscribed)}`, 'UNSUB')).toBe(false);
    expect(await sender.recipientFlags('p-3', bounced)).toEqual({ suppressed: true, unsubscribed: false });
    expect(await sender.recipientFlags('p-3', unsubscribed)).toEqual({ suppressed: false, unsubscribed: true });

    // Without the key, the table cannot confirm either address: no record under the public hash.
    const fresh = unique('fresh');
    await feedback.suppress([fresh], 'bounce', now);
    const { Items = [] } = await doc.send(new ScanCommand({ TableName: tableName }));
    const keys = Items.map((item) => String(item.PK));
    expect(keys).not.toContain(`MAILSUP#${legacyOf(fresh)}`);
    expect(keys).toContain(`MAILSUP#${pseudonyms.email(fresh).keyed}`);
    const otherKey = new DynamoJourneyStore(dynamo.client, tableName, async () => new Pseudonyms('another-secret-0123456789'));
    expect(await otherKey.recipientFlags('p-3', fresh)).toEqual({ suppressed: false, unsubscribed: false });
  });

  it('keeps an erased person suppressed end to end: no new profile, no email', async () => {
    const email = unique('erased');
    const reconcile = (message: AcceptedMessage) => reconcileMessage(message, reconcilerDeps());
    expect(await reconcile(acceptedMessage({ type: 'identify', userId: randomUUID(), timestamp: now.toISOString(), traits: { email } }))).toMatchObject({
      status: 'applied',
    });
    const profile = await profileApi.findProfile({ type: 'email', value: email });
    if (!profile) throw new Error('no profile');
    await eraseNow(eraser, profile, new Date());

    expect(await reconcile(acceptedMessage({ type: 'identify', anonymousId: randomUUID(), timestamp: new Date().toISOString(), traits: { email } }))).toEqual({
      status: 'suppressed',
    });
    expect(await profileApi.findProfile({ type: 'email', value: email })).toBeUndefined();
    expect(await sender.recipientFlags(profile.profileId, email.toUpperCase())).toEqual({ suppressed: true, unsubscribed: false });
    const { Items = [] } = await doc.send(new ScanCommand({ TableName: tableName }));
    expect(JSON.stringify(Items)).not.toContain(email);
    // The erasure record is keyed: the public hash of the address is nowhere in the table.
    expect(await exists(`SUP#${pseudonyms.email(email).keyed}`, 'SUP')).toBe(true);
    expect(JSON.stringify(Items)).not.toContain(legacyOf(email));
  });

  it('keeps an identifier erased before the switch (unkeyed record) out of reconcile', async () => {
    const email = unique('erased-before');
    await doc.send(
      new PutCommand({ TableName: tableName, Item: { PK: `SUP#${legacyOf(email)}`, SK: 'SUP', idType: 'email', suppressedAt: '2026-01-01T00:00:00.000Z' } }),
    );
    const snapshot = await reconciler.loadSnapshot([randomUUID()], [{ type: 'email', value: email }], new Date());
    expect(snapshot.suppressed).toEqual([{ type: 'email', value: email }]);
    const outcome = await reconcileMessage(
      acceptedMessage({ type: 'identify', anonymousId: randomUUID(), timestamp: new Date().toISOString(), traits: { email } }),
      reconcilerDeps(),
    );
    expect(outcome).toEqual({ status: 'suppressed' });
  });

  it('needs nothing the roles of journeySend, unsubscribe, emailFeedback, reconcile, the Profile API and erasure do not allow', () => {
    for (const [role, recorded] of requests) {
      expect(recorded.length).toBeGreaterThan(0);
      expect({ role, denied: deniedRequests(role, recorded) }).toEqual({ role, denied: [] });
    }
  });
});
