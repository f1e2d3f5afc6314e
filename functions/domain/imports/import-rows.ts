import { createHash } from 'node:crypto';
import { normalizeIdentifier } from '../identity/identifiers';
import type { IdentityConfig } from '../identity/identity-config';
import type { AcceptedMessage } from '../tracking/accepted-message';
import { messageLimitIssues } from '../tracking/limits';
import { describeIssues } from '../../schemas/tracking';
import type { ImportMapping, Party } from './import-mapping';

/** One record of an imported file: its position and its values by column. */
export interface ImportRow {
  /** 1-based data row number (the header is not a row). */
  readonly row: number;
  /** 1-based line of the file where the row starts. */
  readonly line: number;
  readonly values: Readonly<Record<string, unknown>>;
}

export interface RowRejection {
  readonly row: number;
  readonly line: number;
  readonly reason: string;
}

export interface ImportOptions {
  readonly source: string;
  readonly party: Party;
  readonly importedAt: Date;
  readonly config: IdentityConfig;
}

const REPLACEMENT_CHARACTER = '\uFFFD';

/** A column's value: own fields only, so a column named like `constructor` reads nothing inherited. */
const columnValue = (values: Readonly<Record<string, unknown>>, column: string): unknown => (Object.hasOwn(values, column) ? values[column] : undefined);

const CONSENT_ANSWERS: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  '1': true,
  granted: true,
  'opt-in': true,
  false: false,
  no: false,
  '0': false,
  denied: false,
  'opt-out': false,
};

/** A yes/no cell of a consent column; undefined when it is neither. */
function consentAnswer(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const answer = String(value).trim().toLowerCase();
  return Object.hasOwn(CONSENT_ANSWERS, answer) ? CONSENT_ANSWERS[answer] : undefined;
}

const isBlank = (value: unknown): boolean => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** The channel a party's data arrives through: the company's CRM, or a partner / data vendor. */
const CHANNEL_OF_PARTY: Record<Party, string> = { first: 'crm', second: 'partner', third: 'data_vendor' };

/**
 * Turns imported rows into `identify` messages for the reconcile pipeline, tagged with their
 * source and party. The messageId is derived from the source and the row's content, so importing
 * the same file again is recognized as a redelivery and changes nothing.
 */
export function rowsToMessages(
  rows: readonly ImportRow[],
  mapping: ImportMapping,
  options: ImportOptions,
): { messages: AcceptedMessage[]; rejected: RowRejection[] } {
  const messages: AcceptedMessage[] = [];
  const rejected: RowRejection[] = [];
  const importedAt = options.importedAt.toISOString();
  for (const { row, line, values } of rows) {
    const reject = (reason: string): void => {
      rejected.push({ row, line, reason });
    };
    const badText = Object.entries(values).find(([, value]) => typeof value === 'string' && value.includes(REPLACEMENT_CHARACTER));
    if (badText) {
      reject(`column "${badText[0]}" is not valid UTF-8 text (save the file as UTF-8)`);
      continue;
    }
    let timestamp = importedAt;
    if (mapping.timestamp && !isBlank(columnValue(values, mapping.timestamp))) {
      const time = Date.parse(String(columnValue(values, mapping.timestamp)));
      if (Number.isNaN(time)) {
        reject(`column "${mapping.timestamp}" is not an ISO 8601 date-time`);
        continue;
      }
      timestamp = new Date(time).toISOString();
    }
    const identifiers: Record<string, string> = {};
    const invalid: string[] = [];
    for (const [type, column] of Object.entries(mapping.identifiers)) {
      const raw = columnValue(values, column);
      if (isBlank(raw)) continue;
      const identifier = normalizeIdentifier(options.config, type, raw);
      if (identifier) identifiers[type] = identifier.value;
      else invalid.push(`${type} (column "${column}")`);
    }
    if (Object.keys(identifiers).length === 0) {
      reject(invalid.length > 0 ? `no valid identifier: invalid or blocked ${invalid.join(', ')}` : 'no identifier: every identifier column is empty');
      continue;
    }
    const traits: Record<string, unknown> = {};
    for (const [trait, column] of Object.entries(mapping.traits)) {
      const value = columnValue(values, column);
      if (!isBlank(value)) traits[trait] = value;
    }
    const categoryPreferences: Record<string, boolean> = {};
    const unreadable: string[] = [];
    for (const [category, column] of Object.entries(mapping.consent ?? {})) {
      const value = columnValue(values, column);
      if (isBlank(value)) continue;
      const decision = consentAnswer(value);
      if (decision === undefined) unreadable.push(column);
      else categoryPreferences[category] = decision;
    }
    if (unreadable.length > 0) {
      reject(`consent column "${unreadable[0]}" is neither yes nor no (true/false, yes/no, 1/0, granted/denied, opt-in/opt-out)`);
      continue;
    }
    const { user_id: userId, anonymous_id: anonymousId, device_id: deviceId, email, phone, ...external } = identifiers;
    const digest = createHash('sha256')
      .update(`${options.source}|${options.party}|${JSON.stringify(values)}`)
      .digest('hex');
    const message: AcceptedMessage = {
      type: 'identify',
      messageId: `import-${digest.slice(0, 40)}`,
      ...(userId && { userId }),
      ...(anonymousId && { anonymousId }),
      properties: {},
      traits: { ...traits, ...(email && { email }), ...(phone && { phone }) },
      context: {
        channel: CHANNEL_OF_PARTY[options.party],
        dmp: { origin: { source: options.source, party: options.party } },
        ...(Object.keys(categoryPreferences).length > 0 && { consent: { categoryPreferences } }),
        ...(deviceId && { device: { id: deviceId } }),
        ...(Object.keys(external).length > 0 && {
          externalIds: Object.entries(external).map(([type, id]) => ({ id, type, collection: 'users', encoding: 'none' })),
        }),
      },
      timestamp,
      receivedAt: importedAt,
    };
    // The same limits as the Tracking API (tracking/limits): a row reconcile could not store is
    // reported here rather than failing in the queue for ever.
    const overLimits = messageLimitIssues(message);
    if (overLimits.length > 0) {
      reject(`over a limit: ${describeIssues(overLimits)}`);
      continue;
    }
    messages.push(message);
  }
  return { messages, rejected };
}
