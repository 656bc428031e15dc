/**
 * The playbook's messages (DESIGN.md §3): signals `approve`, `reject` and `alertReceived`, update
 * `review`, query `status`. Deliberately free of zod and of any schema module: the workflow bundle
 * imports this, and every module it imports is evaluated again for each workflow the worker runs.
 * The HTTP and CLI side validate with the zod schemas in ./playbook; the update's validator here
 * applies the same rules (a test keeps the two in agreement).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CanonicalAlert } from './alert';
import type { IncidentStatus, ReviewState } from './incident-status';
import type { ReviewSignal, ReviewUpdate } from './playbook';

export interface AlertReceived {
  alertId: string;
  source: string;
  receivedAt: string;
  /** The later alert itself: its facts about the pair are merged in when it comes before the decision. */
  alert?: CanonicalAlert;
}

export const approveSignal = defineSignal<[ReviewSignal]>('approve');
export const rejectSignal = defineSignal<[ReviewSignal]>('reject');
export const reviewUpdate = defineUpdate<ReviewState, [ReviewUpdate]>('review');
export const statusQuery = defineQuery<IncidentStatus>('status');
/** Sent by ingest for each later alert of a running incident (another rule or format), so duplicates are recorded. */
export const alertReceivedSignal = defineSignal<[AlertReceived]>('alertReceived');

/** What is wrong with a review update, or null when it is valid (ReviewUpdateSchema's rules). */
export function reviewUpdateProblem(update: unknown): string | null {
  if (!update || typeof update !== 'object' || Array.isArray(update)) return 'the review must be an object';
  const { decision, analyst, comment } = update as Record<string, unknown>;
  if (decision !== 'approve' && decision !== 'reject') return 'decision: must be "approve" or "reject"';
  if (typeof analyst !== 'string' || analyst.trim().length === 0) return 'analyst: analyst is required';
  if (analyst.trim().length > 256) return 'analyst: at most 256 characters';
  if (comment !== undefined && (typeof comment !== 'string' || comment.length > 4096)) {
    return 'comment: must be text of at most 4096 characters';
  }
  const { identity } = update as Record<string, unknown>;
  if (identity !== undefined) {
    if (!identity || typeof identity !== 'object' || Array.isArray(identity)) return 'identity: must be an object';
    const { issuer, subject, name, email } = identity as Record<string, unknown>;
    const isText = (value: unknown, max: number) =>
      typeof value === 'string' && value.length > 0 && value.length <= max;
    if (!isText(issuer, 512) || !isText(subject, 256)) return 'identity: issuer and subject are required';
    if ((name !== undefined && !isText(name, 256)) || (email !== undefined && !isText(email, 320))) {
      return 'identity: name and email must be short text';
    }
  }
  return null;
}
