import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';

/**
 * Durable executions of the local Step Functions: one append-only journal per state machine,
 * `<directory>/<stateMachineName>.jsonl`, in JSON Lines. Each line is about one execution (`n`,
 * its name):
 *
 * - `{n, h: header, from: 0, events, ...state}` starts an execution: `h` is what never changes
 *   (ARN, input, start date).
 * - `{n, from, events, ...state}` is one write for it: the history events added since its previous
 *   line (`from` is the index of the first: a resumed execution's history continues after its
 *   checkpoint, so the history is `history.slice(0, from)` followed by `events`), and its status,
 *   result and, while it runs, its checkpoint, as they are at that moment.
 * - `{n, deleted: true}`: evicted (MAX_CLOSED_EXECUTIONS), forgotten.
 *
 * Writes are grouped: an execution that changes is marked, and on the next turn of the event loop
 * every marked execution gets one line with everything since its last, all of them appended with
 * one write() per journal (as many as serialize within FLUSH_BUDGET_MS; the others on the turn
 * after). The write is synchronous: appending to the page cache takes microseconds, where
 * asynchronous calls wait for turns of an event loop that thousands of running executions keep
 * busy. A crash (the process killed) leaves what write() handed the kernel, at worst the last line
 * torn, which reading ignores. Nothing is fsynced.
 *
 * The journal is compacted (rewritten with one line per execution it still holds, into a
 * temporary file renamed over it) when recovered, and when it has grown past three times what it
 * holds (and past COMPACT_MIN_BYTES), so each byte written is rewritten at most about once.
 */

export const STORE_VERSION = 1;
const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
export const JOURNAL_SUFFIX = '.jsonl';
const CORRUPT_SUFFIX = '.corrupt';
const TEMPORARY_SUFFIX = '.tmp';
/** Time a scheduled write may take serializing lines, so a burst does not hold the event loop for long (ms). */
const FLUSH_BUDGET_MS = 250;
/** A journal is not compacted below this size. */
const COMPACT_MIN_BYTES = 32 * 1024 * 1024;
/** ...nor before it is this many times the size of what it holds. */
const COMPACT_RATIO = 3;

/** Where a running execution resumes: the top-level state it was in when the line was written. */
export interface StoredCheckpoint {
  readonly state: string;
  /** The state's input, as JSON text. */
  readonly input: string;
  /** When the state was entered (epoch ms): a resumed Wait waits only what remains of it. */
  readonly enteredAt: number;
  /** History events up to and including this state's StateEntered event. */
  readonly historyLength: number;
}

export interface StoredHistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** ISO 8601 (a Date before it is written). */
  readonly timestamp: string;
  readonly type: string;
  readonly [details: string]: unknown;
}

/** What never changes of an execution. */
export interface StoredHeader {
  readonly version: typeof STORE_VERSION;
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineName: string;
  readonly stateMachineArn: string;
  readonly input: string;
  /** ISO 8601. */
  readonly startDate: string;
}

/** What each line states about the execution at the time it was written. */
export interface StoredState {
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  /** Of the ASL the execution last ran with: a resumed execution runs the current one, with a warning if it changed. */
  readonly definitionHash: string;
  /** ISO 8601. */
  readonly stopDate?: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  /** Present while RUNNING. */
  readonly checkpoint?: StoredCheckpoint;
}

/** An execution as the journal tells it. */
export interface StoredExecution extends StoredHeader, StoredState {
  readonly history: readonly StoredHistoryEvent[];
}

/** What the service hands the store for each execution it persists. */
export interface JournalSource {
  readonly stateMachineName: string;
  readonly name: string;
  /** What has reached the journal: the header, how many history events, and how many bytes its lines take. */
  readonly journal: { header: boolean; events: number; bytes: number };
  header(): StoredHeader;
  history(): readonly unknown[];
  state(): StoredState;
}

export interface LoadResult {
  readonly executions: StoredExecution[];
  /** Journals with unreadable lines (moved aside as `<file>.corrupt`, their readable executions recovered), and executions lost to them. */
  readonly corrupt: { readonly journals: number; readonly executions: number };
  /** Per journal of a state machine the service does not know: how many executions were left in it. */
  readonly unknownStateMachines: { readonly name: string; readonly file: string; readonly executions: number }[];
}

export interface StoreStatistics {
  /** Lines appended, and the writes that appended them. */
  lines: number;
  writes: number;
  bytes: number;
  compactions: number;
  failures: number;
  /** Time the event loop spent serializing, appending and compacting, in ms. */
  writeMs: number;
}

