/**
 * What a SIEM sends to `POST /v1/alerts` (and `spawnguard alert` reads): one alert document in any
 * accepted format, or a batch array of them. Every document is normalized before anything reaches
 * Temporal, so one bad document in a batch starts nothing.
 */
import type { CanonicalAlert } from '../../common/alert';
import { AlertFormatError, normalizeAlert } from '../../common/normalize';

/** Upper bound on one batch: a bigger one is split by the sender, not queued here. */
export const MAX_BATCH = 500;

export interface AlertDocuments {
  alerts: CanonicalAlert[];
  batch: boolean;
}

export interface DocumentProblem {
  /** Dotted path as the sender spelled it; `[i].` first in a batch. Empty for the document as a whole. */
  field: string;
  message: string;
  /** The format the document was read as (`Sysmon event 1 (Winlogbeat)`), or `alert` when none matched. */
  format: string;
}

/** Documents that are not alerts. */
export class InvalidAlertsError extends Error {
  constructor(readonly problems: DocumentProblem[]) {
    super(problems.map((p) => `${p.field ? `${p.field}: ` : ''}${p.message} [${p.format}]`).join('; '));
    this.name = 'InvalidAlertsError';
  }
}

function normalizeOne(document: unknown, prefix: string): CanonicalAlert | DocumentProblem[] {
  try {
    return normalizeAlert(document);
  } catch (err) {
    if (!(err instanceof AlertFormatError)) throw err;
    return err.problems.map((p) => ({
      field: prefix && p.field ? `${prefix}.${p.field}` : prefix || p.field,
      message: p.message,
      format: err.format,
    }));
  }
}

export function parseAlertDocuments(body: unknown): AlertDocuments {
  if (!Array.isArray(body)) {
    const result = normalizeOne(body, '');
    if (Array.isArray(result)) throw new InvalidAlertsError(result);
    return { alerts: [result], batch: false };
  }
  if (body.length === 0) throw new InvalidAlertsError([{ field: '', message: 'the batch is empty', format: 'batch' }]);
  if (body.length > MAX_BATCH) {
    throw new InvalidAlertsError([
      { field: '', message: `a batch holds at most ${MAX_BATCH} alerts, got ${body.length}`, format: 'batch' },
    ]);
  }
  const alerts: CanonicalAlert[] = [];
  const problems: DocumentProblem[] = [];
  body.forEach((document, index) => {
    const result = normalizeOne(document, `[${index}]`);
    if (Array.isArray(result)) problems.push(...result);
    else alerts.push(result);
  });
  if (problems.length > 0) throw new InvalidAlertsError(problems);
  return { alerts, batch: true };
}
