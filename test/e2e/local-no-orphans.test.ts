import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFreePort } from '../../local/free-port';
import { pollUntil, startTestPlatform, type TestPlatform } from '../helpers/platform';

/**
 * `npm start` (`node --import tsx local/main.ts`) as a child process: its DynamoDB Local JVM never
 * outlives it, however it ends, and a second one refuses a DMP_DATA_DIR in use. Reads /proc,
 * hence Linux only.
 */

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
const GONE_DEADLINE_MS = 15_000;
const JAR = 'DynamoDBLocal.jar';

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly args: readonly string[];
}

/** A live process (zombies, already dead, do not count), or undefined. */
function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    return { pid, ppid: Number(fields[1]), args };
  } catch {
    return undefined;
  }
}

function allProcesses(): ProcessInfo[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => processInfo(Number(entry)) ?? []);
}

function descendants(root: number): ProcessInfo[] {
  const processes = allProcesses();
  const found: ProcessInfo[] = [];
  const parents = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const candidate of processes) {
      if (parents.has(candidate.ppid) && !parents.has(candidate.pid)) {
        parents.add(candidate.pid);
        found.push(candidate);
        grew = true;
      }
    }
  }
  return found;
}

const isJvm = (info: ProcessInfo): boolean => info.args.includes(JAR) && path.basename(info.args[0] ?? '') === 'java';

/** Processes this suite started, each with what it must still look like to be signalled (pids get reused). */
const started = new Map<number, (info: ProcessInfo) => boolean>();

function track(pid: number, matches: (info: ProcessInfo) => boolean): void {
  started.set(pid, matches);
}

function stillRunning(pid: number): ProcessInfo | undefined {
  const info = processInfo(pid);
  const matches = started.get(pid);
  return info && (!matches || matches(info)) ? info : undefined;
}

const temporaryDirectories: string[] = [];
const platforms: TestPlatform[] = [];
/** Pids of the platform processes this suite started. */
const roots: number[] = [];

function trackDescendants(root: number): void {
  for (const info of descendants(root)) track(info.pid, (now) => now.args.join(' ') === info.args.join(' '));
}

