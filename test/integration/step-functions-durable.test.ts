import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { journalLineOf, parseJournal, type StoredExecution } from '../../local/step-functions/execution-store';
import type { HistoryEvent, StepFunctionsService } from '../../local/step-functions/step-functions-service';
import { APPROVAL, durableService, FAN_OUT, JOURNEY, PATH_WAIT, SCALED_WAIT_MS, type TaskCall } from '../helpers/durable-step-functions';
import { pollUntil } from '../helpers/platform';

/**
 * Durable executions of the local Step Functions: a service on a directory persists each
 * execution and the top-level state it is in; a new service on the same directory (after a crash,
 * a child process killed with SIGKILL, or a graceful stop) resumes them there.
 */

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..');
const CHILD = path.join(REPOSITORY_ROOT, 'test', 'helpers', 'durable-step-functions-child.ts');
/** Timers fire late, not early; a loaded machine may add this much. */
const LATE_MS = 900;

interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly attributes?: unknown;
}

function recordingLogger(entries: LogEntry[]): Logger {
  const log =
    (level: string) =>
    (message: string, attributes?: unknown): void => {
      entries.push({ level, message, attributes });
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), critical: log('critical') } as unknown as Logger;
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'dmp-durable-sfn-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A service on `directory`, stopped (gracefully: a pause) after the test if still running. */
function service(directory: string | undefined, calls: TaskCall[], logs: LogEntry[] = []): StepFunctionsService {
  const created = durableService(directory, recordingLogger(logs), (call) => calls.push(call));
  cleanups.push(() => created.stop(Date.now() + 5_000));
  return created;
}

function journalFile(directory: string, machineName: string): string {
  return path.join(directory, `${machineName}.jsonl`);
}

/** The execution as its state machine's journal tells it (what a new service would recover). */
function readRecord(directory: string, machineName: string, executionName: string): StoredExecution | undefined {
  try {
    return parseJournal(readFileSync(journalFile(directory, machineName), 'utf8')).executions.find((execution) => execution.name === executionName);
  } catch {
    return undefined;
  }
}

function executionArn(machineName: string, name: string): string {
  return `arn:aws:states:us-east-1:123456789012:execution:${machineName}:${name}`;
}

interface Child {
  readonly calls: () => TaskCall[];
  /** SIGKILL: no shutdown code runs. */
  readonly crash: () => Promise<void>;
}

/** Runs the machines in a child process on `directory`, starting `starts` there. */
function startChild(directory: string, starts: { machine: string; name: string; input: unknown }[]): Child {
  const callsFile = path.join(directory, '..', `${path.basename(directory)}-calls.jsonl`);
  writeFileSync(callsFile, '');
  cleanups.push(() => rmSync(callsFile, { force: true }));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', CHILD, directory, callsFile, JSON.stringify(starts)], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const crash = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(crash);
  return {
    calls: () =>
      readFileSync(callsFile, 'utf8')
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as TaskCall),
    crash: async () => {
      if (child.exitCode !== null) throw new Error(`the child exited before the crash: ${output}`);
      await crash();
    },
  };
}

async function closedDescription(sfn: StepFunctionsService, arn: string, timeoutMs = 15_000): Promise<ReturnType<StepFunctionsService['describeExecution']>> {
  return pollUntil(
    () => {
      const description = sfn.describeExecution(arn);
      return description.status === 'RUNNING' ? undefined : description;
    },
    { timeoutMs, description: `${arn} to close` },
  );
}

/** Ids without gaps; in order of time too when `ordered` (events of Map iterations are reported late, with their own time). */
function expectContinuous(history: readonly HistoryEvent[], ordered = false): void {
  history.forEach((event, index) => {
    expect(event).toMatchObject({ id: index + 1, previousEventId: index });
    if (ordered && index > 0) expect(event.timestamp.getTime()).toBeGreaterThanOrEqual((history[index - 1] as HistoryEvent).timestamp.getTime());
  });
}

