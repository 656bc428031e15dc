/**
 * `suspiciousParentProcessPlaybook` (DESIGN.md §1): investigate → decide → (review) → remediate →
 * validate → notify. Every step is in Temporal history: the Temporal UI is the audit trail.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  continueAsNew,
  executeChild,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  TimeoutFailure,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CentralActivities, IncidentStatus, Outcome, RelatedIncident } from '../common/incident-status';
import {
  hostControlTaskQueue,
  hostQueueKey,
  hostTaskQueue,
  SA,
  sameHost,
  unqualifiedHostProblem,
  userSearchValue,
  WORKFLOW_TYPES,
} from '../common/names';
import { alertReceivedSignal } from '../common/messages';
import type { PlaybookInput } from '../common/playbook';
import { mergeLaterAlert } from '../common/alert-merge';
import { isServiceAccount } from '../common/windows';
import { decide } from './decision';
import { describeFailure } from './enrichment';
import type { windowsFileEnrichment } from './enrichment';
import { DEFAULT_HOST_LIVENESS_TIMEOUT, pingHost } from './host-liveness';
import { awaitPersistenceReview, proposeRemovals, setPersistenceReviewHandler } from './persistence';
import { setIncidentHandlers } from './incident-handlers';
import { remediate } from './remediation';

// Central activities and the enrichment child run on the playbook's own task queue, which is
// `spawnguard-central` in production (the central worker serves all three).
/**
 * Mail must not be lost to a passing SMTP outage: retried, backing off to every 5 minutes, for as
 * long as the policy's notification timeout (default 2 h). Past it the incident records that the
 * notification failed and closes: a wrong SMTP host never keeps incidents open forever.
 */
function notifications(policy: PlaybookInput['policy'], summary = 'Email the SOC') {
  return proxyActivities<CentralActivities>({
    summary,
    startToCloseTimeout: '1m',
    scheduleToCloseTimeout: policy.notificationTimeout ?? DEFAULT_NOTIFICATION_TIMEOUT,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
  });
}
const DEFAULT_NOTIFICATION_TIMEOUT = '2h';

// The decision is made once and recorded in history: replays read it back. An activity of its own
// on the central queue. It was a local activity first; with SDK 1.24 a local activity that resolves
// in the workflow task after the one that recorded its marker (a status query arriving meanwhile
// does it) cannot be replayed — the commands that follow it land one task later than replay expects
// ("patch marker … but there is no corresponding change command"). Histories recorded with the
// local activity replay with it.
const decisionActivities = {
  local: proxyLocalActivities<CentralActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5 },
  }),
  recorded: proxyActivities<CentralActivities>({
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 5 },
    summary: 'Decide: verdict, reasons and plan',
  }),
};

const now = () => new Date().toISOString();

/** Later alerts kept by id in the status: the first few and the latest few (the count is exact). */
const KEPT_DUPLICATES = 10;
/** Alert ids remembered for de-duplication across runs (continue-as-new carries them). */
const MAX_TRACKED_ALERT_IDS = 10_000;
/** Events after which a review wait continues as new, unless the policy says otherwise. */
const DEFAULT_HISTORY_EVENT_BOUND = 10_000;

