/**
 * The incident as the `status` query, the report email, the CLI and the review page see it.
 * Pure schemas; workflow-safe.
 */
import { z } from 'zod';
import { AnalystIdentitySchema } from './playbook';
import type { RestoreStatus } from './restore';
import { CanonicalAlertSchema, type CanonicalAlert } from './alert';
import { DecisionSchema, type Decision, type DecisionPolicy } from './decision';
import {
  ActionStatusSchema,
  PersistenceBackupSchema,
  PersistenceEntrySchema,
  REMOVABLE_PERSISTENCE_KINDS,
  PersistenceSummarySchema,
  ProcessInfoSchema,
  QuarantineRecordSchema,
} from './host-contract';

export const PHASES = [
  'investigating',
  'deciding',
  'awaiting-review',
  'remediating',
  'validating',
  'notifying',
  /** After the report: persistence entries proposed for removal wait for an analyst's approval. */
  'awaiting-persistence-review',
  'closed',
] as const;

export const OUTCOMES = [
  'remediated',
  'partially-remediated',
  'closed-benign',
  'closed-false-positive',
  'closed-unreviewed',
  'closed-no-action',
  /** Remediation was due, but every target was already gone (process exited, no session): nothing changed. */
  'nothing-left-to-do',
  'host-unreachable',
  /** Suspicious under the notify-only policy: reported, nothing done on the host, no review waited for. */
  'closed-notified',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ReputationResultSchema = z.object({
  source: z.enum(['virustotal', 'malwarebazaar', 'allowlist', 'denylist']),
  /** known: the source has the hash; unknown: it has not (or was unreachable: see `error`). */
  status: z.enum(['known', 'unknown']),
  malicious: z.number().int().min(0).default(0),
  suspicious: z.number().int().min(0).default(0),
  total: z.number().int().min(0).default(0),
  label: z.string().nullable().optional(),
  link: z.string().nullable().optional(),
  error: z.string().nullable().optional(),
});
export type ReputationResult = z.infer<typeof ReputationResultSchema>;

export const ReputationReportSchema = z.object({
  sha256: z.string(),
  results: z.array(ReputationResultSchema),
  consulted: z.array(z.string()),
  notConsulted: z.array(z.object({ source: z.string(), reason: z.string() })),
});
export type ReputationReport = z.infer<typeof ReputationReportSchema>;

/** Per-file result of the `windowsFileEnrichment` child workflow. */
export const FileEnrichmentSchema = z.object({
  role: z.enum(['parent', 'child']),
  path: z.string().nullable(),
  sha256: z.string().nullable(),
  /** Where each fact came from: the alert itself, the host, or a reputation source. */
  factsFrom: z.array(z.enum(['alert', 'host', 'reputation'])),
  signature: z
    .object({ status: z.enum(['valid', 'invalid', 'unsigned', 'unknown']), signer: z.string().nullable().optional() })
    .nullable(),
  /**
   * Who vouches for `signature`: the host verified the chain itself, or the alert claims it (the
   * sensor's word). Absent in incidents recorded before evidence had a source.
   */
  signatureFrom: z.enum(['host', 'alert']).nullable().optional(),
  isMicrosoftSigned: z.boolean().nullable(),
  isOsBinary: z.boolean().nullable(),
  expectedLocation: z.boolean().nullable(),
  originalFileName: z.string().nullable(),
  reputation: ReputationReportSchema.nullable(),
  hostFactsError: z.string().nullable(),
  risk: z.enum(['high', 'medium', 'low']),
  evidence: z.array(z.string()),
});
export type FileEnrichment = z.infer<typeof FileEnrichmentSchema>;

/** The host's process-list records of the pair (GetProcessTree.ps1): ancestry and descendants. */
export const ProcessTreeSchema = z.object({
  /** The parent's record: its `parentChain` is the pair's ancestry. null: not running, or its PID was reused. */
  parent: ProcessInfoSchema.nullable(),
  /** The child's record: its `descendants` are what it started. */
  child: ProcessInfoSchema.nullable(),
  /** Why a record was not used (a PID now running another image). */
  notes: z.array(z.string()).optional(),
});
export type ProcessTree = z.infer<typeof ProcessTreeSchema>;

export const EnrichmentResultSchema = z.object({
  parent: FileEnrichmentSchema,
  child: FileEnrichmentSchema,
  hostReachable: z.boolean(),
  /**
   * The host's process-tree record for the creator PID, asked only when the event does not name the
   * parent (Security 4688 before Windows Server 2016); null when asked and not answered.
   */
  creator: ProcessInfoSchema.nullable().optional(),
  /** The pair's process tree from the host (absent: not asked — host unreachable, or recorded before). */
  processTree: ProcessTreeSchema.nullable().optional(),
});
export type EnrichmentResult = z.infer<typeof EnrichmentResultSchema>;

/** Another incident on the same host or for the same user, as Temporal visibility describes it. */
export const RelatedIncidentSchema = z.object({
  workflowId: z.string(),
  startTime: z.string(),
  closeTime: z.string().nullable(),
  hostname: z.string().optional(),
  userName: z.string().optional(),
  parentProcessName: z.string().optional(),
  processName: z.string().optional(),
  verdict: z.string().optional(),
  riskScore: z.number().optional(),
  outcome: z.string().optional(),
  /** Which of the incident's facts it shares: the host, the user, or both. */
  matchedBy: z.array(z.enum(['host', 'user'])),
  /** An analyst undid it (`spawnguard restore`): a false positive after all. */
  restored: z.boolean().optional(),
});
export type RelatedIncident = z.infer<typeof RelatedIncidentSchema>;

/** The incidents related to this one (same host or user, within the window), gathered before the decision. */
export const RelatedIncidentsSchema = z.object({
  /** The window looked back over (`48h`), and the time it starts. */
  window: z.string(),
  since: z.string(),
  incidents: z.array(RelatedIncidentSchema),
  /** Why the list could not be gathered (visibility unavailable): the decision was made without it. */
  error: z.string().nullable().optional(),
});
export type RelatedIncidents = z.infer<typeof RelatedIncidentsSchema>;

export const ActionRecordSchema = z.object({
  /** The plan action this record executes, or `validate-*` for the checks. */
  action: z.string(),
  target: z.string(),
  status: ActionStatusSchema,
  reason: z.string().nullable().optional(),
  message: z.string().nullable().optional(),
  quarantine: QuarantineRecordSchema.nullable().optional(),
  validated: z.boolean().nullable().optional(),
  /** The descendants a stop terminated with its target (a shell's own children, say), by PID. */
  descendantPids: z.array(z.number().int()).optional(),
  /** The MITRE D3FEND technique the action is (absent: none, or recorded before the labels). */
  d3fend: z.object({ id: z.string(), name: z.string() }).optional(),
  at: z.string(),
});
export type ActionRecord = z.infer<typeof ActionRecordSchema>;

/** Who approved (or declined) a persistence removal, and when. */
export const PersistenceDeciderSchema = z.object({
  analyst: z.string(),
  identity: AnalystIdentitySchema.nullable().optional(),
  comment: z.string().nullable().optional(),
  at: z.string(),
});

/** One persistence entry referencing an offender, proposed for removal after remediation. */
export const PersistenceProposalSchema = z.object({
  /** Short id an analyst names it by: `p1`, `p2`, … */
  id: z.string(),
  kind: z.enum(REMOVABLE_PERSISTENCE_KINDS),
  location: z.string(),
  name: z.string(),
  command: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  /** The offending file the entry references. */
  matchedPath: z.string(),
  /**
   * proposed: waiting; approved: removal running; kept: the analyst declined; removed: backed up and
   * removed; gone: already gone on the host; refused: the host would not (see result); failed; expired:
   * no decision before the deadline.
   */
  state: z.enum(['proposed', 'approved', 'kept', 'removed', 'gone', 'refused', 'failed', 'expired']),
  decidedBy: PersistenceDeciderSchema.nullable().optional(),
  /** What the host did: status, reason, the backup it made, and whether the entry was verified gone. */
  result: z
    .object({
      status: ActionStatusSchema,
      reason: z.string().nullable().optional(),
      message: z.string().nullable().optional(),
      backup: PersistenceBackupSchema.nullable().optional(),
      verified: z.boolean().nullable().optional(),
      at: z.string(),
    })
    .nullable()
    .optional(),
});
export type PersistenceProposal = z.infer<typeof PersistenceProposalSchema>;

export const PersistenceRemovalSchema = z.object({
  /** pending while any proposal waits; done when every one is decided; timed-out past the deadline. */
  status: z.enum(['pending', 'done', 'timed-out']),
  deadline: z.string(),
  proposals: z.array(PersistenceProposalSchema),
  /** Entries that reference an offender but are not proposed, and why (a kind removed by hand, a Microsoft-signed file). */
  notProposed: z.array(z.object({ kind: z.string(), location: z.string(), name: z.string(), why: z.string() })),
});
export type PersistenceRemoval = z.infer<typeof PersistenceRemovalSchema>;

export const ReviewStateSchema = z.object({
  status: z.enum(['not-needed', 'pending', 'approved', 'rejected', 'timed-out']),
  requestedAt: z.string().nullable(),
  deadline: z.string().nullable(),
  analyst: z.string().nullable(),
  comment: z.string().nullable(),
  decidedAt: z.string().nullable(),
  via: z.enum(['signal', 'update']).nullable(),
  /** Who decided, as the sign-in provider vouched (absent: sign-in was off, `analyst` is as typed). */
  identity: AnalystIdentitySchema.nullable().optional(),
  /**
   * Approvals and rejections that arrived when no review was pending (before the verdict, or after
   * another analyst decided): recorded, never applied, never dropped. The first 20 are kept.
   */
  notApplied: z
    .array(
      z.object({
        decision: z.enum(['approve', 'reject']),
        analyst: z.string(),
        comment: z.string().nullable(),
        at: z.string(),
        via: z.enum(['signal', 'update']),
        why: z.string(),
      }),
    )
    .optional(),
});
export type ReviewState = z.infer<typeof ReviewStateSchema>;

export const IncidentStatusSchema = z.object({
  workflowId: z.string(),
  /**
   * The incident's first run id: with the workflow id, the chain of runs this incident is (a run
   * continued as new keeps it). Review links are bound to it. Absent in incidents recorded before.
   */
  firstRunId: z.string().optional(),
  alert: CanonicalAlertSchema,
  phase: z.enum(PHASES),
  outcome: z.enum(OUTCOMES).nullable(),
  decision: DecisionSchema.nullable(),
  /**
   * When the host worker did not answer at first: the verdict from the alert and reputation alone,
   * made at once so that a malicious one is told to the SOC without waiting for the host. The
   * incident's decision (`decision`) is still made with the host's facts once the worker answers.
   */
  preliminaryDecision: DecisionSchema.optional(),
  enrichment: EnrichmentResultSchema.nullable(),
  review: ReviewStateSchema,
  actions: z.array(ActionRecordSchema),
  /** The host's persistence entries: those referencing the offender first, capped (see `persistenceSummary`). */
  persistence: z.array(PersistenceEntrySchema),
  /** Exact counts per kind of every entry the host listed; absent in incidents recorded before the cap. */
  persistenceSummary: PersistenceSummarySchema.optional(),
  /** Entries referencing the offenders, proposed for removal on an analyst's approval (absent: none, or recorded before). */
  persistenceRemoval: PersistenceRemovalSchema.optional(),
  /** Later alerts for this incident, by id: the first 10 and the latest 10 (see `duplicateCount`). */
  duplicates: z.array(z.object({ alertId: z.string(), source: z.string(), receivedAt: z.string() })),
  /** How many distinct later alerts the incident received (absent in incidents recorded before the count). */
  duplicateCount: z.number().int().min(0).optional(),
  /** Sends of an alert id already recorded (retries, repeated rules), counted only. */
  alertsResent: z.number().int().min(0).optional(),
  /** Facts later alerts added before the decision (first 20): which alert, which fields. */
  mergedFacts: z.array(z.object({ alertId: z.string(), added: z.array(z.string()) })).optional(),
  /** Every alert id this incident recorded (set when it closes): a re-send of one is not new evidence. */
  alertIds: z.array(z.string()).optional(),
  /** The closed incident this one re-opens: new alert ids arrived after it closed. */
  reopenedFrom: z
    .object({ workflowId: z.string(), runId: z.string(), outcome: z.string(), closedAt: z.string().nullable() })
    .optional(),
  /**
   * The host worker's last answer to a ping on its control queue (absent before the first ping, and
   * in incidents recorded before pings): whether it answered, when, and what that means.
   */
  hostWorker: z
    .object({
      answered: z.boolean(),
      checkedAt: z.string(),
      message: z.string(),
      running: z.number().int().min(0).nullable().optional(),
      lab: z.boolean().nullable().optional(),
      /** null: the alert's host name cannot name a queue (a short name where queues are named by FQDN). */
      queue: z.string().nullable().optional(),
    })
    .optional(),
  /** Incidents on the same host or for the same user in the policy's window (absent: recorded before). */
  related: RelatedIncidentsSchema.optional(),
  /** True when the host actions ran against the simulated lab host, not a real Windows host. */
  lab: z.boolean(),
  reportSent: z.boolean(),
  /** Why the report could not be sent (a failure retrying cannot fix, e.g. no recipients configured). */
  reportError: z.string().nullable().optional(),
  timestamps: z.object({ started: z.string(), decided: z.string().nullable(), closed: z.string().nullable() }),
});
export type IncidentStatus = z.infer<typeof IncidentStatusSchema>;

/** `602 distinct (19,398 resends); first: a (elastic), …; latest: …` — the count is exact, the lists bounded. */
export function laterAlerts(status: IncidentStatus): string {
  const total = status.duplicateCount ?? status.duplicates.length;
  const label = (d: IncidentStatus['duplicates'][number]) => `${d.alertId} (${d.source})`;
  const resent = status.alertsResent ? ` (${status.alertsResent} resends)` : '';
  if (total <= status.duplicates.length) return `${total}${resent}: ${status.duplicates.map(label).join(', ')}`;
  const half = Math.ceil(status.duplicates.length / 2);
  return `${total} distinct${resent}; first: ${status.duplicates.slice(0, half).map(label).join(', ')}; latest: ${status.duplicates.slice(half).map(label).join(', ')}`;
}

/** The activities the central worker registers on `spawnguard-central`. */
export interface CentralActivities {
  lookupReputation(request: { sha256: string }): Promise<ReputationReport>;
  /** The decision engine, run once and recorded in history (an activity of the playbook). */
  decideIncident(request: {
    alert: CanonicalAlert;
    enrichment: EnrichmentResult | null;
    policy: DecisionPolicy;
    /** Other incidents on the same host or for the same user: a repeat offender raises the score. */
    related?: RelatedIncident[];
  }): Promise<Decision>;
  /** Incidents on the same host or for the same user since a time, from Temporal visibility. */
  findRelatedIncidents(request: {
    workflowId: string;
    hostname: string;
    userName?: string;
    since: string;
    limit?: number;
  }): Promise<RelatedIncident[]>;
  sendIncidentReport(request: { status: IncidentStatus; uiUrl?: string }): Promise<{ messageId: string }>;
  sendReviewRequest(request: {
    status: IncidentStatus;
    reviewUrl?: string;
    reminder?: boolean;
  }): Promise<{ messageId: string }>;
  /** A malicious alert on a host whose worker does not answer: told at once, before any action. */
  sendHostMissingNotice(request: { status: IncidentStatus }): Promise<{ messageId: string }>;
  /** The incident as its `status` query answers (open or closed): what a restore may put back. */
  readIncidentStatus(request: { workflowId: string }): Promise<IncidentStatus>;
  /** The restore report: what was put back, verified on the host, at whose request. */
  sendRestoreReport(request: { restore: RestoreStatus; incident: IncidentStatus }): Promise<{ messageId: string }>;
}

/** How the analyst who decided is named for readers: verified by sign-in (with whom), or as typed. */
export function reviewerText(review: Pick<ReviewState, 'analyst' | 'identity'>): string {
  const name = review.analyst ?? 'unknown analyst';
  const identity = review.identity;
  return identity ? `${name} (signed in as ${identity.email ?? identity.subject} at ${identity.issuer})` : name;
}