const stepsOf = (calls: readonly TaskCall[], execution: string, step: string): TaskCall[] =>
  calls.filter((call) => call.step === step && call.execution === execution);

test('after a crash (SIGKILL) a new service resumes each running execution at its checkpoint: the wait only what remains, no task run twice', async () => {
  const directory = temporaryDirectory();
  // The service that recovers is built first: building one validates the definitions, which takes
  // seconds the first time in a process, and nothing reads the directory before recover().
  const calls: TaskCall[] = [];
  const logs: LogEntry[] = [];
  const recovered = service(directory, calls, logs);
  const journeyInput = { cart: 'cart-1', total: 42 };
  const child = startChild(directory, [
    { machine: JOURNEY.name, name: 'cart-1', input: journeyInput },
    { machine: PATH_WAIT.name, name: 'path-1', input: { delaySeconds: 3600 } },
    { machine: FAN_OUT.name, name: 'fan-1', input: { items: ['x', 'y'] } },
    { machine: APPROVAL.name, name: 'approval-1', input: { request: 1 } },
  ]);

  // Crash once every execution's record says where it is: in the waits, in the Map, waiting for the token.
  const records = await pollUntil(
    () => {
      const journey = readRecord(directory, JOURNEY.name, 'cart-1');
      const pathWait = readRecord(directory, PATH_WAIT.name, 'path-1');
      const fanOut = readRecord(directory, FAN_OUT.name, 'fan-1');
      const approval = readRecord(directory, APPROVAL.name, 'approval-1');
      const itemsWaiting = child.calls().filter((call) => call.step === 'Item').length === 2;
      const approvalRequested = child.calls().some((call) => call.step === 'Approve');
      const ready =
        journey?.checkpoint?.state === 'Pause' &&
        pathWait?.checkpoint?.state === 'Pause' &&
        fanOut?.checkpoint &&
        itemsWaiting &&
        approval?.checkpoint &&
        approvalRequested;
      return ready && { journey, pathWait, fanOut, approval };
    },
    { timeoutMs: 30_000, description: 'the child to checkpoint every execution' },
  );
  await child.crash();
  const beforeCrash = child.calls();
  // The checkpoint is the top-level state, never a state of a Map iteration.
  expect(records.fanOut.checkpoint).toMatchObject({ state: 'EachItem', input: JSON.stringify({ items: ['x', 'y'] }) });
  expect(records.journey).toMatchObject({ status: 'RUNNING', executionArn: executionArn(JOURNEY.name, 'cart-1'), input: JSON.stringify(journeyInput) });
  expect(stepsOf(beforeCrash, 'cart-1', 'A')).toHaveLength(1);
  expect(beforeCrash.filter((call) => call.step === 'B')).toHaveLength(0);

  // Recover half-way through the waits: resuming them in full would end them 1.5 s late.
  const enteredAt = records.journey.checkpoint?.enteredAt ?? 0;
  const pathEnteredAt = records.pathWait.checkpoint?.enteredAt ?? 0;
  await pollUntil(() => Date.now() - Math.max(enteredAt, pathEnteredAt) >= SCALED_WAIT_MS / 2, { description: 'half the wait to pass' });
  expect(() => recovered.startExecution({ stateMachineArn: JOURNEY.arn, name: 'early', input: '{}' })).toThrow(/not recovered/);
  const recoveredAt = Date.now();
  expect(await recovered.recover()).toEqual({ resumed: 4, closed: 0, evicted: 0, skipped: 0 });
  expect(recovered.runningCount()).toBe(4);

  // The journey: B once, when the original wait ends; same ARN, same context, one continuous history.
  const journeyArn = executionArn(JOURNEY.name, 'cart-1');
  const journey = await closedDescription(recovered, journeyArn);
  expect(journey).toMatchObject({ status: 'SUCCEEDED', executionArn: journeyArn, name: 'cart-1', input: JSON.stringify(journeyInput) });
  expect(journey.startDate.toISOString()).toBe(records.journey.startDate);
  expect(stepsOf(calls, 'cart-1', 'A')).toHaveLength(0);
  const [b, ...moreB] = stepsOf(calls, 'cart-1', 'B');
  expect(moreB).toHaveLength(0);
  expect(b?.at).toBeGreaterThanOrEqual(enteredAt + SCALED_WAIT_MS - 5);
  expect(b?.at).toBeLessThan(enteredAt + SCALED_WAIT_MS + LATE_MS);
  expect(b?.at).toBeLessThan(recoveredAt + SCALED_WAIT_MS - 500);
  // $$.Execution.* is the execution's, not the resumed run's.
  const [a] = stepsOf(beforeCrash, 'cart-1', 'A');
  expect(b).toMatchObject({ startedAt: records.journey.startDate, executionInput: journeyInput });
  expect(a).toMatchObject({ startedAt: records.journey.startDate, executionInput: journeyInput });
  expect(JSON.parse(journey.output ?? '')).toEqual({ ...journeyInput, A: { done: 'A' }, B: { done: 'B' } });
  const history = recovered.getExecutionHistory(journeyArn);
  expectContinuous(history, true);
  expect(history.map((event) => event.type)).toEqual([
    'ExecutionStarted',
    'TaskStateEntered',
    'TaskStateExited',
    'WaitStateEntered',
    'WaitStateExited',
    'TaskStateEntered',
    'TaskStateExited',
    'ExecutionSucceeded',
  ]);
  expect(history[3]?.timestamp.getTime()).toBe(enteredAt);
  // On disk: closed, no checkpoint.
  await pollUntil(() => readRecord(directory, JOURNEY.name, 'cart-1')?.status === 'SUCCEEDED', { description: 'the journey record to close' });
  expect(readRecord(directory, JOURNEY.name, 'cart-1')?.checkpoint).toBeUndefined();
  expect(readRecord(directory, JOURNEY.name, 'cart-1')?.history).toHaveLength(history.length);

  // A wait whose seconds come from the input resumes with what remained too.
  const pathWait = await closedDescription(recovered, executionArn(PATH_WAIT.name, 'path-1'));
  expect(pathWait.status).toBe('SUCCEEDED');
  const pathB = stepsOf(calls, 'path-1', 'B');
  expect(pathB).toHaveLength(1);
  expect(pathB[0]?.at).toBeGreaterThanOrEqual(pathEnteredAt + SCALED_WAIT_MS - 5);
  expect(pathB[0]?.at).toBeLessThan(pathEnteredAt + SCALED_WAIT_MS + LATE_MS);
  expect(stepsOf(calls, 'path-1', 'A')).toHaveLength(0);

  // The Map runs again as a whole (its iterations are not checkpointed), then B once.
  const fanOut = await closedDescription(recovered, executionArn(FAN_OUT.name, 'fan-1'));
  expect(fanOut.status).toBe('SUCCEEDED');
  expect(calls.filter((call) => call.step === 'Item').map((call) => call.item)).toEqual(expect.arrayContaining(['x', 'y']));
  expect(calls.filter((call) => call.step === 'B' && call.execution === 'fan-1')).toHaveLength(1);
  const fanHistory = recovered.getExecutionHistory(executionArn(FAN_OUT.name, 'fan-1'));
  expectContinuous(fanHistory);
  expect(fanHistory.filter((event) => event.type === 'MapStateEntered')).toHaveLength(1);
  expect(fanHistory.filter((event) => event.type === 'ExecutionStarted')).toHaveLength(1);

  // The token task is invoked again with a new token; the old one is gone with the crashed process.
  const [oldApproval] = stepsOf(beforeCrash, 'approval-1', 'Approve');
  const newApproval = await pollUntil(() => stepsOf(calls, 'approval-1', 'Approve')[0], { description: 'the approval request again' });
  expect(newApproval.token).toEqual(expect.any(String));
  expect(newApproval.token).not.toBe(oldApproval?.token);
  expect(() => recovered.sendTaskSuccess(oldApproval?.token ?? '', '{}')).toThrow(/Task Does Not Exist/);
  recovered.sendTaskSuccess(newApproval.token ?? '', JSON.stringify({ approvedBy: 'ops' }));
  const approval = await closedDescription(recovered, executionArn(APPROVAL.name, 'approval-1'));
  expect(JSON.parse(approval.output ?? '')).toEqual({ request: 1, approval: { approvedBy: 'ops' } });
  expect(logs.filter((entry) => entry.level === 'warn' || entry.level === 'error')).toEqual([]);

  // Closed executions are listed again by the next start, with their histories.
  await recovered.stop(Date.now() + 5_000);
  const next = service(directory, []);
  expect(await next.recover()).toEqual({ resumed: 0, closed: 4, evicted: 0, skipped: 0 });
  expect(next.listExecutions(JOURNEY.arn).map((execution) => [execution.name, execution.status])).toEqual([['cart-1', 'SUCCEEDED']]);
  expect(next.describeExecution(journeyArn)).toEqual(recovered.describeExecution(journeyArn));
  expect(next.getExecutionHistory(journeyArn)).toEqual(history);
  expect(next.listExecutions(APPROVAL.arn, 'SUCCEEDED')).toHaveLength(1);
});