export async function suspiciousParentProcessPlaybook(input: PlaybookInput): Promise<IncidentStatus> {
  const { alert, policy } = input;
  const workflowId = workflowInfo().workflowId;
  // A run continued as new while waiting for review carries the incident as it stood.
  const status: IncidentStatus = input.resume?.status ?? {
    workflowId,
    firstRunId: workflowInfo().firstExecutionRunId,
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
    ...(input.reopens ? { reopenedFrom: input.reopens } : {}),
    reportSent: false,
    timestamps: { started: now(), decided: null, closed: null },
  };

  // ---- messages ----
  // The status query and the review messages, as the test stand-ins register them too.
  setIncidentHandlers(status);
  // Each later alert is recorded once by its id, however often it is sent (ingest retries, a rule
  // firing on every event of a beaconing process): the count of distinct alerts, the first and the
  // latest few. Resends of an id already seen, the starting alert's included, are only counted.
  const seenAlertIds = new Set<string>(input.resume?.seenAlertIds ?? [alert.alertId]);
  // Later alerts' facts about the pair, merged into what the decision reads while it is still to come.
  let decisionAlert = alert;
  setHandler(alertReceivedSignal, (received) => {
    if (seenAlertIds.has(received.alertId)) {
      status.alertsResent = (status.alertsResent ?? 0) + 1;
      return;
    }
    if (received.alert && status.decision === null) {
      const merged = mergeLaterAlert(decisionAlert, received.alert);
      if (merged.added.length > 0) {
        decisionAlert = merged.alert;
        const recorded = status.mergedFacts ?? [];
        if (recorded.length < 20)
          status.mergedFacts = [...recorded, { alertId: received.alertId, added: merged.added }];
      }
    }
    // The status keeps the reference only, not the later alert's facts.
    const reference = { alertId: received.alertId, source: received.source, receivedAt: received.receivedAt };
    if (seenAlertIds.size < MAX_TRACKED_ALERT_IDS) seenAlertIds.add(received.alertId);
    status.duplicateCount = (status.duplicateCount ?? status.duplicates.length) + 1;
    status.duplicates =
      status.duplicates.length < 2 * KEPT_DUPLICATES
        ? [...status.duplicates, reference]
        : [...status.duplicates.slice(0, KEPT_DUPLICATES), ...status.duplicates.slice(KEPT_DUPLICATES + 1), reference];
  });
  if (input.resume) {
    log.info('Continued as new while waiting for review', { previousRuns: input.resume.runs });
    return afterDecision(status, input, seenAlertIds);
  }

  upsertSearchAttributes([
    { key: SA.AlertId, value: alert.alertId },
    { key: SA.Hostname, value: alert.host.hostname.toLowerCase() },
    { key: SA.ProcessName, value: alert.child.name },
    { key: SA.ParentProcessName, value: alert.parent.name },
    { key: SA.ReviewStatus, value: 'not-needed' },
    { key: SA.RemediationStatus, value: 'pending' },
  ]);
  // The user is searchable too (`UserName = "alice@contoso"`): related incidents are found by it.
  const user = alert.user ?? alert.child.user;
  if (user && patched('user-name-search-attribute')) {
    upsertSearchAttributes([{ key: SA.UserName, value: userSearchValue(user) }]);
  }
  setCurrentDetails(`Investigating ${alert.parent.name} → ${alert.child.name} on ${alert.host.hostname}`);

  // ---- 1. investigate ----
  // Is the host's worker there? Known within the liveness timeout, said in the status, and waited
  // for (pinging) up to the unreachable timeout; histories recorded before the ping replay without.
  const hostAnswered = patched('host-liveness-checked') ? await waitForHostWorker(status, input) : undefined;
  status.enrichment = await executeChild<typeof windowsFileEnrichment>(WORKFLOW_TYPES.fileEnrichment, {
    args: [{ alert, policy, ...(hostAnswered === undefined ? {} : { hostAnswered }) }],
    workflowId: `${workflowId}-enrichment`,
    staticSummary: `File enrichment: ${alert.parent.name} and ${alert.child.name}`,
  });

  // Other incidents on this host or for this user in the window: listed for the analyst, and a
  // repeat offender weighs more in the decision. Histories recorded before this decided without.
  const related = patched('related-incidents') ? await gatherRelated(status, input) : undefined;

  // ---- 2. decide ----
  status.phase = 'deciding';
  // Incidents started by this release record their decision: replaying them never runs the rules
  // again, so a later change to the rules changes neither their plan nor their replay. Histories
  // recorded before it decided in workflow code, and replay the rules of their time.
  const decision = patched('decision-recorded-once')
    ? await (patched('decision-as-activity') ? decisionActivities.recorded : decisionActivities.local).decideIncident({
        // Facts later alerts added while investigating (histories recorded before this decided on the first).
        alert: patched('later-alerts-merged-before-decision') ? decisionAlert : alert,
        enrichment: status.enrichment,
        policy: policy.decision,
        ...(related ? { related } : {}),
      })
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
    return close(status, 'closed-benign', 'none', seenAlertIds);
  }
  return afterDecision(status, input, seenAlertIds);
}