export function definitionHash(asl: unknown): string {
  return createHash('sha256').update(JSON.stringify(asl)).digest('hex').slice(0, 16);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrnoCode(error: unknown, code: string): boolean {
  return isObject(error) && error.code === code;
}

function requireString(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new Error(`${field} is not a string`);
  return value;
}

function optionalString(record: Record<string, unknown>, field: string): void {
  if (record[field] !== undefined && typeof record[field] !== 'string') throw new Error(`${field} is not a string`);
}

function requireDate(record: Record<string, unknown>, field: string): void {
  if (Number.isNaN(Date.parse(requireString(record, field)))) throw new Error(`${field} is not a date`);
}

function checkHeader(header: unknown): StoredHeader {
  if (!isObject(header)) throw new Error('the header is not a JSON object');
  if (header.version !== STORE_VERSION) throw new Error(`unknown version ${String(header.version)}`);
  for (const field of ['executionArn', 'name', 'stateMachineName', 'stateMachineArn', 'input']) requireString(header, field);
  requireDate(header, 'startDate');
  JSON.parse(header.input as string);
  return header as unknown as StoredHeader;
}

function checkState(line: Record<string, unknown>): { from: number; events: StoredHistoryEvent[]; state: StoredState } {
  if (typeof line.from !== 'number' || !Array.isArray(line.events)) throw new Error('a line has no events');
  if (!STATUSES.has(requireString(line, 'status'))) throw new Error(`unknown status ${String(line.status)}`);
  for (const field of ['definitionHash', 'output', 'error', 'cause']) optionalString(line, field);
  if (line.stopDate !== undefined) requireDate(line, 'stopDate');
  for (const event of line.events as unknown[]) {
    if (!isObject(event) || typeof event.id !== 'number' || typeof event.type !== 'string' || typeof event.timestamp !== 'string') {
      throw new Error('a history event is malformed');
    }
  }
  const { checkpoint } = line;
  if (checkpoint !== undefined) {
    if (
      !isObject(checkpoint) ||
      typeof checkpoint.state !== 'string' ||
      typeof checkpoint.input !== 'string' ||
      typeof checkpoint.enteredAt !== 'number' ||
      typeof checkpoint.historyLength !== 'number'
    ) {
      throw new Error('the checkpoint is malformed');
    }
    JSON.parse(checkpoint.input);
  }
  const { from, events, n: _name, h: _header, ...state } = line;
  return { from, events: events as StoredHistoryEvent[], state: state as unknown as StoredState };
}

export interface ParsedJournal {
  /** Executions the journal holds, oldest line first. */
  readonly executions: StoredExecution[];
  /** Lines that could not be read (a torn last line is not one: a crash leaves it). */
  readonly unreadableLines: number;
  /** Executions whose lines could not all be read: not recovered. */
  readonly lostExecutions: number;
}

/** Folds a journal's lines into its executions. */
export function parseJournal(text: string): ParsedJournal {
  // Up to the last newline: after it, at most a line the crash tore.
  const end = text.lastIndexOf('\n');
  const lines = end < 0 ? [] : text.slice(0, end).split('\n');
  const folding = new Map<string, { header: StoredHeader; history: StoredHistoryEvent[]; state: StoredState; broken: boolean }>();
  let unreadableLines = 0;
  const lost = new Set<string>();
  for (const text of lines) {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      unreadableLines += 1;
      continue;
    }
    if (!isObject(line) || typeof line.n !== 'string') {
      unreadableLines += 1;
      continue;
    }
    const name = line.n;
    if (line.deleted === true) {
      folding.delete(name);
      lost.delete(name);
      continue;
    }
    try {
      if (line.h !== undefined) {
        folding.delete(name);
        lost.delete(name);
        folding.set(name, { header: checkHeader(line.h), history: [], state: { status: 'RUNNING', definitionHash: '' }, broken: false });
      }
      const execution = folding.get(name);
      if (!execution) throw new Error('a line of an execution whose first line is missing');
      const { from, events, state } = checkState(line);
      if (from > execution.history.length) throw new Error('a gap in the history');
      execution.history.length = from;
      execution.history.push(...events);
      execution.state = state;
    } catch {
      unreadableLines += 1;
      const execution = folding.get(name);
      if (execution) execution.broken = true;
      else lost.add(name);
    }
  }
  const executions: StoredExecution[] = [];
  for (const [name, execution] of folding) {
    if (execution.broken) lost.add(name);
    else executions.push({ ...execution.header, ...execution.state, history: execution.history });
  }
  return { executions, unreadableLines, lostExecutions: lost.size };
}

