/**
 * `suspiciousParentProcessPlaybook` (DESIGN.md §1): investigate → decide → (review) → remediate →
 * validate → notify. Every step is in Temporal history: the Temporal UI is the audit trail.
 */
import {
  condition,
  executeChild,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CentralActivities, IncidentStatus, Outcome } from '../common/incident-status';
import { SA, WORKFLOW_TYPES } from '../common/names';
import {
  alertReceivedSignal,
  approveSignal,
  rejectSignal,
  reviewUpdate,
  reviewUpdateProblem,
  statusQuery,
} from '../common/messages';
import type { PlaybookInput, ReviewSignal } from '../common/playbook';
import { decide } from './decision';
import { describeFailure } from './enrichment';
import type { windowsFileEnrichment } from './enrichment';
import { remediate } from './remediation';

// Central activities and the enrichment child run on the playbook's own task queue, which is
// `spawnguard-central` in production (the central worker serves all three).
const notifications = proxyActivities<CentralActivities>({
  startToCloseTimeout: '1m',
  // Mail must not be lost: retry until the SMTP server takes it (backing off to every 5 minutes).
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
});

// The decision is made once and recorded in history (a local activity): replays read it back.
const { decideIncident } = proxyLocalActivities<CentralActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

const now = () => new Date().toISOString();

