/**
 * The contract between the playbook, the host worker and the PowerShell scripts (DESIGN.md §5).
 * Requests travel to the scripts as UTF-8 JSON on stdin; results come back as one JSON document.
 * Pure zod schemas: imported by workflows (types), activities (validation) and tests.
 */
import { z } from 'zod';
import { isRemoteWindowsPath } from './windows';

// ---------- requests ----------

export const ProcessTargetSchema = z.object({
  pid: z.number().int().min(0).max(0xffffffff),
  /** Expected image path: the identity check refuses a PID whose image differs (PID reuse). */
  imagePath: z.string().min(1).max(32_767).optional(),
  /** Expected creation time (ISO-8601): the identity check refuses a PID started at another time. */
  startTime: z.string().optional(),
  /** A parent's child started at this time (ISO-8601): a process under the PID started later is not the parent. */
  startedBefore: z.string().optional(),
  name: z.string().max(260).optional(),
  /**
   * SHA-256 of the image as the alert or enrichment saw it: the file at imagePath is quarantined
   * only while it still has this hash (a process that has exited is quarantined only with it).
   */
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/)
    .optional(),
});
export type ProcessTarget = z.infer<typeof ProcessTargetSchema>;

/**
 * A process to terminate (or stop and quarantine). The PID-reuse guard is not optional: a target
 * always carries the image path it is expected to run, and a request with only a PID is refused
 * (here and by the scripts).
 */
export const TerminateTargetSchema = ProcessTargetSchema.extend({
  imagePath: z.string().min(1).max(32_767),
});
export type TerminateTarget = z.infer<typeof TerminateTargetSchema>;

const incidentId = z.string().min(1).max(512);

/**
 * The quarantine store: a local drive path. One on a share or device path is never used (the host
 * runs as SYSTEM: opening it authenticates the machine account to whoever serves it).
 */
export const QuarantineDirectorySchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((path) => /^[A-Za-z]:\\/.test(path.trim()) && !isRemoteWindowsPath(path), {
    message:
      'the quarantine directory must be a local drive path such as C:\\ProgramData\\spawnguard\\quarantine (never a share or device path)',
  });

export const StopProcessRequestSchema = z.object({
  incidentId,
  targets: z.array(TerminateTargetSchema).min(1).max(64),
  includeDescendants: z.boolean().default(true),
});
export const StopAndQuarantineRequestSchema = z.object({
  incidentId,
  targets: z.array(TerminateTargetSchema).min(1).max(64),
  includeDescendants: z.boolean().default(true),
  quarantineDirectory: QuarantineDirectorySchema.optional(),
  /** Signer subject names whose valid signatures forbid quarantine (terminate only). */
  trustedPublishers: z.array(z.string().min(1).max(512)).max(64).default([]),
});
export const TerminateSessionRequestSchema = z.object({
  incidentId,
  users: z
    .array(z.object({ name: z.string().min(1).max(256), domain: z.string().max(256).optional() }))
    .min(1)
    .max(16),
  /**
   * The offending processes: only the sessions hosting them (Win32_Process SessionId, after the
   * PID/image/start-time identity check) are logged off, and only when their user is a requested one.
   */
  processes: z.array(TerminateTargetSchema).max(64).optional(),
  /** The attacker's sessions (the alert's, or looked up from the offending process): only these. */
  sessionIds: z.array(z.number().int().min(0).max(65_535)).max(64).optional(),
  rdpOnly: z.boolean().default(false),
  /** Narrows the targeted sessions further; reported by the RDP client, so never trusted alone. */
  remoteIp: z.string().max(64).optional(),
  /** Only list matching sessions (validation), never log off. */
  listOnly: z.boolean().default(false),
});
export const FetchPersistenceRequestSchema = z.object({
  incidentId: incidentId.optional(),
  referencePaths: z.array(z.string().min(1).max(32_767)).max(64).default([]),
});
export const FileEnrichmentRequestSchema = z.object({ paths: z.array(z.string().min(1).max(32_767)).min(1).max(64) });
export const ProcessTreeRequestSchema = z.object({ processIds: z.array(z.number().int().min(0)).min(1).max(64) });
export const RestoreRequestSchema = z.object({
  incidentId: incidentId.optional(),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/),
  quarantineDirectory: QuarantineDirectorySchema.optional(),
  overwrite: z.boolean().default(false),
});

