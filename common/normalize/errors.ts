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

export function problemsFromZod(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => ({
    field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
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
      if (origin) return { field: origin, message: issue.message };
    }
    return { field: issue.path.map(String).join('.'), message: issue.message };
  });
}
