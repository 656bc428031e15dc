/**
 * Persistence removal (DESIGN.md §1 step 3): after remediation, the entries that reference the
 * offending binaries are proposed for removal; each is removed only on an analyst's approval (update
 * `persistenceReview`: per entry or all), backed up on the host first, verified gone afterwards, and
 * restorable (`incidentRestore`). Entries of Microsoft- or trusted-signed files, and entries that do
 * not reference an offender, are never proposed (and the host refuses them too). Workflow code.
 */
import { condition, log, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { PersistenceEntry } from '../common/host-contract';
import type { RemovablePersistenceKind } from '../common/host-contract';
import type { ActionRecord, IncidentStatus, PersistenceProposal, PersistenceRemoval } from '../common/incident-status';
import { persistenceReviewProblem, persistenceReviewUpdate } from '../common/messages';
import type { PlaybookInput, PersistenceReview } from '../common/playbook';
import { isRemoteWindowsPath, isRunKeyLocation, isTrustedPublisher } from '../common/windows';
import { d3fendFor } from '../common/frameworks';
import { describeFailure } from './enrichment';
import { hostActionActivities } from './remediation';

const REMOVABLE: readonly string[] = ['run-key', 'scheduled-task', 'startup-folder', 'service', 'wmi-subscription'];
/** The most entries one approval removes (the host request's limit). */
const MAX_PROPOSALS = 64;
const now = () => new Date().toISOString();

/**
 * The proposals: entries that reference an offender (its path is what the host matched), of a kind
 * the host can back up and put back, whose offending file is not Microsoft- or trusted-signed.
 * Every other referencing entry is listed with why it is not proposed.
 */
export function proposeRemovals(
  status: IncidentStatus,
  deadline: string,
  trustedPublishers: readonly string[] = [],
): PersistenceRemoval | null {
  const referencing = status.persistence.filter((e) => e.referencesTarget && e.matchedPath);
  if (referencing.length === 0) return null;
  const proposals: PersistenceProposal[] = [];
  const notProposed: PersistenceRemoval['notProposed'] = [];
  for (const entry of referencing) {
    const why = notProposable(entry, status, trustedPublishers);
    if (why || proposals.length >= MAX_PROPOSALS) {
      notProposed.push({
        kind: entry.kind,
        location: entry.location,
        name: entry.name,
        why: why ?? `more than ${MAX_PROPOSALS} entries: remove the rest by hand`,
      });
      continue;
    }
    proposals.push({
      id: `p${proposals.length + 1}`,
      kind: entry.kind as RemovablePersistenceKind,
      location: entry.location,
      name: entry.name,
      command: entry.command ?? null,
      user: entry.user ?? null,
      matchedPath: entry.matchedPath as string,
      state: 'proposed',
    });
  }
  if (proposals.length === 0 && notProposed.length === 0) return null;
  return { status: proposals.length > 0 ? 'pending' : 'done', deadline, proposals, notProposed };
}

function notProposable(
  entry: PersistenceEntry,
  status: IncidentStatus,
  trustedPublishers: readonly string[],
): string | null {
  if (!REMOVABLE.includes(entry.kind)) return `${entry.kind} entries are not removed automatically: remove it by hand`;
  if (entry.kind === 'run-key' && !isRunKeyLocation(entry.location)) {
    return `${entry.location} is not a Run key spawnguard writes to: remove it by hand`;
  }
  // A startup folder is a file-system path (a task's location is its task path, `\Updater`).
  if (
    (entry.kind === 'startup-folder' && isRemoteWindowsPath(entry.location)) ||
    isRemoteWindowsPath(entry.matchedPath)
  ) {
    return 'its location is a remote path, never opened by the host';
  }
  if (entry.kind === 'service' && /\((ServiceDll|FailureCommand)\)$/.test(entry.name)) {
    return 'a service DLL or recovery command is not removed automatically: remove it by hand';
  }
  // The offending file's own signature, as the host verified it: a file validly signed by Microsoft
  // or a trusted publisher is never an offender whose autostart entries are removed (terminate only,
  // as quarantine does).
  const matched = (entry.matchedPath ?? '').toLowerCase();
  for (const file of [status.enrichment?.parent, status.enrichment?.child]) {
    if (!file?.path || file.path.toLowerCase() !== matched) continue;
    if (file.isMicrosoftSigned || file.isOsBinary)
      return `${file.path} is Microsoft-signed: its entries are never removed`;
    const signer = file.signature?.status === 'valid' ? file.signature.signer : null;
    if (signer && isTrustedPublisher(signer, trustedPublishers)) {
      return `${file.path} is signed by ${signer}, a trusted publisher: its entries are never removed`;
    }
  }
  return null;
}

/**
 * The `persistenceReview` update, registered as soon as the proposals exist (the status offers them
 * from then on): records the analyst's decisions; the wait (`awaitPersistenceReview`) acts on them.
 */
export function setPersistenceReviewHandler(status: IncidentStatus): void {
  const removal = status.persistenceRemoval;
  if (!removal) return;
  const pending = () => removal.proposals.filter((p) => p.state === 'proposed');
  setHandler(
    persistenceReviewUpdate,
    (review: PersistenceReview) => {
      const selected = review.entries ? removal.proposals.filter((p) => review.entries?.includes(p.id)) : pending();
      const decidedBy = {
        analyst: review.analyst.trim(),
        ...(review.identity ? { identity: review.identity } : {}),
        comment: review.comment ?? null,
        at: now(),
      };
      for (const proposal of selected) {
        proposal.state = review.decision === 'remove' ? 'approved' : 'kept';
        proposal.decidedBy = decidedBy;
      }
      log.info('Persistence review recorded', {
        decision: review.decision,
        entries: selected.map((p) => p.id),
        analyst: decidedBy.analyst,
        ...(review.identity ? { subject: review.identity.subject, issuer: review.identity.issuer } : {}),
      });
      return removal;
    },
    {
      validator: (review: PersistenceReview) => {
        const problem = persistenceReviewProblem(review);
        if (problem) throw new Error(problem);
        if (removal.status !== 'pending') throw new Error(`no persistence removal is pending (${removal.status})`);
        for (const id of review.entries ?? []) {
          const proposal = removal.proposals.find((p) => p.id === id);
          if (!proposal)
            throw new Error(`${id}: no such proposal (proposed: ${removal.proposals.map((p) => p.id).join(', ')})`);
          if (proposal.state !== 'proposed') throw new Error(`${id}: already decided (${proposal.state})`);
        }
        if (pending().length === 0) throw new Error('every proposal is decided already');
      },
    },
  );
}

/**
 * Waits for the analyst's decisions on the proposals until the deadline, removing approved entries
 * as they are approved. Resolves when none is left proposed (or the deadline passed).
 */
export async function awaitPersistenceReview(status: IncidentStatus, input: PlaybookInput): Promise<void> {
  const removal = status.persistenceRemoval;
  if (!removal || removal.status !== 'pending') return;
  const pending = () => removal.proposals.filter((p) => p.state === 'proposed');
  const approved = () => removal.proposals.filter((p) => p.state === 'approved');
  const deadline = Date.parse(removal.deadline);
  while (removal.status === 'pending') {
    setCurrentDetails(
      `Waiting for an analyst: ${pending().length} persistence entr${pending().length === 1 ? 'y' : 'ies'} proposed for removal (until ${removal.deadline})`,
    );
    const woke = await condition(
      () => approved().length > 0 || pending().length === 0,
      Math.max(1, deadline - Date.now()),
      {
        summary: `Persistence removal deadline: ${removal.deadline}`,
      },
    );
    if (approved().length > 0) await removeApproved(status, input, approved());
    if (pending().length === 0 && approved().length === 0) removal.status = 'done';
    else if (!woke) {
      for (const proposal of pending()) proposal.state = 'expired';
      removal.status = 'timed-out';
      log.warn('Persistence removal not decided before the deadline', { deadline: removal.deadline });
    }
  }
}

/** Backs up and removes the approved entries on the host, recording each result (and an action). */
async function removeApproved(status: IncidentStatus, input: PlaybookInput, proposals: PersistenceProposal[]) {
  const { alert, policy } = input;
  const summary = `Remove ${proposals.length} persistence entr${proposals.length === 1 ? 'y' : 'ies'} (backed up first)`;
  const record = (proposal: PersistenceProposal, entry: Omit<ActionRecord, 'action' | 'target' | 'at'>) => {
    const technique = d3fendFor('remove-persistence', proposal.kind);
    status.actions.push({
      action: 'remove-persistence',
      target: `${proposal.id} ${proposal.kind} ${proposal.location} ${proposal.name}`,
      ...entry,
      ...(technique ? { d3fend: technique } : {}),
      at: now(),
    });
  };
  try {
    const result = await hostActionActivities(alert, policy, summary, 'containment').removePersistenceEntries({
      incidentId: status.workflowId,
      entries: proposals.map((p) => ({ kind: p.kind, location: p.location, name: p.name, matchedPath: p.matchedPath })),
      trustedPublishers: policy.decision.trustedPublishers,
      ...(policy.quarantineDirectory ? { quarantineDirectory: policy.quarantineDirectory } : {}),
    });
    proposals.forEach((proposal, index) => {
      const item = result.results[index];
      const same =
        item && item.kind === proposal.kind && item.location === proposal.location && item.name === proposal.name;
      if (!item || !same) {
        proposal.state = 'failed';
        proposal.result = {
          status: 'failed',
          reason: 'no-result',
          message: 'the host returned no result for this entry',
          at: now(),
        };
        record(proposal, {
          status: 'failed',
          reason: 'no-result',
          message: proposal.result.message,
          quarantine: null,
          validated: null,
        });
        return;
      }
      proposal.state =
        item.status === 'done'
          ? 'removed'
          : item.status === 'already-done'
            ? 'gone'
            : item.status === 'skipped'
              ? 'refused'
              : 'failed';
      proposal.result = {
        status: item.status,
        reason: item.reason ?? null,
        message: item.message ?? null,
        backup: item.backup ?? null,
        verified: item.verified ?? null,
        at: now(),
      };
      record(proposal, {
        status: item.status,
        reason: item.reason ?? null,
        message:
          [item.message, item.backup ? `backup ${item.backup.id} at ${item.backup.path}` : null]
            .filter(Boolean)
            .join('; ') || null,
        quarantine: null,
        validated: item.status === 'done' || item.status === 'already-done' ? item.verified === true : null,
      });
    });
  } catch (err) {
    for (const proposal of proposals) {
      proposal.state = 'failed';
      proposal.result = { status: 'failed', reason: 'error', message: describeFailure(err), at: now() };
      record(proposal, {
        status: 'failed',
        reason: 'error',
        message: describeFailure(err),
        quarantine: null,
        validated: null,
      });
    }
  }
}
