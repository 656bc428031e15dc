/**
 * The notice for a malicious alert on a host whose spawnguard worker does not answer: sent as soon
 * as that is known (the liveness timeout), with the verdict the alert and reputation give on their
 * own, so the SOC can contain the host another way instead of learning of it when the incident
 * gives up on the host. Pure: IncidentStatus in, subject + text + HTML out.
 */
import { displayValues } from '../../common/display-text';
import type { IncidentStatus } from '../../common/incident-status';
import { renderEmail, type EmailContent, type Section } from './document';
import { alertSection, LAB_BANNER, linksSection, pairSummary, reputationSection, verdictSection } from './sections';

export function buildHostMissingNotice(incident: IncidentStatus, options: { incidentLink: string }): EmailContent {
  const status = displayValues(incident);
  const preliminary = status.preliminaryDecision;
  const host = status.alert.host.hostname;
  const subject = `[spawnguard]${status.lab ? ' [LAB]' : ''} MALICIOUS on ${host}, host worker not answering: ${pairSummary(status)}`;
  const title = `Act now: ${pairSummary(status)}`;
  const sections: Section[] = [
    {
      title: 'Act now',
      blocks: [
        {
          kind: 'paragraph',
          text:
            `The alert and the reputation sources alone make this incident malicious` +
            `${preliminary ? ` (score ${preliminary.score}/100, confidence ${preliminary.confidence})` : ''}, ` +
            `and spawnguard cannot act on ${host}: ${status.hostWorker?.message ?? 'its host worker does not answer'}.`,
        },
        {
          kind: 'paragraph',
          text:
            'Nothing has been done on the host yet. The incident keeps waiting for the host worker and ' +
            'remediates as soon as it answers (its decision is then made again with the host’s own facts); ' +
            'a report follows either way. If the worker cannot come back soon, contain the host another ' +
            'way: isolate it in your EDR, disable the user, stop the process by hand.',
        },
      ],
    },
    alertSection(status),
    // The verdict section reads the incident's decision: here, the preliminary one.
    {
      ...verdictSection({ ...status, decision: preliminary ?? null }),
      title: 'Preliminary verdict (alert and reputation only)',
    },
  ];
  const reputation = reputationSection(status);
  if (reputation) sections.push(reputation);
  sections.push(linksSection(status, options.incidentLink));
  return renderEmail(subject, title, sections, status.lab ? LAB_BANNER : undefined);
}