/** The line that holds the whole execution (the journal after a compaction has one per execution). */
export function journalLineOf(record: StoredExecution): string {
  const { version, executionArn, name, stateMachineName, stateMachineArn, input, startDate, history, ...state } = record;
  const header: StoredHeader = { version, executionArn, name, stateMachineName, stateMachineArn, input, startDate };
  return `${JSON.stringify({ n: name, h: header, from: 0, events: history, ...state })}\n`;
}

/** One state machine's journal: its file, open for appending once written to. */
interface Journal {
  readonly file: string;
  fd?: number;
  /** Its size. */
  bytes: number;
  /** The executions it holds. */
  readonly sources: Set<JournalSource>;
  /** Lines waiting for the next write. */
  pending: string[];
}

export class ExecutionStore {
  private readonly journals = new Map<string, Journal>();
  /** Executions with something not yet in their journal, in the order they changed. */
  private readonly dirty = new Set<JournalSource>();
  private flushScheduled = false;
  readonly statistics: StoreStatistics = { lines: 0, writes: 0, bytes: 0, compactions: 0, failures: 0, writeMs: 0 };

  constructor(
    readonly directory: string,
    private readonly logger: Logger,
  ) {}

  /** The journal file of a state machine. */
  fileOf(stateMachineName: string): string {
    return path.join(this.directory, `${stateMachineName}${JOURNAL_SUFFIX}`);
  }

  /** Marks the execution changed: its journal gets a line on the next turn of the event loop. */
  save(source: JournalSource): void {
    this.dirty.add(source);
    this.scheduleFlush();
  }

  /** Forgets the execution (evicted): a line says so, and compaction drops its lines. */
  delete(source: JournalSource): void {
    this.dirty.delete(source);
    const journal = this.journal(source.stateMachineName);
    // Never written (or not adopted yet): nothing to take back.
    if (!journal.sources.delete(source)) return;
    journal.pending.push(`${JSON.stringify({ n: source.name, deleted: true })}\n`);
    this.scheduleFlush();
  }

  /** Executions with changes not yet written. */
  backlog(): number {
    return this.dirty.size;
  }

  /** Writes the pending lines now, one write per journal (those it has no time left to serialize on the next turn). */
  flush(budgetMs = Number.POSITIVE_INFINITY): void {
    const started = performance.now();
    for (const source of this.dirty) {
      if (performance.now() - started >= budgetMs) break;
      this.dirty.delete(source);
      const journal = this.journal(source.stateMachineName);
      const line = this.lineOf(source);
      journal.pending.push(line);
      journal.sources.add(source);
      source.journal.bytes += line.length;
    }
    if (this.dirty.size > 0) this.scheduleFlush();
    for (const journal of this.journals.values()) {
      if (journal.pending.length === 0) continue;
      const lines = journal.pending;
      journal.pending = [];
      this.append(journal, lines);
      if (journal.bytes > COMPACT_MIN_BYTES && journal.bytes > COMPACT_RATIO * this.heldBytes(journal)) this.compact(journal);
    }
    this.statistics.writeMs += performance.now() - started;
  }

  /** Writes what is pending and closes the journals (they open again when written to). */
  close(): void {
    this.flush();
    for (const journal of this.journals.values()) {
      if (journal.fd !== undefined) closeSync(journal.fd);
      delete journal.fd;
    }
  }

  /**
   * Reads every journal back. A journal with unreadable lines is moved aside as `.corrupt` (what
   * could be read of it is recovered, and `adopt` writes it anew); journals of state machines not
   * in `knownStateMachines` are left as they are.
   */
  async load(knownStateMachines: ReadonlySet<string>): Promise<LoadResult> {
    await mkdir(this.directory, { recursive: true });
    const executions: StoredExecution[] = [];
    const unknownStateMachines: LoadResult['unknownStateMachines'] = [];
    const corrupt = { journals: 0, executions: 0 };
    for (const name of await readdir(this.directory)) {
      const file = path.join(this.directory, name);
      if (name.endsWith(`${JOURNAL_SUFFIX}${TEMPORARY_SUFFIX}`)) {
        // A compaction the crash interrupted: the journal it was replacing is whole.
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(JOURNAL_SUFFIX)) continue;
      const stateMachineName = name.slice(0, -JOURNAL_SUFFIX.length);
      const parsed = parseJournal(await readFile(file, 'utf8'));
      if (!knownStateMachines.has(stateMachineName)) {
        unknownStateMachines.push({ name: stateMachineName, file, executions: parsed.executions.length });
        continue;
      }
      const foreign = parsed.executions.filter((execution) => execution.stateMachineName !== stateMachineName);
      if (parsed.unreadableLines > 0 || foreign.length > 0) {
        corrupt.journals += 1;
        corrupt.executions += parsed.lostExecutions + foreign.length;
        this.logger.warn('execution journal with unreadable lines moved aside: what could be read of it is recovered', {
          file: `${file}${CORRUPT_SUFFIX}`,
          unreadableLines: parsed.unreadableLines + foreign.length,
          executionsLost: parsed.lostExecutions + foreign.length,
        });
        await rename(file, `${file}${CORRUPT_SUFFIX}`);
      }
      executions.push(...parsed.executions.filter((execution) => execution.stateMachineName === stateMachineName));
    }
    return { executions, corrupt, unknownStateMachines };
  }

