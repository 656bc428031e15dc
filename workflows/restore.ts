/**
 * `incidentRestore`: undo an incident's quarantine and persistence removals (a false positive found
 * after remediation). Its own workflow, started by `spawnguard restore` or the review page's button,
 * so an incident that has closed long ago can still be undone, and every restore is its own audit
 * trail: who asked, what went back, how it was verified. It reads the incident's own record (its
 * `status` query) and puts back only what that record says the incident quarantined or removed;
 * a file whose original path is occupied is refused, never overwritten. Workflow code.
 */
import {
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';

import type { ActionRecord, CentralActivities, IncidentStatus } from '../common/incident-status';
import { restoreStatusQuery } from '../common/messages';
import { SA } from '../common/names';
import type { PlaybookPolicy } from '../common/playbook';
import type { RestoreInput, RestoreStatus } from '../common/restore';
import { describeFailure } from './enrichment';
import { isScheduleToStartTimeout } from './host-liveness';
import { hostActionActivities } from './remediation';

const central = proxyActivities<CentralActivities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 5 },
});
/** The restore report, retried like the incident's own mail (SPAWNGUARD_NOTIFICATION_TIMEOUT, 2 h by default). */
const mailer = (policy: PlaybookPolicy) =>
  proxyActivities<CentralActivities>({
    summary: 'Email the SOC: restore report',
    startToCloseTimeout: '1m',
    scheduleToCloseTimeout: policy.notificationTimeout ?? '2h',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '5m' },
  });

const now = () => new Date().toISOString();
const succeeded = (status: ActionRecord['status']) => status === 'done' || status === 'already-done';