/**
 * The persistence kinds a host can remove (and put back) on an analyst's approval: each has a
 * backup format the restore reads. The others are listed for the analyst to handle by hand.
 */
export const REMOVABLE_PERSISTENCE_KINDS = [
  'run-key',
  'scheduled-task',
  'startup-folder',
  'service',
  'wmi-subscription',
] as const;
export type RemovablePersistenceKind = (typeof REMOVABLE_PERSISTENCE_KINDS)[number];

/**
 * One persistence entry an analyst approved for removal, as FetchPersistenceEntries listed it. The
 * script finds it again on the host and removes it only while it still references `matchedPath`
 * (the offending file) and only when that file is not Microsoft- or trusted-signed.
 */
export const PersistenceEntryRefSchema = z.object({
  kind: z.enum(REMOVABLE_PERSISTENCE_KINDS),
  location: z.string().min(1).max(32_767),
  name: z.string().min(1).max(32_767),
  /** The offending file the entry references (its image or inside its command line). */
  matchedPath: z.string().min(1).max(32_767),
});
export type PersistenceEntryRef = z.infer<typeof PersistenceEntryRefSchema>;

/** A local drive folder for the persistence backups (like the quarantine store, never a share). */
export const BackupDirectorySchema = QuarantineDirectorySchema;

export const RemovePersistenceRequestSchema = z.object({
  incidentId,
  entries: z.array(PersistenceEntryRefSchema).min(1).max(64),
  /** Default: %ProgramData%\spawnguard\persistence-backup. */
  backupDirectory: BackupDirectorySchema.optional(),
  /** Where a startup-folder file is moved (the quarantine store). */
  quarantineDirectory: QuarantineDirectorySchema.optional(),
  /** Signer subject names whose valid signature on the matched file forbids removal. */
  trustedPublishers: z.array(z.string().min(1).max(512)).max(64).default([]),
});
export const RestorePersistenceRequestSchema = z.object({
  incidentId,
  /** The backups RemovePersistenceEntry.ps1 made (`backup.id`). */
  backupIds: z
    .array(z.string().regex(/^[0-9a-f]{64}$/))
    .min(1)
    .max(64),
  backupDirectory: BackupDirectorySchema.optional(),
  quarantineDirectory: QuarantineDirectorySchema.optional(),
});

export type StopProcessRequest = z.input<typeof StopProcessRequestSchema>;
export type StopAndQuarantineRequest = z.input<typeof StopAndQuarantineRequestSchema>;
export type TerminateSessionRequest = z.input<typeof TerminateSessionRequestSchema>;
export type FetchPersistenceRequest = z.input<typeof FetchPersistenceRequestSchema>;
export type FileEnrichmentRequest = z.input<typeof FileEnrichmentRequestSchema>;
export type ProcessTreeRequest = z.input<typeof ProcessTreeRequestSchema>;
export type RestoreRequest = z.input<typeof RestoreRequestSchema>;
export type RemovePersistenceRequest = z.input<typeof RemovePersistenceRequestSchema>;
export type RestorePersistenceRequest = z.input<typeof RestorePersistenceRequestSchema>;

// ---------- results ----------

/** done / already-done are successes (idempotence); skipped says why; failed carries the error. */
export const ActionStatusSchema = z.enum(['done', 'already-done', 'skipped', 'failed']);
export type ActionStatus = z.infer<typeof ActionStatusSchema>;

export const QuarantineRecordSchema = z.object({
  originalPath: z.string(),
  quarantinePath: z.string(),
  manifestPath: z.string(),
  sha256Before: z.string(),
  sha256After: z.string(),
  signer: z.string().nullable().optional(),
});
export type QuarantineRecord = z.infer<typeof QuarantineRecordSchema>;