export async function suspiciousParentProcessPlaybook(input: PlaybookInput): Promise<IncidentStatus> {
  const { alert, policy } = input;
  const workflowId = workflowInfo().workflowId;
  const status: IncidentStatus = {
    workflowId,
    alert,
    phase: 'investigating',
    outcome: null,
    decision: null,
    enrichment: null,
    review: {
      status: 'not-needed',
      requestedAt: null,
      deadline: null,
      analyst: null,
      comment: null,
      decidedAt: null,
      via: null,
    },
    actions: [],
    persistence: [],
    duplicates: [],
    lab: policy.lab,
    reportSent: false,
    timestamps: { started: now(), decided: null, closed: null },
  };

  // ---- messages ----
  let firstDelivery = true;
  setHandler(statusQuery, () => status);
  setHandler(alertReceivedSignal, (received) => {
    // A resend of the alert that started the incident is not a second report of it.
    if (firstDelivery && received.alertId === alert.alertId) {
      firstDelivery = false;
      return;
    }
    status.duplicates.push(received);
  });
  const decideReview = (decision: 'approve' | 'reject', review: ReviewSignal, via: 'signal' | 'update') => {
    status.review = {
      ...status.review,
      status: decision === 'approve' ? 'approved' : 'rejected',
      analyst: review.analyst,
      comment: review.comment ?? null,
      decidedAt: now(),
      via,
    };
    log.info('Analyst review recorded', { decision, analyst: review.analyst, comment: review.comment });
  };
  const onSignal = (decision: 'approve' | 'reject') => (review: ReviewSignal) => {
    if (status.review.status !== 'pending' || !review?.analyst?.trim()) {
      log.warn('Review signal ignored', { decision, reviewStatus: status.review.status });
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

  upsertSearchAttributes([
    { key: SA.AlertId, value: alert.alertId },
    { key: SA.Hostname, value: alert.host.hostname.toLowerCase() },
    { key: SA.ProcessName, value: alert.child.name },
    { key: SA.ParentProcessName, value: alert.parent.name },
    { key: SA.ReviewStatus, value: 'not-needed' },
    { key: SA.RemediationStatus, value: 'pending' },
  ]);
  setCurrentDetails(`Investigating ${alert.parent.name} → ${alert.child.name} on ${alert.host.hostname}`);

  // ---- 1. investigate ----
  status.enrichment = await executeChild<typeof windowsFileEnrichment>(WORKFLOW_TYPES.fileEnrichment, {
    args: [{ alert, policy }],
    workflowId: `${workflowId}-enrichment`,
    staticSummary: `File enrichment: ${alert.parent.name} and ${alert.child.name}`,
  });

  // ---- 2. decide ----
  status.phase = 'deciding';
  // Incidents started by this release record their decision: replaying them never runs the rules
  // again, so a later change to the rules changes neither their plan nor their replay. Histories
  // recorded before it decided in workflow code, and replay the rules of their time.
  const decision = patched('decision-recorded-once')
    ? await decideIncident({ alert, enrichment: status.enrichment, policy: policy.decision })
    : decide({
        alert,
        enrichment: status.enrichment,
        policy: policy.decision,
        // Histories recorded before this rule planned a quarantine of a file on a share: replay them so.
        blockRemoteImages: patched('remote-image-never-quarantined'),
        // …and left an unsigned or unverified parent in a user folder running.
        actOnUnverifiedUserFolderParent: patched('unverified-user-folder-parent-acted-on'),
        // …and had no behavioural indicators, host-verified benign, nor unnamed creators.
        behaviours: false,
      });
  status.decision = decision;
  status.timestamps.decided = now();
  upsertSearchAttributes([
    { key: SA.Verdict, value: decision.verdict },
    { key: SA.RiskScore, value: decision.score },
  ]);
  setCurrentDetails(
    `Verdict ${decision.verdict} (score ${decision.score}): ${decision.reasons.map((r) => r.code).join(', ')}`,
  );

  if (decision.verdict === 'benign') {
    return close(status, 'closed-benign', 'none');
  }

  // The host's worker did not pick up the enrichment within the configured time: remediation would
  // only wait as long again. Close now, saying so, so the SOC can act on the host by other means.
  if (!status.enrichment.hostReachable) {
    for (const step of decision.plan) {
      status.actions.push({
        action: step.action,
        target: step.target.description,
        status: step.skipped ? 'skipped' : 'failed',
        reason: step.skipped ?? 'host-unreachable',
        message: step.skipped
          ? null
          : `not attempted: no host worker for ${alert.host.hostname} picked up work within ${policy.hostUnreachableTimeout}`,
        quarantine: null,
        validated: null,
        at: now(),
      });
    }
    return close(status, 'host-unreachable', 'host-unreachable', { report: true });
  }

  if (decision.verdict === 'suspicious') {
    const approved = await awaitReview(status, input);
    if (!approved) {
      const outcome: Outcome = status.review.status === 'rejected' ? 'closed-false-positive' : 'closed-unreviewed';
      return close(status, outcome, 'none', { report: true });
    }
  }

  // ---- 3–4. remediate and validate ----
  status.phase = 'remediating';
  upsertSearchAttributes([{ key: SA.RemediationStatus, value: 'in-progress' }]);
  setCurrentDetails(`Remediating on ${alert.host.hostname}`);
  const result = await remediate(
    { alert, incidentId: workflowId, policy, onRecord: (r) => status.actions.push(r) },
    decision.plan,
  );
  status.persistence = result.persistence;
  status.phase = 'validating';
  const acted = status.actions.filter((a) => a.status !== 'skipped');
  const complete = acted.every((a) => (a.status === 'done' || a.status === 'already-done') && a.validated !== false);
  const outcome: Outcome = result.hostUnreachable
    ? 'host-unreachable'
    : complete
      ? 'remediated'
      : 'partially-remediated';

  // ---- 5. notify ----
  const remediationStatus =
    outcome === 'remediated' ? 'remediated' : outcome === 'host-unreachable' ? 'host-unreachable' : 'partial';
  return close(status, outcome, remediationStatus, { report: true });
}

/** Asks an analyst; resolves true when remediation should go ahead. */
async function awaitReview(status: IncidentStatus, input: PlaybookInput): Promise<boolean> {
  const { policy } = input;
  status.phase = 'awaiting-review';
  const requestedAt = new Date();
  status.review = {
    ...status.review,
    status: 'pending',
    requestedAt: requestedAt.toISOString(),
    deadline: new Date(requestedAt.getTime() + durationMs(policy.reviewTimeout)).toISOString(),
  };
  upsertSearchAttributes([{ key: SA.ReviewStatus, value: 'pending' }]);
  setCurrentDetails(`Waiting for an analyst (until ${status.review.deadline})`);
  // The request mail is sent alongside the wait: an SMTP outage must not delay the review itself.
  const requestMail = notifications
    .sendReviewRequest({ status })
    .catch((err) => log.error('Review request mail failed', { err }));

  const decided = await condition(() => status.review.status !== 'pending', policy.reviewTimeout);
  if (decided) {
    upsertSearchAttributes([{ key: SA.ReviewStatus, value: status.review.status }]);
    return status.review.status === 'approved';
  }

  status.review = { ...status.review, status: 'timed-out', decidedAt: now() };
  upsertSearchAttributes([{ key: SA.ReviewStatus, value: 'timed-out' }]);
  log.warn('Review timed out', { policy: policy.reviewTimeoutPolicy });
  if (policy.reviewTimeoutPolicy === 'escalate') {
    await requestMail;
    await notifications
      .sendReviewRequest({ status, reminder: true })
      .catch((err) => log.error('Escalation mail failed', { error: describeFailure(err) }));
  }
  return policy.reviewTimeoutPolicy === 'remediate';
}

/** Records the outcome, sends the report when asked (the report states the outcome), and closes. */
async function close(
  status: IncidentStatus,
  outcome: Outcome,
  remediationStatus: string,
  options: { report: boolean } = { report: false },
): Promise<IncidentStatus> {
  status.outcome = outcome;
  upsertSearchAttributes([{ key: SA.RemediationStatus, value: remediationStatus }]);
  if (options.report) {
    status.phase = 'notifying';
    setCurrentDetails(`Sending the report: ${outcome}`);
    try {
      await notifications.sendIncidentReport({ status });
      status.reportSent = true;
    } catch (err) {
      // Only failures retrying cannot fix end here (no recipients configured, credentials or
      // recipient refused); an SMTP outage keeps retrying inside the activity. The incident still
      // closes with its outcome, and the status says why no report went out.
      status.reportError = describeFailure(err);
      log.error('Incident report not sent', { error: status.reportError });
    }
  }
  status.phase = 'closed';
  status.timestamps.closed = now();
  setCurrentDetails(`Closed: ${outcome}`);
  return status;
}

function durationMs(duration: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new Error(`bad duration ${duration}`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}
