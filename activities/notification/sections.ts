/** The sections both emails share, built from the incident status (pure functions). */
import { displayText } from '../../common/display-text';
import type { AlertProcess, AlertUser } from '../../common/alert';
import type { PlanStep } from '../../common/decision';
import {
  laterAlerts,
  reviewerText,
  type ActionRecord,
  type IncidentStatus,
  type Outcome,
  type ReputationReport,
} from '../../common/incident-status';
import { hostTaskQueue } from '../../common/names';
import type { Block, Section } from './document';

export interface IncidentLinks {
  /** SPAWNGUARD_TEMPORAL_UI_URL */
  temporalUiUrl: string;
  namespace: string;
}

/**
 * `{SPAWNGUARD_TEMPORAL_UI_URL}/namespaces/{namespace}/workflows/{workflowId}`, and
 * `…/{runId}/history` when the run is known (the page of exactly this run's audit trail).
 */
export function temporalUiLink(links: IncidentLinks, workflowId: string, runId?: string): string {
  const base = links.temporalUiUrl.replace(/\/+$/, '');
  const workflow = `${base}/namespaces/${encodeURIComponent(links.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${workflow}/${encodeURIComponent(runId)}/history` : workflow;
}

export const LAB_BANNER =
  'LAB INCIDENT — the host actions ran against the simulated lab host, not a real Windows host. Nothing was done to a real machine.';

export function userName(user: AlertUser | undefined): string | undefined {
  if (!user) return undefined;
  return user.domain ? `${user.domain}\\${user.name}` : user.name;
}

export function describeProcess(process: AlertProcess): string {
  return [`${process.name} (PID ${process.pid})`, process.executable].filter(Boolean).join(' ');
}

/** `WINWORD.EXE → powershell.exe on WEB01`, for subjects. */
export function pairSummary(status: IncidentStatus): string {
  const { alert } = status;
  return `${alert.parent.name} → ${alert.child.name} on ${alert.host.hostname}`;
}

export function verdictLabel(status: IncidentStatus): string {
  return status.decision ? status.decision.verdict.toUpperCase() : 'UNDECIDED';
}

export function alertSection(status: IncidentStatus): Section {
  const { alert } = status;
  const session = alert.session;
  const sessionText = session
    ? [
        session.id !== undefined ? `session ${session.id}` : undefined,
        session.logonId ? `logon ${session.logonId}` : undefined,
        session.remoteIp ? `from ${session.remoteIp} (reported by the RDP client; can be spoofed)` : undefined,
      ]
        .filter(Boolean)
        .join(', ')
    : undefined;
  const hashes = (process: AlertProcess) => process.hashes?.sha256 ?? process.hashes?.sha1 ?? process.hashes?.md5;
  const signature = (process: AlertProcess) =>
    process.signature
      ? `${process.signature.status}${process.signature.signer ? ` (${process.signature.signer})` : ''}`
      : undefined;
  const blocks: Block[] = [
    {
      kind: 'fields',
      rows: [
        ['Host', [alert.host.hostname, alert.host.ip?.join(', '), alert.host.os].filter(Boolean).join(' · ')],
        ['User', userName(alert.user ?? alert.child.user)],
        ['Session', sessionText || undefined],
        ['Parent', describeProcess(alert.parent)],
        ['Parent hash', hashes(alert.parent)],
        ['Parent signature', signature(alert.parent)],
        ['Child', describeProcess(alert.child)],
        ['Child hash', hashes(alert.child)],
        ['Child signature', signature(alert.child)],
        ['Rule', alert.ruleName],
        ['Severity', alert.severity],
        ['Format', alert.source],
        ['Alert ID', alert.alertId],
        ['Detected', alert.detectedAt],
        [
          'Duplicates',
          status.duplicates.length > 0 ? `later alerts for this incident: ${laterAlerts(status)}` : undefined,
        ],
        [
          'Merged facts',
          (status.mergedFacts ?? []).map((m) => `${m.alertId}: ${m.added.join(', ')}`).join('; ') || undefined,
        ],
        [
          'Re-opens',
          status.reopenedFrom
            ? `${status.reopenedFrom.workflowId} (closed ${status.reopenedFrom.outcome}): new evidence arrived after it closed`
            : undefined,
        ],
      ],
    },
  ];
  if (alert.parent.commandLine) {
    blocks.push(
      { kind: 'paragraph', text: 'Parent command line:' },
      { kind: 'code', text: displayText(alert.parent.commandLine) },
    );
  }
  if (alert.child.commandLine) {
    blocks.push(
      { kind: 'paragraph', text: 'Child command line:' },
      { kind: 'code', text: displayText(alert.child.commandLine) },
    );
  }
  return { title: 'Alert', blocks };
}

