/**
 * The lab host: the host activities over a simulated Windows host, for machines without Windows
 * (`--lab`). Same request validation, same safety rules and same result contract as the scripts;
 * every result says it came from the lab. Never chosen silently: the host worker selects it only
 * when lab mode is explicitly on.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import {
  capPersistence,
  FetchPersistenceRequestSchema,
  FileEnrichmentRequestSchema,
  ProcessTreeRequestSchema,
  RemovePersistenceRequestSchema,
  RestorePersistenceRequestSchema,
  RestoreRequestSchema,
  StopAndQuarantineRequestSchema,
  StopProcessRequestSchema,
  TerminateSessionRequestSchema,
  type FileFacts,
  type HostActivities,
  type PersistenceBackup,
  type PersistenceEntry,
  type PersistenceRemovalItem,
  type PersistenceRestoreItem,
  type ProcessActionResult,
  type ProcessInfo,
  type ProcessTarget,
  type ScriptResult,
  type SessionActionResult,
} from '../../common/host-contract';
import {
  EXPECTED_PARENTS,
  isCriticalProcess,
  isSharedHost,
  isInSystemDirectory,
  isMicrosoftSigner,
  isPowerShellHost,
  isRemoteWindowsPath,
  isRunKeyLocation,
  isServiceAccount,
  isTrustedPublisher,
  nameStem,
  normalizeWindowsPath,
} from '../../common/windows';
import type { LabScenario } from './scenario';
import { parseHostRequest } from '../host/request';
import { splitUserName } from '../../common/user-name';

export interface LabHostOptions {
  /** Where to keep the host's state between restarts (JSON); without it state lives in memory. */
  stateFile?: string;
  /** Called for every action, for the lab's log. */
  log?: (message: string, fields: Record<string, unknown>) => void;
}

const samePath = (a: string | null | undefined, b: string | null | undefined) =>
  Boolean(a && b && normalizeWindowsPath(a) === normalizeWindowsPath(b));

const sameEntry = (
  a: { kind: string; location: string; name: string },
  b: { kind: string; location: string; name: string },
) =>
  a.kind === b.kind &&
  a.location.toLowerCase() === b.location.toLowerCase() &&
  a.name.toLowerCase() === b.name.toLowerCase();

/** As RemovePersistenceEntry.ps1 names a backup: SHA-256 of `incidentId|kind|location|name`, lower-cased. */
export function persistenceBackupId(
  incidentId: string,
  entry: { kind: string; location: string; name: string },
): string {
  return createHash('sha256')
    .update(`${incidentId}|${entry.kind}|${entry.location}|${entry.name}`.toLowerCase(), 'utf8')
    .digest('hex');
}

const BACKUP_FORMAT = {
  'run-key': 'registry-value',
  'scheduled-task': 'task-xml',
  'startup-folder': 'quarantined-file',
  service: 'service-start',
  'wmi-subscription': 'wmi-instance',
} as const;

