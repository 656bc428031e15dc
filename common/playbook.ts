/**
 * The playbook's input and messages (DESIGN.md §3). Workflow-safe: imported by the workflow, the
 * ingest service, the CLI and tests.
 */
import type { Duration } from '@temporalio/common';
import { z } from 'zod';
import { CanonicalAlertSchema } from './alert';
import { DecisionPolicySchema } from './decision';
import { QuarantineDirectorySchema } from './host-contract';
import type { IncidentStatus } from './incident-status';

/** A DNS domain (`contoso.local`), completing short host names when queues are named by FQDN. */
export const HostDomainSchema = z
  .string()
  .max(253)
  .regex(
    /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/,
    'must be a DNS domain like contoso.local',
  );

const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'must be a duration like 30s, 10m, 24h')
  .transform((s) => s as Duration & string);

export const PlaybookPolicySchema = z.object({
  decision: DecisionPolicySchema.default({
    trustedPublishers: [],
    maliciousEngineThreshold: 5,
    suspiciousEngineThreshold: 3,
  }),
  reviewTimeout: duration.default('24h'),
  /** escalate: notify again and close unreviewed; remediate: act as if approved; close: close unreviewed. */
  reviewTimeoutPolicy: z.enum(['escalate', 'remediate', 'close']).default('escalate'),
  /**
   * review: a suspicious verdict waits for an analyst's approval; notify-only: it is reported and the
   * incident closes with nothing done on the host (the seed playbook's "notify for manual review").
   */
  suspiciousPolicy: z.enum(['review', 'notify-only']).default('review'),
  /** How long persistence entries proposed for removal wait for an analyst's approval after remediation. */
  persistenceReviewTimeout: duration.default('72h'),
  /** How far back incidents on the same host or for the same user are gathered as related. */
  relatedWindow: duration.default('48h'),
  /** How long a host action may wait for the host's worker to pick it up before the host is unreachable. */
  hostUnreachableTimeout: duration.default('10m'),
  /**
   * How long a ping on the host worker's control queue waits to be answered: a host with no worker
   * is known this fast (the incident then waits for one up to `hostUnreachableTimeout`).
   */
  hostLivenessTimeout: duration.optional(),
  /** A host action that stops heartbeating this long (its worker died) is retried on the next worker. */
  hostHeartbeatTimeout: duration.default('30s'),
  quarantineDirectory: QuarantineDirectorySchema.optional(),
  /** Host actions run against the simulated lab host; every report says so. */
  lab: z.boolean().default(false),
  /**
   * A review wait continues as new once its run's history reaches this many events (or the server
   * suggests it first), so a storm of later alerts never reaches the history limits.
   */
  historyEventBound: z.number().int().min(200).max(40_000).optional(),
  /**
   * How host task queues are named (`HostQueueNaming` in names.ts); absent: by short name, as
   * DESIGN.md §3 has it and incidents recorded before the option was added.
   */
  hostQueues: z.object({ names: z.enum(['short', 'fqdn']), domain: HostDomainSchema.optional() }).optional(),
  /** How long a notification is retried (SMTP down, wrong host) before the incident records it failed. */
  notificationTimeout: duration.optional(),
});
export type PlaybookPolicy = z.infer<typeof PlaybookPolicySchema>;

export const PlaybookInputSchema = z.object({
  alert: CanonicalAlertSchema,
  policy: PlaybookPolicySchema,
  receivedAt: z.string(),
});

/**
 * The playbook's input: the alert and policy, and — for a run that continued as new while waiting
 * for review — the incident as it stood (status, the alert ids seen, how many runs so far).
 */
export type PlaybookInput = z.infer<typeof PlaybookInputSchema> & {
  resume?: { status: IncidentStatus; seenAlertIds: string[]; runs: number };
  /** Set when new evidence re-opened a closed incident: the incident it continues. */
  reopens?: ReopenLink;
};

/** The closed incident a re-opened one continues (new alert ids after it closed). */
export interface ReopenLink {
  workflowId: string;
  runId: string;
  outcome: string;
  closedAt: string | null;
}

/** An analyst as the sign-in provider vouched for them (OpenID Connect): recorded with the decision. */
export const AnalystIdentitySchema = z.object({
  issuer: z.string().min(1).max(512),
  subject: z.string().min(1).max(256),
  name: z.string().min(1).max(256).optional(),
  email: z.string().min(1).max(320).optional(),
});
export type AnalystIdentity = z.infer<typeof AnalystIdentitySchema>;

export const ReviewSignalSchema = z.object({
  analyst: z.string().trim().min(1, 'analyst is required').max(256),
  comment: z.string().max(4096).optional(),
  /** Set by the review page and API when sign-in is on: who really decided. Absent: `analyst` as typed. */
  identity: AnalystIdentitySchema.optional(),
});
export type ReviewSignal = z.infer<typeof ReviewSignalSchema>;

export const ReviewUpdateSchema = ReviewSignalSchema.extend({ decision: z.enum(['approve', 'reject']) });
export type ReviewUpdate = z.infer<typeof ReviewUpdateSchema>;

/**
 * An analyst's answer to proposed persistence removals: `remove` or `keep` the entries named by
 * their ids (`p1`), or every one still proposed when `entries` is absent.
 */
export const PersistenceReviewSchema = ReviewSignalSchema.extend({
  decision: z.enum(['remove', 'keep']),
  entries: z
    .array(z.string().regex(/^p\d{1,3}$/, 'entries are named p1, p2, … (see the incident status)'))
    .min(1)
    .max(64)
    .optional(),
});
export type PersistenceReview = z.infer<typeof PersistenceReviewSchema>;