export const ProcessActionResultSchema = z.object({
  /** The target as requested (`1234`, `0x4D2` or a path). */
  target: z.string(),
  pid: z.number().int().nullable().optional(),
  name: z.string().nullable().optional(),
  imagePath: z.string().nullable().optional(),
  status: ActionStatusSchema,
  /** Machine code when skipped/failed: protected-process, pid-reused, not-found, trusted-signer, access-denied… */
  reason: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  /** Every PID this action terminated (the target and its descendants). */
  terminatedPids: z.array(z.number().int()).default([]),
  quarantine: QuarantineRecordSchema.nullable().optional(),
});
export type ProcessActionResult = z.infer<typeof ProcessActionResultSchema>;

export const SessionActionResultSchema = z.object({
  user: z.string(),
  sessionId: z.number().int().nullable().optional(),
  sessionType: z.enum(['console', 'rdp', 'other']).nullable().optional(),
  state: z.string().nullable().optional(),
  clientAddress: z.string().nullable().optional(),
  /** Always true when an address is given: the RDP client reports it and can lie. */
  clientAddressIsClientReported: z.boolean().default(true),
  status: ActionStatusSchema,
  reason: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
});
export type SessionActionResult = z.infer<typeof SessionActionResultSchema>;

export const PERSISTENCE_KINDS = [
  'scheduled-task',
  'run-key',
  'startup-folder',
  'service',
  'winlogon',
  'ifeo-debugger',
  'appinit-dlls',
  'wmi-subscription',
  'boot-execute',
  'active-setup',
  'command-processor-autorun',
  'logon-script',
  'winlogon-notify',
  'gp-extension',
  'appcert-dlls',
  'lsa-package',
  'print-monitor',
  'netsh-helper',
  'time-provider',
  'gpo-script',
  'com-hijack',
  'screensaver',
  'bits-job',
  'office-addin',
] as const;
export const PersistenceEntrySchema = z.object({
  kind: z.enum(PERSISTENCE_KINDS),
  location: z.string(),
  name: z.string(),
  command: z.string().nullable().optional(),
  imagePath: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  referencesTarget: z.boolean(),
  matchedPath: z.string().nullable().optional(),
});
export type PersistenceEntry = z.infer<typeof PersistenceEntrySchema>;

/** The most persistence entries an activity result carries: those referencing the offender first. */
export const PERSISTENCE_ENTRY_CAP = 200;
/** Of which at most this many reference nothing the incident is about (context for the analyst). */
export const PERSISTENCE_OTHER_CAP = 50;

/** What a capped persistence listing left out, counted exactly: every entry is in a count. */
export const PersistenceSummarySchema = z.object({
  total: z.number().int().min(0),
  referencing: z.number().int().min(0),
  byKind: z.record(z.string(), z.number().int().min(0)),
  /** Entries not in `results` (all of them reference nothing the incident is about, unless `referencing` > the cap). */
  omitted: z.number().int().min(0),
});
export type PersistenceSummary = z.infer<typeof PersistenceSummarySchema>;

/**
 * Caps a host's persistence listing for the workflow (a payload is at most 2 MB, and a server has
 * thousands of entries): every entry that references the offender, up to the cap, then a few others,
 * with exact counts per kind. The full list stays on the host: FetchPersistenceEntries.ps1 again.
 */
export function capPersistence(entries: readonly PersistenceEntry[]): {
  results: PersistenceEntry[];
  summary: PersistenceSummary;
} {
  const referencing = entries.filter((e) => e.referencesTarget);
  const others = entries.filter((e) => !e.referencesTarget);
  const keptReferencing = referencing.slice(0, PERSISTENCE_ENTRY_CAP);
  const keptOthers = others.slice(0, Math.min(PERSISTENCE_OTHER_CAP, PERSISTENCE_ENTRY_CAP - keptReferencing.length));
  const byKind: Record<string, number> = {};
  for (const entry of entries) byKind[entry.kind] = (byKind[entry.kind] ?? 0) + 1;
  const results = [...keptReferencing, ...keptOthers];
  return {
    results,
    summary: {
      total: entries.length,
      referencing: referencing.length,
      byKind,
      omitted: entries.length - results.length,
    },
  };
}