export async function incidentRestore(input: RestoreInput): Promise<RestoreStatus> {
  const status: RestoreStatus = {
    workflowId: workflowInfo().workflowId,
    incidentId: input.incidentId,
    phase: 'loading',
    outcome: null,
    requestedBy: {
      analyst: input.analyst,
      ...(input.identity ? { identity: input.identity } : {}),
      comment: input.comment ?? null,
      at: now(),
    },
    hostname: null,
    lab: false,
    actions: [],
    reportSent: false,
    timestamps: { started: now(), closed: null },
  };
  setHandler(restoreStatusQuery, () => status);
  setCurrentDetails(`Restore for ${input.incidentId}, asked by ${input.analyst}`);

  let incident: IncidentStatus;
  try {
    incident = await central.readIncidentStatus.executeWithOptions({ summary: `Read incident ${input.incidentId}` }, [
      { workflowId: input.incidentId },
    ]);
  } catch (err) {
    status.message = `the incident could not be read: ${describeFailure(err)}`;
    return finish(status, 'nothing-to-restore', input.policy as PlaybookPolicy);
  }
  status.hostname = incident.alert.host.hostname;
  status.lab = incident.lab;
  upsertSearchAttributes([
    { key: SA.AlertId, value: incident.alert.alertId },
    { key: SA.Hostname, value: incident.alert.host.hostname.toLowerCase() },
  ]);

  const files = quarantinedFiles(incident, input.files);
  const entries = removedEntries(incident, input.persistence);
  for (const missing of [...files.missing, ...entries.missing]) status.actions.push(missing);
  if (files.hashes.length === 0 && entries.backups.length === 0) {
    status.message = 'the incident quarantined or removed nothing of what was asked';
    return finish(status, 'nothing-to-restore', input.policy as PlaybookPolicy, incident);
  }

  status.phase = 'restoring';
  const policy = input.policy as PlaybookPolicy;
  const host = (summary: string) => hostActionActivities(incident.alert, policy, summary, 'containment');
  try {
    // Files first: a Run key put back should start the file it names, not a missing one.
    const restoredFiles: { record: ActionRecord; path: string; sha256: string; acl: boolean | null }[] = [];
    for (const sha256 of files.hashes) {
      let result;
      try {
        result = await host(`Restore the quarantined file ${sha256}`).restoreQuarantinedFile({
          incidentId: input.incidentId,
          sha256,
          ...(policy.quarantineDirectory ? { quarantineDirectory: policy.quarantineDirectory } : {}),
        });
      } catch (err) {
        // One file that cannot be put back does not keep the others (nor the entries) from it.
        if (isScheduleToStartTimeout(err)) throw err;
        status.actions.push(actionRecord('restore-file', `SHA-256 ${sha256}`, 'failed', 'error', describeFailure(err)));
        continue;
      }
      const items =
        result.results.length > 0 ? result.results : [{ sha256, status: 'failed' as const, reason: 'no-result' }];
      for (const item of items) {
        const occupied = item.reason === 'target-exists';
        const record: ActionRecord = {
          action: 'restore-file',
          target: `${item.restoredPath ?? '(no path)'} (SHA-256 ${sha256})`,
          status: item.status,
          reason: item.reason ?? null,
          message: occupied
            ? 'refused: another file is at the original path now; move it away and restore again'
            : (item.message ?? null),
          quarantine: null,
          validated: null,
          at: now(),
        };
        status.actions.push(record);
        if (succeeded(item.status) && item.restoredPath) {
          restoredFiles.push({ record, path: item.restoredPath, sha256, acl: item.aclRestored ?? null });
        }
      }
    }

    if (entries.backups.length > 0) {
      const result = await host(
        `Put back ${entries.backups.length} persistence entr${entries.backups.length === 1 ? 'y' : 'ies'}`,
      ).restorePersistenceEntries({
        incidentId: input.incidentId,
        backupIds: entries.backups.map((b) => b.backupId),
      });
      for (const backup of entries.backups) {
        const item = result.results.find((r) => r.backupId === backup.backupId);
        status.actions.push({
          action: 'restore-persistence',
          target: `${backup.id} ${backup.kind} ${backup.location} ${backup.name}`,
          status: item?.status ?? 'failed',
          reason: item ? (item.reason ?? null) : 'no-result',
          message:
            item?.reason === 'target-exists'
              ? `refused: ${item.message ?? 'the place is occupied'}`
              : (item?.message ?? null),
          quarantine: null,
          validated: item && succeeded(item.status) ? (item.verified ?? null) : null,
          at: now(),
        });
      }
    }

    // ---- validate: the file is back at its path with its hash and its ACL; the entry is listed again ----
    status.phase = 'validating';
    if (restoredFiles.length > 0) {
      const facts = await host(
        `Validate: ${restoredFiles.length} restored file(s) back with their hash`,
      ).getFileEnrichment({
        paths: restoredFiles.map((f) => f.path),
      });
      for (const file of restoredFiles) {
        const fact = facts.results.find((f) => f.path.toLowerCase() === file.path.toLowerCase());
        const hashBack = Boolean(fact?.exists && fact.sha256?.toLowerCase() === file.sha256);
        file.record.validated = hashBack && file.acl !== false;
        file.record.message = [
          file.record.message,
          hashBack ? 'hash verified at its path' : 'NOT at its path with its hash',
          file.acl === true
            ? 'original permissions restored'
            : file.acl === false
              ? 'permissions NOT as recorded'
              : null,
        ]
          .filter(Boolean)
          .join('; ');
      }
    }
    const putBack = status.actions.filter((a) => a.action === 'restore-persistence' && succeeded(a.status));
    if (putBack.length > 0) {
      // The listing is an enumeration (minutes on a big host): its own priority and time, as in remediation.
      const listing = await hostActionActivities(
        incident.alert,
        policy,
        'Validate: the restored persistence entries are listed again',
        'enumeration',
        '12m',
      ).fetchPersistenceEntries({
        incidentId: input.incidentId,
        referencePaths: [...new Set(entries.backups.map((b) => b.matchedPath))],
      });
      for (const backup of entries.backups) {
        const record = putBack.find((a) => a.target.startsWith(`${backup.id} `));
        if (!record) continue;
        // Listed again as it was: the same entry, naming the file with the same command. A disabled
        // service is listed too: the host's own re-read of its start type says whether it is back.
        const listed = listing.results.some(
          (e) =>
            e.kind === backup.kind &&
            e.location.toLowerCase() === backup.location.toLowerCase() &&
            e.name.toLowerCase() === backup.name.toLowerCase() &&
            e.referencesTarget &&
            (backup.command === null || (e.command ?? '').toLowerCase() === backup.command.toLowerCase()),
        );
        record.validated = record.validated === true && listed;
        if (!listed) record.message = [record.message, 'NOT listed by the host again'].filter(Boolean).join('; ');
      }
    }
  } catch (err) {
    if (isScheduleToStartTimeout(err)) {
      status.message = `no host worker for ${incident.alert.host.hostname} picked up the restore within ${policy.hostUnreachableTimeout}`;
      return finish(status, 'host-unreachable', policy, incident);
    }
    status.actions.push(actionRecord('restore', input.incidentId, 'failed', 'error', describeFailure(err)));
  }
  const acted = status.actions;
  const complete = acted.length > 0 && acted.every((a) => succeeded(a.status) && a.validated === true);
  return finish(status, complete ? 'restored' : 'partially-restored', policy, incident);
}