/** From a non-benign decision to the end: host unreachable, review, remediation, report. */
async function afterDecision(
  status: IncidentStatus,
  input: PlaybookInput,
  seenAlertIds: Set<string>,
): Promise<IncidentStatus> {
  const { alert, policy } = input;
  const workflowId = status.workflowId;
  const decision = status.decision as NonNullable<IncidentStatus['decision']>;
  const enrichment = status.enrichment as NonNullable<IncidentStatus['enrichment']>;

  // Notify-only (SPAWNGUARD_SUSPICIOUS_POLICY): a suspicious verdict is reported and the incident
  // closes, nothing done on the host and no workflow left waiting (the seed playbook's way).
  if (decision.verdict === 'suspicious' && policy.suspiciousPolicy === 'notify-only') {
    log.info('Suspicious verdict under the notify-only policy: reported, not acted on');
    return close(status, 'closed-notified', 'none', seenAlertIds, { report: true, policy });
  }

  // The host's worker did not pick up the enrichment within the configured time: remediation would
  // only wait as long again. Close now, saying so, so the SOC can act on the host by other means.
  if (!enrichment.hostReachable) {
    for (const step of decision.plan) {
      status.actions.push({
        action: step.action,
        target: step.target.description,
        status: step.skipped ? 'skipped' : 'failed',
        reason: step.skipped ?? 'host-unreachable',
        message: step.skipped
          ? null
          : status.hostWorker?.queue === null
            ? `not attempted: ${status.hostWorker.message}`
            : `not attempted: no host worker for ${alert.host.hostname} picked up work within ${policy.hostUnreachableTimeout}`,
        quarantine: null,
        validated: null,
        at: now(),
      });
    }
    return close(status, 'host-unreachable', 'host-unreachable', seenAlertIds, { report: true, policy });
  }

  if (decision.verdict === 'suspicious') {
    const approved = await awaitReview(status, input, seenAlertIds);
    if (!approved) {
      const outcome: Outcome = status.review.status === 'rejected' ? 'closed-false-positive' : 'closed-unreviewed';
      return close(status, outcome, 'none', seenAlertIds, { report: true, policy });
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
  if (result.persistenceSummary) status.persistenceSummary = result.persistenceSummary;
  status.phase = 'validating';
  const acted = status.actions.filter((a) => a.status !== 'skipped');
  const complete = acted.every((a) => (a.status === 'done' || a.status === 'already-done') && a.validated !== false);
  // Containment that found every target already gone (the processes had exited, no session was
  // open) changed nothing on the host: said so, not called remediated.
  const containment = acted.filter((a) => a.action !== 'fetch-persistence');
  const nothingLeft = complete && containment.length > 0 && containment.every((a) => a.status === 'already-done');
  const outcome: Outcome = result.hostUnreachable
    ? 'host-unreachable'
    : nothingLeft && patched('nothing-left-to-do')
      ? 'nothing-left-to-do'
      : complete
        ? 'remediated'
        : 'partially-remediated';

  // ---- 5. notify ----
  const remediationStatus =
    outcome === 'remediated' || outcome === 'nothing-left-to-do'
      ? outcome
      : outcome === 'host-unreachable'
        ? 'host-unreachable'
        : 'partial';
  // Entries that reference the offenders are proposed for removal, each on an analyst's approval;
  // the report says so, and the incident waits for the decisions before it closes.
  if (!result.hostUnreachable && patched('persistence-removal-offered')) {
    const deadline = new Date(Date.now() + durationMs(policy.persistenceReviewTimeout ?? '72h')).toISOString();
    const removal = proposeRemovals(status, deadline, policy.decision.trustedPublishers);
    if (removal) {
      status.persistenceRemoval = removal;
      // Decisions are taken from now on (the status offers the proposals), the report goes out
      // meanwhile, and the wait after it acts on them.
      setPersistenceReviewHandler(status);
    }
  }
  return close(status, outcome, remediationStatus, seenAlertIds, {
    report: true,
    policy,
    afterReport: () => followUpPersistence(status, input),
  });
}

/** The analyst's decisions on the proposed removals, then a second report when anything was removed. */
async function followUpPersistence(status: IncidentStatus, input: PlaybookInput): Promise<void> {
  if (status.persistenceRemoval?.status !== 'pending') return;
  status.phase = 'awaiting-persistence-review';
  await awaitPersistenceReview(status, input);
  if (!status.persistenceRemoval.proposals.some((p) => p.result)) return;
  status.phase = 'notifying';
  setCurrentDetails('Sending the report: persistence removal');
  try {
    await notifications(input.policy, 'Email the SOC: persistence removal report').sendIncidentReport({ status });
  } catch (err) {
    log.error('Persistence removal report not sent', { error: describeFailure(err) });
  }
}

/**
 * Asks an analyst; resolves true when remediation should go ahead. A long wait under a storm of
 * later alerts continues as new (the server's suggestion, or the policy's event bound), carrying the
 * incident and the rest of the deadline: no run's history grows without bound.
 */
async function awaitReview(status: IncidentStatus, input: PlaybookInput, seenAlertIds: Set<string>): Promise<boolean> {
  const { policy } = input;
  let requestMail: Promise<unknown> = Promise.resolve();
  let requestScope: CancellationScope | null = null;
  let requestSent = false;
  if (!input.resume) {
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
    // Cancelled once the review is decided: a request still retrying then would be stale.
    requestScope = new CancellationScope();
    requestMail = requestScope
      .run(() => notifications(policy, 'Email the SOC: review needed').sendReviewRequest({ status }))
      .then(() => (requestSent = true))
      .catch((err) => {
        if (isCancellation(err)) log.info('Review request mail withdrawn: the review was decided first');
        else log.error('Review request mail failed', { error: describeFailure(err) });
      });
  }

  const mayContinueAsNew = patched('review-wait-continues-as-new');
  const eventBound = policy.historyEventBound ?? DEFAULT_HISTORY_EVENT_BOUND;
  const tooLong = () =>
    mayContinueAsNew && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= eventBound);
  const remaining = () => Math.max(0, Date.parse(status.review.deadline ?? '') - Date.now());
  let decided = status.review.status !== 'pending';
  while (!decided) {
    const woke = await condition(() => status.review.status !== 'pending' || tooLong(), Math.max(1, remaining()), {
      summary: `Review deadline: ${status.review.deadline ?? 'unknown'} (then ${policy.reviewTimeoutPolicy})`,
    });
    decided = status.review.status !== 'pending';
    if (decided || !woke) break;
    // The history is long: the request mail settles first (it is bounded by its schedule-to-close),
    // then the next run takes over the wait with the same deadline.
    await requestMail;
    await condition(allHandlersFinished);
    const carried: PlaybookInput = {
      ...input,
      resume: {
        status,
        seenAlertIds: [...seenAlertIds],
        runs: (input.resume?.runs ?? 1) + 1,
      },
    };
    await continueAsNew<typeof suspiciousParentProcessPlaybook>(carried);
  }
  if (decided) {
    // (Histories recorded before this let a request still retrying run on: replay them so.)
    if (requestScope && !requestSent && patched('review-request-withdrawn-when-decided')) requestScope.cancel();
    upsertSearchAttributes([{ key: SA.ReviewStatus, value: status.review.status }]);
    return status.review.status === 'approved';
  }

  status.review = { ...status.review, status: 'timed-out', decidedAt: now() };
  upsertSearchAttributes([{ key: SA.ReviewStatus, value: 'timed-out' }]);
  log.warn('Review timed out', { policy: policy.reviewTimeoutPolicy });
  if (policy.reviewTimeoutPolicy === 'escalate') {
    await requestMail;
    await notifications(policy, 'Email the SOC: review not answered (escalation)')
      .sendReviewRequest({ status, reminder: true })
      .catch((err) => log.error('Escalation mail failed', { error: describeFailure(err) }));
  }
  return policy.reviewTimeoutPolicy === 'remediate';
}

/**
 * Pings the host worker until it answers or the unreachable timeout passes; the status says which
 * as soon as the first ping is answered or not (within the liveness timeout).
 */
async function waitForHostWorker(status: IncidentStatus, input: PlaybookInput): Promise<boolean> {
  const { alert, policy } = input;
  const hostname = alert.host.hostname;
  if (hostQueueKey(hostname, policy.hostQueues) === null) {
    // Queues are named by full name and the alert gives a short one: no host is guessed at.
    status.hostWorker = { answered: false, checkedAt: now(), message: unqualifiedHostProblem(hostname), queue: null };
    // LAB follows the host worker that acts: none will, so no action runs on a simulated host either.
    status.lab = false;
    return false;
  }
  const queue = hostControlTaskQueue(hostname, policy.hostQueues);
  const actionQueue = hostTaskQueue(hostname, policy.hostQueues);
  const giveUpAt = Date.now() + durationMs(policy.hostUnreachableTimeout);
  const livenessMs = durationMs(policy.hostLivenessTimeout ?? DEFAULT_HOST_LIVENESS_TIMEOUT);
  let judgedWithoutHost = false;
  // Said at once, before any answer: what the incident is waiting for while it waits.
  status.hostWorker = {
    answered: false,
    checkedAt: now(),
    message: `waiting for the host worker of ${hostname} to answer on ${queue} (it is called missing after ${policy.hostLivenessTimeout ?? DEFAULT_HOST_LIVENESS_TIMEOUT} without an answer)`,
    queue: actionQueue,
  };
  setCurrentDetails(`Waiting for the host worker of ${hostname} to answer`);
  for (;;) {
    const answer = await pingHost(hostname, policy, Math.max(1_000, Math.min(livenessMs, giveUpAt - Date.now())));
    // A worker on this host's queue that says it is another host is not this host's worker: another
    // short name, or the same short name in another domain.
    const impostor = answer !== null && !sameHost(hostname, answer);
    const answeredAs = answer?.fqdn ?? answer?.hostname;
    if (impostor) log.warn('A host worker of another name answered on this host’s queue', { answeredAs });
    const ping = impostor ? null : answer;
    if (ping) {
      status.hostWorker = {
        answered: true,
        checkedAt: now(),
        message: `the host worker of ${hostname} answered (${ping.running} action(s) running${ping.lab ? ', lab host' : ''})`,
        running: ping.running,
        lab: ping.lab,
        queue: actionQueue,
      };
      // LAB follows the host worker that will act, not the ingest service's setting.
      status.lab = ping.lab === true;
      setCurrentDetails(`Investigating ${alert.parent.name} → ${alert.child.name} on ${hostname}`);
      return true;
    }
    const waitingUntil = new Date(giveUpAt).toISOString();
    status.hostWorker = {
      answered: false,
      checkedAt: now(),
      message: `${impostor ? `a worker calling itself ${answeredAs} answered on ${queue}, not ${hostname}'s; ` : ''}no host worker for ${hostname} answered on ${queue} within ${policy.hostLivenessTimeout ?? DEFAULT_HOST_LIVENESS_TIMEOUT}; waiting for one until ${waitingUntil}`,
      queue: actionQueue,
    };
    setCurrentDetails(`Waiting for the host worker of ${hostname} (until ${waitingUntil})`);
    // The first unanswered ping: judge the alert on its own facts and reputation now, and tell the
    // SOC at once when that says malicious, rather than when the incident gives up on the host.
    if (!judgedWithoutHost && Date.now() < giveUpAt && patched('host-missing-notice')) {
      judgedWithoutHost = true;
      await judgeWithoutHost(status, input);
    }
    if (Date.now() >= giveUpAt) {
      status.hostWorker.message = `no host worker for ${hostname} answered on ${queue} within ${policy.hostUnreachableTimeout}`;
      status.lab = false;
      return false;
    }
  }
}

/**
 * The verdict from the alert and the reputation sources alone (the enrichment without host facts),
 * recorded as the incident's preliminary decision; a malicious one is notified at once. The mail is
 * not waited for: the wait for the host worker goes on (an SMTP outage is retried for hours).
 */
async function judgeWithoutHost(status: IncidentStatus, input: PlaybookInput): Promise<void> {
  const { alert, policy } = input;
  const enrichment = await executeChild<typeof windowsFileEnrichment>(WORKFLOW_TYPES.fileEnrichment, {
    args: [{ alert, policy, hostAnswered: false }],
    workflowId: `${status.workflowId}-enrichment-alert-only`,
    staticSummary: `Preliminary enrichment without the host: ${alert.parent.name} and ${alert.child.name}`,
  });
  const preliminary = await decisionActivities.recorded.decideIncident({
    alert,
    enrichment,
    policy: policy.decision,
  });
  status.preliminaryDecision = preliminary;
  log.info('Preliminary verdict without the host', { verdict: preliminary.verdict, score: preliminary.score });
  if (preliminary.verdict !== 'malicious') return;
  notifications(policy, 'Email the SOC: malicious, host worker not answering')
    .sendHostMissingNotice({ status: { ...status, enrichment } })
    .then(
      () => log.info('Host-missing notice sent'),
      (err: unknown) => log.error('Host-missing notice not sent', { error: String(err) }),
    );
}

/**
 * Incidents on the same host or for the same user started within the policy's window (48 h by
 * default), from Temporal visibility. Recorded in the status; an outage is recorded, never fatal.
 */
async function gatherRelated(status: IncidentStatus, input: PlaybookInput): Promise<RelatedIncident[]> {
  const { alert, policy } = input;
  const window = policy.relatedWindow ?? DEFAULT_RELATED_WINDOW;
  const since = new Date(Date.now() - durationMs(window)).toISOString();
  // A service account (SYSTEM, NETWORK SERVICE) runs half the host: it relates nothing by itself.
  const user = alert.user ?? alert.child.user;
  const byUser = user && !isServiceAccount(user) ? userSearchValue(user) : undefined;
  try {
    const incidents = await relatedActivities.findRelatedIncidents({
      workflowId: status.workflowId,
      hostname: alert.host.hostname,
      ...(byUser ? { userName: byUser } : {}),
      since,
    });
    status.related = { window, since, incidents };
    return incidents;
  } catch (err) {
    status.related = { window, since, incidents: [], error: describeFailure(err) };
    log.warn('Related incidents not gathered', { error: status.related.error });
    return [];
  }
}
const DEFAULT_RELATED_WINDOW = '48h';
const relatedActivities = proxyActivities<CentralActivities>({
  summary: 'Related incidents: same host or user (Temporal visibility)',
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

/** Records the outcome, sends the report when asked (the report states the outcome), and closes. */
async function close(
  status: IncidentStatus,
  outcome: Outcome,
  remediationStatus: string,
  seenAlertIds: Set<string>,
  options: { report: false } | { report: true; policy: PlaybookInput['policy']; afterReport?: () => Promise<void> } = {
    report: false,
  },
): Promise<IncidentStatus> {
  status.outcome = outcome;
  // The outcome is searchable (Outcome = "nothing-left-to-do") from this release on.
  upsertSearchAttributes([
    { key: SA.RemediationStatus, value: remediationStatus },
    ...(patched('outcome-search-attribute') ? [{ key: SA.Outcome, value: outcome }] : []),
  ]);
  if (options.report) {
    status.phase = 'notifying';
    setCurrentDetails(`Sending the report: ${outcome}`);
    try {
      await notifications(options.policy, `Email the SOC: report (${outcome})`).sendIncidentReport({ status });
      status.reportSent = true;
    } catch (err) {
      // Failures retrying cannot fix (no recipients configured, credentials or recipient refused),
      // or an SMTP outage longer than the notification timeout. The incident still closes with its
      // outcome, and the status says why no report went out.
      status.reportError =
        err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure)
          ? `notification failed: the report was not delivered within ${options.policy.notificationTimeout ?? DEFAULT_NOTIFICATION_TIMEOUT} (last error: ${describeFailure(err)})`
          : `notification failed: ${describeFailure(err)}`;
      log.error('Incident report not sent', { error: status.reportError });
    }
    if (options.afterReport) await options.afterReport();
  }
  // Every alert id the incident recorded: a later re-send of one is acknowledged, not new evidence.
  status.alertIds = [...seenAlertIds];
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
