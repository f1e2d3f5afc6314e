/**
 * Training or evaluation data that cannot be used as given (malformed CSV, a missing label
 * column, a single class...). The message says what is wrong and, when known, on which line,
 * so the CLI can print it as is.
 */
export class DataError extends Error {
  constructor(
    message: string,
    /** 1-based line of the input file the problem was found on, when there is one. */
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'DataError';
  }
}