export function verdictSection(status: IncidentStatus): Section {
  const decision = status.decision;
  if (!decision) {
    return { title: 'Verdict', blocks: [{ kind: 'paragraph', text: 'No verdict was reached.' }] };
  }
  const sign = (weight: number) => (weight > 0 ? `+${weight}` : String(weight));
  return {
    title: 'Verdict',
    blocks: [
      {
        kind: 'paragraph',
        text: `${decision.verdict.toUpperCase()} — score ${decision.score}/100, confidence ${decision.confidence}.`,
      },
      decision.reasons.length > 0
        ? {
            kind: 'list',
            items: decision.reasons.map((reason) => `[${sign(reason.weight)}] ${reason.code}: ${reason.evidence}`),
          }
        : { kind: 'paragraph', text: 'No reasons were recorded.' },
    ],
  };
}

function reputationLines(report: ReputationReport): string[] {
  const lines = report.results.map((result) => {
    let text: string;
    if (result.status === 'known') {
      text = `${result.source}: ${result.malicious} malicious, ${result.suspicious} suspicious of ${result.total}`;
      if (result.label) text += ` (${result.label})`;
    } else {
      text = `${result.source}: unknown${result.error ? ` — ${result.error}` : ' (not seen by this source)'}`;
    }
    return result.link ? `${text} ${result.link}` : text;
  });
  for (const off of report.notConsulted) lines.push(`${off.source}: not consulted — ${off.reason}`);
  return lines;
}

export function reputationSection(status: IncidentStatus): Section | undefined {
  const enrichment = status.enrichment;
  if (!enrichment) return undefined;
  const blocks: Block[] = [];
  if (!enrichment.hostReachable) {
    blocks.push({ kind: 'paragraph', text: 'The host did not answer: host facts come from the alert only.' });
  }
  for (const file of [enrichment.parent, enrichment.child]) {
    const heading = `${file.role === 'parent' ? 'Parent' : 'Child'} file ${file.path ?? '(path unknown)'}${file.sha256 ? `, SHA-256 ${file.sha256}` : ''}`;
    const items = [
      `risk ${file.risk}; facts from ${file.factsFrom.join(', ') || 'nothing'}`,
      ...(file.signature
        ? [`signature ${file.signature.status}${file.signature.signer ? ` (${file.signature.signer})` : ''}`]
        : []),
      ...(file.hostFactsError ? [`host facts unavailable: ${file.hostFactsError}`] : []),
      ...(file.reputation ? reputationLines(file.reputation) : ['reputation: not looked up (no hash)']),
      ...file.evidence,
    ];
    blocks.push({ kind: 'paragraph', text: heading }, { kind: 'list', items });
  }
  return { title: 'Enrichment and reputation sources', blocks };
}

export function planLines(plan: PlanStep[]): string[] {
  return plan.map(
    (step) => `${step.action} — ${step.target.description}${step.skipped ? ` (will be skipped: ${step.skipped})` : ''}`,
  );
}

