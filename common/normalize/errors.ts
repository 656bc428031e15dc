import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the offending field in the document as sent, e.g. `winlog.event_data.NewProcessId`. */
  field: string;
  message: string;
}

/** A document that is not a supported alert, or is one with a bad field. Never retryable. */
export class AlertFormatError extends Error {
  constructor(
    readonly format: string,
    readonly problems: FieldProblem[],
  ) {
    super(`${format}: ${problems.map((p) => (p.field ? `${p.field}: ${p.message}` : p.message)).join('; ')}`);
    this.name = 'AlertFormatError';
  }
}

interface IssueShape {
  code: string;
  message: string;
  errors?: IssueShape[][];
}

/** A required field that is absent: said in those words, not as zod's "Invalid input". */
function isMissingValue(issue: IssueShape): boolean {
  if (issue.code === 'invalid_type') return /received undefined$/.test(issue.message);
  // A field of several accepted types (a PID as a number or a string): missing when every branch says so.
  if (issue.code === 'invalid_union' && issue.errors && issue.errors.length > 0) {
    return issue.errors.every((branch) => branch.length > 0 && branch.every(isMissingValue));
  }
  return false;
}

function issueMessage(issue: IssueShape): string {
  return isMissingValue(issue) ? 'missing (the field is required)' : issue.message;
}

export function problemsFromZod(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issueMessage(issue as IssueShape),
  }));
}

/**
 * Where each canonical field came from in a format's document, keyed by canonical dotted path
 * (`child.hashes`) → the document's dotted path (`winlog.event_data.Hashes`), so a value that only
 * the canonical schema rejects is still reported under the name the sender used.
 */
export type FieldOrigins = Readonly<Record<string, string>>;

export function problemsFromCanonical(error: z.ZodError, origins: FieldOrigins): FieldProblem[] {
  return error.issues.map((issue) => {
    const keys = issue.path.filter((key): key is string => typeof key === 'string');
    for (let length = keys.length; length > 0; length--) {
      const origin = origins[keys.slice(0, length).join('.')];
      if (origin) return { field: origin, message: issueMessage(issue as IssueShape) };
    }
    return { field: issue.path.map(String).join('.'), message: issueMessage(issue as IssueShape) };
  });
}
