import type { IdentityConfig } from '../identity/identity-config';
import type { EventQueue } from '../../ports/event-queue';
import { DataError } from '../files/data-error';
import { defaultMapping, missingColumns, type ImportMapping, type Party } from './import-mapping';
import { parseImportFile, type ImportFormat } from './import-file';
import { rowsToMessages, type RowRejection } from './import-rows';

export interface ImportRequest {
  readonly text: string;
  readonly format: ImportFormat;
  readonly separator?: string;
  readonly source: string;
  readonly party: Party;
  readonly mapping?: ImportMapping;
}

/** What an import did: every row is accounted for, as accepted or rejected with its reason. */
export interface ImportReport {
  readonly source: string;
  readonly party: Party;
  readonly rowsRead: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Rejected rows, in file order (the first MAX_REPORTED_ERRORS). */
  readonly errors: readonly RowRejection[];
}

const MAX_REPORTED_ERRORS = 1_000;
const SEPARATOR_HINTS = [';', '\t', '|', ','];

/**
 * Imports a CRM, partner or data-vendor file: reads and maps it, turns good rows into messages
 * and queues them for reconciliation (the same pipeline as tracking, so identity rules, trait
 * precedence and quarantine apply alike). A file-level problem throws DataError; row problems are
 * reported and never stop the good rows.
 */
export interface ImportDependencies {
  readonly queue: EventQueue;
  readonly config: IdentityConfig;
  readonly now: () => Date;
}

export async function importFile(request: ImportRequest, deps: ImportDependencies): Promise<ImportReport> {
  const file = parseImportFile(request.text, request.format, request.separator);
  const mapping = request.mapping ?? defaultMapping(file.header);
  const missing = missingColumns(mapping, file.header);
  if (missing.length > 0) {
    const only = file.header.length === 1 ? (file.header[0] ?? '') : '';
    const hint = SEPARATOR_HINTS.find((separator) => only.includes(separator));
    throw new DataError(
      `the mapping names columns the file does not have: ${missing.map((c) => `"${c}"`).join(', ')}` +
        (hint ? ` (the header reads as one column: is the separator ${JSON.stringify(hint)}?)` : ''),
    );
  }
  if (Object.keys(mapping.identifiers).length === 0) throw new DataError('no identifier column: map at least one of user_id, email, phone or an external id');
  const { messages, rejected } = rowsToMessages(file.rows, mapping, {
    source: request.source,
    party: request.party,
    importedAt: deps.now(),
    config: deps.config,
  });
  if (messages.length > 0) await deps.queue.enqueue(messages);
  const errors = [...file.rejected, ...rejected].sort((a, b) => a.row - b.row);
  return {
    source: request.source,
    party: request.party,
    rowsRead: file.rows.length + file.rejected.length,
    accepted: messages.length,
    rejected: errors.length,
    errors: errors.slice(0, MAX_REPORTED_ERRORS),
  };
}
