import { DEFAULT_IDENTITY_CONFIG as config } from '../../../functions/domain/identity/identity-config';
import { importFile } from '../../../functions/domain/imports/import-file-use-case';
import type { AcceptedMessage } from '../../../functions/domain/tracking/accepted-message';
import type { EventQueue } from '../../../functions/ports/event-queue';

/** Imports feed the same reconcile as tracking: a row over a tracking limit is rejected, not queued. */
class RecordingQueue implements EventQueue {
  readonly messages: AcceptedMessage[] = [];
  async enqueue(messages: readonly AcceptedMessage[]): Promise<void> {
    this.messages.push(...messages);
  }
}

async function run(text: string, format: 'csv' | 'ndjson') {
  const queue = new RecordingQueue();
  const report = await importFile({ text, format, source: 'crm', party: 'first' }, { queue, config, now: () => new Date('2026-11-24T10:00:00.000Z') });
  return { report, messages: queue.messages };
}

function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < levels; level += 1) value = { a: value };
  return value;
}

describe('import rows over the message limits', () => {
  it('rejects NDJSON rows a consumer could not store, with the row, line and limit, and keeps the others', async () => {
    const rows: Array<Record<string, unknown>> = [
      { user_id: 'u-1', plan: 'gold' },
      { user_id: 'u-2', profile: nested(17) },
      { user_id: 'u-3', constructor: 'x' },
      { user_id: 'u-4', plan: 'silver' },
      { user_id: 'u-5', score: 1e200 },
    ];
    const { report, messages } = await run(rows.map((row) => JSON.stringify(row)).join('\n'), 'ndjson');

    expect(messages.map((message) => message.userId)).toEqual(['u-1', 'u-4']);
    // A column named `constructor` is a trait, and rows without it read nothing inherited.
    expect(messages[0]).toMatchObject({ traits: { plan: 'gold' }, context: { channel: 'crm' } });
    expect(messages[0]?.traits).toEqual({ plan: 'gold' });
    expect(messages[0]?.context.externalIds).toBeUndefined();
    expect(report).toMatchObject({
      accepted: 2,
      rejected: 3,
      errors: [
        { row: 2, line: 2, reason: expect.stringMatching(/^over a limit: traits\.profile(\.a){15}: nested deeper than 16 levels$/) },
        { row: 3, line: 3, reason: 'over a limit: traits.constructor: "constructor" is a reserved name' },
        { row: 5, line: 5, reason: 'over a limit: traits.score: number beyond ±9007199254740991' },
      ],
    });
  });

  it('rejects a CSV row whose identifier is longer than the Tracking API allows', async () => {
    const { report, messages } = await run(`user_id,plan\nu-1,gold\n${'u'.repeat(256)},gold\n`, 'csv');
    expect(messages).toHaveLength(1);
    expect(report.errors).toEqual([{ row: 2, line: 3, reason: 'over a limit: userId: must be at most 255 characters' }]);
  });
});