/** The incident's quarantined files (by SHA-256) that the request names, and those it names in vain. */
function quarantinedFiles(incident: IncidentStatus, wanted: RestoreInput['files']) {
  const missing: ActionRecord[] = [];
  if (!wanted) return { hashes: [] as string[], missing };
  const quarantined = [
    ...new Set(
      incident.actions
        .filter((a) => a.quarantine && succeeded(a.status))
        .map((a) => a.quarantine!.sha256Before.toLowerCase()),
    ),
  ];
  if (wanted === 'all') return { hashes: quarantined, missing };
  for (const sha256 of wanted) {
    if (quarantined.includes(sha256.toLowerCase())) continue;
    missing.push(
      actionRecord(
        'restore-file',
        `SHA-256 ${sha256}`,
        'skipped',
        'not-quarantined',
        'this incident quarantined no file with this hash',
      ),
    );
  }
  return { hashes: quarantined.filter((h) => wanted.some((w) => w.toLowerCase() === h)), missing };
}

/** The incident's removed persistence entries (with their backups) that the request names. */
function removedEntries(incident: IncidentStatus, wanted: RestoreInput['persistence']) {
  const missing: ActionRecord[] = [];
  const backups: {
    id: string;
    backupId: string;
    kind: string;
    location: string;
    name: string;
    matchedPath: string;
    command: string | null;
  }[] = [];
  if (!wanted) return { backups, missing };
  const proposals = incident.persistenceRemoval?.proposals ?? [];
  const removed = proposals.filter((p) => p.result?.backup && (p.state === 'removed' || p.state === 'gone'));
  for (const id of wanted === 'all' ? removed.map((p) => p.id) : wanted) {
    const proposal = removed.find((p) => p.id === id);
    if (!proposal) {
      missing.push(
        actionRecord(
          'restore-persistence',
          id,
          'skipped',
          'not-removed',
          'this incident removed no persistence entry of this id',
        ),
      );
      continue;
    }
    backups.push({
      id: proposal.id,
      backupId: proposal.result!.backup!.id,
      kind: proposal.kind,
      location: proposal.location,
      name: proposal.name,
      matchedPath: proposal.matchedPath,
      command: proposal.command ?? null,
    });
  }
  return { backups, missing };
}

/** A restore action that did not put anything back: refused (`skipped`) or `failed`, with why. */
function actionRecord(
  action: string,
  target: string,
  status: 'skipped' | 'failed',
  reason: string,
  message: string,
): ActionRecord {
  return { action, target, status, reason, message, quarantine: null, validated: null, at: now() };
}

async function finish(
  status: RestoreStatus,
  outcome: NonNullable<RestoreStatus['outcome']>,
  policy: PlaybookPolicy,
  incident?: IncidentStatus,
): Promise<RestoreStatus> {
  status.outcome = outcome;
  upsertSearchAttributes([{ key: SA.Outcome, value: outcome }]);
  if (incident) {
    status.phase = 'notifying';
    setCurrentDetails(`Sending the restore report: ${outcome}`);
    try {
      await mailer(policy).sendRestoreReport({ restore: status, incident });
      status.reportSent = true;
    } catch (err) {
      status.reportError = `notification failed: ${describeFailure(err)}`;
      log.error('Restore report not sent', { error: status.reportError });
    }
  }
  status.phase = 'closed';
  status.timestamps.closed = now();
  setCurrentDetails(`Restore closed: ${outcome}`);
  return status;
}
