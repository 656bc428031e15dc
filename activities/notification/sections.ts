/** The sections both emails share, built from the incident status (pure functions). */
import { displayText } from '../../common/display-text';
import type { AlertProcess, AlertUser } from '../../common/alert';
import type { PlanStep } from '../../common/decision';
import { processTreeLines } from '../../common/process-tree';
import {
  laterAlerts,
  reviewerText,
  type ActionRecord,
  type PersistenceProposal,
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
            items: decision.reasons.map(
              (reason) =>
                `[${sign(reason.weight)}] ${reason.code}: ${reason.evidence}${reason.attack?.length ? ` (ATT&CK ${reason.attack.join(', ')})` : ''}`,
            ),
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
    (step) =>
      `${step.action}${d3fendText(step.d3fend)} — ${step.target.description}${step.skipped ? ` (will be skipped: ${step.skipped})` : ''}`,
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
  return `${record.action}${d3fendText(record.d3fend)} — ${record.target}: ${result}${check}`;
}

/** ` [D3FEND D3-PT Process Termination]`, or nothing. */
export function d3fendText(technique: { id: string; name: string } | undefined): string {
  return technique ? ` [D3FEND ${technique.id} ${technique.name}]` : '';
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
    'closed-notified':
      'Notified, not acted on: the verdict is suspicious and this deployment closes such incidents with this report (SPAWNGUARD_SUSPICIOUS_POLICY=notify-only). Nothing was done on the host and no approval is possible: review the evidence below and act by hand if it is confirmed.',
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

/** The pair's ancestry and descendants from the host's process list (Elastic's first triage question). */
export function processTreeSection(status: IncidentStatus): Section | undefined {
  const tree = status.enrichment?.processTree;
  if (!tree) return undefined;
  return {
    title: 'Process tree (from the host)',
    blocks: [{ kind: 'list', items: processTreeLines(status.alert, tree) }],
  };
}

/** Other incidents on the same host or for the same user within the window, with verdict and outcome. */
export function relatedSection(status: IncidentStatus): Section | undefined {
  const related = status.related;
  if (!related) return undefined;
  const lines = related.incidents.map(
    (r) =>
      `${r.workflowId} — ${r.parentProcessName ?? '?'} → ${r.processName ?? '?'} on ${r.hostname ?? '?'}${r.userName ? ` as ${r.userName}` : ''}, started ${r.startTime}: ${r.verdict ?? 'no verdict yet'}${r.riskScore !== undefined ? ` (score ${r.riskScore})` : ''}, ${r.outcome ?? 'open'}${r.restored ? ', undone by a restore' : ''} [same ${r.matchedBy.join(' and ')}]`,
  );
  const intro = related.error
    ? `Related incidents could not be gathered: ${related.error}.`
    : lines.length > 0
      ? `${lines.length} other incident(s) on this host or for this user since ${related.since} (last ${related.window}):`
      : `No other incident on this host or for this user since ${related.since} (last ${related.window}).`;
  return {
    title: 'Related incidents',
    blocks: [
      { kind: 'paragraph', text: intro },
      ...(lines.length > 0 ? [{ kind: 'list' as const, items: lines }] : []),
    ],
  };
}

const PROPOSAL_STATE: Record<PersistenceProposal['state'], string> = {
  proposed: 'PROPOSED for removal, waiting for an analyst',
  approved: 'approved, removal running',
  kept: 'kept (the analyst declined removal)',
  removed: 'REMOVED (backed up first)',
  gone: 'already gone on the host',
  refused: 'refused by the host',
  failed: 'removal FAILED',
  expired: 'not decided before the deadline: left in place',
};

/** The persistence entries proposed for removal, what was decided and done, and how to decide. */
export function persistenceRemovalSection(status: IncidentStatus): Section | undefined {
  const removal = status.persistenceRemoval;
  if (!removal) return undefined;
  const line = (p: PersistenceProposal) => {
    const decided = p.decidedBy
      ? ` — by ${reviewerText({ analyst: p.decidedBy.analyst, identity: p.decidedBy.identity ?? null })} at ${p.decidedBy.at}`
      : '';
    const result = p.result
      ? `; host: ${p.result.status}${p.result.reason ? ` (${p.result.reason})` : ''}${p.result.message ? `: ${p.result.message}` : ''}${p.result.backup ? `; backup ${p.result.backup.id} (${p.result.backup.format}) at ${p.result.backup.path}` : ''}${p.result.verified === true ? '; verified gone on the host' : p.result.verified === false ? '; NOT verified gone' : ''}`
      : '';
    return `${p.id}: ${p.kind} ${p.location} ${p.name}${p.command ? ` = ${p.command}` : ''} (references ${p.matchedPath}) — ${PROPOSAL_STATE[p.state]}${decided}${result}`;
  };
  const blocks: Block[] = [];
  const pending = removal.proposals.filter((p) => p.state === 'proposed');
  if (pending.length > 0) {
    blocks.push({
      kind: 'paragraph',
      text: `${pending.length} entr${pending.length === 1 ? 'y references' : 'ies reference'} the offending binaries and can be removed on your approval until ${removal.deadline}: each is backed up on the host first and can be put back (spawnguard restore). Approve on the review page, or: npx spawnguard persistence remove ${status.workflowId} --analyst <you> [--entry p1]; to leave them: npx spawnguard persistence keep ${status.workflowId} --analyst <you>.`,
    });
  }
  if (removal.proposals.length > 0) blocks.push({ kind: 'list', items: removal.proposals.map(line) });
  if (removal.notProposed.length > 0) {
    blocks.push(
      { kind: 'paragraph', text: 'Referencing entries not proposed for removal (remove them by hand if confirmed):' },
      { kind: 'list', items: removal.notProposed.map((n) => `${n.kind} ${n.location} ${n.name}: ${n.why}`) },
    );
  }
  if (removal.status === 'timed-out') {
    blocks.push({
      kind: 'paragraph',
      text: `The deadline ${removal.deadline} passed: undecided entries were left in place.`,
    });
  }
  return { title: 'Persistence removal', blocks };
}
