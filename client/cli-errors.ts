/**
 * The CLI's errors and exit codes, below `cli.ts` and every command module: a command throws a
 * `CliError`, and `cli.ts` prints its message and exits with its code.
 */

/** Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 not found, 4 Temporal unreachable. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3, unavailable: 4 } as const;

/** An error whose message is for the user (no stack) and that sets the exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
