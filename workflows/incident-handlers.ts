/**
 * The incident's `status` query and its review messages (DESIGN.md §3): signals `approve` and
 * `reject`, update `review` with its validator. One registration, used by the playbook and by the
 * test stand-ins that play it, so the stand-ins answer exactly as the playbook does (identity
 * recorded, early or late decisions kept and never applied). Workflow code.
 */
import { log, setHandler } from '@temporalio/workflow';
import type { IncidentStatus } from '../common/incident-status';
import { approveSignal, rejectSignal, reviewUpdate, reviewUpdateProblem, statusQuery } from '../common/messages';
import type { ReviewSignal } from '../common/playbook';

const now = () => new Date().toISOString();

export function setIncidentHandlers(status: IncidentStatus): void {
  setHandler(statusQuery, () => status);
  const decideReview = (decision: 'approve' | 'reject', review: ReviewSignal, via: 'signal' | 'update') => {
    status.review = {
      ...status.review,
      status: decision === 'approve' ? 'approved' : 'rejected',
      analyst: review.analyst,
      comment: review.comment ?? null,
      decidedAt: now(),
      via,
      // Who really decided, as the sign-in provider vouched (the review page and API set it).
      ...(review.identity ? { identity: review.identity } : {}),
    };
    log.info('Analyst review recorded', {
      decision,
      analyst: review.analyst,
      comment: review.comment,
      ...(review.identity ? { subject: review.identity.subject, issuer: review.identity.issuer } : {}),
    });
  };
  const onSignal = (decision: 'approve' | 'reject') => (review: ReviewSignal) => {
    if (!review?.analyst?.trim()) {
      log.warn('Review signal without an analyst ignored', { decision });
      return;
    }
    if (status.review.status !== 'pending') {
      // Too early (no verdict yet) or too late (already decided): kept in the status and the report,
      // never applied — an approval given before the plan existed approves nothing.
      const why =
        status.review.status === 'not-needed'
          ? status.phase === 'investigating' || status.phase === 'deciding'
            ? 'arrived before the verdict: no review was open yet'
            : 'no review was needed for this verdict'
          : `the review was already ${status.review.status}${status.review.analyst ? ` by ${status.review.analyst}` : ''}`;
      const notApplied = status.review.notApplied ?? [];
      if (notApplied.length < 20) {
        status.review = {
          ...status.review,
          notApplied: [
            ...notApplied,
            {
              decision,
              analyst: review.analyst.trim().slice(0, 256),
              comment: typeof review.comment === 'string' ? review.comment.slice(0, 4096) : null,
              at: now(),
              via: 'signal',
              why,
            },
          ],
        };
      }
      log.warn('Review signal recorded, not applied', { decision, why });
      return;
    }
    decideReview(decision, review, 'signal');
  };
  setHandler(approveSignal, onSignal('approve'));
  setHandler(rejectSignal, onSignal('reject'));
  setHandler(
    reviewUpdate,
    (update) => {
      decideReview(update.decision, update, 'update');
      return status.review;
    },
    {
      validator: (update) => {
        const problem = reviewUpdateProblem(update);
        if (problem) throw new Error(problem);
        if (status.review.status !== 'pending')
          throw new Error(`no review is pending (review status: ${status.review.status})`);
      },
    },
  );
}
