import { DEFAULT_IDENTITY_CONFIG as config } from '../../../functions/domain/identity/identity-config';
import { DataError } from '../../../functions/domain/files/data-error';
import { importFile } from '../../../functions/domain/imports/import-file-use-case';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import type { EventQueue } from '../../../functions/ports/event-queue';

class RecordingQueue implements EventQueue {
  readonly messages: AcceptedMessage[] = [];
  async enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
}

const importedAt = new Date('2026-11-24T10:00:00.000Z');

async function run(text: string, overrides: Partial<Parameters<typeof importFile>[0]> = {}) {
  const queue = new RecordingQueue();
  const report = await importFile({ text, format: 'csv', source: 'crm', party: 'first', ...overrides }, { queue, config, now: () => importedAt });
  return { report, messages: queue.messages };
}

describe('importFile', () => {
  it('maps columns to identifiers and traits with provenance, one identify message per good row', async () => {
    const { report, messages } = await run('email,crm_id,firstName,plan\nAna@Shop.io,C1,Ana,gold\n', {
      mapping: { identifiers: { email: 'email', crm_id: 'crm_id' }, traits: { firstName: 'firstName', plan: 'plan' } },
    });
    expect(report).toEqual({ source: 'crm', party: 'first', rowsRead: 1, accepted: 1, rejected: 0, errors: [] });
    expect(messages).toEqual([
      {
        type: 'identify',
        messageId: expect.stringMatching(/^import-[0-9a-f]{40}$/),
        properties: {},
        traits: { firstName: 'Ana', plan: 'gold', email: 'ana@shop.io' },
        context: {
          channel: 'crm',
          dmp: { origin: { source: 'crm', party: 'first' } },
          externalIds: [{ id: 'C1', type: 'crm_id', collection: 'users', encoding: 'none' }],
        },
        timestamp: importedAt.toISOString(),
        receivedAt: importedAt.toISOString(),
      },
    ]);
  });

  it('gives the same message ids when the same file is imported again (idempotent re-import)', async () => {
    const file = 'user_id,plan\nu1,gold\nu2,silver\n';
    const first = await run(file);
    const second = await run(file);
    expect(second.messages.map((m) => m.messageId)).toEqual(first.messages.map((m) => m.messageId));
    expect(new Set(first.messages.map((m) => m.messageId)).size).toBe(2);
  });

  it('keeps 9,999 good rows and reports the one bad row among 10,000 with its number and line', async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => (i === 6_789 ? 'broken-row-without-fields' : `user-${i},${i}@shop.io,gold`));
    const { report, messages } = await run(['user_id,email,plan', ...rows].join('\n'));
    expect(report).toMatchObject({ rowsRead: 10_000, accepted: 9_999, rejected: 1 });
    expect(report.errors).toEqual([{ row: 6_790, line: 6_791, reason: 'expected 3 fields as in the header, found 1' }]);
    expect(messages).toHaveLength(9_999);
  });

  it('rejects rows without a usable identifier, with bad text encoding or a bad timestamp', async () => {
    const { report } = await run(
      ['email,plan,updated', 'null,gold,2026-01-01', ',gold,2026-01-01', 'a@shop.io,g\uFFFDld,2026-01-01', 'b@shop.io,gold,yesterday'].join('\n'),
      {
        mapping: { identifiers: { email: 'email' }, traits: { plan: 'plan' }, timestamp: 'updated' },
      },
    );
    expect(report.errors).toEqual([
      { row: 1, line: 2, reason: 'no valid identifier: invalid or blocked email (column "email")' },
      { row: 2, line: 3, reason: 'no identifier: every identifier column is empty' },
      { row: 3, line: 4, reason: 'column "plan" is not valid UTF-8 text (save the file as UTF-8)' },
      { row: 4, line: 5, reason: 'column "updated" is not an ISO 8601 date-time' },
    ]);
    expect(report.accepted).toBe(0);
  });

  it("records the CRM's consent columns as consent decisions from the import, and refuses a row whose answer is neither yes nor no", async () => {
    const { report, messages } = await run('email,consent:Marketing,Ads\nana@shop.io,yes,opt-out\nbob@shop.io,,granted\ncid@shop.io,maybe,no\n', {
      mapping: { identifiers: { email: 'email' }, traits: {}, consent: { Marketing: 'consent:Marketing', Advertising: 'Ads' } },
    });
    expect(report).toMatchObject({ rowsRead: 3, accepted: 2, rejected: 1 });
    expect(report.errors[0]?.reason).toMatch(/consent column "consent:Marketing" is neither yes nor no/);
    expect(messages.map((message) => message.context.consent)).toEqual([
      { categoryPreferences: { Marketing: true, Advertising: false } },
      { categoryPreferences: { Advertising: true } },
    ]);
    // Without a mapping, `consent:<category>` columns are consent, not traits.
    const implied = await run('email,consent:Email\nana@shop.io,1\n');
    expect(implied.messages[0]?.context.consent).toEqual({ categoryPreferences: { Email: true } });
    expect(implied.messages[0]?.traits).toEqual({ email: 'ana@shop.io' });
  });

  it('explains a wrong separator instead of importing garbage', async () => {
    await expect(run('email;plan\na@shop.io;gold\n', { separator: ',', mapping: { identifiers: { email: 'email' }, traits: {} } })).rejects.toThrow(
      'the mapping names columns the file does not have: "email" (the header reads as one column: is the separator ";"?)',
    );
  });

  it('refuses an empty file, a file without identifier columns, and reads NDJSON rows', async () => {
    await expect(run('')).rejects.toBeInstanceOf(DataError);
    await expect(run('plan,age\ngold,3\n')).rejects.toThrow(/no identifier column/);
    const { report, messages } = await run('{"user_id":"u9","plan":"gold"}\nnot json\n[1]\n', { format: 'ndjson', party: 'third', source: 'vendor' });
    expect(report).toMatchObject({ rowsRead: 3, accepted: 1, rejected: 2 });
    expect(report.errors.map((e) => e.reason)).toEqual(['not valid JSON', 'expected a JSON object per line']);
    expect(messages[0]).toMatchObject({
      userId: 'u9',
      traits: { plan: 'gold' },
      context: { channel: 'data_vendor', dmp: { origin: { source: 'vendor', party: 'third' } } },
    });
  });
});
