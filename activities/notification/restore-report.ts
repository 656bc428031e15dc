/**
 * The restore report: what an analyst asked to put back after remediation (a false positive), what
 * the host put back, and how each was verified. Pure: the restore and the incident in, email out.
 */
import { displayValues } from '../../common/display-text';
import { reviewerText, type IncidentStatus } from '../../common/incident-status';
import type { RestoreStatus } from '../../common/restore';
import { renderEmail, type EmailContent, type Section } from './document';
import { actionLine, alertSection, LAB_BANNER, linksSection, pairSummary } from './sections';

const OUTCOME_TEXT: Record<NonNullable<RestoreStatus['outcome']>, string> = {
  restored: 'Restored: everything asked for is back on the host and was verified there.',
  'partially-restored':
    'Partially restored: some of it could not be put back or verified — see each action below and finish by hand.',
  'nothing-to-restore': 'Nothing to restore: the incident quarantined or removed nothing of what was asked.',
  'host-unreachable': 'HOST UNREACHABLE: no spawnguard host worker picked the restore up; nothing was changed.',
};

export function buildRestoreReport(
  restoreStatus: RestoreStatus,
  incidentStatus: IncidentStatus,
  options: { restoreLink: string; incidentLink: string },
): EmailContent {
  const restore = displayValues(restoreStatus);
  const incident = displayValues(incidentStatus);
  const outcome = restore.outcome ?? restore.phase;
  const subject = `[spawnguard]${restore.lab ? ' [LAB]' : ''} RESTORE ${pairSummary(incident)}: ${outcome}`;
  const asked = restore.requestedBy;
  const sections: Section[] = [
    {
      title: 'Outcome',
      blocks: [
        {
          kind: 'paragraph',
          text: restore.outcome ? OUTCOME_TEXT[restore.outcome] : `Still running (${restore.phase}).`,
        },
        ...(restore.message ? [{ kind: 'paragraph' as const, text: restore.message }] : []),
      ],
    },
    {
      title: 'Asked by',
      blocks: [
        {
          kind: 'paragraph',
          text: `${reviewerText({ analyst: asked.analyst, identity: asked.identity ?? null })} at ${asked.at}${asked.comment ? `: "${asked.comment}"` : ''}`,
        },
      ],
    },
    {
      title: 'What was put back',
      blocks: [
        restore.actions.length > 0
          ? { kind: 'list', items: restore.actions.map(actionLine) }
          : { kind: 'paragraph', text: 'Nothing.' },
      ],
    },
    {
      title: 'Next steps',
      blocks: [
        {
          kind: 'list',
          items: [
            'A restored file can run again: confirm with its owner that it is wanted before the user starts it.',
            'Add its SHA-256 to the allow list (SPAWNGUARD_ALLOWLIST) if spawnguard should not act on it again.',
            'A restore refused because the original path is occupied: move the file there away and restore again.',
          ],
        },
      ],
    },
    alertSection(incident),
    linksSection(incident, options.incidentLink),
    {
      title: 'This restore',
      blocks: [{ kind: 'link', label: 'Restore in the Temporal UI', href: options.restoreLink }],
    },
  ];
  return renderEmail(subject, `Restore: ${pairSummary(incident)}`, sections, restore.lab ? LAB_BANNER : undefined);
}