test('a graceful stop pauses running executions: the next start resumes them; StartExecution by name answers the same execution', async () => {
  const directory = temporaryDirectory();
  const calls: TaskCall[] = [];
  const first = service(directory, calls);
  await first.recover();
  const input = JSON.stringify({ cart: 'cart-2' });
  const { executionArn: arn } = first.startExecution({ stateMachineArn: JOURNEY.arn, name: 'cart-2', input });
  await pollUntil(() => readRecord(directory, JOURNEY.name, 'cart-2')?.checkpoint?.state === 'Pause', { description: 'the journey to wait' });

  await first.stop(Date.now() + 5_000);
  // Paused, not aborted: RUNNING on disk at its checkpoint.
  expect(readRecord(directory, JOURNEY.name, 'cart-2')).toMatchObject({ status: 'RUNNING', checkpoint: { state: 'Pause' } });
  expect(first.describeExecution(arn).status).toBe('RUNNING');

  const second = service(directory, calls);
  expect(await second.recover()).toEqual({ resumed: 1, closed: 0, evicted: 0, skipped: 0 });
  expect(second.startExecution({ stateMachineArn: JOURNEY.arn, name: 'cart-2', input })).toEqual({
    executionArn: arn,
    startDate: first.describeExecution(arn).startDate,
  });
  expect(() => second.startExecution({ stateMachineArn: JOURNEY.arn, name: 'cart-2', input: '{"cart":"other"}' })).toThrow(/Execution Already Exists/);

  expect(await closedDescription(second, arn)).toMatchObject({ status: 'SUCCEEDED' });
  expect(stepsOf(calls, 'cart-2', 'A')).toHaveLength(1);
  expect(stepsOf(calls, 'cart-2', 'B')).toHaveLength(1);
  expectContinuous(second.getExecutionHistory(arn), true);
  expect(second.getExecutionHistory(arn).filter((event) => event.type === 'WaitStateEntered')).toHaveLength(1);
});

