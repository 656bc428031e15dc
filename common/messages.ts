/**
 * The playbook's messages (DESIGN.md §3): signals `approve`, `reject` and `alertReceived`, update
 * `review`, query `status`. Deliberately free of zod and of any schema module: the workflow bundle
 * imports this, and every module it imports is evaluated again for each workflow the worker runs.
 * The HTTP and CLI side validate with the zod schemas in ./playbook; the update's validator here
 * applies the same rules (a test keeps the two in agreement).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CanonicalAlert } from './alert';
import type { IncidentStatus, PersistenceRemoval, ReviewState } from './incident-status';
import type { PersistenceReview, ReviewSignal, ReviewUpdate } from './playbook';
import type { RestoreStatus } from './restore';

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

/**
 * Update `persistenceReview`: remove (or keep) persistence entries proposed after remediation.
 * Rejected by its validator when nothing is proposed or an entry named is not a pending proposal.
 */
export const persistenceReviewUpdate = defineUpdate<PersistenceRemoval, [PersistenceReview]>('persistenceReview');

/** Query `status` of an `incidentRestore` workflow. */
export const restoreStatusQuery = defineQuery<RestoreStatus>('status');

/** What is wrong with a persistence review, or null when it is valid (PersistenceReviewSchema's rules). */
export function persistenceReviewProblem(review: unknown): string | null {
  if (!review || typeof review !== 'object' || Array.isArray(review)) return 'the review must be an object';
  const { decision, entries } = review as Record<string, unknown>;
  if (decision !== 'remove' && decision !== 'keep') return 'decision: must be "remove" or "keep"';
  const asReview = reviewUpdateProblem({ ...(review as Record<string, unknown>), decision: 'approve' });
  if (asReview) return asReview;
  if (entries !== undefined) {
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > 64) return 'entries: 1 to 64 ids';
    if (!entries.every((e) => typeof e === 'string' && /^p\d{1,3}$/.test(e))) {
      return 'entries: entries are named p1, p2, … (see the incident status)';
    }
  }
  return null;
}

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
