/**
 * One local platform per DMP_DATA_DIR: two platforms on one directory would run two DynamoDB
 * Local JVMs on one database file and overwrite each other's queue snapshot and schedules.
 *
 * The lock is `<dir>/platform.lock`, JSON naming its owner: {pid, startedAt, hostname, token,
 * and on Linux bootId and processStart}. It is created exclusively and never half-written: the
 * content goes to a file of its own first, which is then hard-linked as platform.lock (link fails
 * with EEXIST when the lock exists, as `open(path, 'wx')` does). On a file system without hard
 * links, `open(path, 'wx')` is used instead, and a lock without valid content is given a moment
 * to be completed before it counts as abandoned.
 *
 * A lock whose owner is gone (process.kill(pid, 0) fails with ESRCH; on Linux also: a different
 * boot, or a different process under that pid) is stale and taken over. Two starters may find
 * the same stale lock at once: only the one that exclusively creates `platform.lock.takeover-<id>`,
 * named after that very lock content, may delete it, and only after reading it again and finding
 * it unchanged; it then competes for the lock like everyone else. Deleting a lock only ever
 * happens to a stale one, so two starters can never both win. (The one gap: a starter that dies
 * in the middle of a takeover leaves its takeover file behind, removed by the next starter; that
 * removal is racy only if two more starters then race for the same stale lock.)
 */
import { randomUUID, createHash } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readFile, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

export const LOCK_FILE_NAME = 'platform.lock';

/** How long acquiring may wait for another starter that is taking over a stale lock. */
const ACQUIRE_DEADLINE_MS = 10_000;
const RETRY_INTERVAL_MS = 25;
/** How long a lock without valid content may still be being written (only without hard links). */
const INCOMPLETE_LOCK_GRACE_MS = 1_000;

/** What platform.lock says about its owner. */
export interface DataDirLockOwner {
  readonly pid: number;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly hostname: string;
  /** Unique per lock: tells this lock from a later one of the same process. */
  readonly token: string;
  /** Linux: /proc/sys/kernel/random/boot_id, so that a lock from before a reboot is stale. */
  readonly bootId?: string;
  /** Linux: start time of the process (clock ticks since boot), so that a reused pid does not count. */
  readonly processStart?: string;
}

export interface DataDirLock {
  readonly directory: string;
  readonly file: string;
  readonly owner: DataDirLockOwner;
  /** Removes the lock if it is still this one's; idempotent. */
  release(): Promise<void>;
}

/** The directory is locked by a live platform: its message is meant for the user, as is. */
export class DataDirInUseError extends Error {
  constructor(
    readonly directory: string,
    readonly owner: DataDirLockOwner,
    readonly lockFile: string,
  ) {
    const where = owner.hostname === hostname() ? '' : `, on host ${owner.hostname}`;
    super(
      `DMP_DATA_DIR ${directory} is in use by another local platform (pid ${owner.pid}, started ${owner.startedAt}${where}); ` +
        `stop it or choose another DMP_DATA_DIR (if no platform runs as that process, delete ${lockFile})`,
    );
    this.name = 'DataDirInUseError';
  }
}

