/**
 * Host activities: one per PowerShell script, registered by the host worker on
 * `spawnguard-host-<hostname>`. Each one validates its request with the contract's zod schema,
 * applies the TypeScript safety rules (safety.ts), and only then runs the script (runner.ts).
 */
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
  type HostActivities,
} from '../../common/host-contract';
import { runScript, runningScriptPids, type RunnerOptions } from './runner';
import {
  assertLogoffAllowed,
  assertProcessTargetsAllowed,
  assertSessionResultsSane,
  workerAccount,
  workerProcessChain,
  type AccountName,
} from './safety';
import type { HostScriptName } from './scripts';
import { parseHostRequest } from './request';

export interface HostActivityOptions extends Omit<RunnerOptions, 'signal' | 'timeoutMs'> {
  /** Per-script timeouts in ms (see DEFAULT_TIMEOUTS_MS); the activity's start-to-close timeout still caps them. */
  timeoutsMs?: Partial<Record<HostScriptName, number>>;
  /** Host-side quarantine folder (SPAWNGUARD_QUARANTINE_DIR) when the request names none. */
  quarantineDirectory?: string;
  /** Host-side trusted publishers (SPAWNGUARD_TRUSTED_PUBLISHERS), added to the request's. */
  trustedPublishers?: string[];
  /** The worker and its parent chain; default: workerProcessChain(). The scripts it is running are always added. */
  workerProcessIds?: () => readonly number[];
  /** The account the worker runs as, never logged off; default: workerAccount(). */
  workerUser?: AccountName;
}

export const DEFAULT_TIMEOUTS_MS: Record<HostScriptName, number> = {
  GetProcessTree: 120_000,
  GetFileEnrichment: 300_000,
  StopProcess: 120_000,
  StopAndQuarantineProcess: 300_000,
  TerminateSession: 120_000,
  FetchPersistenceEntries: 600_000,
  RestoreQuarantinedFile: 300_000,
  RemovePersistenceEntry: 300_000,
  RestorePersistenceEntry: 300_000,
};

export function createHostActivities(options: HostActivityOptions): HostActivities {
  const { timeoutsMs, quarantineDirectory, trustedPublishers = [], workerProcessIds, workerUser, ...runner } = options;
  const chain = workerProcessIds ?? (() => workerProcessChain());
  const selfPids = () => [...chain(), ...runningScriptPids()];
  const account = workerUser ?? workerAccount();
  const run = <N extends HostScriptName>(name: N, request: unknown) =>
    runScript(name, request, { ...runner, timeoutMs: timeoutsMs?.[name] ?? DEFAULT_TIMEOUTS_MS[name] });

  return {
    async getProcessTree(request) {
      return run('GetProcessTree', parseHostRequest(ProcessTreeRequestSchema, request, 'getProcessTree'));
    },

    async getFileEnrichment(request) {
      return run('GetFileEnrichment', parseHostRequest(FileEnrichmentRequestSchema, request, 'getFileEnrichment'));
    },

    async stopProcess(request) {
      const parsed = parseHostRequest(StopProcessRequestSchema, request, 'stopProcess');
      assertProcessTargetsAllowed(parsed.targets, 'stop', selfPids());
      return run('StopProcess', parsed);
    },

    async stopAndQuarantineProcess(request) {
      const parsed = parseHostRequest(StopAndQuarantineRequestSchema, request, 'stopAndQuarantineProcess');
      assertProcessTargetsAllowed(parsed.targets, 'stop-and-quarantine', selfPids());
      const directory = parsed.quarantineDirectory ?? quarantineDirectory;
      return run('StopAndQuarantineProcess', {
        ...parsed,
        trustedPublishers: [...new Set([...parsed.trustedPublishers, ...trustedPublishers])],
        ...(directory ? { quarantineDirectory: directory } : {}),
      });
    },

    async terminateSession(request) {
      const parsed = parseHostRequest(TerminateSessionRequestSchema, request, 'terminateSession');
      assertLogoffAllowed(parsed.users, parsed.listOnly, account);
      const result = await run('TerminateSession', parsed);
      assertSessionResultsSane(result.results, result.script);
      return result;
    },

    async fetchPersistenceEntries(request) {
      const parsed = parseHostRequest(FetchPersistenceRequestSchema, request, 'fetchPersistenceEntries');
      const listing = await run('FetchPersistenceEntries', parsed);
      return { ...listing, ...capPersistence(listing.results) };
    },

    async restoreQuarantinedFile(request) {
      const parsed = parseHostRequest(RestoreRequestSchema, request, 'restoreQuarantinedFile');
      const directory = parsed.quarantineDirectory ?? quarantineDirectory;
      return run('RestoreQuarantinedFile', { ...parsed, ...(directory ? { quarantineDirectory: directory } : {}) });
    },

    async removePersistenceEntries(request) {
      const parsed = parseHostRequest(RemovePersistenceRequestSchema, request, 'removePersistenceEntries');
      // A startup file goes to the host's quarantine store, like a stopped process's image.
      const directory = parsed.quarantineDirectory ?? quarantineDirectory;
      return run('RemovePersistenceEntry', {
        ...parsed,
        trustedPublishers: [...new Set([...parsed.trustedPublishers, ...trustedPublishers])],
        ...(directory ? { quarantineDirectory: directory } : {}),
      });
    },

    async restorePersistenceEntries(request) {
      const parsed = parseHostRequest(RestorePersistenceRequestSchema, request, 'restorePersistenceEntries');
      const directory = parsed.quarantineDirectory ?? quarantineDirectory;
      return run('RestorePersistenceEntry', { ...parsed, ...(directory ? { quarantineDirectory: directory } : {}) });
    },
  };
}