export function actionLine(record: ActionRecord): string {
  let result: string;
  switch (record.status) {
    case 'done':
      result = 'done';
      break;
    case 'already-done':
      result = 'already done';
      break;
    case 'skipped':
      result = `skipped: ${record.reason ?? 'no reason given'}`;
      break;
    case 'failed':
      result = `FAILED: ${record.message ?? record.reason ?? 'no error given'}`;
      break;
  }
  if (record.status !== 'failed' && record.message) result += ` (${record.message})`;
  // The descendants a stop took with it are named, so the analyst knows every process that ended.
  const descendants = record.descendantPids ?? [];
  if (descendants.length > 0) {
    result += `; its descendants stopped with it: PID ${descendants.slice(0, 50).join(', ')}${descendants.length > 50 ? ` and ${descendants.length - 50} more` : ''}`;
  }
  if (record.status === 'failed' && record.reason && record.message) result += ` [${record.reason}]`;
  const check =
    record.validated === true ? '; verified on the host' : record.validated === false ? '; NOT verified' : '';
  return `${record.action} — ${record.target}: ${result}${check}`;
}

export function outcomeText(status: IncidentStatus): string {
  const host = status.alert.host.hostname;
  const unaddressable = status.hostWorker?.queue === null;
  // The queue the incident used (recorded with the ping); incidents from before record none and used
  // the short-name queue.
  const queue = status.hostWorker?.queue ?? hostTaskQueue(host);
  const texts: Record<Outcome, string> = {
    remediated: 'Remediated: the planned actions ran on the host and were verified.',
    'partially-remediated':
      'Partially remediated: some actions failed, were skipped or could not be verified — see the actions below and finish by hand.',
    'closed-benign': 'Closed as benign: nothing malicious was confirmed; no action was taken.',
    'closed-false-positive': 'Closed as a false positive by the analyst; no action was taken.',
    'closed-unreviewed': 'Closed without review: no analyst decided before the deadline; no action was taken.',
    'closed-no-action': 'Closed: there was nothing to do on the host.',
    'nothing-left-to-do':
      'Nothing left to do: every target was already gone when remediation ran (the processes had exited, no session was open); nothing was changed on the host.',
    'host-unreachable': unaddressable
      ? `HOST NOT IDENTIFIED: ${status.hostWorker?.message}. The threat may still be active: remediate by hand, or set SPAWNGUARD_HOST_DOMAIN.`
      : `HOST UNREACHABLE: no spawnguard host worker answered on task queue ${queue}, so nothing was done on ${host}. The threat may still be active: remediate by hand, or start the host worker on ${host}.`,
  };
  return status.outcome ? texts[status.outcome] : `Still open (phase: ${status.phase}).`;
}

export function reviewLine(status: IncidentStatus): string | undefined {
  const line = decisionLine(status);
  // Approvals and rejections that came when no review was open: the SOC sees them, none was applied.
  const ignored = (status.review.notApplied ?? []).map(
    (a) => `${a.decision} by ${a.analyst} at ${a.at} not applied: ${a.why}${a.comment ? ` ("${a.comment}")` : ''}`,
  );
  if (ignored.length === 0) return line;
  return [line, ...ignored.map((text) => `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}.`)].filter(Boolean).join(' ');
}

function decisionLine(status: IncidentStatus): string | undefined {
  const review = status.review;
  const by = `${reviewerText(review)}${review.decidedAt ? ` at ${review.decidedAt}` : ''}`;
  const comment = review.comment ? `: "${review.comment}"` : '';
  switch (review.status) {
    case 'not-needed':
      return undefined;
    case 'pending':
      return `Pending since ${review.requestedAt ?? '?'}${review.deadline ? `, deadline ${review.deadline}` : ''}.`;
    case 'approved':
      return `Approved by ${by}${comment}`;
    case 'rejected':
      return `Rejected by ${by}${comment}`;
    case 'timed-out':
      return `Timed out: no decision by ${review.deadline ?? 'the deadline'}.`;
  }
}

export function linksSection(status: IncidentStatus, incidentLink: string): Section {
  return {
    title: 'Audit trail',
    blocks: [
      { kind: 'link', label: 'Incident in the Temporal UI', href: incidentLink },
      {
        kind: 'fields',
        rows: [
          ['Workflow ID', status.workflowId],
          ['Started', status.timestamps.started],
          ['Decided', status.timestamps.decided ?? undefined],
          ['Closed', status.timestamps.closed ?? undefined],
        ],
      },
    ],
  };
}