function errorCode(error: unknown): string | undefined {
  // Not `instanceof Error`: errors of Node's own modules come from another realm under jest.
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function pause(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat (after the command name, which may hold spaces and parentheses). */
function linuxProcessStart(pid: number | 'self'): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const stat = readOptional(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function linuxBootId(): string | undefined {
  return process.platform === 'linux' ? readOptional('/proc/sys/kernel/random/boot_id') : undefined;
}

function parseOwner(content: string): DataDirLockOwner | undefined {
  try {
    const value = JSON.parse(content) as Partial<DataDirLockOwner>;
    const valid =
      Number.isInteger(value.pid) &&
      (value.pid ?? 0) > 0 &&
      typeof value.startedAt === 'string' &&
      typeof value.hostname === 'string' &&
      typeof value.token === 'string';
    return valid ? (value as DataDirLockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the owner may still run; a process on another host is assumed to. */
export function isOwnerAlive(owner: DataDirLockOwner): boolean {
  if (owner.hostname !== hostname()) return true;
  const bootId = linuxBootId();
  if (owner.bootId !== undefined && bootId !== undefined && owner.bootId !== bootId) return false;
  if (owner.processStart !== undefined && process.platform === 'linux') {
    const start = linuxProcessStart(owner.pid);
    // No /proc entry: no such process.
    return start === owner.processStart;
  }
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's process.
    return errorCode(error) !== 'ESRCH';
  }
}

/** Exclusively creates `file` with `content`, complete from the first moment; false if it exists. */
async function createExclusively(file: string, content: string, token: string): Promise<boolean> {
  const draft = `${file}.${token}.draft`;
  await writeFile(draft, content, { flag: 'wx' });
  try {
    await link(draft, file);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    await rm(draft, { force: true });
  }
  // No hard links here: exclusive create, then write (readers allow for the moment in between).
  let handle: FileHandle;
  try {
    handle = await open(file, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
  // Taken for abandoned while still empty, then deleted: not ours after all.
  return (await readContent(file)) === content;
}

async function readContent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Whoever creates this file (exclusively) may delete the lock if it still holds `stale`. */
export function takeOverGuardFile(lockFile: string, stale: string): string {
  return `${lockFile}.takeover-${createHash('sha256').update(stale).digest('hex').slice(0, 16)}`;
}

/**
 * Deletes the stale lock whose content is `stale`, unless another starter is doing so, or did
 * already (then the lock holds something else, which is left alone, however stale `stale` was).
 * Resolves when the caller should try to create the lock again. Exported for tests.
 */
export async function takeOverStaleLock(lockFile: string, stale: string, ownToken: string = randomUUID()): Promise<void> {
  const guard = takeOverGuardFile(lockFile, stale);
  const guardContent = JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), hostname: hostname(), token: ownToken });
  if (!(await createExclusively(guard, guardContent, ownToken))) {
    const existing = await readContent(guard);
    const guardOwner = existing === undefined ? undefined : parseOwner(existing);
    // Another starter is taking it over: wait for it. One that died doing so: clear its guard.
    if (existing !== undefined && (guardOwner === undefined || !isOwnerAlive(guardOwner))) await rm(guard, { force: true });
    else await pause(RETRY_INTERVAL_MS);
    return;
  }
  try {
    // Only the guard's holder deletes this content, so it cannot change between read and unlink.
    if ((await readContent(lockFile)) === stale) await rm(lockFile, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
}

/**
 * Locks `directory` (created if missing) for this process, or throws DataDirInUseError naming
 * the live platform that holds it. A stale lock (its process is gone) is taken over.
 */
export async function acquireDataDirLock(directory: string): Promise<DataDirLock> {
  const resolved = path.resolve(directory);
  await mkdir(resolved, { recursive: true });
  const lockFile = path.join(resolved, LOCK_FILE_NAME);
  const bootId = linuxBootId();
  const processStart = linuxProcessStart('self');
  const owner: DataDirLockOwner = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    token: randomUUID(),
    ...(bootId !== undefined && { bootId }),
    ...(processStart !== undefined && { processStart }),
  };
  const content = `${JSON.stringify(owner)}\n`;
  const incompleteSince = new Map<string, number>();
  const deadline = Date.now() + ACQUIRE_DEADLINE_MS;
  for (;;) {
    if (await createExclusively(lockFile, content, owner.token)) break;
    const existing = await readContent(lockFile);
    if (existing === undefined) continue; // Released meanwhile.
    const holder = parseOwner(existing);
    if (holder && isOwnerAlive(holder)) throw new DataDirInUseError(resolved, holder, lockFile);
    if (Date.now() >= deadline) throw new Error(`could not lock DMP_DATA_DIR ${resolved}: ${lockFile} stays stale or contended`);
    if (!holder) {
      // Possibly still being written (open 'wx' then write, on file systems without hard links).
      const since = incompleteSince.get(existing) ?? Date.now();
      incompleteSince.set(existing, since);
      if (Date.now() - since < INCOMPLETE_LOCK_GRACE_MS) {
        await pause(RETRY_INTERVAL_MS);
        continue;
      }
    }
    await takeOverStaleLock(lockFile, existing, owner.token);
  }

  const isStillOurs = (text: string | undefined): boolean => text !== undefined && parseOwner(text)?.token === owner.token;
  // Exit hooks do not run on SIGKILL; the next start then finds a stale lock and takes it over.
  const releaseOnExit = (): void => {
    if (isStillOurs(readOptional(lockFile))) {
      try {
        unlinkSync(lockFile);
      } catch {
        // Gone already.
      }
    }
  };
  process.once('exit', releaseOnExit);
  let released = false;
  return {
    directory: resolved,
    file: lockFile,
    owner,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', releaseOnExit);
      if (isStillOurs(await readContent(lockFile))) await unlink(lockFile).catch(() => undefined);
    },
  };
}