export const FileFactsSchema = z.object({
  path: z.string(),
  exists: z.boolean(),
  sha256: z.string().nullable().optional(),
  sha1: z.string().nullable().optional(),
  size: z.number().int().nullable().optional(),
  signature: z
    .object({
      status: z.enum(['valid', 'invalid', 'unsigned', 'unknown']),
      signer: z.string().nullable().optional(),
      isMicrosoft: z.boolean(),
      isOsBinary: z.boolean(),
    })
    .nullable()
    .optional(),
  versionInfo: z
    .object({
      originalFilename: z.string().nullable().optional(),
      companyName: z.string().nullable().optional(),
      productName: z.string().nullable().optional(),
      fileVersion: z.string().nullable().optional(),
    })
    .nullable()
    .optional(),
  /** null when the name has no known home; false for a system name outside System32/SysWOW64/WinSxS. */
  expectedLocation: z.boolean().nullable().optional(),
});
export type FileFacts = z.infer<typeof FileFactsSchema>;

export const ProcessInfoSchema = z.object({
  pid: z.number().int(),
  found: z.boolean(),
  name: z.string().nullable().optional(),
  path: z.string().nullable().optional(),
  commandLine: z.string().nullable().optional(),
  creationTime: z.string().nullable().optional(),
  owner: z.string().nullable().optional(),
  sessionId: z.number().int().nullable().optional(),
  parentPid: z.number().int().nullable().optional(),
  parentChain: z
    .array(z.object({ pid: z.number().int(), name: z.string().nullable(), path: z.string().nullable().optional() }))
    .default([]),
  descendants: z
    .array(
      z.object({
        pid: z.number().int(),
        parentPid: z.number().int(),
        name: z.string().nullable(),
        path: z.string().nullable().optional(),
      }),
    )
    .default([]),
});
export type ProcessInfo = z.infer<typeof ProcessInfoSchema>;

export const ScriptErrorSchema = z.object({ code: z.string(), message: z.string() });

/** Every script prints exactly one of these. `results` is always an array (never unwrapped). */
export const scriptResultSchema = <T extends z.ZodType>(item: T) =>
  z.object({
    script: z.string(),
    ok: z.boolean(),
    hostname: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    results: z.array(item),
    errors: z.array(ScriptErrorSchema).default([]),
  });

export const StopProcessResultSchema = scriptResultSchema(ProcessActionResultSchema);
export const StopAndQuarantineResultSchema = scriptResultSchema(ProcessActionResultSchema);
export const RestoreResultSchema = scriptResultSchema(
  z.object({
    sha256: z.string(),
    restoredPath: z.string().nullable().optional(),
    status: ActionStatusSchema,
    /** Read back after the copy: the restored file's access control list is the one recorded at quarantine. */
    aclRestored: z.boolean().nullable().optional(),
    reason: z.string().nullable().optional(),
    message: z.string().nullable().optional(),
  }),
);
export const TerminateSessionResultSchema = scriptResultSchema(SessionActionResultSchema);
/** Where a removed entry was backed up on the host, and in what form. */
export const PersistenceBackupSchema = z.object({
  /** Lower-case hex SHA-256 of `incidentId|kind|location|name` (lower-cased): names the backup file. */
  id: z.string().regex(/^[0-9a-f]{64}$/),
  /** The backup document on the host (`<backupDirectory>\\<id>.json`). */
  path: z.string(),
  /** registry-value: the value's name, type and data; task-xml: the task's XML and principal;
   *  service-start: the service's start type before it was disabled; wmi-instance: the instance's
   *  class and properties; quarantined-file: the startup file moved to quarantine (its SHA-256). */
  format: z.enum(['registry-value', 'task-xml', 'service-start', 'wmi-instance', 'quarantined-file']),
});
export type PersistenceBackup = z.infer<typeof PersistenceBackupSchema>;

