import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { MessageAttribute } from './message-md5';

/**
 * The local SQS's write-ahead log: one JSON line per change, appended with group commit (the
 * writes of concurrent calls share one write and one fdatasync), and rewritten as a snapshot of
 * what is live at start and whenever it has grown well past that snapshot.
 */

export type JournalRecord =
  | { readonly t: 'queue'; readonly q: string; readonly attributes: Readonly<Record<string, string>>; readonly created: number }
  | { readonly t: 'deleteQueue'; readonly q: string }
  | {
      readonly t: 'send';
      readonly q: string;
      readonly id: string;
      readonly body: string;
      readonly attributes?: Readonly<Record<string, MessageAttribute>>;
      readonly sent: number;
      readonly visibleAt: number;
      /** Receive count and first receive time, in snapshots of messages received before. */
      readonly n?: number;
      readonly first?: number;
    }
  | { readonly t: 'receive'; readonly q: string; readonly id: string; readonly n: number; readonly first: number }
  | { readonly t: 'delete'; readonly q: string; readonly id: string }
  | { readonly t: 'move'; readonly q: string; readonly to: string; readonly id: string }
  | { readonly t: 'purge'; readonly q: string };

/** Below this a journal is never rewritten while running: the rewrite would cost more than it saves. */
const MIN_REWRITE_BYTES = 32 * 1024 * 1024;
/** Rewritten once it is this many times the size of the last snapshot. */
const REWRITE_GROWTH = 4;

export interface JournalReplay {
  readonly records: number;
  /** Lines that could not be read (a line cut short by a crash mid-write, typically the last). */
  readonly skipped: number;
}

export interface Journal {
  /** Resolves once the record is on disk (with every record appended before it). */
  append(record: JournalRecord): Promise<void>;
  /** Records whose loss in a crash is harmless (receive counts): written with the next commit. */
  note(record: JournalRecord): void;
  /** Waits for everything appended so far, then closes the file. */
  close(): Promise<void>;
  /** Bytes written to disk and commits (fdatasync calls) so far, for benchmarks. */
  stats(): { readonly bytes: number; readonly commits: number };
}

/** For `DMP_DATA_DIR=:memory:`: nothing is written. */
export const NO_JOURNAL: Journal = {
  append: () => Promise.resolve(),
  note: () => undefined,
  close: () => Promise.resolve(),
  stats: () => ({ bytes: 0, commits: 0 }),
};

/** Reads every complete record of `file` in order; a missing file has none. */
export async function replayJournal(file: string, apply: (record: JournalRecord) => void): Promise<JournalReplay> {
  let records = 0;
  let skipped = 0;
  const stream = createReadStream(file, { encoding: 'utf8' });
  try {
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    for await (const line of lines) {
      if (line === '') continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        skipped += 1;
        continue;
      }
      apply(record);
      records += 1;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  } finally {
    stream.destroy();
  }
  return { records, skipped };
}

async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeSnapshot(file: string, records: Iterable<JournalRecord>): Promise<{ handle: FileHandle; bytes: number }> {
  const partial = `${file}.rewrite`;
  const handle = await open(partial, 'w');
  let bytes = 0;
  try {
    let chunk: string[] = [];
    let chunkLength = 0;
    for (const record of records) {
      const line = `${JSON.stringify(record)}\n`;
      chunk.push(line);
      chunkLength += line.length;
      if (chunkLength >= 1024 * 1024) {
        bytes += (await handle.write(chunk.join(''))).bytesWritten;
        chunk = [];
        chunkLength = 0;
      }
    }
    if (chunk.length > 0) bytes += (await handle.write(chunk.join(''))).bytesWritten;
    await handle.datasync();
  } catch (error) {
    await handle.close();
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, file);
  await syncDirectory(path.dirname(file));
  return { handle, bytes };
}

class FileJournal implements Journal {
  private pending: string[] = [];
  private waiters: { resolve: () => void; reject: (error: Error) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private bytesSinceSnapshot: number;
  private written = 0;
  private commits = 0;
  private failure: Error | undefined;

  constructor(
    private readonly file: string,
    private handle: FileHandle,
    private snapshotBytes: number,
    private readonly snapshot: () => Iterable<JournalRecord>,
  ) {
    this.bytesSinceSnapshot = snapshotBytes;
  }

  append(record: JournalRecord): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push(`${JSON.stringify(record)}\n`);
      this.waiters.push({ resolve, reject });
      this.flushing ??= this.flush();
    });
  }

  note(record: JournalRecord): void {
    if (this.failure) return;
    this.pending.push(`${JSON.stringify(record)}\n`);
    this.flushing ??= this.flush();
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.handle.close();
  }

  stats(): { bytes: number; commits: number } {
    return { bytes: this.written, commits: this.commits };
  }

  private async flush(): Promise<void> {
    // Calls that arrive in the same turn of the event loop join this commit.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const data = this.pending.join('');
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      try {
        if (this.bytesSinceSnapshot > Math.max(MIN_REWRITE_BYTES, REWRITE_GROWTH * this.snapshotBytes)) await this.rewrite();
        const { bytesWritten } = await this.handle.write(data);
        await this.handle.datasync();
        this.written += bytesWritten;
        this.bytesSinceSnapshot += bytesWritten;
        this.commits += 1;
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        // A journal that failed to write cannot promise anything more: every later call fails.
        this.failure = error instanceof Error ? error : new Error(String(error));
        for (const waiter of [...waiters, ...this.waiters.splice(0)]) waiter.reject(this.failure);
        this.pending = [];
      }
    }
    this.flushing = undefined;
  }

  /** The live state replaces the log; records still pending are applied after it, as before. */
  private async rewrite(): Promise<void> {
    const previous = this.handle;
    const { handle, bytes } = await writeSnapshot(this.file, this.snapshot());
    await previous.close();
    this.handle = handle;
    this.snapshotBytes = bytes;
    this.bytesSinceSnapshot = bytes;
    this.written += bytes;
  }
}

/**
 * Replaces `file` by a snapshot of the live state (after a replay, so the log starts small)
 * and opens it for appends. `snapshot` is read again at each later rewrite.
 */
export async function openJournal(file: string, snapshot: () => Iterable<JournalRecord>): Promise<Journal> {
  await mkdir(path.dirname(file), { recursive: true });
  const { handle, bytes } = await writeSnapshot(file, snapshot());
  return new FileJournal(file, handle, bytes, snapshot);
}
