/** `spawnguard status <workflowId>`: the incident as its `status` query reports it. */
import type { Command } from 'commander';
import { laterAlerts, type IncidentStatus } from '../../common/incident-status';
import { formatTable, printJson, withTemporal } from '../ingest/cli-support';
import { incidentStatus } from '../ingest/incidents';

function describeReview(status: IncidentStatus): string {
  const review = status.review;
  switch (review.status) {
    case 'pending':
      return `pending since ${review.requestedAt ?? '?'}${review.deadline ? `, until ${review.deadline}` : ''}`;
    case 'approved':
    case 'rejected':
      return `${review.status} by ${review.analyst ?? '?'} at ${review.decidedAt ?? '?'} (${review.via ?? '?'})${review.comment ? `: ${review.comment}` : ''}`;
    default:
      return review.status;
  }
}

export function formatStatus(status: IncidentStatus): string {
  const { alert, decision } = status;
  const user = alert.user ? `${alert.user.domain ? `${alert.user.domain}\\` : ''}${alert.user.name}` : 'unknown';
  const lines = [
    `Incident   ${status.workflowId}${status.lab ? '  [LAB]' : ''}`,
    `Host       ${alert.host.hostname} (user ${user})`,
    `Pair       ${alert.parent.name} (PID ${alert.parent.pid}) → ${alert.child.name} (PID ${alert.child.pid})`,
    `Phase      ${status.phase}${status.outcome ? ` — ${status.outcome}` : ''}`,
    `Verdict    ${decision ? `${decision.verdict}, score ${decision.score}/100, confidence ${decision.confidence}` : 'not decided yet'}`,
    `Review     ${describeReview(status)}`,
    `Started    ${status.timestamps.started}${status.timestamps.closed ? `, closed ${status.timestamps.closed}` : ''}`,
  ];
  if (decision && decision.reasons.length > 0) {
    lines.push(
      '',
      'Reasons',
      formatTable(
        ['WEIGHT', 'CODE', 'EVIDENCE'],
        decision.reasons.map((r) => [String(r.weight), r.code, r.evidence]),
      ),
    );
  }
  if (decision && decision.plan.length > 0) {
    lines.push(
      '',
      'Plan',
      formatTable(
        ['ACTION', 'TARGET', 'NOTE'],
        decision.plan.map((p) => [p.action, p.target.description, p.skipped ? `skipped: ${p.skipped}` : '']),
      ),
    );
  }
  if (status.actions.length > 0) {
    lines.push(
      '',
      'Actions',
      formatTable(
        ['ACTION', 'TARGET', 'STATUS', 'DETAIL'],
        status.actions.map((a) => [a.action, a.target, a.status, a.reason ?? a.message ?? '']),
      ),
    );
  }
  if (status.reopenedFrom) {
    lines.push(
      '',
      `Re-opens ${status.reopenedFrom.workflowId} (closed ${status.reopenedFrom.outcome}${status.reopenedFrom.closedAt ? ` at ${status.reopenedFrom.closedAt}` : ''}): new evidence arrived after it closed`,
    );
  }
  if (status.duplicates.length > 0) {
    lines.push('', `Later alerts: ${laterAlerts(status)}`);
  }
  for (const merged of status.mergedFacts ?? []) {
    lines.push(`Facts from ${merged.alertId} used in the decision: ${merged.added.join(', ')}`);
  }
  if (status.hostWorker && !status.hostWorker.answered) lines.push('', `Host worker: ${status.hostWorker.message}`);
  for (const attempt of status.review.notApplied ?? []) {
    lines.push(
      `Not applied: ${attempt.decision} by ${attempt.analyst} at ${attempt.at} — ${attempt.why}${attempt.comment ? ` ("${attempt.comment}")` : ''}`,
    );
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('status')
    .description(
      "show an incident: phase, verdict, score, reasons, plan, review, actions (the workflow's status query)",
    )
    .argument('<workflowId>', 'the incident workflow id, e.g. spawnguard-web01-4312-6120.20240501T101112Z')
    .option('--json', 'print the full status as JSON')
    .action(async (workflowId: string, options: { json?: boolean }) => {
      const status = await withTemporal((client) => incidentStatus(client, workflowId));
      if (options.json) printJson(status);
      else console.log(formatStatus(status));
    });
}