afterAll(async () => {
  // Whatever a failed test left running: every process it started, the JVMs included.
  for (const root of roots) trackDescendants(root);
  for (const pid of started.keys()) {
    if (stillRunning(pid)) process.kill(pid, 'SIGKILL');
  }
  await Promise.all(platforms.map((platform) => platform.stop()));
  await Promise.all(temporaryDirectories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDataDir(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'dmp-orphans-'));
  temporaryDirectories.push(directory);
  return directory;
}

async function startPlatform(env: Record<string, string>): Promise<TestPlatform> {
  const platform = await startTestPlatform(env);
  platforms.push(platform);
  roots.push(platform.pid);
  track(platform.pid, (info) => info.args.includes('local/main.ts'));
  return platform;
}

/** The node process that runs the platform, its JVM and what else runs below it. */
function platformProcesses(platform: TestPlatform): { node: ProcessInfo; jvm: ProcessInfo; others: ProcessInfo[] } {
  const below = descendants(platform.pid);
  const node = processInfo(platform.pid);
  const jvms = below.filter(isJvm);
  if (!node || jvms.length !== 1) throw new Error(`expected the platform process and one JVM below it: ${JSON.stringify(below)}`);
  const jvm = jvms[0] as ProcessInfo;
  // The JVM's watchdog, and whatever else the platform started (e.g. tsx's esbuild service).
  const others = below.filter((info) => info.pid !== node.pid && info.pid !== jvm.pid);
  for (const info of below) track(info.pid, (now) => now.args.join(' ') === info.args.join(' '));
  return { node, jvm, others };
}

async function expectGoneAfterKill(platform: TestPlatform, dataDir: string | undefined): Promise<void> {
  const { node, jvm, others } = platformProcesses(platform);
  if (dataDir) expect(jvm.args).toEqual(expect.arrayContaining(['-dbPath', path.join(dataDir, 'dynamodb')]));
  else expect(jvm.args).toContain('-inMemory');
  // SIGKILL of the platform's process: no exit hook runs.
  const killed = platform.kill();
  await pollUntil(() => !stillRunning(node.pid) && !stillRunning(jvm.pid), {
    timeoutMs: GONE_DEADLINE_MS,
    intervalMs: 100,
    description: `the platform process (${node.pid}) and its JVM (${jvm.pid}) gone`,
  });
  // Its watchdog too, and no other DynamoDB Local process on this directory.
  await pollUntil(() => others.every((info) => !stillRunning(info.pid)), {
    timeoutMs: GONE_DEADLINE_MS,
    description: `every process the platform started gone (${others.map((info) => info.args.slice(0, 2).join(' ')).join(', ')})`,
  });
  if (dataDir) expect(allProcesses().filter((info) => info.args.includes(JAR) && info.args.some((arg) => arg.includes(dataDir)))).toEqual([]);
  await killed;
}

const describeOnLinux = process.platform === 'linux' ? describe : describe.skip;

describeOnLinux('no DynamoDB Local JVM outlives the platform', () => {
  it('is gone once the platform process is SIGKILLed (DMP_DATA_DIR directory: -dbPath)', async () => {
    const dataDir = await temporaryDataDir();
    const platform = await startPlatform({ DMP_DATA_DIR: dataDir });
    await expectGoneAfterKill(platform, dataDir);
  }, 90_000);

  it('is gone once the platform process is SIGKILLed (in memory: -inMemory)', async () => {
    const platform = await startPlatform({ DMP_DATA_DIR: ':memory:' });
    await expectGoneAfterKill(platform, undefined);
  }, 90_000);
});

describeOnLinux('a platform whose supervisor is gone stops', () => {
  it('stops cleanly, JVM included, once the pipe to its standard input closes (DMP_STOP_ON_STDIN_CLOSE=1)', async () => {
    const platform = await startPlatform({ DMP_DATA_DIR: ':memory:' });
    const { node, jvm } = platformProcesses(platform);
    // What a killed test runner does to its end of the pipe.
    platform.closeStdin();
    await pollUntil(() => !stillRunning(node.pid) && !stillRunning(jvm.pid), {
      timeoutMs: GONE_DEADLINE_MS,
      intervalMs: 100,
      description: 'the platform and its JVM gone',
    });
    expect(await platform.stop()).toBe(0);
    expect(platform.output()).toContain('standard input closed: stopping');
  }, 90_000);
});

/**
 * Runs `npm start`'s entry, expected to fail fast: its exit code and output. If it is still
 * running after the deadline, it is stopped (SIGTERM) and the code is 'running'.
 */
async function runUntilExit(env: Record<string, string>, deadlineMs: number): Promise<{ code: number | null | 'running'; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: REPOSITORY_ROOT,
    env: { ...process.env, PORT: String(await findFreePort()), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid ?? -1;
  roots.push(pid);
  track(pid, (info) => info.args.includes('local/main.ts'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), deadlineMs)))]);
  clearTimeout(timer);
  if (code === 'running') {
    trackDescendants(pid);
    child.kill('SIGTERM');
    await exited;
  }
  return { code, output };
}

describeOnLinux('one platform per DMP_DATA_DIR', () => {
  it('refuses a second platform on a DMP_DATA_DIR in use, naming the first; the first releases it on stop', async () => {
    const dataDir = await temporaryDataDir();
    const first = await startPlatform({ DMP_DATA_DIR: dataDir });
    const { node } = platformProcesses(first);

    const second = await runUntilExit({ DMP_DATA_DIR: dataDir }, 30_000);
    expect(second.code).toBe(1);
    expect(second.output).toMatch(
      new RegExp(
        `DMP_DATA_DIR ${dataDir} is in use by another local platform \\(pid ${node.pid}, started [0-9T:.Z-]+\\); stop it or choose another DMP_DATA_DIR`,
      ),
    );
    // The message alone, no stack trace.
    expect(second.output).not.toMatch(/^\s+at /m);
    // The second started no JVM of its own on that directory.
    expect(allProcesses().filter((info) => isJvm(info) && info.args.some((arg) => arg.includes(dataDir)))).toHaveLength(1);
    expect((await fetch(`${first.baseUrl}/health`)).status).toBe(200);

    expect(await first.stop()).toBe(0);
    expect(existsSync(path.join(dataDir, 'platform.lock'))).toBe(false);
  }, 120_000);
});
