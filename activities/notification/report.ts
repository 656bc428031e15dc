/**
 * The incident report email: what was seen, what was decided and why, what was done with what
 * result, what is left for the analyst. Pure: IncidentStatus in, subject + text + HTML out.
 */
import { displayValues } from '../../common/display-text';
import type { IncidentStatus } from '../../common/incident-status';
import { renderEmail, type Block, type EmailContent, type Section } from './document';
import {
  actionLine,
  alertSection,
  LAB_BANNER,
  linksSection,
  outcomeText,
  pairSummary,
  persistenceRemovalSection,
  processTreeSection,
  relatedSection,
  reputationSection,
  reviewLine,
  verdictLabel,
  verdictSection,
} from './sections';

/** Persistence entries listed beyond those that reference the offending binaries. */
const MAX_OTHER_PERSISTENCE = 50;

export interface IncidentReportOptions {
  /** This incident in the Temporal UI (`temporalUiLink`). */
  incidentLink: string;
}

export function buildIncidentReport(incident: IncidentStatus, options: IncidentReportOptions): EmailContent {
  // Alert-derived text is shown with its hidden characters escaped, in the subject, text and HTML.
  const status = displayValues(incident);
  const { incidentLink } = options;
  const outcome = status.outcome ?? status.phase;
  const lab = status.lab ? ' [LAB]' : '';
  const subject = `[spawnguard]${lab} ${verdictLabel(status)} ${pairSummary(status)}: ${outcome}`;
  const title = `Incident report: ${pairSummary(status)}`;

  const sections: Section[] = [
    { title: 'Outcome', blocks: [{ kind: 'paragraph', text: outcomeText(status) }] },
    alertSection(status),
    verdictSection(status),
  ];
  const review = reviewLine(status);
  if (review) sections.push({ title: 'Analyst review', blocks: [{ kind: 'paragraph', text: review }] });
  const tree = processTreeSection(status);
  if (tree) sections.push(tree);
  const related = relatedSection(status);
  if (related) sections.push(related);
  const reputation = reputationSection(status);
  if (reputation) sections.push(reputation);
  sections.push(actionsSection(status), ...quarantineSection(status), ...persistenceSection(status));
  const removal = persistenceRemovalSection(status);
  if (removal) sections.push(removal);
  sections.push(nextStepsSection(status), linksSection(status, incidentLink));
  return renderEmail(subject, title, sections, status.lab ? LAB_BANNER : undefined);
}

export function actionsSection(status: IncidentStatus): Section {
  if (status.actions.length === 0) {
    return { title: 'Actions', blocks: [{ kind: 'paragraph', text: 'No action was taken on the host.' }] };
  }
  return { title: 'Actions', blocks: [{ kind: 'list', items: status.actions.map(actionLine) }] };
}

export function quarantineSection(status: IncidentStatus): Section[] {
  const records = status.actions.flatMap((action) => (action.quarantine ? [action.quarantine] : []));
  if (records.length === 0) return [];
  const blocks: Block[] = records.map((record) => ({
    kind: 'fields',
    rows: [
      ['Original path', record.originalPath],
      ['Quarantined to', record.quarantinePath],
      ['Manifest', record.manifestPath],
      ['SHA-256 before', record.sha256Before],
      ['SHA-256 after', record.sha256After],
      [
        'Integrity',
        record.sha256Before.toLowerCase() === record.sha256After.toLowerCase()
          ? 'hashes match'
          : 'HASHES DIFFER: the quarantined file is not the file that was moved',
      ],
      ['Signer', record.signer ?? undefined],
    ],
  }));
  return [{ title: 'Quarantine', blocks }];
}

function persistenceSection(status: IncidentStatus): Section[] {
  if (status.persistence.length === 0) return [];
  const describe = (entry: IncidentStatus['persistence'][number]) =>
    [
      `${entry.kind} ${entry.location} ${entry.name}`,
      entry.command ? `: ${entry.command}` : entry.imagePath ? `: ${entry.imagePath}` : '',
      entry.user ? ` (user ${entry.user})` : '',
      entry.referencesTarget ? ` — REFERENCES ${entry.matchedPath ?? 'the offending binary'}` : '',
    ].join('');
  const flagged = status.persistence.filter((entry) => entry.referencesTarget);
  const others = status.persistence.filter((entry) => !entry.referencesTarget);
  const blocks: Block[] = [
    {
      kind: 'paragraph',
      text:
        flagged.length > 0
          ? `${flagged.length} persistence entr${flagged.length === 1 ? 'y references' : 'ies reference'} the offending binaries (listed first). ${status.persistenceRemoval ? 'Removal is on your approval: see Persistence removal below.' : 'They were reported, not removed: review and remove them.'}`
          : 'No persistence entry references the offending binaries.',
    },
  ];
  const shown = [...flagged, ...others.slice(0, MAX_OTHER_PERSISTENCE)];
  blocks.push({ kind: 'list', items: shown.map(describe) });
  // The host's exact counts: the listing the workflow carries is capped (payload limits).
  const summary = status.persistenceSummary;
  const total = summary?.total ?? status.persistence.length;
  const notShown = total - shown.length;
  if (notShown > 0) {
    const kinds = summary
      ? ` (${Object.entries(summary.byKind)
          .map(([kind, count]) => `${kind} ${count}`)
          .join(', ')})`
      : '';
    blocks.push({
      kind: 'paragraph',
      text: `…and ${notShown} more entries that do not reference them, of ${total} on the host${kinds}. For the full list run FetchPersistenceEntries.ps1 on ${status.alert.host.hostname}.`,
    });
  }
  return [{ title: 'Persistence', blocks }];
}

/** The seed playbook's post-execution procedure, with this incident's specifics filled in. */
function nextStepsSection(status: IncidentStatus): Section {
  const quarantined = status.actions.flatMap((action) => (action.quarantine ? [action.quarantine.quarantinePath] : []));
  const host = status.alert.host.hostname;
  const user = status.alert.user ?? status.alert.child.user;
  return {
    title: 'Next steps for the analyst',
    blocks: [
      {
        kind: 'list',
        items: [
          quarantined.length > 0
            ? `Review the quarantined file(s): ${quarantined.join(', ')}.`
            : 'Review the offending file (nothing was quarantined).',
          `Check files the process created or changed on ${host}.`,
          `Look for other indicators of compromise on ${host}.`,
          'Review the event logs for lateral movement or privilege escalation.',
          user
            ? `Confirm the user ${user.domain ? `${user.domain}\\${user.name}` : user.name} was told.`
            : 'Confirm the user was told.',
          ...(quarantined.length > 0 || status.persistenceRemoval?.proposals.some((p) => p.result?.backup)
            ? [
                `A false positive? Put back what was quarantined or removed: npx spawnguard restore ${status.workflowId} --all --analyst <you> (or the Restore button on the review page).`,
              ]
            : []),
        ],
      },
    ],
  };
}