export function createLabHostActivities(scenario: LabScenario, options: LabHostOptions = {}): HostActivities {
  const state = scenario;
  const log = options.log ?? (() => {});
  const save = () => {
    if (!options.stateFile) return;
    writeFileSync(`${options.stateFile}.tmp`, JSON.stringify(state, null, 2));
    renameSync(`${options.stateFile}.tmp`, options.stateFile);
  };
  const envelope = <T>(script: string, results: T[], startedAt: string): ScriptResult<T> => ({
    script: `lab:${script}`,
    ok: true,
    hostname: state.hostname,
    startedAt,
    finishedAt: new Date().toISOString(),
    results,
    errors: [],
  });
  const fileAt = (path: string) => state.files.find((f) => samePath(f.path, path));
  const signerTrusted = (signer: string | null, trusted: string[]) => isTrustedPublisher(signer, trusted);
  /** A file moved to quarantine from this original path (its facts, at its quarantine path). */
  const quarantinedFileOf = (originalPath: string) => {
    const record = state.quarantined.find((q) => samePath(q.originalPath, originalPath));
    return record ? fileAt(record.quarantinePath) : undefined;
  };

  const descendantsOf = (pid: number) => {
    const out: number[] = [];
    const queue = [pid];
    while (queue.length > 0) {
      const parent = queue.shift()!;
      for (const child of state.processes.filter((p) => p.parentPid === parent && p.running && p.pid !== parent)) {
        out.push(child.pid);
        queue.push(child.pid);
      }
    }
    return out;
  };

  /**
   * As the script decides on a real host: a genuine-path svchost hosts services only when
   * services.exe (or svchost, or Defender) started it; any other parent makes it a hollowed copy.
   */
  const hollowedSvchost = (proc: (typeof state.processes)[number] | undefined): boolean => {
    if (!proc || proc.name.toLowerCase() !== 'svchost.exe') return false;
    const parent = state.processes.find((p) => p.pid === proc.parentPid);
    return !parent || !EXPECTED_PARENTS.svchost!.includes(nameStem(parent.name));
  };

  /** Safety and identity checks shared by both stop actions; returns a refusal or the process. */
  const check = (target: ProcessTarget, forQuarantine: boolean): ProcessActionResult | { pid: number } => {
    const base = { target: String(target.pid), pid: target.pid, terminatedPids: [] as number[] };
    const proc = state.processes.find((p) => p.pid === target.pid);
    if (isCriticalProcess({ pid: target.pid, name: proc?.name ?? target.name, path: proc?.path ?? target.imagePath })) {
      return {
        ...base,
        status: 'skipped',
        reason: 'protected-process',
        message: 'critical OS process: never terminated',
      };
    }
    if (
      isSharedHost({ name: proc?.name ?? target.name, path: proc?.path ?? target.imagePath }) &&
      !hollowedSvchost(proc)
    ) {
      return {
        ...base,
        status: 'skipped',
        reason: 'protected-process',
        message: 'shared system host: never terminated',
      };
    }
    // As on a real host: a PowerShell process may be stopped by PID, but never quarantined (its image is the worker's engine).
    if (forQuarantine && isPowerShellHost({ name: proc?.name, path: proc?.path ?? target.imagePath })) {
      return {
        ...base,
        status: 'skipped',
        reason: 'protected-process',
        message: 'PowerShell is never quarantined (it runs the host worker): terminate only',
      };
    }
    if (!proc || !proc.running) {
      return {
        ...base,
        name: proc?.name ?? null,
        imagePath: proc?.path ?? target.imagePath ?? null,
        status: 'already-done',
        reason: 'not-running',
        message: forQuarantine ? 'process already stopped' : 'already stopped',
      };
    }
    // The PID-reuse guard is not optional (the request schema requires imagePath, as the scripts do).
    if (!target.imagePath || !proc.path) {
      return {
        ...base,
        name: proc.name,
        imagePath: proc.path ?? null,
        status: 'skipped',
        reason: 'identity-unverified',
        message: `the identity of PID ${target.pid} cannot be checked without both image paths`,
      };
    }
    if (!samePath(proc.path, target.imagePath)) {
      return {
        ...base,
        name: proc.name,
        imagePath: proc.path,
        status: 'skipped',
        reason: 'pid-reused',
        message: `PID ${target.pid} now runs ${proc.path}, not ${target.imagePath}`,
      };
    }
    if (target.startTime && Math.abs(Date.parse(proc.startTime) - Date.parse(target.startTime)) > 1000) {
      return {
        ...base,
        name: proc.name,
        imagePath: proc.path,
        status: 'skipped',
        reason: 'pid-reused',
        message: `PID ${target.pid} started at ${proc.startTime}, not ${target.startTime}`,
      };
    }
    if (target.startedBefore && Date.parse(proc.startTime) > Date.parse(target.startedBefore) + 1000) {
      return {
        ...base,
        name: proc.name,
        imagePath: proc.path,
        status: 'skipped',
        reason: 'pid-reused',
        message: `PID ${target.pid} started at ${proc.startTime}, after the child (${target.startedBefore}): not its parent`,
      };
    }
    return { pid: proc.pid };
  };

  const terminate = (pid: number, includeDescendants: boolean) => {
    const pids = [pid, ...(includeDescendants ? descendantsOf(pid) : [])].filter((p) => {
      const proc = state.processes.find((x) => x.pid === p);
      return (
        proc &&
        !isCriticalProcess({ pid: p, name: proc.name, path: proc.path }) &&
        !(isSharedHost(proc) && !hollowedSvchost(proc))
      );
    });
    for (const proc of state.processes) if (pids.includes(proc.pid)) proc.running = false;
    return pids;
  };

  return {
    async getProcessTree(request) {
      const startedAt = new Date().toISOString();
      const { processIds } = parseHostRequest(ProcessTreeRequestSchema, request, 'getProcessTree');
      const results: ProcessInfo[] = processIds.map((pid) => {
        const proc = state.processes.find((p) => p.pid === pid && p.running);
        if (!proc) return { pid, found: false, parentChain: [], descendants: [] };
        const parentChain: ProcessInfo['parentChain'] = [];
        let parent = state.processes.find((p) => p.pid === proc.parentPid && p.running);
        while (parent && parentChain.length < 32) {
          parentChain.push({ pid: parent.pid, name: parent.name, path: parent.path });
          const next = parent.parentPid;
          parent = state.processes.find((p) => p.pid === next && p.running && p.pid !== parent!.pid);
        }
        const descendants = descendantsOf(pid).map((d) => {
          const p = state.processes.find((x) => x.pid === d)!;
          return { pid: d, parentPid: p.parentPid, name: p.name, path: p.path };
        });
        return {
          pid,
          found: true,
          name: proc.name,
          path: proc.path,
          commandLine: proc.commandLine,
          creationTime: proc.startTime,
          owner: proc.owner,
          sessionId: proc.sessionId,
          parentPid: proc.parentPid,
          parentChain,
          descendants,
        };
      });
      return envelope('GetProcessTree.ps1', results, startedAt);
    },

    async getFileEnrichment(request) {
      const startedAt = new Date().toISOString();
      const { paths } = parseHostRequest(FileEnrichmentRequestSchema, request, 'getFileEnrichment');
      const results: FileFacts[] = paths.map((path) => {
        const file = fileAt(path);
        if (!file) return { path, exists: false };
        const microsoft = file.signatureStatus === 'valid' && isMicrosoftSigner(file.signer);
        return {
          path,
          exists: true,
          sha256: file.sha256,
          sha1: file.sha1,
          size: file.size,
          signature: {
            status: file.signatureStatus,
            signer: file.signer,
            isMicrosoft: microsoft,
            isOsBinary: microsoft && isInSystemDirectory(path),
          },
          versionInfo: {
            originalFilename: file.originalFilename,
            companyName: file.companyName,
            productName: file.productName,
          },
          expectedLocation: null,
        };
      });
      return envelope('GetFileEnrichment.ps1', results, startedAt);
    },

    async stopProcess(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(StopProcessRequestSchema, request, 'stopProcess');
      const results = req.targets.map((target): ProcessActionResult => {
        const checked = check(target, false);
        if ('status' in checked) return checked;
        const proc = state.processes.find((p) => p.pid === checked.pid)!;
        const terminatedPids = terminate(proc.pid, req.includeDescendants);
        log('lab: stopped process', { incidentId: req.incidentId, pid: proc.pid, terminatedPids });
        return {
          target: String(target.pid),
          pid: proc.pid,
          name: proc.name,
          imagePath: proc.path,
          status: 'done',
          terminatedPids,
        };
      });
      save();
      return envelope('StopProcess.ps1', results, startedAt);
    },

    async stopAndQuarantineProcess(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(StopAndQuarantineRequestSchema, request, 'stopAndQuarantineProcess');
      const results = req.targets.map((target): ProcessActionResult => {
        const checked = check(target, true);
        const proc = state.processes.find((p) => p.pid === target.pid);
        const imagePath = proc?.path ?? target.imagePath ?? null;
        if ('status' in checked && checked.status === 'skipped') return checked;
        let terminatedPids: number[] = [];
        if (!('status' in checked)) terminatedPids = terminate(checked.pid, req.includeDescendants);
        const base = {
          target: String(target.pid),
          pid: target.pid,
          name: proc?.name ?? null,
          imagePath,
          terminatedPids,
        };
        if (!imagePath)
          return { ...base, status: 'failed', reason: 'no-image-path', message: 'no image path to quarantine' };
        const previous = state.quarantined.find((q) => samePath(q.originalPath, imagePath));
        const file = fileAt(imagePath);
        if (!file && previous) {
          return {
            ...base,
            status: 'already-done',
            reason: 'already-quarantined',
            quarantine: {
              originalPath: previous.originalPath,
              quarantinePath: previous.quarantinePath,
              manifestPath: `${previous.quarantinePath}.json`,
              sha256Before: previous.sha256,
              sha256After: previous.sha256,
              signer: previous.signer,
            },
          };
        }
        if (!file)
          return { ...base, status: 'failed', reason: 'file-not-found', message: `${imagePath} does not exist` };
        if (file.signatureStatus === 'valid' && signerTrusted(file.signer, req.trustedPublishers)) {
          return {
            ...base,
            status: terminatedPids.length > 0 ? 'done' : 'already-done',
            reason: 'trusted-signer',
            message: `signed by ${file.signer}: terminated only, not quarantined`,
          };
        }
        const directory = req.quarantineDirectory ?? state.quarantineDirectory;
        const quarantinePath = `${directory.replace(/[\\/]+$/, '')}\\${file.sha256}.quarantine`;
        state.files = state.files.filter((f) => f !== file);
        state.files.push({ ...file, path: quarantinePath });
        state.quarantined.push({
          sha256: file.sha256,
          originalPath: file.path,
          quarantinePath,
          signer: file.signer,
          incidentId: req.incidentId,
        });
        log('lab: quarantined file', { incidentId: req.incidentId, path: file.path, quarantinePath });
        return {
          ...base,
          status: 'done',
          quarantine: {
            originalPath: file.path,
            quarantinePath,
            manifestPath: `${quarantinePath}.json`,
            sha256Before: file.sha256,
            sha256After: file.sha256,
            signer: file.signer,
          },
        };
      });
      save();
      return envelope('StopAndQuarantineProcess.ps1', results, startedAt);
    },

    async terminateSession(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(TerminateSessionRequestSchema, request, 'terminateSession');
      const results: SessionActionResult[] = [];
      for (const user of req.users) {
        const label = user.domain ? `${user.domain}\\${user.name}` : user.name;
        if (isServiceAccount(user)) {
          results.push({
            user: label,
            status: 'skipped',
            reason: 'service-account',
            message: 'service accounts are never logged off',
            clientAddressIsClientReported: true,
          });
          continue;
        }
        const owner = (s: (typeof state.sessions)[number]) => splitUserName(s.user);
        const sameUser = (s: (typeof state.sessions)[number], anyDomain: boolean) => {
          const o = owner(s);
          if (o.name.toLowerCase() !== user.name.toLowerCase()) return false;
          // A name without a domain matches a session named by its process or id, never every domain.
          if (!user.domain) return anyDomain || !o.domain;
          return o.domain?.toLowerCase() === user.domain.toLowerCase();
        };
        const narrowed = (s: (typeof state.sessions)[number]) =>
          (!req.rdpOnly || s.type === 'rdp') && (!req.remoteIp || s.clientAddress === req.remoteIp);
        let matches: typeof state.sessions;
        if ((req.processes?.length ?? 0) > 0 || (req.sessionIds?.length ?? 0) > 0) {
          // Like TerminateSession.ps1: the sessions hosting the offending processes (same image) and
          // the sessions named; the user only confirms them.
          const ids = new Set(req.sessionIds ?? []);
          for (const target of req.processes ?? []) {
            const proc = state.processes.find((p) => p.pid === target.pid && p.running);
            const sameImage = !target.imagePath || proc?.path?.toLowerCase() === target.imagePath.toLowerCase();
            if (proc && sameImage && proc.sessionId !== null) ids.add(proc.sessionId);
          }
          matches = [];
          for (const id of ids) {
            const s = state.sessions.find((x) => x.id === id);
            if (!s) {
              if (!req.listOnly)
                results.push({
                  user: label,
                  sessionId: id,
                  clientAddressIsClientReported: true,
                  status: 'already-done',
                  reason: 'session-gone',
                  message: `no user is logged on in session ${id} any more`,
                });
            } else if (!sameUser(s, true)) {
              if (!req.listOnly)
                results.push({
                  user: s.user,
                  sessionId: s.id,
                  sessionType: s.type,
                  state: s.state,
                  clientAddress: s.clientAddress,
                  clientAddressIsClientReported: true,
                  status: 'skipped',
                  reason: 'user-mismatch',
                  message: `session ${s.id} belongs to ${s.user}, not to ${label}: not logged off`,
                });
            } else if (narrowed(s)) {
              matches.push(s);
            }
          }
          if (ids.size === 0 && !req.listOnly)
            results.push({
              user: label,
              clientAddressIsClientReported: true,
              status: 'skipped',
              reason: 'no-target-session',
              message: 'no session hosts the offending processes: nothing logged off',
            });
        } else {
          matches = state.sessions.filter((s) => sameUser(s, true) && narrowed(s));
        }
        for (const s of matches) {
          results.push({
            user: s.user,
            sessionId: s.id,
            sessionType: s.type,
            state: s.state,
            clientAddress: s.clientAddress,
            clientAddressIsClientReported: true,
            status: req.listOnly ? 'skipped' : 'done',
            reason: req.listOnly ? 'list-only' : null,
          });
        }
        if (!req.listOnly) {
          state.sessions = state.sessions.filter((s) => !matches.includes(s));
          if (matches.length > 0)
            log('lab: logged off', { incidentId: req.incidentId, sessions: matches.map((s) => s.id) });
        }
      }
      save();
      return envelope('TerminateSession.ps1', results, startedAt);
    },

    async fetchPersistenceEntries(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(FetchPersistenceRequestSchema, request, 'fetchPersistenceEntries');
      // As the script: the reference path that matched is reported as it was given.
      const results: PersistenceEntry[] = state.persistence.map((e) => {
        const command = normalizeWindowsPath(e.command);
        const matched = req.referencePaths.find((r) => command.includes(normalizeWindowsPath(r))) ?? null;
        return { ...e, imagePath: null, referencesTarget: matched !== null, matchedPath: matched };
      });
      const capped = capPersistence(results);
      return { ...envelope('FetchPersistenceEntries.ps1', capped.results, startedAt), summary: capped.summary };
    },

    async restoreQuarantinedFile(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(RestoreRequestSchema, request, 'restoreQuarantinedFile');
      const sha256 = req.sha256.toLowerCase();
      const record = state.quarantined.find((q) => q.sha256 === sha256);
      if (!record)
        return envelope(
          'RestoreQuarantinedFile.ps1',
          [{ sha256, status: 'failed' as const, reason: 'not-quarantined' }],
          startedAt,
        );
      const file = fileAt(record.quarantinePath);
      const occupant = fileAt(record.originalPath);
      if (!file || occupant?.sha256 === sha256) {
        return envelope(
          'RestoreQuarantinedFile.ps1',
          [{ sha256, restoredPath: record.originalPath, status: 'already-done' as const, aclRestored: true }],
          startedAt,
        );
      }
      if (occupant && !req.overwrite) {
        // As the script: another file at the original path is never replaced without `overwrite`.
        return envelope(
          'RestoreQuarantinedFile.ps1',
          [
            {
              sha256,
              restoredPath: record.originalPath,
              status: 'skipped' as const,
              reason: 'target-exists',
              message: 'Another file is at the original path; give overwrite to replace it.',
            },
          ],
          startedAt,
        );
      }
      if (occupant) state.files = state.files.filter((f) => f !== occupant);
      file.path = record.originalPath;
      log('lab: restored file', { incidentId: req.incidentId, path: record.originalPath });
      save();
      return envelope(
        'RestoreQuarantinedFile.ps1',
        [{ sha256, restoredPath: record.originalPath, status: 'done' as const, aclRestored: true }],
        startedAt,
      );
    },

    async removePersistenceEntries(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(RemovePersistenceRequestSchema, request, 'removePersistenceEntries');
      const directory = (req.backupDirectory ?? 'C:\\ProgramData\\spawnguard\\persistence-backup').replace(
        /[\\/]+$/,
        '',
      );
      const results = req.entries.map((ref): PersistenceRemovalItem => {
        const id = persistenceBackupId(req.incidentId, ref);
        const base = { kind: ref.kind, location: ref.location, name: ref.name };
        const backupOf = (format: PersistenceBackup['format']) => ({
          id,
          path: `${directory}\\${id}.json`,
          format,
        });
        const live = state.persistence.find((e) => sameEntry(e, ref));
        const earlier = state.persistenceBackups.find((b) => b.id === id && !b.restored);
        if (!live) {
          return earlier
            ? {
                ...base,
                status: 'already-done',
                message: 'removed earlier',
                backup: backupOf(earlier.format),
                verified: true,
              }
            : { ...base, status: 'skipped', reason: 'not-found', message: 'no such entry on the host', verified: null };
        }
        if (ref.kind === 'run-key' && !isRunKeyLocation(ref.location)) {
          return {
            ...base,
            status: 'skipped',
            reason: 'unsupported-location',
            message: `${ref.location} is not a Run key`,
          };
        }
        if (isRemoteWindowsPath(ref.location)) {
          return { ...base, status: 'skipped', reason: 'remote-path', message: 'a remote path is never opened' };
        }
        if (!normalizeWindowsPath(live.command).includes(normalizeWindowsPath(ref.matchedPath))) {
          return {
            ...base,
            status: 'skipped',
            reason: 'not-referencing',
            message: `the entry no longer references ${ref.matchedPath}: not removed`,
          };
        }
        const matched = fileAt(ref.matchedPath) ?? quarantinedFileOf(ref.matchedPath);
        if (
          matched &&
          matched.signatureStatus === 'valid' &&
          (isMicrosoftSigner(matched.signer) || signerTrusted(matched.signer, req.trustedPublishers))
        ) {
          return {
            ...base,
            status: 'skipped',
            reason: 'trusted-signer',
            message: `${ref.matchedPath} is signed by ${matched.signer}: its entries are never removed`,
          };
        }
        const format = BACKUP_FORMAT[ref.kind];
        state.persistenceBackups = state.persistenceBackups.filter((b) => b.id !== id);
        state.persistenceBackups.push({ id, incidentId: req.incidentId, format, entry: { ...live }, restored: false });
        state.persistence = state.persistence.filter((e) => e !== live);
        if (ref.kind === 'startup-folder') {
          // The startup file itself goes to quarantine (content-addressed), as the script moves it.
          const from = `${ref.location.replace(/[\\/]+$/, '')}\\${ref.name}`;
          const file = fileAt(from);
          if (file) {
            const to = `${state.quarantineDirectory.replace(/[\\/]+$/, '')}\\${file.sha256}.quarantine`;
            file.path = to;
            state.persistenceBackups[state.persistenceBackups.length - 1]!.movedFile = { from, to };
          }
        }
        log('lab: removed persistence entry', {
          incidentId: req.incidentId,
          kind: ref.kind,
          location: ref.location,
          name: ref.name,
        });
        return {
          ...base,
          status: 'done',
          message:
            ref.kind === 'service' ? 'service disabled (start type 4), backed up first' : 'backed up, then removed',
          backup: backupOf(format),
          verified: !state.persistence.some((e) => sameEntry(e, ref)),
        };
      });
      save();
      return envelope('RemovePersistenceEntry.ps1', results, startedAt);
    },

    async restorePersistenceEntries(request) {
      const startedAt = new Date().toISOString();
      const req = parseHostRequest(RestorePersistenceRequestSchema, request, 'restorePersistenceEntries');
      const results = req.backupIds.map((backupId): PersistenceRestoreItem => {
        const backup = state.persistenceBackups.find((b) => b.id === backupId);
        if (!backup) {
          return {
            backupId,
            kind: 'run-key',
            location: '',
            name: '',
            status: 'skipped',
            reason: 'not-found',
            message: 'no backup with this id on the host',
          };
        }
        const { entry } = backup;
        const base = { backupId, kind: entry.kind, location: entry.location, name: entry.name };
        const present = state.persistence.find((e) => sameEntry(e, entry));
        if (present) {
          return normalizeWindowsPath(present.command) === normalizeWindowsPath(entry.command)
            ? { ...base, status: 'already-done', message: 'the entry is back as it was', verified: true }
            : {
                ...base,
                status: 'skipped',
                reason: 'target-exists',
                message: 'another entry of that name is there now: not replaced',
                verified: false,
              };
        }
        if (backup.movedFile) {
          const moved = fileAt(backup.movedFile.to);
          if (moved && fileAt(backup.movedFile.from)) {
            return {
              ...base,
              status: 'skipped',
              reason: 'target-exists',
              message: `a file is at ${backup.movedFile.from} now: not replaced`,
              verified: false,
            };
          }
          if (moved) moved.path = backup.movedFile.from;
        }
        state.persistence.push({ ...entry });
        backup.restored = true;
        log('lab: restored persistence entry', {
          incidentId: req.incidentId,
          kind: entry.kind,
          location: entry.location,
          name: entry.name,
        });
        return {
          ...base,
          status: 'done',
          message: 'put back from its backup',
          verified: state.persistence.some((e) => sameEntry(e, entry)),
        };
      });
      save();
      return envelope('RestorePersistenceEntry.ps1', results, startedAt);
    },
  };
}