  /**
   * Takes the recovered executions of a state machine in: its journal is rewritten with one line
   * each (their history cut back as the service kept it), which also drops evicted executions and
   * whatever a crash left behind.
   */
  adopt(stateMachineName: string, sources: readonly JournalSource[]): void {
    const journal = this.journal(stateMachineName);
    for (const source of sources) journal.sources.add(source);
    this.compact(journal);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush(FLUSH_BUDGET_MS);
    });
  }

  private journal(stateMachineName: string): Journal {
    let journal = this.journals.get(stateMachineName);
    if (!journal) {
      journal = { file: this.fileOf(stateMachineName), bytes: 0, sources: new Set(), pending: [] };
      this.journals.set(stateMachineName, journal);
    }
    return journal;
  }

  /** What the executions a journal holds take in it, about (the lines since their last compaction included). */
  private heldBytes(journal: Journal): number {
    let bytes = 0;
    for (const source of journal.sources) bytes += source.journal.bytes;
    return bytes;
  }

  /** The line with what changed since the execution's last (the first one with its header). */
  private lineOf(source: JournalSource): string {
    const history = source.history();
    // A resumed execution's history was cut back to its checkpoint: it continues from there.
    const from = source.journal.header ? Math.min(source.journal.events, history.length) : 0;
    const line = `${JSON.stringify({ n: source.name, ...(!source.journal.header && { h: source.header() }), from, events: history.slice(from), ...source.state() })}\n`;
    source.journal.header = true;
    source.journal.events = history.length;
    return line;
  }

  private append(journal: Journal, lines: readonly string[]): void {
    const buffer = Buffer.from(lines.join(''), 'utf8');
    try {
      if (journal.fd === undefined) {
        mkdirSync(path.dirname(journal.file), { recursive: true });
        journal.fd = openSync(journal.file, 'a');
      }
      let written = 0;
      while (written < buffer.length) written += writeSync(journal.fd, buffer, written);
      journal.bytes += buffer.length;
      this.statistics.lines += lines.length;
      this.statistics.writes += 1;
      this.statistics.bytes += buffer.length;
    } catch (error) {
      this.statistics.failures += 1;
      this.logger.error('could not append to an execution journal', { file: journal.file, lines: lines.length, error });
    }
  }

  /** Rewrites the journal with one line per execution it holds: a temporary file, renamed over it. */
  private compact(journal: Journal): void {
    const started = performance.now();
    const lines: string[] = [];
    for (const source of journal.sources) {
      this.dirty.delete(source);
      source.journal.header = false;
      const line = this.lineOf(source);
      source.journal.bytes = line.length;
      lines.push(line);
    }
    const buffer = Buffer.from(lines.join(''), 'utf8');
    const temporary = `${journal.file}${TEMPORARY_SUFFIX}`;
    try {
      mkdirSync(path.dirname(journal.file), { recursive: true });
      writeFileSync(temporary, buffer);
      renameSync(temporary, journal.file);
      if (journal.fd !== undefined) closeSync(journal.fd);
      journal.fd = openSync(journal.file, 'a');
      journal.bytes = buffer.length;
      journal.pending = [];
      this.statistics.compactions += 1;
      this.statistics.bytes += buffer.length;
    } catch (error) {
      this.statistics.failures += 1;
      this.logger.error('could not compact an execution journal', { file: journal.file, error });
      // The journal is as it was: each execution gets a whole line (with its header) on the next write.
      for (const source of journal.sources) {
        source.journal.header = false;
        this.dirty.add(source);
      }
      this.scheduleFlush();
      try {
        unlinkSync(temporary);
      } catch (unlinkError) {
        if (!isErrnoCode(unlinkError, 'ENOENT')) this.logger.error('could not remove a temporary journal', { file: temporary, error: unlinkError });
      }
    }
    this.logger.debug('execution journal compacted', {
      file: journal.file,
      executions: journal.sources.size,
      bytes: buffer.length,
      ms: Math.round(performance.now() - started),
    });
  }
}