export const PersistenceRemovalItemSchema = z.object({
  kind: z.enum(PERSISTENCE_KINDS),
  location: z.string(),
  name: z.string(),
  /** done: removed (backed up first); already-done: gone already; skipped: refused (see reason). */
  status: ActionStatusSchema,
  /** not-found, not-referencing (the entry no longer names the file), trusted-signer, unsupported-kind, backup-failed… */
  reason: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  backup: PersistenceBackupSchema.nullable().optional(),
  /** Re-read after the change: true when the entry is gone (remove) or back as it was (restore). */
  verified: z.boolean().nullable().optional(),
});
export type PersistenceRemovalItem = z.infer<typeof PersistenceRemovalItemSchema>;
export const RemovePersistenceResultSchema = scriptResultSchema(PersistenceRemovalItemSchema);
export const RestorePersistenceResultSchema = scriptResultSchema(
  PersistenceRemovalItemSchema.extend({ backupId: z.string() }),
);
export type PersistenceRestoreItem = z.infer<typeof RestorePersistenceResultSchema>['results'][number];

export const FetchPersistenceResultSchema = scriptResultSchema(PersistenceEntrySchema);
export const FileEnrichmentResultSchema = scriptResultSchema(FileFactsSchema);
export const ProcessTreeResultSchema = scriptResultSchema(ProcessInfoSchema);

export type ScriptResult<T> = {
  script: string;
  ok: boolean;
  hostname: string;
  startedAt: string;
  finishedAt: string;
  results: T[];
  errors: { code: string; message: string }[];
};

/** The activities a host worker registers on `spawnguard-host-<hostname>` (one per script). */
export interface HostActivities {
  getProcessTree(request: ProcessTreeRequest): Promise<ScriptResult<ProcessInfo>>;
  getFileEnrichment(request: FileEnrichmentRequest): Promise<ScriptResult<FileFacts>>;
  stopProcess(request: StopProcessRequest): Promise<ScriptResult<ProcessActionResult>>;
  stopAndQuarantineProcess(request: StopAndQuarantineRequest): Promise<ScriptResult<ProcessActionResult>>;
  terminateSession(request: TerminateSessionRequest): Promise<ScriptResult<SessionActionResult>>;
  /** Capped with `capPersistence`: `summary` counts what the results leave out. */
  fetchPersistenceEntries(
    request: FetchPersistenceRequest,
  ): Promise<ScriptResult<PersistenceEntry> & { summary?: PersistenceSummary }>;
  restoreQuarantinedFile(request: RestoreRequest): Promise<z.infer<typeof RestoreResultSchema>>;
  /** Backs each approved entry up on the host, then removes it (RemovePersistenceEntry.ps1). */
  removePersistenceEntries(request: RemovePersistenceRequest): Promise<ScriptResult<PersistenceRemovalItem>>;
  /** Puts removed entries back from their backups (RestorePersistenceEntry.ps1). */
  restorePersistenceEntries(request: RestorePersistenceRequest): Promise<ScriptResult<PersistenceRestoreItem>>;
}

/**
 * Every host request names the host it is for, as the alert does (`web01` or
 * `web01.contoso.local`). A worker that is not that host refuses it (`WrongHost`): the request
 * reached it through a queue it shares with a namesake, or a forged one.
 */
export interface HostAddressed {
  forHost?: string;
}

/** What a host worker answers on its control queue (`spawnguard-host-<hostname>-control`). */
export interface HostPing {
  hostname: string;
  /** The worker's fully qualified name, when it knows one: two domains' `web01` are told apart by it. */
  fqdn?: string;
  /** The host worker's process id and start time: a restart shows as a new pair. */
  pid: number;
  startedAt: string;
  lab: boolean;
  /** Host actions running now (of the worker's slots): how busy the host is. */
  running: number;
}

/** The activities a host worker registers on its control queue. */
export interface HostControlActivities {
  pingHost(): Promise<HostPing>;
}

export { HOST_FAILURE_TYPES } from './host-failures';
