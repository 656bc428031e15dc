/** `spawnguard status <workflowId>`: the incident as its `status` query reports it. */
import type { Command } from 'commander';
import { msToNumber, type Duration } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { displayValues } from '../../common/display-text';
import { sectionText } from '../../activities/notification/document';
import { persistenceRemovalSection, processTreeSection, relatedSection } from '../../activities/notification/sections';
import { laterAlerts, reviewerText, type IncidentStatus } from '../../common/incident-status';
import { formatTable, printJson, withTemporal } from '../ingest/cli-support';
import { CliError, EXIT } from '../cli-errors';
import { incidentStatus, recentIncidents, type RecentIncident } from '../ingest/incidents';

function describeReview(status: IncidentStatus): string {
  const review = status.review;
  switch (review.status) {
    case 'pending':
      return `pending since ${review.requestedAt ?? '?'}${review.deadline ? `, until ${review.deadline}` : ''}`;
    case 'approved':
    case 'rejected':
      return `${review.status} by ${reviewerText(review)} at ${review.decidedAt ?? '?'}${review.comment ? `: ${review.comment}` : ''}`;
    default:
      return review.status;
  }
}

/** The incident for a terminal: every alert-derived string shown with its hidden characters escaped. */
export function formatStatus(incident: IncidentStatus): string {
  const status = displayValues(incident);
  const { alert, decision } = status;
  const user = alert.user ? `${alert.user.domain ? `${alert.user.domain}\\` : ''}${alert.user.name}` : 'unknown';
  const lines = [
    `Incident   ${status.workflowId}${status.lab ? '  [LAB]' : ''}`,
    `Host       ${alert.host.hostname} (user ${user})`,
    `Pair       ${alert.parent.name} (PID ${alert.parent.pid}) → ${alert.child.name} (PID ${alert.child.pid})`,
    `Phase      ${status.phase}${status.outcome ? ` — ${status.outcome}` : ''}${
      status.phase !== 'closed' && status.hostWorker && !status.hostWorker.answered
        ? ` — waiting for the host worker of ${alert.host.hostname}`
        : ''
    }`,
    `Verdict    ${
      decision
        ? `${decision.verdict}, score ${decision.score}/100, confidence ${decision.confidence}`
        : status.preliminaryDecision
          ? `not decided yet; from the alert and reputation alone (host not answering): ${status.preliminaryDecision.verdict}, score ${status.preliminaryDecision.score}/100`
          : 'not decided yet'
    }`,
    `Review     ${describeReview(status)}`,
    `Started    ${status.timestamps.started}${status.timestamps.closed ? `, closed ${status.timestamps.closed}` : ''}`,
  ];
  if (decision && decision.reasons.length > 0) {
    lines.push(
      '',
      'Reasons',
      formatTable(
        ['WEIGHT', 'CODE', 'ATT&CK', 'EVIDENCE'],
        decision.reasons.map((r) => [String(r.weight), r.code, r.attack?.join(' ') ?? '', r.evidence]),
      ),
    );
  }
  if (decision && decision.plan.length > 0) {
    lines.push(
      '',
      'Plan',
      formatTable(
        ['ACTION', 'D3FEND', 'TARGET', 'NOTE'],
        decision.plan.map((p) => [
          p.action,
          p.d3fend ? `${p.d3fend.id} ${p.d3fend.name}` : '',
          p.target.description,
          p.skipped ? `skipped: ${p.skipped}` : '',
        ]),
      ),
    );
  }
  if (status.actions.length > 0) {
    lines.push(
      '',
      'Actions',
      formatTable(
        ['ACTION', 'TARGET', 'STATUS', 'DETAIL'],
        status.actions.map((a) => [
          a.action,
          a.target,
          a.status,
          [
            a.reason ?? a.message ?? '',
            a.descendantPids?.length ? `descendants stopped: ${a.descendantPids.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        ]),
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
  // The email's own sections: the process tree, related incidents, persistence proposals.
  for (const section of [processTreeSection(incident), relatedSection(incident), persistenceRemovalSection(incident)]) {
    if (section) lines.push('', sectionText(section));
  }
  for (const attempt of status.review.notApplied ?? []) {
    lines.push(
      `Not applied: ${attempt.decision} by ${attempt.analyst} at ${attempt.at} — ${attempt.why}${attempt.comment ? ` ("${attempt.comment}")` : ''}`,
    );
  }
  return lines.join('\n');
}

const VERDICTS = ['malicious', 'suspicious', 'benign'] as const;

const StatusListOptionsSchema = z.object({
  host: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, '--host must be a host name (letters, digits, dots, hyphens)')
    .transform((host) => host.toLowerCase())
    .optional(),
  verdict: z.enum(VERDICTS, { message: `--verdict must be one of ${VERDICTS.join(', ')}` }).optional(),
  since: z
    .string()
    .regex(/^\d+(m|h|d)$/, '--since must be a duration such as 30m, 24h or 7d')
    .transform((since) => new Date(Date.now() - msToNumber(since as Duration)))
    .optional(),
  limit: z.coerce
    .number({ message: '--limit must be a number' })
    .int('--limit must be a whole number')
    .min(1, '--limit must be at least 1')
    .max(1000, '--limit must be at most 1000')
    .default(20),
  json: z.boolean().optional(),
});

function formatRecent(incidents: RecentIncident[]): string {
  if (incidents.length === 0) return 'No incident matches.';
  const shown = displayValues(incidents);
  return formatTable(
    ['STARTED', 'INCIDENT', 'HOST', 'PAIR', 'VERDICT', 'REVIEW', 'REMEDIATION', 'STATE'],
    shown.map((i) => [
      i.startTime,
      i.workflowId,
      i.hostname ?? '?',
      `${i.parentProcessName ?? '?'} → ${i.processName ?? '?'}`,
      i.verdict ? `${i.verdict}${i.riskScore !== undefined ? ` (${i.riskScore})` : ''}` : 'not decided',
      i.reviewStatus ?? '—',
      i.remediationStatus ?? '—',
      i.execution === 'RUNNING' ? 'open' : i.execution === 'COMPLETED' ? 'closed' : i.execution.toLowerCase(),
    ]),
  );
}

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'show an incident: phase, verdict, score, reasons, plan, review, actions; ' +
        'without an id, list recent incidents',
    )
    .argument('[workflowId]', 'the incident workflow id, e.g. spawnguard-web01-4312-6120.20240501T101112Z')
    .option('--json', 'print the full status (or the list) as JSON')
    .option('--host <name>', 'list: only incidents on this host')
    .option('--verdict <verdict>', `list: only this verdict (${VERDICTS.join(', ')})`)
    .option('--since <duration>', 'list: only incidents started within this long (e.g. 24h, 7d)')
    .option('--limit <n>', 'list: at most this many (default 20)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  spawnguard status spawnguard-web01-4312-6120      one incident in full\n' +
        '  spawnguard status --since 24h --verdict malicious  the last day’s malicious incidents\n' +
        '  spawnguard status --host web01                     recent incidents on web01',
    )
    .action(async (workflowId: string | undefined, raw: Record<string, unknown>) => {
      if (workflowId === undefined) {
        const options = StatusListOptionsSchema.safeParse(raw);
        if (!options.success) throw new CliError(options.error.issues.map((i) => i.message).join('; '), EXIT.usage);
        const { host, verdict, since, limit, json } = options.data;
        const incidents = await withTemporal((client) =>
          recentIncidents(client, {
            limit,
            ...(host ? { hostname: host } : {}),
            ...(verdict ? { verdict } : {}),
            ...(since ? { since } : {}),
          }),
        );
        if (json) printJson(incidents);
        else console.log(formatRecent(incidents));
        return;
      }
      const status = await withTemporal((client) => incidentStatus(client, workflowId));
      if (raw.json) printJson(status);
      else console.log(formatStatus(status));
    });
}
