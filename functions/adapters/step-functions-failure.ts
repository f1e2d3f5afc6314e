/** What a Catch hands the state after it (`resultPath: '$.failure'`): the error's name and, for a Lambda error, its JSON. */
export interface StepFailure {
  readonly Error?: string;
  readonly Cause?: string;
}

/**
 * The reason a failed step gives the people who read a run or job: a refusal (`refusalError`,
 * the task's own error name) says why in words, its message; anything else is named by its error.
 */
export function failureReason(failure: StepFailure | undefined, refusalError: string, what: string): string {
  if (failure?.Error === refusalError && failure.Cause) {
    try {
      const cause = JSON.parse(failure.Cause) as { errorMessage?: unknown };
      if (typeof cause.errorMessage === 'string') return cause.errorMessage;
    } catch {
      return failure.Cause;
    }
  }
  return `a step of the ${what} failed (${failure?.Error ?? 'unknown error'})`;
}