test('StopExecution marks an execution ABORTED durably: it is not resumed', async () => {
  const directory = temporaryDirectory();
  const calls: TaskCall[] = [];
  const first = service(directory, calls);
  await first.recover();
  const { executionArn: arn } = first.startExecution({ stateMachineArn: JOURNEY.arn, name: 'cart-3', input: '{}' });
  await pollUntil(() => readRecord(directory, JOURNEY.name, 'cart-3')?.checkpoint?.state === 'Pause', { description: 'the journey to wait' });
  first.stopExecution(arn, 'Cancelled', 'cart emptied');
  await first.stop(Date.now() + 5_000);
  expect(readRecord(directory, JOURNEY.name, 'cart-3')).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'cart emptied' });

  const second = service(directory, calls);
  expect(await second.recover()).toEqual({ resumed: 0, closed: 1, evicted: 0, skipped: 0 });
  expect(second.runningCount()).toBe(0);
  expect(second.describeExecution(arn)).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'cart emptied' });
  expect(second.getExecutionHistory(arn).at(-1)?.type).toBe('ExecutionAborted');
  expect(stepsOf(calls, 'cart-3', 'B')).toHaveLength(0);
});

test('without a directory a stop still aborts running executions', async () => {
  const calls: TaskCall[] = [];
  const memoryOnly = service(undefined, calls);
  expect(await memoryOnly.recover()).toEqual({ resumed: 0, closed: 0, evicted: 0, skipped: 0 });
  const { executionArn: arn } = memoryOnly.startExecution({ stateMachineArn: JOURNEY.arn, name: 'cart-4', input: '{}' });
  await pollUntil(() => memoryOnly.getExecutionHistory(arn).some((event) => event.type === 'WaitStateEntered'), { description: 'the journey to wait' });
  await memoryOnly.stop(Date.now() + 5_000);
  expect(memoryOnly.describeExecution(arn)).toMatchObject({ status: 'ABORTED', error: 'States.Aborted' });
});

