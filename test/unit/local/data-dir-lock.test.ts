import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import {
  acquireDataDirLock,
  DataDirInUseError,
  LOCK_FILE_NAME,
  takeOverGuardFile,
  takeOverStaleLock,
  type DataDirLock,
  type DataDirLockOwner,
} from '../../../local/data-dir-lock';

/** One local platform per DMP_DATA_DIR: local/data-dir-lock.ts. */

let root: string;
const held: DataDirLock[] = [];
const children: ReturnType<typeof spawn>[] = [];

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'dmp-lock-'));
});

afterEach(async () => {
  await Promise.all(held.splice(0).map((lock) => lock.release()));
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

async function acquire(directory: string): Promise<DataDirLock> {
  const lock = await acquireDataDirLock(directory);
  held.push(lock);
  return lock;
}

/** A node process that runs until killed, and a promise of its exit. */
function startIdleProcess(): { pid: number; exited: Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  children.push(child);
  return { pid: child.pid ?? -1, exited: new Promise((resolve) => child.once('exit', () => resolve())) };
}

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid ?? -1;
}

function lockContent(owner: Partial<DataDirLockOwner>): string {
  return JSON.stringify({ startedAt: '2026-01-02T03:04:05.000Z', hostname: hostname(), token: `other-${Math.random()}`, ...owner });
}

it('creates the directory and a lock naming this process, and refuses a second platform naming the first', async () => {
  const directory = path.join(root, 'nested', 'data');
  const lock = await acquire(directory);
  expect(lock.file).toBe(path.join(directory, LOCK_FILE_NAME));
  const written = JSON.parse(await readFile(lock.file, 'utf8')) as DataDirLockOwner;
  expect(written).toMatchObject({ pid: process.pid, hostname: hostname(), token: lock.owner.token });
  expect(Number.isNaN(Date.parse(written.startedAt))).toBe(false);

  const refusal = acquireDataDirLock(directory);
  await expect(refusal).rejects.toBeInstanceOf(DataDirInUseError);
  await expect(refusal).rejects.toThrow(
    `DMP_DATA_DIR ${directory} is in use by another local platform (pid ${process.pid}, started ${written.startedAt}); stop it or choose another DMP_DATA_DIR`,
  );
  // The refusal left the lock alone.
  expect(JSON.parse(await readFile(lock.file, 'utf8'))).toEqual(written);
});

it('refuses while the owner of the lock runs, and takes the lock over once it is gone', async () => {
  const owner = startIdleProcess();
  const file = path.join(root, LOCK_FILE_NAME);
  await writeFile(file, lockContent({ pid: owner.pid }));
  const refusal = acquireDataDirLock(root);
  await expect(refusal).rejects.toThrow(`is in use by another local platform (pid ${owner.pid}, started 2026-01-02T03:04:05.000Z)`);
  await expect(refusal).rejects.toMatchObject({ owner: { pid: owner.pid }, directory: root });

  process.kill(owner.pid, 'SIGKILL');
  await owner.exited;
  const lock = await acquire(root);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, token: lock.owner.token });
});

it('takes over a lock whose process has exited', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  await writeFile(file, lockContent({ pid: await deadPid() }));
  const lock = await acquire(root);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid, token: lock.owner.token });
});

(process.platform === 'linux' ? it : it.skip)('takes over a lock whose pid now belongs to another process (Linux: start time or boot differs)', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  // This very process is alive, but it is not the one that wrote these locks.
  await writeFile(file, lockContent({ pid: process.pid, processStart: '1' }));
  const first = await acquire(root);
  await first.release();
  await writeFile(file, lockContent({ pid: process.pid, bootId: 'a-boot-before-the-last-reboot' }));
  await acquire(root);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ pid: process.pid });
});

it('takes over a lock without valid content once it had time to be written', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  await writeFile(file, '');
  const lock = await acquire(root);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: lock.owner.token });
});

it('lets exactly one of many simultaneous starters take over a stale lock', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  const stalePid = await deadPid();
  for (let round = 0; round < 20; round += 1) {
    await writeFile(file, lockContent({ pid: stalePid }));
    // Staggered a little, so that some find the stale lock while others are already past it.
    const attempts = await Promise.allSettled(
      Array.from({ length: 6 }, (_, index) => new Promise((resolve) => setTimeout(resolve, index % 3)).then(() => acquireDataDirLock(root))),
    );
    const winners = attempts.flatMap((attempt) => (attempt.status === 'fulfilled' ? [attempt.value] : []));
    const failures = attempts.flatMap((attempt) => (attempt.status === 'rejected' ? [attempt.reason as unknown] : []));
    held.push(...winners);
    expect(winners).toHaveLength(1);
    for (const failure of failures) expect(failure).toBeInstanceOf(DataDirInUseError);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: winners[0]?.owner.token });
    await winners[0]?.release();
  }
  // No takeover or draft file is left behind.
  expect(await readdir(root)).toEqual([]);
});

it('a starter that found the stale lock too late does not delete the lock that replaced it', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  const stale = lockContent({ pid: await deadPid() });
  await writeFile(file, stale);
  // Another starter takes the stale lock over first...
  const winner = await acquire(root);
  // ...then this one, which read the stale content before that, acts on it.
  await takeOverStaleLock(file, stale);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: winner.owner.token });
  await expect(acquireDataDirLock(root)).rejects.toBeInstanceOf(DataDirInUseError);
});

it('does not delete a stale lock while another live starter is taking it over', async () => {
  const file = path.join(root, LOCK_FILE_NAME);
  const stale = lockContent({ pid: await deadPid() });
  await writeFile(file, stale);
  const busy = startIdleProcess();
  const guards = async (): Promise<string[]> => (await readdir(root)).filter((name) => name.includes('.takeover-'));
  const guard = takeOverGuardFile(file, stale);
  await writeFile(guard, lockContent({ pid: busy.pid }));
  await takeOverStaleLock(file, stale);
  expect(await readFile(file, 'utf8')).toBe(stale);
  expect(await guards()).toEqual([path.basename(guard)]);
  // Once that starter is gone, its guard is cleared and the stale lock can be taken over.
  process.kill(busy.pid, 'SIGKILL');
  await busy.exited;
  const lock = await acquire(root);
  expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ token: lock.owner.token });
  expect(await guards()).toEqual([]);
});

it('release removes the lock, so the directory can be locked again; releasing twice is harmless', async () => {
  const first = await acquireDataDirLock(root);
  await first.release();
  expect(existsSync(first.file)).toBe(false);
  await first.release();
  const second = await acquire(root);
  expect(JSON.parse(await readFile(second.file, 'utf8'))).toMatchObject({ token: second.owner.token });
});

it('release leaves a lock that is no longer its own', async () => {
  const lock = await acquireDataDirLock(root);
  // E.g. taken over by a platform that wrongly found this one gone.
  const someoneElse = lockContent({ pid: process.pid });
  await writeFile(lock.file, someoneElse);
  await lock.release();
  expect(await readFile(lock.file, 'utf8')).toBe(someoneElse);
});
