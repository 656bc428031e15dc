/**
 * The review-request email for a suspicious incident: the evidence, what approval would do, and
 * every way to answer (review page, CLI, HTTP). Sent again as a reminder, and as an escalation when
 * the review timed out. Pure: IncidentStatus in, subject + text + HTML out.
 */
import { displayValues } from '../../common/display-text';
import type { IncidentStatus } from '../../common/incident-status';
import { renderEmail, type Block, type EmailContent, type Section } from './document';
import {
  alertSection,
  LAB_BANNER,
  linksSection,
  pairSummary,
  planLines,
  reputationSection,
  verdictLabel,
  verdictSection,
} from './sections';

export interface ReviewRequestOptions {
  /** This incident in the Temporal UI (`temporalUiLink`). */
  incidentLink: string;
  /** The signed review page link for this incident, when there is one. */
  reviewUrl?: string;
  /** Base URL of the ingest service (SPAWNGUARD_PUBLIC_URL) for the HTTP instructions. */
  publicUrl: string;
  reminder?: boolean;
}

export function buildReviewRequest(incident: IncidentStatus, options: ReviewRequestOptions): EmailContent {
  // Alert-derived text is shown with its hidden characters escaped, in the subject, text and HTML.
  const status = displayValues(incident);
  // Once the review is no longer pending (the playbook escalates a timed-out review), approving is
  // no longer possible: the mail says what happened instead of how to answer.
  const pending = status.review.status === 'pending';
  const prefix = !pending
    ? 'Escalation — review not answered'
    : options.reminder
      ? 'Reminder — review needed'
      : 'Review needed';
  const subject = `[spawnguard]${status.lab ? ' [LAB]' : ''} ${prefix}: ${verdictLabel(status)} ${pairSummary(status)}`;
  const title = `${prefix}: ${pairSummary(status)}`;

  const plan = status.decision?.plan ?? [];
  const sections: Section[] = [
    { title: pending ? 'Decision needed' : 'No decision was made', blocks: introBlocks(status) },
    alertSection(status),
    verdictSection(status),
  ];
  const reputation = reputationSection(status);
  if (reputation) sections.push(reputation);
  sections.push({
    title: pending ? 'What approval will do' : 'What approval would have done',
    blocks:
      plan.length > 0
        ? [{ kind: 'list', items: planLines(plan) }]
        : [{ kind: 'paragraph', text: 'No host action is planned.' }],
  });
  if (pending) sections.push(howToAnswer(status, options));
  sections.push(linksSection(status, options.incidentLink));
  return renderEmail(subject, title, sections, status.lab ? LAB_BANNER : undefined);
}

function introBlocks(status: IncidentStatus): Block[] {
  const host = status.alert.host.hostname;
  const deadline = status.review.deadline;
  if (status.review.status === 'pending') {
    return [
      {
        kind: 'paragraph',
        text: `The evidence is not conclusive, so spawnguard is waiting for an analyst before acting on ${host}.${deadline ? ` Please decide before ${deadline}; after that the review times out.` : ''}`,
      },
    ];
  }
  return [
    {
      kind: 'paragraph',
      text: `No analyst decided${deadline ? ` by ${deadline}` : ''}, so the review timed out and spawnguard did not act on ${host}. If this is an attack it may still be active: investigate and remediate by hand, or submit the alert again to start a new review.`,
    },
  ];
}

/** What a shell (POSIX or PowerShell) reads as one literal word, so a copied command runs as shown. */
const SHELL_SAFE = /^[A-Za-z0-9._:@=+-]+$/;

function howToAnswer(status: IncidentStatus, options: ReviewRequestOptions): Section {
  const id = status.workflowId;
  const endpoint = `${options.publicUrl.replace(/\/+$/, '')}/v1/incidents/${encodeURIComponent(id)}/review`;
  const blocks: Block[] = [];
  if (options.reviewUrl) {
    blocks.push(
      { kind: 'link', label: 'Review page', href: options.reviewUrl },
      { kind: 'paragraph', text: 'Opening the page changes nothing: you approve or reject on the page itself.' },
    );
  }
  // The workflow ID comes from the alert: a command with it is offered only when pasting it into
  // a shell cannot run anything else.
  if (SHELL_SAFE.test(id)) {
    blocks.push(
      { kind: 'paragraph', text: 'With the CLI:' },
      {
        kind: 'code',
        text: [
          `spawnguard review approve ${id} --analyst "<your name>" --comment "<why>"`,
          `spawnguard review reject ${id} --analyst "<your name>" --comment "<why>"`,
        ].join('\n'),
      },
    );
  } else {
    blocks.push({
      kind: 'paragraph',
      text: 'With the CLI: run `spawnguard review list` and approve or reject this incident from there (its ID contains characters a shell would interpret, so no command is printed here).',
    });
  }
  blocks.push(
    { kind: 'paragraph', text: 'Over HTTP (with the ingest service bearer token):' },
    {
      kind: 'code',
      text: [
        `POST ${endpoint}`,
        'Authorization: Bearer <ingest token>',
        'Content-Type: application/json',
        '',
        '{ "decision": "approve", "analyst": "<your name>", "comment": "<why>" }',
      ].join('\n'),
    },
    { kind: 'paragraph', text: 'Use "reject" to close the incident as a false positive.' },
  );
  return { title: 'How to approve or reject', blocks };
}