function closedRecord(name: string, startDate: Date, machine: { name: string; arn: string } = JOURNEY): StoredExecution {
  return {
    version: 1,
    executionArn: executionArn(machine.name, name),
    name,
    stateMachineName: machine.name,
    stateMachineArn: machine.arn,
    definitionHash: 'old',
    input: '{}',
    startDate: startDate.toISOString(),
    status: 'SUCCEEDED',
    stopDate: startDate.toISOString(),
    output: '{}',
    history: [
      { id: 1, previousEventId: 0, timestamp: startDate.toISOString(), type: 'ExecutionStarted' },
      { id: 2, previousEventId: 1, timestamp: startDate.toISOString(), type: 'ExecutionSucceeded' },
    ],
  };
}

test('recovery keeps the newest 1,000 closed executions, sets aside a corrupt journal and those of unknown state machines, fails a run whose state is gone', async () => {
  const directory = temporaryDirectory();
  const base = Date.parse('2024-01-01T00:00:00.000Z');
  const lines: string[] = [];
  for (let index = 0; index < 1_003; index += 1)
    lines.push(journalLineOf(closedRecord(`closed-${String(index).padStart(4, '0')}`, new Date(base + index * 1000))));
  // Unreadable: a line that is not JSON, and the line of an execution whose first line is missing.
  lines.push('{"n":"garbled", not JSON}\n');
  lines.push(`${JSON.stringify({ n: 'headless', from: 3, events: [], status: 'RUNNING', definitionHash: '' })}\n`);
  const goneState: StoredExecution = {
    ...closedRecord('renamed-state', new Date()),
    status: 'RUNNING',
    checkpoint: { state: 'NoLongerThere', input: '{}', enteredAt: Date.now(), historyLength: 1 },
    history: [{ id: 1, previousEventId: 0, timestamp: new Date().toISOString(), type: 'ExecutionStarted' }],
  };
  delete (goneState as { stopDate?: string }).stopDate;
  delete (goneState as { output?: string }).output;
  lines.push(journalLineOf(goneState));
  // Started two days ago: past the journey's TimeoutSeconds (a day), which counts from the start.
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000);
  lines.push(
    journalLineOf({
      ...goneState,
      ...closedRecord('expired', twoDaysAgo),
      status: 'RUNNING',
      checkpoint: { state: 'Pause', input: '{}', enteredAt: twoDaysAgo.getTime(), historyLength: 1 },
      history: [{ id: 1, previousEventId: 0, timestamp: twoDaysAgo.toISOString(), type: 'ExecutionStarted' }],
    }),
  );
  const corruptJournal = lines.join('');
  writeFileSync(journalFile(directory, JOURNEY.name), corruptJournal);
  writeFileSync(`${journalFile(directory, JOURNEY.name)}.tmp`, '{"n":"half a compaction"');
  // A journal whose last line the crash tore is read up to that line, and is not corrupt.
  writeFileSync(journalFile(directory, PATH_WAIT.name), `${journalLineOf(closedRecord('path-closed', new Date(), PATH_WAIT))}{"n":"path-torn","h":{"vers`);
  const unknownJournal = journalFile(directory, 'dmp-local-Removed');
  const unknownJournalText = journalLineOf(
    closedRecord('old', new Date(), { name: 'dmp-local-Removed', arn: 'arn:aws:states:us-east-1:123456789012:stateMachine:dmp-local-Removed' }),
  );
  writeFileSync(unknownJournal, unknownJournalText);

  const logs: LogEntry[] = [];
  const sfn = service(directory, [], logs);
  // 1,003 + 2 closed journeys: the 5 oldest are forgotten; the headless execution and the unknown machine's are skipped.
  expect(await sfn.recover()).toEqual({ resumed: 0, closed: 1_001, evicted: 5, skipped: 2 });
  expect(sfn.listExecutions(JOURNEY.arn)).toHaveLength(1_000);
  expect(() => sfn.describeExecution(executionArn(JOURNEY.name, 'closed-0004'))).toThrow(/Execution Does Not Exist/);
  expect(sfn.describeExecution(executionArn(JOURNEY.name, 'closed-0005')).status).toBe('SUCCEEDED');
  expect(sfn.getExecutionHistory(executionArn(JOURNEY.name, 'closed-0005'))).toHaveLength(2);
  expect(sfn.describeExecution(executionArn(JOURNEY.name, 'renamed-state'))).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  expect(sfn.describeExecution(executionArn(JOURNEY.name, 'expired'))).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
  expect(sfn.getExecutionHistory(executionArn(JOURNEY.name, 'expired')).map((event) => event.type)).toEqual(['ExecutionStarted', 'ExecutionTimedOut']);
  expect(sfn.listExecutions(PATH_WAIT.arn).map((execution) => execution.name)).toEqual(['path-closed']);

  // The corrupt journal is kept aside as it was; the new one holds one line per execution kept.
  expect(readFileSync(`${journalFile(directory, JOURNEY.name)}.corrupt`, 'utf8')).toBe(corruptJournal);
  const rewritten = readFileSync(journalFile(directory, JOURNEY.name), 'utf8');
  expect(rewritten.split('\n').filter((line) => line.length > 0)).toHaveLength(1_000);
  const journal = parseJournal(rewritten);
  expect(journal.unreadableLines).toBe(0);
  expect(journal.executions.find((execution) => execution.name === 'renamed-state')?.status).toBe('FAILED');
  expect(journal.executions.some((execution) => execution.name === 'closed-0004')).toBe(false);
  expect(existsSync(`${journalFile(directory, JOURNEY.name)}.tmp`)).toBe(false);
  expect(existsSync(`${journalFile(directory, PATH_WAIT.name)}.corrupt`)).toBe(false);
  expect(readFileSync(journalFile(directory, PATH_WAIT.name), 'utf8')).not.toContain('path-torn');
  expect(readFileSync(unknownJournal, 'utf8')).toBe(unknownJournalText);
  const warnings = logs.filter((entry) => entry.level === 'warn').map((entry) => entry.message);
  expect(warnings).toEqual(
    expect.arrayContaining([
      'execution journal with unreadable lines moved aside: what could be read of it is recovered',
      'executions of a state machine that is no longer in the CDK app are left on disk, not recovered',
      'running execution not resumed: its state is no longer in the state machine',
    ]),
  );
});
